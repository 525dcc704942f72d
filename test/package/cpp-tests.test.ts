// The model library's C++ tests (test/cpp, registered with ctest), built and run by `npm test`: a plain cmake
// configure of CMakeLists.txt with the addon off, in build-cpp-tests/. When build/libblip2_model.a (left by
// `npm run build:native`) is newer than every source it is built from, the tests link it instead of compiling src/ a
// second time; otherwise the library is built there too (several minutes on two cores, then incremental).
// Skipped only where a source build is impossible: no cmake, no C++ compiler or no libtorch CMake package.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { torchConfig } from '../../scripts/addon-status.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = join(root, 'build-cpp-tests');
const prebuiltLibrary = join(root, 'build', 'libblip2_model.a');

/** Whether `command --version` runs. */
function runs(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}


/** What a build of the C++ tests lacks here. */
function missingToolchain(): string[] {
  const missing: string[] = [];
  if (!runs('cmake') || !runs('ctest')) missing.push('cmake');
  if (![process.env.CXX, 'c++', 'g++', 'clang++'].filter((c): c is string => Boolean(c)).some(runs)) missing.push('a C++17 compiler');
  if (!torchConfig()) missing.push("libtorch's CMake package (TorchConfig.cmake)");
  return missing;
}

/** The newest modification time among the library's sources and build description. */
function newestSourceTime(): number {
  const files = readdirSync(join(root, 'src')).map((f) => join(root, 'src', f));
  return Math.max(...[...files, join(root, 'CMakeLists.txt')].map((f) => statSync(f).mtimeMs));
}

/** build/libblip2_model.a when it was built after its last source change, else '' (build the library here). */
function reusableLibrary(): string {
  return existsSync(prebuiltLibrary) && statSync(prebuiltLibrary).mtimeMs > newestSourceTime() ? prebuiltLibrary : '';
}

/** The TEST_CASE names in test/cpp, as CMake registers them. */
function declaredCases(): string[] {
  const dir = join(root, 'test', 'cpp');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpp'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/^TEST_CASE\(([a-z0-9_]+)\)/gm)].map((m) => m[1]!))
    .sort();
}

/** Runs a command in the repository root: its exit code and combined output. */
function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

const missing = missingToolchain();

describe('C++ tests (ctest)', () => {
  it.skipIf(missing.length > 0)(
    missing.length > 0 ? `skipped: no ${missing.join(', ')} here` : 'build test/cpp against the model library and run ctest',
    async () => {
      const library = reusableLibrary();
      const configureArgs = ['-S', root, '-B', buildDir, '-DBLIP2_ADDON=OFF', '-DBLIP2_CPP_TESTS=ON', `-DBLIP2_MODEL_LIBRARY=${library}`];
      if (!existsSync(join(buildDir, 'CMakeCache.txt')) && runs('ninja')) configureArgs.push('-G', 'Ninja');
      const configure = await run('cmake', configureArgs);
      expect(configure.code, `cmake configure failed:\n${configure.output.slice(-6000)}`).toBe(0);

      const build = await run('cmake', ['--build', buildDir, '--target', 'blip2_cpp_tests', '--parallel', String(availableParallelism())]);
      expect(build.code, `building blip2_cpp_tests failed:\n${build.output.slice(-12000)}`).toBe(0);

      const ctest = await run('ctest', ['--test-dir', buildDir, '--output-on-failure', '--timeout', '300']);
      expect(ctest.code, `ctest failed:\n${ctest.output.slice(-12000)}`).toBe(0);
      const cases = declaredCases();
      expect(cases.length).toBeGreaterThanOrEqual(8);
      expect(ctest.output).toContain(`100% tests passed, 0 tests failed out of ${cases.length}`);
      for (const name of cases) expect(ctest.output).toMatch(new RegExp(`Test +#\\d+: ${name} \\.+ +Passed`));
    },
    20 * 60_000,
  );
});
