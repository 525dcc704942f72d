// The module graph of lib/ has no cycles and every import goes to the same layer or a lower one
// (scripts/module-graph.mjs holds the layer table); the checker itself is shown to fail on graphs that break either
// rule.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkModuleGraph, layersMarkdown, LAYERS, readImportGraph, type Layer } from '../../scripts/module-graph.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lib = join(root, 'lib');

describe('lib/', () => {
  const graph = readImportGraph(lib);

  it('has no import cycle and no import of a higher layer', () => {
    const problems = checkModuleGraph(graph);
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it('is read whole: every source file, with imports of every form', () => {
    expect(Object.keys(graph.edges)).toContain('index.ts');
    expect(Object.keys(graph.edges).length).toBeGreaterThan(100);
    // a value import, a type-only import and an `export … from`
    expect(graph.edges['model/blip2-model.ts']).toContain('native.ts');
    expect(graph.edges['model/tensors.ts']).toContain('native.ts');
    expect(graph.edges['index.ts']).toContain('captioner.ts');
  });

  it('has a layer for every top-level module, and every module the table names exists', () => {
    for (const layer of LAYERS) {
      for (const unit of layer.units) expect(existsSync(join(lib, unit)) || existsSync(join(lib, `${unit}.ts`)), `lib/${unit}`).toBe(true);
    }
  });

  it('has its layer table in the README', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(layersMarkdown());
  });
});

describe('checkModuleGraph', () => {
  const layers: Layer[] = [
    { name: 'base', units: ['util'], about: '' },
    { name: 'model', units: ['model', 'native'], about: '' },
    { name: 'training', units: ['train'], about: '' },
  ];

  it('accepts imports within a layer and downwards', () => {
    expect(checkModuleGraph({ edges: { 'train/run.ts': ['model/a.ts', 'util/x.ts'], 'model/a.ts': ['native.ts', 'model/b.ts'], 'native.ts': ['util/x.ts'], 'model/b.ts': [], 'util/x.ts': [] } }, layers)).toEqual([]);
  });

  it('reports an import of a higher layer, naming both files and layers', () => {
    expect(checkModuleGraph({ edges: { 'model/a.ts': ['train/adamw.ts', 'util/x.ts'], 'train/adamw.ts': [], 'util/x.ts': [] } }, layers)).toEqual([
      'lib/model/a.ts imports lib/train/adamw.ts: model (layer 2, model) may not import train (layer 3, training)',
    ]);
  });

  it('reports a cycle with the files it passes, also inside one folder and through type-only imports', () => {
    expect(checkModuleGraph({ edges: { 'model/a.ts': ['model/b.ts'], 'model/b.ts': ['native.ts'], 'native.ts': ['model/a.ts'] } }, layers)).toEqual([
      'import cycle: lib/model/a.ts → lib/model/b.ts → lib/native.ts → lib/model/a.ts',
    ]);
    expect(checkModuleGraph({ edges: { 'util/x.ts': ['util/x.ts'] } }, layers)).toEqual(['import cycle: lib/util/x.ts → lib/util/x.ts']);
  });

  it('names every file of a tangle, not only one cycle through it', () => {
    const problems = checkModuleGraph({ edges: { 'model/a.ts': ['model/b.ts', 'model/c.ts'], 'model/b.ts': ['model/a.ts'], 'model/c.ts': ['model/a.ts'] } }, layers);
    expect(problems).toEqual([
      'import cycle: lib/model/a.ts → lib/model/b.ts → lib/model/a.ts (3 files in all: lib/model/a.ts, lib/model/b.ts, lib/model/c.ts)',
    ]);
  });

  it('reports a module in no layer and an import that names no file', () => {
    expect(checkModuleGraph({ edges: { 'extra/x.ts': ['util/x.ts'], 'util/x.ts': [] }, unresolved: [{ from: 'util/x.ts', specifier: './gone.js' }] }, layers)).toEqual([
      'lib/extra/x.ts in no layer: add "extra" to a layer of LAYERS in scripts/module-graph.mjs',
      'lib/util/x.ts imports "./gone.js", which names no file',
    ]);
  });
});

describe('readImportGraph', () => {
  const dir = mkdtempSync(join(tmpdir(), 'module-graph-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows value, type-only, re-export, dynamic and type-position imports, folders to index.ts, and nothing outside', () => {
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write('lib/a.ts', [
      "import { b } from './pkg/b.js';",
      "import type { C } from './pkg/c.js';",
      "export { d } from './d.js';",
      "const e = await import('./e.js');",
      "type F = import('./f.js').F;",
      "import { g } from './pkg';",
      "import fs from 'node:fs';",
      "import { x } from '../outside.js';",
      "import { y } from './missing.js';",
    ].join('\n'));
    for (const path of ['lib/pkg/b.ts', 'lib/pkg/c.ts', 'lib/d.ts', 'lib/e.ts', 'lib/f.ts', 'lib/pkg/index.ts', 'outside.ts']) write(path, '');
    expect(readImportGraph(join(dir, 'lib'))).toEqual({
      edges: { 'a.ts': ['d.ts', 'e.ts', 'f.ts', 'pkg/b.ts', 'pkg/c.ts', 'pkg/index.ts'], 'd.ts': [], 'e.ts': [], 'f.ts': [], 'pkg/b.ts': [], 'pkg/c.ts': [], 'pkg/index.ts': [] },
      unresolved: [{ from: 'a.ts', specifier: './missing.js' }],
    });
  });
});
