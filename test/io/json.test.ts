// readJsonFile: the one JSON file reader. Every failure is a FileError naming what the file is, its path and what
// is wrong; positions of JSON errors are worked out by hand from the texts below.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, FileError } from '../../lib/errors.js';
import { describeJsonError, parseJsonFile, readJsonFile, readJsonFileSync, readOptionalJsonFile } from '../../lib/io/json.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-json-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<FileError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(FileError);
  return error as FileError;
}

function file(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

describe('readJsonFile', () => {
  it('parses a valid file', async () => {
    const path = file('ok.json', '{\n  "a": [1, 2.5e3, "x\\u00e9"],\n  "b": null\n}\n');
    expect(await readJsonFile(path, 'test file')).toEqual({ a: [1, 2500, 'xé'], b: null });
    expect(readJsonFileSync(path, 'test file')).toEqual({ a: [1, 2500, 'xé'], b: null });
  });

  it('a missing file: no such file, with the hint when one is given', async () => {
    const path = join(root, 'absent.json');
    const error = await rejection(readJsonFile(path, 'run config'));
    expect(error.message).toBe(`Cannot read run config ${path}: no such file`);
    expect(error.code).toBe('BLIP2_BAD_FILE');
    expect(error.code).toBe(ERROR_CODES.file);
    expect(error.path).toBe(path);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((await rejection(readJsonFile(path, 'model config', { missingHint: 'a model directory needs config.json' }))).message)
      .toBe(`Cannot read model config ${path}: no such file; a model directory needs config.json`);
    expect(() => readJsonFileSync(path, 'package file')).toThrow(new FileError(`Cannot read package file ${path}: no such file`, { path }));
  });

  it('a path under a file is missing too (ENOTDIR)', async () => {
    const path = join(file('plain.txt', 'x'), 'config.json');
    expect((await rejection(readJsonFile(path, 'model config'))).message).toBe(`Cannot read model config ${path}: no such file`);
  });

  it('a directory', async () => {
    const dir = join(root, 'folder.json');
    mkdirSync(dir);
    const error = await rejection(readJsonFile(dir, 'dataset file'));
    expect(error.message).toBe(`Cannot read dataset file ${dir}: it is a directory, not a file`);
    expect(error.path).toBe(dir);
  });

  it('bad JSON names the line and column of the first error', async () => {
    const path = file('bad.json', '{\n  "lr": 1e-4,\n  "stages": [1, 2,]\n}\n');
    const error = await rejection(readJsonFile(path, 'run config'));
    // line 3 is `  "stages": [1, 2,]`: the `]` after the trailing comma is its 19th character
    expect(error.message).toBe(`Cannot parse run config ${path}: invalid JSON at line 3, column 19: unexpected "]"`);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error.path).toBe(path);
  });

  it('a truncated file and an empty one', async () => {
    const truncated = file('cut.json', '{"model_type": "blip-2",');
    expect((await rejection(readJsonFile(truncated, 'model config'))).message)
      .toBe(`Cannot parse model config ${truncated}: invalid JSON at line 1, column 25: unexpected end of file`);
    const empty = file('empty.json', ' \n');
    expect((await rejection(readJsonFile(empty, 'model config'))).message).toBe(`Cannot parse model config ${empty}: the file is empty`);
  });
});

describe('readOptionalJsonFile', () => {
  it('is undefined for a missing file and reads or reports the others as readJsonFile does', async () => {
    expect(await readOptionalJsonFile(join(root, 'none.json'), 'generation config')).toBeUndefined();
    expect(await readOptionalJsonFile(file('one.json', '[1]'), 'generation config')).toEqual([1]);
    const bad = file('bad2.json', '[1 2]');
    expect((await rejection(readOptionalJsonFile(bad, 'generation config'))).message)
      .toBe(`Cannot parse generation config ${bad}: invalid JSON at line 1, column 4: unexpected "2"`);
  });
});

describe('describeJsonError', () => {
  it('finds the first error of each kind of mistake', () => {
    expect(describeJsonError('{"a": tru}')).toBe('invalid JSON at line 1, column 7: unexpected "t"');
    expect(describeJsonError('{"a" 1}')).toBe('invalid JSON at line 1, column 6: unexpected "1"');
    expect(describeJsonError("{'a': 1}")).toBe('invalid JSON at line 1, column 2: unexpected "\'"');
    expect(describeJsonError('{"a": 01}')).toBe('invalid JSON at line 1, column 8: unexpected "1"');
    expect(describeJsonError('{"a": "x\ty"}')).toBe('invalid JSON at line 1, column 9: unexpected "\\t"');
    expect(describeJsonError('["\\q"]')).toBe('invalid JSON at line 1, column 4: unexpected "q"');
    expect(describeJsonError('["\\u12G4"]')).toBe('invalid JSON at line 1, column 4: unexpected "u"');
    expect(describeJsonError('{"a": 1} {}')).toBe('invalid JSON at line 1, column 10: unexpected "{"');
    expect(describeJsonError('[1,\r\n  -]')).toBe('invalid JSON at line 2, column 3: unexpected "-"');
    expect(describeJsonError('"open')).toBe('invalid JSON at line 1, column 6: unexpected end of file');
    expect(describeJsonError('\ufeff{}')).toBe('invalid JSON at line 1, column 1: unexpected "\ufeff" (a byte-order mark: save the file as UTF-8 without one)');
  });

  // describeJsonError is only asked about texts JSON.parse rejected; on a valid text its scanner finds no error and
  // it falls back to the bare 'invalid JSON', so that answer must come exactly for the texts JSON.parse accepts.
  it('agrees with JSON.parse on what is valid', () => {
    const texts = ['{"a": 01}', '[1,]', '{"a": -0.5e+3, "b": [true, false, null, "\\u00e9\\n"]}', '[-]', '1.', '.5', '[1e5]', '"\\/"'];
    for (const text of texts) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      expect(describeJsonError(text) === 'invalid JSON', text).toBe(parses);
    }
  });

  it('parseJsonFile names the file and keeps the parse error as the cause', () => {
    expect(() => parseJsonFile('{', '/data/x.json', 'dataset file'))
      .toThrow(new FileError('Cannot parse dataset file /data/x.json: invalid JSON at line 1, column 2: unexpected end of file', { path: '/data/x.json' }));
    expect(parseJsonFile('{"a": 1}', '/data/x.json', 'dataset file')).toEqual({ a: 1 });
  });
});

describe('one JSON file reader in lib/', () => {
  // lib/'s sources, read as text: the invariant is about how the code is written, so it is checked on the code.
  const libDir = fileURLToPath(new URL('../../lib/', import.meta.url));
  const sources = readdirSync(libDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => ({ file: file.split(sep).join('/'), text: readFileSync(join(libDir, file), 'utf8') }));

  it('scans the sources it means to', () => {
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining(['io/json.ts', 'model/config.ts', 'train/run-config.ts', 'data/readers.ts']));
  });

  const patterns = [
    /JSON\.parse\(\s*(?:await\s+)?(?:readFile|readFileSync)\(/,
    /(?:readFile|readFileSync)\([^;]*?\)\s*\.then\(\s*\(?\s*\w+\s*(?::\s*\w+)?\)?\s*=>\s*JSON\.parse/,
  ];

  it('no file parses what it has just read (JSON.parse(await readFile(…)), readFile(…).then(t => JSON.parse(t))) outside io/json.ts', () => {
    const offenders = sources.filter((s) => s.file !== 'io/json.ts' && patterns.some((p) => p.test(s.text))).map((s) => s.file);
    expect(offenders).toEqual([]);
  });

  it('files that both read files and call JSON.parse do so for a listed reason', () => {
    // Each parses text that is not a whole JSON file, so readJsonFile does not apply.
    const reasons: Record<string, string> = {
      'io/json.ts': 'the reader itself',
      'io/safetensors.ts': 'the JSON header inside a binary .safetensors file',
      'train/run.ts': 'its own config text, and the JSON Lines step log (a line cut short by a kill is dropped)',
      'train/run-lock.ts': 'the lock file, where a torn or empty file means its writer died while writing it',
      'synth/report.ts': 'the JSON Lines step log',
    };
    const both = sources.filter((s) => /\breadFile(?:Sync)?\(/.test(s.text) && s.text.includes('JSON.parse(')).map((s) => s.file).sort();
    expect(both).toEqual(Object.keys(reasons).sort());
  });

  it('the scan finds the patterns it forbids', () => {
    const found = (code: string) => patterns.some((p) => p.test(code));
    expect(found("const x = JSON.parse(await readFile(file, 'utf8'));")).toBe(true);
    expect(found("const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));")).toBe(true);
    expect(found("const parts = files.map((f) => readFile(f!, 'utf8').then((t) => JSON.parse(t) as Entry[], () => []));")).toBe(true);
    expect(found("const x = await readJsonFile(file, 'run config');")).toBe(false);
  });
});
