// `npm test` runs the linters, as `npm run lint` does: ESLint (typescript-eslint and @stylistic rules,
// eslint.config.js) over lib/, test/, benchmarks/ and scripts/, and clang-format (.clang-format, the WebAssembly build
// of @wasm-fmt/clang-format, so no system package is needed) over src/, binding/ and test/cpp. Each is also shown to
// fail on a snippet that breaks the house style.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command in the repository root (optionally with `input` on stdin): its exit code and output. */
function run(command: string, args: string[], input?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d; });
    child.stderr.on('data', (d: Buffer) => { output += d; });
    child.on('error', reject);
    // clang-format colours its messages
    // eslint-disable-next-line no-control-regex
    child.on('close', (code) => resolve({ code: code ?? 1, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
    child.stdin.end(input ?? '');
  });
}

const bin = (name: string) => join(root, 'node_modules', '.bin', name);

describe('linters', () => {
  it('ESLint finds nothing in lib/, test/, benchmarks/ and scripts/ (npm run lint:ts)', async () => {
    const { code, output } = await run(npm, ['run', '--silent', 'lint:ts']);
    expect(code, `ESLint found problems (npm run lint:ts; \`npm run lint:ts -- --fix\` fixes the layout ones):\n${output.slice(-6000)}`).toBe(0);
  }, 600_000);

  it('clang-format finds nothing to change in src/, binding/ and test/cpp (npm run lint:cpp)', async () => {
    const { code, output } = await run(npm, ['run', '--silent', 'lint:cpp']);
    const files = [...new Set([...output.matchAll(/^(\S+?):\d+:\d+: error: code should be clang-formatted/gm)].map((m) => m[1]!))];
    expect(code, `clang-format would change ${files.length} file(s): ${files.join(', ')}; \`npm run format:cpp\` formats them\n${output.slice(0, 3000)}`).toBe(0);
  }, 120_000);

  it('ESLint rejects double quotes, a missing semicolon, a 4-space indent and a 121-column comment', async () => {
    const source = `export function f(): string {\n    return "x"\n}\n// ${'x'.repeat(118)}\n`;
    const { code, output } = await run(process.execPath, [bin('eslint'), '--stdin', '--stdin-filename', 'lib/style-sample.ts'], source);
    expect(code).toBe(1);
    const rules = [...output.matchAll(/\s(@stylistic\/[\w-]+)\s*$/gm)].map((m) => m[1]);
    expect(rules).toEqual(['@stylistic/indent', '@stylistic/quotes', '@stylistic/semi', '@stylistic/max-len']);
  }, 120_000);

  it('clang-format rejects code off the Google 120-column style', async () => {
    const args = ['--dry-run', '--Werror', '--assume-filename=src/style-sample.cpp'];
    expect((await run(process.execPath, [bin('clang-format'), ...args], 'int f(int a) {\n  if (a) return 1;\n  return 0;\n}\n')).code).toBe(0);
    const { code, output } = await run(process.execPath, [bin('clang-format'), ...args], 'int  f(int a){\n    return a;\n}\n');
    expect(code).not.toBe(0);
    expect(output).toContain('src/style-sample.cpp:1:4: error: code should be clang-formatted');
  }, 120_000);
});
