// scripts/install.mjs as npm runs it inside a user's app: node_modules/blip2-progressive with its dependencies
// hoisted to the app's node_modules. A fake cmake-js (a script that records its arguments and fails) stands in for the
// real one, so the cases run in milliseconds; the real build and the real prebuilt addon are exercised by
// test/install/run.sh in CI.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APT_BUILD, APT_RUNTIME, explainLoadFailure } from '../../scripts/addon-status.mjs';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'blip2-install-script-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An app with the package installed and its dependencies hoisted; returns the package folder. */
function app(name: string): { pkg: string; marker: string } {
  const modules = join(work, name, 'node_modules');
  const pkg = join(modules, 'blip2-progressive');
  mkdirSync(join(pkg, 'scripts'), { recursive: true });
  cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const file of ['install.mjs', 'addon-status.mjs']) cpSync(join(root, 'scripts', file), join(pkg, 'scripts', file));
  symlinkSync(join(root, 'node_modules', 'node-gyp-build'), join(modules, 'node-gyp-build'));
  const marker = join(work, name, 'cmake-js-called');
  mkdirSync(join(modules, 'cmake-js', 'bin'), { recursive: true });
  writeFileSync(join(modules, 'cmake-js', 'package.json'), JSON.stringify({ name: 'cmake-js', version: '8.0.0', bin: { 'cmake-js': 'bin/cmake-js' } }));
  writeFileSync(join(modules, 'cmake-js', 'bin', 'cmake-js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, process.argv.slice(2).join(' ') + ' in ' + process.cwd()); process.exit(3);`);
  return { pkg, marker };
}

/** Runs the install script with `path` as the only PATH (an empty folder hides cmake and the compilers). */
function install(pkg: string, path: string, env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['LIBTORCH', 'Torch_DIR', 'CMAKE_PREFIX_PATH', 'CXX'].includes(k) && !k.startsWith('BLIP2_PROGRESSIVE')));
  return spawnSync(process.execPath, [join(pkg, 'scripts', 'install.mjs')], { cwd: pkg, encoding: 'utf8', env: { ...base, PATH: path, ...env } });
}

const emptyPath = join(work, 'empty-path');
mkdirSync(emptyPath);
const hasToolchain = spawnSync('cmake', ['--version']).status === 0 && spawnSync('c++', ['--version']).status === 0 &&
  existsSync('/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake');

describe('scripts/install.mjs', () => {
  it('with no addon and no toolchain: one warning with the fix, exit 0', () => {
    const { pkg, marker } = app('no-toolchain');
    const result = install(pkg, emptyPath);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('blip2-progressive: WARNING');
    expect(result.stderr).toContain('no prebuilt binary ships for this platform and none was built from source');
    expect(result.stderr).toContain('A source build is not possible here: missing cmake, a C++17 compiler');
    expect(result.stderr).toContain(`Install them (${APT_BUILD}), then run npm rebuild blip2-progressive.`);
    expect(existsSync(marker)).toBe(false);
  });

  it('a source build that was asked for (BLIP2_PROGRESSIVE_BUILD_FROM_SOURCE=1) fails the install when impossible', () => {
    const { pkg } = app('asked');
    const result = install(pkg, emptyPath, { BLIP2_PROGRESSIVE_BUILD_FROM_SOURCE: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('A source build is not possible here: missing cmake');
  });

  it.runIf(hasToolchain)('finds cmake-js hoisted to the app (module resolution), builds in the package folder, and a failed build still exits 0', () => {
    const { pkg, marker } = app('hoisted');
    const result = install(pkg, process.env.PATH!);
    expect(readFileSync(marker, 'utf8')).toBe(`compile in ${pkg}`);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('blip2-progressive: building the native addon from source (no native build was found)');
    expect(result.stderr).toContain('The source build failed (cmake-js exit 3; its output is above).');
  });

  it('passes LIBTORCH to cmake-js and treats it as a request for a source build', () => {
    const { pkg, marker } = app('libtorch');
    const libtorch = join(work, 'libtorch');
    mkdirSync(join(libtorch, 'share', 'cmake', 'Torch'), { recursive: true });
    writeFileSync(join(libtorch, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'), '');
    const result = install(pkg, hasToolchain ? process.env.PATH! : emptyPath, { LIBTORCH: libtorch });
    expect(result.status).toBe(1);
    if (hasToolchain) expect(readFileSync(marker, 'utf8')).toBe(`compile --CDLIBTORCH=${libtorch} in ${pkg}`);
  });

  it('BLIP2_PROGRESSIVE_SKIP_BUILD=1 does nothing', () => {
    const { pkg, marker } = app('skip');
    const result = install(pkg, emptyPath, { BLIP2_PROGRESSIVE_SKIP_BUILD: '1' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe('blip2-progressive: BLIP2_PROGRESSIVE_SKIP_BUILD=1, leaving the native addon alone\n');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('explainLoadFailure', () => {
  const pkg = join(work, 'explain');
  const file = join(pkg, 'prebuilds', 'linux-x64', 'node.napi.glibc.node');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(join(dirname(file), 'build-info.json'), JSON.stringify({ libtorch: '1.13.1', runtime: 'Debian 12 package libtorch1.13 1.13.1+dfsg-4' }));

  it('a prebuilt addon whose libtorch is missing: names the runtime packages', () => {
    expect(explainLoadFailure(pkg, { file, kind: 'prebuilt', reason: 'libtorch_cpu.so.1.13: cannot open shared object file: No such file or directory' })).toBe(
      'blip2-progressive: the prebuilt addon linux-x64/node.napi.glibc.node was built against libtorch 1.13.1 (Debian 12 package ' +
        'libtorch1.13 1.13.1+dfsg-4) and cannot load it: libtorch_cpu.so.1.13: cannot open shared object file: No such file or directory. ' +
        `Install the runtime: ${APT_RUNTIME}. Or build against your own libtorch: LIBTORCH=/path/to/libtorch npm rebuild blip2-progressive ` +
        `(needs cmake and a C++17 compiler; ${APT_BUILD} for the system one).`,
    );
  });

  it('a prebuilt addon facing another libtorch: says so and points at a rebuild, not at apt', () => {
    const message = explainLoadFailure(pkg, { file, kind: 'prebuilt', reason: 'node.napi.glibc.node: undefined symbol: _ZN3c104impl3cow11cow_deleterEPv' });
    expect(message).toContain('built against libtorch 1.13.1 (Debian 12 package libtorch1.13 1.13.1+dfsg-4) and the libtorch found at run time is a different one');
    expect(message).not.toContain(APT_RUNTIME);
    expect(message).toContain('LIBTORCH=/path/to/libtorch npm rebuild blip2-progressive');
  });

  it('an addon built from source that no longer loads: rebuild', () => {
    expect(explainLoadFailure(pkg, { file: '/x/build/Release/blip2_progressive.node', kind: 'source', reason: 'libc10.so: cannot open shared object file' }))
      .toBe(`blip2-progressive: cannot load the addon built from source (/x/build/Release/blip2_progressive.node) on ${process.platform}-${process.arch}, ` +
        `Node ${process.version}: libc10.so: cannot open shared object file. If libtorch was moved, removed or upgraded, rebuild: npm rebuild ` +
        'blip2-progressive (LIBTORCH=/path/to/libtorch npm rebuild blip2-progressive for a non-system libtorch).');
  });
});
