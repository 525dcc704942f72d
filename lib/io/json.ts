/**
 * The one way the library reads a JSON file: every failure is a {@link FileError} that names what the file is, its
 * path and what is wrong — `no such file`, `it is a directory, not a file`, or, for text that is not JSON, the line
 * and column of the first error (`invalid JSON at line 3, column 14: unexpected "}"`).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FileError } from '../errors.js';

/** What a reader does besides reading: a fix to add to the "no such file" message. */
export interface ReadJsonOptions {
  /** Said after `no such file`: `a BLIP-2 model directory needs config.json and model.safetensors`. */
  missingHint?: string;
}

/**
 * Reads and parses a JSON file. `what` names the file in messages (`run config`, `tokenizer file`), so an error
 * reads `Cannot read run config runs/a.json: no such file` or
 * `Cannot parse run config runs/a.json: invalid JSON at line 3, column 14: unexpected "}"`.
 * @throws FileError (code `BLIP2_BAD_FILE`, `path` the file) when the file is missing, a directory, unreadable or
 *   not JSON.
 */
export async function readJsonFile(path: string, what: string, options: ReadJsonOptions = {}): Promise<unknown> {
  return parseJsonFile(await readTextFile(path, what, options), path, what);
}

/**
 * Reads a UTF-8 text file with {@link readJsonFile}'s errors, for readers that look at the text before parsing it
 * (JSON Lines or JSON) and then call {@link parseJsonFile}.
 * @throws FileError when the file is missing, a directory or unreadable.
 */
export async function readTextFile(path: string, what: string, options: ReadJsonOptions = {}): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw readError(path, what, err, options);
  }
}

/** {@link readJsonFile} for a file that may be absent: `undefined` when there is no such file. */
export async function readOptionalJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw readError(path, what, err, {});
  }
  return parseJsonFile(text, path, what);
}

/** {@link readJsonFile}, synchronously (for start-up paths that cannot wait). */
export function readJsonFileSync(path: string, what: string, options: ReadJsonOptions = {}): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw readError(path, what, err, options);
  }
  return parseJsonFile(text, path, what);
}

/**
 * Parses the already-read text of a JSON file (for readers that look at the text first, e.g. to tell JSON Lines from
 * JSON), with {@link readJsonFile}'s errors.
 * @throws FileError naming `what`, `path`, and the line and column of the first error.
 */
export function parseJsonFile(text: string, path: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FileError(`Cannot parse ${what} ${path}: ${describeJsonError(text)}`, { path, cause: err });
  }
}

/**
 * What is wrong with a text that JSON.parse rejected, with its place: `invalid JSON at line 3, column 14: unexpected
 * "}"`, `the file is empty`. Positions are counted here rather than read from the engine's message, whose wording
 * differs between Node versions (and often names no position). `firstLine` is the line number of the text's first
 * line (a line of a JSON Lines file).
 */
export function describeJsonError(text: string, firstLine = 1): string {
  if (text.trim().length === 0) return 'the file is empty';
  const error = firstJsonError(text);
  if (error === undefined) return 'invalid JSON';
  const before = text.slice(0, error.offset);
  const line = before.split('\n').length + firstLine - 1;
  const column = error.offset - (before.lastIndexOf('\n') + 1) + 1;
  const found = error.offset >= text.length ? 'unexpected end of file' : `unexpected ${JSON.stringify(String.fromCodePoint(text.codePointAt(error.offset)!))}`;
  const bom = error.offset === 0 && text.charCodeAt(0) === 0xfeff ? ' (a byte-order mark: save the file as UTF-8 without one)' : '';
  return `invalid JSON at line ${line}, column ${column}: ${found}${bom}`;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function readError(path: string, what: string, err: unknown, options: ReadJsonOptions): FileError {
  const code = (err as NodeJS.ErrnoException).code;
  let problem: string;
  if (isMissing(err)) problem = `no such file${options.missingHint === undefined ? '' : `; ${options.missingHint}`}`;
  else if (code === 'EISDIR') problem = 'it is a directory, not a file';
  else if (code === 'EACCES' || code === 'EPERM') problem = 'permission denied';
  else problem = (err as Error).message;
  return new FileError(`Cannot read ${what} ${path}: ${problem}`, { path, cause: err });
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;
const LITERALS = ['true', 'false', 'null'];

/** The offset of the first JSON syntax error in `text` (RFC 8259 grammar); undefined when there is none. */
function firstJsonError(text: string): { offset: number } | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxAt(i);
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        if (i < text.length && 'bfnrt"\\/'.includes(text[i]!)) i++;
        else if (text[i] === 'u' && matchAt(HEX4, i + 1)) i += 5;
        else fail();
      } else {
        i++;
      }
    }
    i++;
  };
  const sequence = (close: string, member: () => void) => {
    i++;
    space();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      space();
      if (text[i] === close) break;
      if (text[i] !== ',') fail();
      i++;
    }
    i++;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      sequence('}', () => {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value();
      });
    } else if (c === '[') {
      sequence(']', value);
    } else if (c === '"') {
      string();
    } else if (matchAt(NUMBER, i)) {
      i = NUMBER.lastIndex;
    } else {
      const literal = LITERALS.find((word) => text.startsWith(word, i));
      if (literal === undefined) fail();
      i += literal!.length;
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (err) {
    if (err instanceof JsonSyntaxAt) return { offset: err.offset };
    if (err instanceof RangeError) return undefined; // nesting deeper than the stack: no position
    throw err;
  }

  function matchAt(pattern: RegExp, at: number): boolean {
    pattern.lastIndex = at;
    return pattern.test(text);
  }
}

class JsonSyntaxAt {
  constructor(readonly offset: number) {}
}
