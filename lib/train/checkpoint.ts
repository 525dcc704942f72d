/**
 * Training checkpoints: the adapter (PEFT layout) — or every weight when the model trains all of its parameters —
 * the optimizer state (moments, step, generator state) and a
 * JSON state (step, epoch, schedule, the caller's RNG and loop state), in a directory per step with a `latest`
 * pointer that is replaced only once the checkpoint is complete, so a crash or kill -9 never leaves a
 * half-written one in use.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { FileError } from '../errors.js';
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
const LATEST = 'latest';
const WEIGHTS_FILE = 'model.safetensors';
const CHECKPOINT_NAME = /^step-\d+-\d+$/;

/**
 * Writes a complete checkpoint under `dir`: the files go to a new `dir/step-<n>-<k>/` (never the one in use),
 * then the one-line file `dir/latest` names it (replaced atomically), then older checkpoint directories are
 * removed. A kill at any moment leaves `latest` naming a complete checkpoint.
 */
export async function saveCheckpoint(model: Blip2Model, dir: string, state: TrainingState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const existing = new Set(await readdir(dir));
  let k = 0;
  while (existing.has(`step-${state.step}-${k}`)) k += 1;
  const name = `step-${state.step}-${k}`;
  const target = join(dir, name);
  await mkdir(target);
  if (model.fullTraining) await model.save(join(target, WEIGHTS_FILE));
  else await model.saveAdapter(target);
  await model.saveOptimizerState(join(target, OPTIMIZER_FILE));
  await writeFileAtomic(join(target, STATE_FILE), `${JSON.stringify({ format: 1, ...state }, null, 2)}\n`);
  await fsyncDirectory(target);
  await writeFileAtomic(join(dir, LATEST), `${name}\n`);
  for (const entry of await readdir(dir)) {
    if (entry !== name && entry !== LATEST && CHECKPOINT_NAME.test(entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** The directory of the newest complete checkpoint under `dir`, or undefined when there is none. */
export async function latestCheckpoint(dir: string): Promise<string | undefined> {
  try {
    const name = (await readFile(join(dir, LATEST), 'utf8')).trim();
    return CHECKPOINT_NAME.test(name) ? join(dir, name) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads the newest checkpoint under `dir` into `model` (adapter + optimizer + generator state) and returns its training
 * state.
 * @throws FileError when `dir` names no checkpoint, or its training state is missing, not JSON or not a format-1 state.
 */
export async function loadCheckpoint(model: Blip2Model, dir: string): Promise<TrainingState> {
  const target = await latestCheckpoint(dir);
  if (target === undefined) {
    throw new FileError(`Cannot read checkpoint ${JSON.stringify(dir)}: no "${LATEST}" file naming a checkpoint`, { path: join(dir, LATEST) });
  }
  const statePath = join(target, STATE_FILE);
  const raw = await readJsonFile(statePath, 'checkpoint state');
  if (!isPlainObject(raw) || raw.format !== 1 || typeof raw.step !== 'number' || typeof raw.epoch !== 'number' ||
      !isPlainObject(raw.schedule) || !isPlainObject(raw.extra)) {
    throw new FileError(`Cannot read checkpoint ${JSON.stringify(target)}: ${STATE_FILE} is not a format-1 training state`, { path: statePath });
  }
  if (model.fullTraining) await model.loadWeights(join(target, WEIGHTS_FILE));
  else await model.loadAdapter(target);
  await model.loadOptimizerState(join(target, OPTIMIZER_FILE));
  return { step: raw.step, epoch: raw.epoch, schedule: raw.schedule as unknown as Schedule, extra: raw.extra };
}
