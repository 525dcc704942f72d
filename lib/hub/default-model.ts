/**
 * The built-in default model: the tiny BLIP-2 that `blip2-progressive bench` (npm start) pretrains on the synthetic
 * dataset. Commands that take --model fall back to it.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * Where the built-in benchmark keeps its data, models and runs, and the pointer to the default model: a user cache,
 * never inside node_modules: $BLIP2_PROGRESSIVE_HOME, else $XDG_CACHE_HOME/blip2-progressive, else
 * ~/.cache/blip2-progressive.
 */
export function benchHome(): string {
  if (process.env.BLIP2_PROGRESSIVE_HOME) return process.env.BLIP2_PROGRESSIVE_HOME;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'blip2-progressive');
}

const POINTER = 'default-model.txt';

/** Records `dir` as the default model. */
export async function setDefaultModel(dir: string): Promise<void> {
  // `bench --out elsewhere` on a fresh checkout: the home folder may not exist yet
  await mkdir(benchHome(), { recursive: true });
  await writeFileAtomic(join(benchHome(), POINTER), `${dir}\n`);
}

/** The default model directory, or undefined when the benchmark has not been run yet. */
export async function defaultModelDir(): Promise<string | undefined> {
  const text = await readFile(join(benchHome(), POINTER), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}
