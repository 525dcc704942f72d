// The module graph of lib/: every relative import of every TypeScript source (type-only imports and import()
// included), checked for cycles and against the layer order below. `npm test` runs it
// (test/package/module-graph.test.ts); `node scripts/module-graph.mjs` prints the same report.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers of lib/, lowest first. A module of lib/ belongs to the layer of its top-level folder, or of its own name
 * for a file directly in lib/. It may import modules of its own layer or of lower ones, never of a higher one; and no
 * imports may form a cycle, inside a layer either.
 */
export const LAYERS = Object.freeze([
  { name: 'foundation', units: ['errors', 'is', 'abort', 'logger', 'random', 'config-table', 'io'], about: 'errors, validation, cancellation, logging, seeded randomness, config tables, files' },
  { name: 'inputs and outputs', units: ['hub', 'text', 'image', 'metrics'], about: 'the model cache and downloads, tokenizer and caption augmentation, images, caption metrics' },
  { name: 'data', units: ['data'], about: 'datasets and the training loader' },
  { name: 'runtime', units: ['native', 'distributed', 'model', 'runtime-info'], about: 'the addon, process groups, the model over them, the runtime report' },
  { name: 'decoding', units: ['generation'], about: 'generation config, logits processors, search strategies' },
  { name: 'captioner', units: ['captioner'], about: 'the high-level Blip2Captioner' },
  { name: 'training', units: ['train'], about: 'progressive runs, SCST, evaluation' },
  { name: 'applications', units: ['synth', 'serve'], about: 'the built-in benchmark, the demo server' },
  { name: 'command line', units: ['cli'], about: 'the blip2-progressive program' },
  { name: 'package entry', units: ['index'], about: 'lib/index.ts' },
]);

const toPosix = (path) => path.split(sep).join('/');

function listSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(path));
    else if (/\.(m|c)?tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

const isFile = (path) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The source file a relative specifier names (`./x.js` → x.ts, `./dir` → dir/index.ts), or undefined. */
function resolveSpecifier(fromFile, specifier) {
  const base = join(dirname(fromFile), specifier);
  const candidates = [base.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts').replace(/\.cjs$/, '.cts'), base, `${base}.ts`, join(base, 'index.ts')];
  return candidates.find(isFile);
}

/**
 * Reads the import graph of the sources under `libDir`: `{ edges, unresolved }`, where `edges` maps each file (path
 * relative to `libDir`, with `/`) to the files it imports inside `libDir`, and `unresolved` lists relative imports
 * that name no file. Imports of packages and of files outside `libDir` are not part of the graph.
 */
export function readImportGraph(libDir) {
  const edges = {};
  const unresolved = [];
  for (const file of listSources(libDir).sort()) {
    const from = toPosix(relative(libDir, file));
    const targets = new Set();
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = resolveSpecifier(file, fileName);
      if (target === undefined) {
        unresolved.push({ from, specifier: fileName });
        continue;
      }
      const to = toPosix(relative(libDir, target));
      if (!to.startsWith('../')) targets.add(to);
    }
    edges[from] = [...targets].sort();
  }
  return { edges, unresolved };
}

/** The unit a file belongs to: its top-level folder, or its name without extension for a file directly in lib/. */
export function unitOf(file) {
  const slash = file.indexOf('/');
  return slash === -1 ? file.replace(/\.(m|c)?tsx?$/, '') : file.slice(0, slash);
}

/** Strongly connected components of more than one file, or of one file importing itself (Tarjan). */
function cyclicComponents(edges) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges[v] ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges[v] ?? []).includes(v)) components.push(component.sort());
    }
  };
  for (const v of Object.keys(edges).sort()) if (!index.has(v)) visit(v);
  return components;
}

/**
 * One cycle through the first file of a cyclic component, as the list of files it passes (first repeated at the end).
 */
function cycleThrough(component, edges) {
  const members = new Set(component);
  const start = component[0];
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of (edges[v] ?? []).filter((x) => members.has(x)).sort()) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/**
 * Checks an import graph (as {@link readImportGraph} returns) against `layers`: every cycle, every import of a higher
 * layer, every file in no layer and every unresolved import is a problem, named by its files (`lib/…`). Returns the
 * problems, none when the graph is sound.
 */
export function checkModuleGraph(graph, layers = LAYERS) {
  const { edges, unresolved = [] } = graph;
  const layerOf = new Map();
  layers.forEach((layer, rank) => {
    for (const unit of layer.units) layerOf.set(unit, { rank, name: layer.name });
  });
  const problems = [];
  const units = new Set([...Object.keys(edges), ...Object.values(edges).flat()].map(unitOf));
  for (const unit of [...units].sort()) {
    if (!layerOf.has(unit)) {
      const files = Object.keys(edges).filter((f) => unitOf(f) === unit).map((f) => `lib/${f}`);
      problems.push(`${files.join(', ') || `lib/${unit}`} in no layer: add "${unit}" to a layer of LAYERS in scripts/module-graph.mjs`);
    }
  }
  for (const { from, specifier } of unresolved) problems.push(`lib/${from} imports ${JSON.stringify(specifier)}, which names no file`);
  for (const from of Object.keys(edges).sort()) {
    const a = layerOf.get(unitOf(from));
    for (const to of edges[from]) {
      const b = layerOf.get(unitOf(to));
      if (a === undefined || b === undefined || b.rank <= a.rank) continue;
      problems.push(
        `lib/${from} imports lib/${to}: ${unitOf(from)} (layer ${a.rank + 1}, ${a.name}) may not import ${unitOf(to)} (layer ${b.rank + 1}, ${b.name})`,
      );
    }
  }
  for (const component of cyclicComponents(edges)) {
    const cycle = cycleThrough(component, edges).map((f) => `lib/${f}`);
    const others = component.length > cycle.length - 1 ? ` (${component.length} files in all: ${component.map((f) => `lib/${f}`).join(', ')})` : '';
    problems.push(`import cycle: ${cycle.join(' → ')}${others}`);
  }
  return problems;
}

/** The layer table as Markdown, for the README. */
export function layersMarkdown(layers = LAYERS) {
  const rows = layers.map((layer, rank) => `| ${rank + 1} | ${layer.name} | ${layer.units.map((u) => `\`${u}\``).join(', ')} | ${layer.about} |`);
  return ['| layer | name | modules | what |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const libDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'lib');
  const graph = readImportGraph(libDir);
  const problems = checkModuleGraph(graph);
  const files = Object.keys(graph.edges).length;
  const imports = Object.values(graph.edges).reduce((n, targets) => n + targets.length, 0);
  if (problems.length > 0) {
    console.error(`${problems.length} problem(s) in the module graph of ${posix.normalize(toPosix(libDir))} (${files} files, ${imports} imports):\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`module graph of ${files} files and ${imports} imports: no cycles, every import goes to the same layer or a lower one`);
  }
}
