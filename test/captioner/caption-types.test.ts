// Compiles caption-types.test-d.ts with the TypeScript compiler (vitest runs no type checks itself): it must have no
// error, and an assertion that contradicts the overloads must fail, so the check can fail.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const typed = join(here, 'caption-types.test-d.ts');
const contradiction = join(here, 'caption-types-contradiction.ts');
const CONTRADICTION = `import { expectTypeOf } from 'vitest';
import type { Blip2Captioner } from '../../lib/captioner.js';
import type { Caption } from '../../lib/generation/caption.js';
declare const captioner: Blip2Captioner;
export async function wrong(): Promise<void> {
  expectTypeOf(await captioner.caption(['a.png'], { numBeams: 3, numReturnSequences: 3 })).toEqualTypeOf<(Caption | Caption[])[]>();
}
`;

function diagnostics(): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(resolve('tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const options = { ...config.options, noEmit: true, rootDir: undefined };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (file) => file === contradiction || fileExists(file);
  host.readFile = (file) => (file === contradiction ? CONTRADICTION : readFile(file));
  host.getSourceFile = (file, language, ...rest) =>
    file === contradiction ? ts.createSourceFile(file, CONTRADICTION, language) : getSourceFile(file, language, ...rest);
  const program = ts.createProgram([typed, contradiction], options, host);
  const byFile = new Map<string, string[]>([[typed, []], [contradiction, []]]);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '';
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(ts.flattenDiagnosticMessageText(d.messageText, '\n').split('\n')[0]!);
  }
  return byFile;
}

describe('Blip2Captioner.caption types', () => {
  it('returns Caption[][] for several sequences, the failure union under onError skip, and onResult gets the same', () => {
    const byFile = diagnostics();
    expect(byFile.get(typed)).toEqual([]);
    expect(byFile.get(contradiction)!.length).toBe(1);
    expect(byFile.get(contradiction)![0]).toMatch(/^Argument of type|^Expected \d+ arguments|^Type /);
    expect([...byFile.keys()].sort()).toEqual([contradiction, typed].sort());
  });
});
