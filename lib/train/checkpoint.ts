/**
 * Training checkpoints: the adapter (PEFT layout), the optimizer state (moments, step, generator state) and a
 * JSON state (step, epoch, schedule, the caller's RNG and loop state), written to a temporary directory that
 * replaces the checkpoint directory only when complete, so a crash or kill -9 never leaves a half-written one.
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../io/atomic.js';
import { isPlainObject } from '../is.js';
import type { Blip2Model } from '../model/blip2-model.js';
import type { Schedule } from './schedule.js';

/** What a checkpoint records beside the tensors. */
export interface TrainingState {
  /** Optimizer steps taken. */
  step: number;
  /** Epoch (or any position counter the caller keeps). */
  epoch: number;
  /** The schedule in use. */
  schedule: Schedule;
  /** Anything else the loop needs to continue exactly: data-order RNG state, best score, ... (JSON). */
  extra: Record<string, unknown>;
}

const STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

/** Writes a complete checkpoint to `dir` (replacing an older one there) atomically. */
export async function saveCheckpoint(model: Blip2Model, dir: string, state: TrainingState): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await model.saveAdapter(tmp);
    await model.saveOptimizerState(join(tmp, OPTIMIZER_FILE));
    await writeFileAtomic(join(tmp, STATE_FILE), `${JSON.stringify({ format: 1, ...state }, null, 2)}\n`);
    await fsyncDirectory(tmp);
    const old = `${tmp}.old`;
    const exists = await stat(dir).then(() => true, () => false);
    if (exists) await rename(dir, old);
    await rename(tmp, dir);
    await fsyncDirectory(parent);
    if (exists) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Loads a checkpoint into `model` (adapter + optimizer + generator state) and returns its training state. */
export async function loadCheckpoint(model: Blip2Model, dir: string): Promise<TrainingState> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read checkpoint ${JSON.stringify(dir)}: ${STATE_FILE} is missing or not JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(raw) || raw.format !== 1 || typeof raw.step !== 'number' || typeof raw.epoch !== 'number' ||
      !isPlainObject(raw.schedule) || !isPlainObject(raw.extra)) {
    throw new Error(`Cannot read checkpoint ${JSON.stringify(dir)}: ${STATE_FILE} is not a format-1 training state`);
  }
  await model.loadAdapter(dir);
  await model.loadOptimizerState(join(dir, OPTIMIZER_FILE));
  return { step: raw.step, epoch: raw.epoch, schedule: raw.schedule as unknown as Schedule, extra: raw.extra };
}
