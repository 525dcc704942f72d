// What `npm pack` puts in the tarball a user installs: everything the package needs at run time and for a source
// build, nothing of the checkout's own (tests, build output, benchmarks), source maps that resolve to shipped
// sources, and a size budget.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
interface PackResult { files: { path: string; size: number }[]; size: number; unpackedSize: number }
const pack = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }))[0] as PackResult;
const files = new Set(pack.files.map((f) => f.path));

/** Budgets with room for growth: today about 2.6 MB packed, 6 MB unpacked with the prebuilt addon. */
const PACKED_BUDGET = 5 * 1024 * 1024;
const UNPACKED_BUDGET = 12 * 1024 * 1024;

describe('npm pack', () => {
  it('ships the runtime, the types, the install step and what a source build needs', () => {
    for (const path of [
      'package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/metrics/index.js', 'dist/serve/index.js',
      'dist/cli/main.js', 'dist/native.js', 'scripts/install.mjs', 'scripts/addon-status.mjs', 'scripts/addon-status.d.mts',
      'CMakeLists.txt', 'binding/addon.cpp', 'src/t5.cpp', 'data/tokenizer/spiece.model', 'lib/index.ts', 'examples/seed.json', 'examples/paper.json',
    ]) expect(files.has(path), path).toBe(true);
  });

  it('ships nothing of the checkout: no tests, build output, benchmarks, runs or dev scripts', () => {
    const stray = [...files].filter((p) => /^(test|benchmarks|build|build-prebuild|node_modules|runs|\.ci|test-artifacts)\//.test(p) ||
      ['scripts/bootstrap.sh', 'scripts/prebuild.mjs', 'scripts/build-wordnet.mjs'].includes(p) || p.endsWith('.tgz'));
    expect(stray).toEqual([]);
  });

  it('has source maps whose sources are in the tarball', () => {
    const maps = [...files].filter((p) => p.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const path = posix.normalize(posix.join(posix.dirname(map), source));
        if (!files.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('stays within its size budget', () => {
    console.log(`tarball: ${files.size} files, ${(pack.size / 1e6).toFixed(2)} MB packed, ${(pack.unpackedSize / 1e6).toFixed(2)} MB unpacked`);
    expect(pack.size).toBeLessThanOrEqual(PACKED_BUDGET);
    expect(pack.unpackedSize).toBeLessThanOrEqual(UNPACKED_BUDGET);
  });

  it('ships a prebuilt addon with its build-info.json when `npm run prebuild` has made one', () => {
    const prebuilt = 'prebuilds/linux-x64/node.napi.glibc.node';
    if (!existsSync(join(root, prebuilt))) {
      expect([...files].filter((p) => p.startsWith('prebuilds/'))).toEqual([]);
      return;
    }
    expect(files.has(prebuilt)).toBe(true);
    const info = JSON.parse(readFileSync(join(root, 'prebuilds/linux-x64/build-info.json'), 'utf8'));
    expect(info.runtimePackages).toEqual(['libtorch1.13', 'libopenblas0-openmp']);
    expect(info.needed).toEqual(expect.arrayContaining(['libtorch_cpu.so.1.13', 'libc10.so.1.13']));
  });
});
