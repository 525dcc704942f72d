// `npm test` type-checks everything, as `npm run typecheck` does: lib/, test/ and benchmarks/ under tsconfig.json
// (strict, no output), while tsconfig.build.json still compiles lib/ alone into dist/.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs tsc with `args` in the repository root: its exit code and output. */
function runTsc(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsc, ...args], { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

/** The .ts files under `dir` (relative to the root, with `/`). */
function tsFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f.split(sep).join('/')}`)
    .sort();
}

describe('type-check', () => {
  it('tsconfig.json covers lib/, test/ and benchmarks/ and reports no error', async () => {
    const { code, output } = await runTsc(['-p', 'tsconfig.json', '--noEmit', '--pretty', 'false', '--listFiles']);
    const errors = output.split('\n').filter((line) => / error TS\d+:/.test(line));
    expect(errors, errors.join('\n')).toEqual([]);
    expect(code, output.slice(-4000)).toBe(0);
    const checked = new Set(output.split('\n').filter((line) => line.startsWith(root)).map((line) => relative(root, line.trim()).split(sep).join('/')));
    for (const dir of ['lib', 'test', 'benchmarks']) {
      const missing = tsFiles(dir).filter((f) => !checked.has(f));
      expect(missing, `${dir}/ files not type-checked`).toEqual([]);
    }
  }, 600_000);

  it('tsconfig.build.json compiles lib/ alone, into dist/ with lib/\'s layout', async () => {
    const { code, output } = await runTsc(['-p', 'tsconfig.build.json', '--showConfig']);
    expect(code, output).toBe(0);
    const config = JSON.parse(output) as { compilerOptions: Record<string, unknown>; files: string[] };
    expect(config.compilerOptions).toMatchObject({ rootDir: './lib', outDir: './dist', noEmit: false, declaration: true, sourceMap: true });
    expect(config.files.map((f) => f.replace(/^\.\//, '')).sort()).toEqual(tsFiles('lib'));
  });
});
