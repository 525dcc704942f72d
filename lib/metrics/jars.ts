/**
 * Bridges to the official Java scorers, speaking pycocoevalcap's protocols:
 * METEOR 1.5 (`meteor-1.5.jar - - -stdio -l en -norm`, SCORE/EVAL lines over stdin/stdout) and
 * SPICE 1.0 (`spice-1.0.jar in.json -cache dir -out out.json -subset -silent`).
 * Both take PTB-tokenized captions, as `COCOEvalCap` passes them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npMean } from './numeric.js';
import { readJsonFile } from '../io/json.js';

/** Options shared by the jar bridges. */
export interface JarOptions {
  /** The `java` executable (default `"java"`). */
  javaPath?: string;
}

/** Result of a jar scorer. */
export interface JarScore {
  score: number;
  perImage: number[];
}

/**
 * Whether `<javaPath> -version` runs: undefined when it does, else why not (`spawn java ENOENT`, `exit code 1`).
 * Callers check this before hours of captioning rather than after.
 */
export function javaProblem(javaPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(javaPath, ['-version'], { stdio: 'ignore' });
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code, signal) => resolve(code === 0 ? undefined : signal ?? `exit code ${code}`));
  });
}

function startError(javaPath: string, err: Error): Error {
  return new Error(`Could not start ${JSON.stringify(javaPath)} (set javaPath to a Java 8+ executable): ${err.message}`);
}

/**
 * METEOR 1.5 through the official jar, exactly as pycocoevalcap's `Meteor.compute_score`:
 * one `SCORE ||| ref1 ||| ref2 ||| hyp` line per image (hypothesis with `|||` removed and double
 * spaces collapsed once) answered by a statistics line, then one `EVAL ||| stats...` line
 * answered by one score per image and the corpus score.
 *
 * @param jar path to `meteor-1.5.jar` (its `paraphrase-en.gz` must sit next to it).
 * @param refs PTB-tokenized references per image. @param cands PTB-tokenized candidates.
 */
export async function meteorJar(jar: string, refs: string[][], cands: string[], options: JarOptions = {}): Promise<JarScore> {
  const javaPath = options.javaPath ?? 'java';
  const child = spawn(javaPath, ['-Xmx2G', '-jar', jar, '-', '-', '-stdio', '-l', 'en', '-norm'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: ((line: string | null) => void)[] = [];
  let buffer = '';
  let stderr = '';
  let ended = false;
  let failure: Error | null = null;
  const deliver = (line: string | null) => {
    const w = waiters.shift();
    if (w) w(line);
    else if (line !== null) lines.push(line);
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      deliver(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => { stderr += chunk; });
  const finish = () => {
    ended = true;
    while (waiters.length > 0) waiters.shift()!(null);
  };
  child.on('error', (err) => { failure = startError(javaPath, err); finish(); });
  child.on('close', finish);
  child.stdin.on('error', () => { /* reported through 'close' / 'error' */ });

  const readLine = (): Promise<string> => new Promise((resolve, reject) => {
    const take = (line: string | null) => {
      if (line !== null) resolve(line);
      else reject(failure ?? new Error(`METEOR jar exited before answering (exit code ${child.exitCode}): ${stderr.trim().slice(-2000)}`));
    };
    if (lines.length > 0) take(lines.shift()!);
    else if (ended) take(null);
    else waiters.push(take);
  });
  const parseNumber = (line: string, what: string) => {
    const v = Number(line.trim());
    if (line.trim() === '' || !Number.isFinite(v)) throw new Error(`METEOR jar answered ${JSON.stringify(line)} where ${what} was expected`);
    return v;
  };

  try {
    const stats: string[] = [];
    for (let i = 0; i < cands.length; i++) {
      const hyp = cands[i]!.replace(/\|\|\|/g, '').replace(/ {2}/g, ' ');
      child.stdin.write(`SCORE ||| ${refs[i]!.join(' ||| ')} ||| ${hyp}\n`);
      stats.push((await readLine()).trim());
    }
    child.stdin.write(`EVAL ||| ${stats.join(' ||| ')}\n`);
    const perImage: number[] = [];
    for (let i = 0; i < cands.length; i++) perImage.push(parseNumber(await readLine(), `the score of image ${i}`));
    const score = parseNumber(await readLine(), 'the corpus score');
    return { score, perImage };
  } finally {
    child.stdin.end();
    if (!ended) child.kill();
  }
}

/** Runs a command to completion, rejecting with its stderr on failure. */
function run(javaPath: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(javaPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => { stderr += c; });
    child.on('error', (err) => reject(startError(javaPath, err)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`SPICE jar failed (${signal ?? `exit code ${code}`}): ${stderr.trim().slice(-2000)}`));
    });
  });
}

/** Python `float(x)` with pycocoevalcap's fallback to NaN (`Spice.float_convert`). */
function floatConvert(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return NaN;
}

/**
 * SPICE through the official jar, as pycocoevalcap's `Spice.compute_score`: writes
 * `[{image_id, test, refs}]`, runs `java -jar -Xmx8G spice-1.0.jar in -cache dir -out out -subset
 * -silent`, reads each image's `scores.All.f`; the corpus score is their `np.mean` in output order.
 *
 * @param jar path to `spice-1.0.jar` (with its `lib/` of Stanford CoreNLP jars).
 * @param imageIds ids written to the input file, one per image.
 */
export async function spiceJar(jar: string, imageIds: (string | number)[], refs: string[][], cands: string[], options: JarOptions & { cacheDir?: string } = {}): Promise<JarScore> {
  const javaPath = options.javaPath ?? 'java';
  const dir = await mkdtemp(join(tmpdir(), 'spice-'));
  try {
    const inFile = join(dir, 'input.json');
    const outFile = join(dir, 'output.json');
    const cacheDir = options.cacheDir ?? join(dir, 'cache');
    const input = imageIds.map((id, i) => ({ image_id: id, test: cands[i], refs: refs[i] }));
    await writeFile(inFile, JSON.stringify(input));
    await run(javaPath, ['-jar', '-Xmx8G', jar, inFile, '-cache', cacheDir, '-out', outFile, '-subset', '-silent']);
    let results: unknown;
    try {
      results = await readJsonFile(outFile, 'SPICE output');
    } catch (err) {
      throw new Error(`SPICE jar wrote no readable output: ${(err as Error).message}`, { cause: err });
    }
    if (!Array.isArray(results)) throw new Error('SPICE jar output is not a JSON list');
    const byId = new Map<string, number>();
    const all: number[] = [];
    for (const item of results as { image_id?: unknown; scores?: { All?: { f?: unknown } } }[]) {
      const f = floatConvert(item?.scores?.All?.f);
      all.push(f);
      byId.set(String(item?.image_id), f);
    }
    const perImage = imageIds.map((id) => {
      const f = byId.get(String(id));
      if (f === undefined) throw new Error(`SPICE jar output has no score for image ${JSON.stringify(id)}`);
      return f;
    });
    return { score: npMean(all), perImage };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
