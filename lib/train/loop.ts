/**
 * The training loop shared by fine-tuning stages and pretraining: epochs of batches, micro-batches accumulated into
 * optimizer steps on a learning-rate schedule, validation and early stopping at a cadence, checkpoints, and
 * cancellation between steps. What a step computes, what a checkpoint holds besides the loop's position and what a
 * validation scores belong to the caller; when each happens belongs here, so that a run resumed from any checkpoint
 * takes exactly the steps, validations and checkpoints of an uninterrupted one.
 */
import { AbortError } from '../abort.js';
import type { Blip2Model } from '../model/blip2-model.js';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { learningRate, type Schedule } from './schedule.js';

/** Where a loop stands. */
export interface LoopPosition {
  /** Optimizer steps taken. */
  step: number;
  /** The epoch in progress (0-based). */
  epoch: number;
  /** The next batch of that epoch (0 to batches per epoch). */
  nextBatch: number;
  /** Set once early stopping ends the loop. */
  done: boolean;
}

/** The position of a loop that has not started. */
export const LOOP_START: Readonly<LoopPosition> = Object.freeze({ step: 0, epoch: 0, nextBatch: 0, done: false });

/**
 * A loss or gradient norm that is NaN or infinite. The run stops rather than skipping the step (as a loss scaler
 * does): in full or bf16 precision there is no loss scale to lower, so a non-finite value means diverged weights
 * or a broken batch, and training on would hide it. Nothing of the step is logged or checkpointed.
 */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}

/** One optimizer step, as the loop reports it. */
export interface LoopStep<R> {
  /** Steps taken, this one included (1-based). */
  step: number;
  /** The epoch it belongs to. */
  epoch: number;
  /** The learning rate it used. */
  lr: number;
  gradNorm: number;
  /** What `backward` returned for the step's last micro-batch. */
  result: R;
}

/** What the loop runs and when. */
export interface TrainingLoop<B extends { index: number }, R extends { loss: number }> {
  /** Optimizer steps in all: the loop ends after this many, or earlier when the epochs run out or it is done. */
  totalSteps: number;
  /** Epochs at most (Infinity: as many as the steps take). */
  epochs: number;
  batchesPerEpoch: number;
  /** Micro-batches per optimizer step. */
  gradAccum: number;
  schedule: Schedule;
  /** The batches of `epoch` from batch `startBatch` on, each with its index in the epoch. */
  batches(epoch: number, startBatch: number): AsyncIterable<B>;
  /** Forward and backward of one micro-batch; `step` is the number of optimizer steps taken before it. */
  backward(batch: B, step: number): Promise<R>;
  /** Applies the accumulated gradients at learning rate `lr`; returns the gradient norm. */
  optimizerStep(lr: number): Promise<number>;
  /** Called after every optimizer step, before its validation and checkpoint. */
  afterStep?(step: LoopStep<R>): Promise<void> | void;
  /**
   * Validation every this many steps, and once more after the last step when that is not one of them; 0: at the end
   * of every epoch (and after the last step).
   */
  evalEverySteps: number;
  /** Validates at `at`; true stops the loop (early stopping). Without it, nothing is validated. */
  validate?(at: LoopPosition): Promise<boolean>;
  /** A checkpoint every this many steps. */
  checkpointEverySteps: number;
  /**
   * Also a checkpoint at the end of every epoch and after the last step (an abort seen there stops after it), for a
   * caller whose own work after the loop must be resumable. Without it, the last step is never checkpointed and an
   * abort seen after it is ignored: the loop returns and the caller finishes.
   */
  checkpointEachEpoch: boolean;
  /** Saves a checkpoint of position `at` (the caller adds the tensors and its own state). */
  checkpoint(at: LoopPosition): Promise<void>;
  /** Stops the loop between steps: the position is checkpointed (unless it just was) and an AbortError thrown. */
  signal?: AbortSignal | undefined;
  /**
   * Turns this process's "aborted" into the decision every process of a data-parallel run takes (any of them
   * aborted); called at every point the loop may stop. Default: this process's own.
   */
  agree?(aborted: boolean): Promise<boolean>;
  /** The AbortError's message after step `step`. */
  abortMessage(step: number): string;
  /**
   * The NonFiniteLossError's message for a non-finite `what` at `at` (`at.step` steps taken, `at.nextBatch` the batch
   * after the one that failed); `checkpointed` is the step of the last checkpoint, undefined when there is none.
   */
  nonFiniteMessage(what: 'loss' | 'gradient norm', value: number, at: LoopPosition, checkpointed: number | undefined): string;
}

/**
 * Runs `loop` from `resumedAt` (the position of the checkpoint it resumed from) or from the start, and returns where
 * it ended. The order within a step: `backward` for each micro-batch, the optimizer step, `afterStep`, a validation
 * when one is due, then — except at the end of an epoch — the periodic checkpoint and the abort check. At the end of
 * an epoch (or of the steps) the epoch's validation comes first, then the checkpoint and the abort check, so that a
 * resumed loop never skips a validation.
 * @throws AbortError when `signal` aborts (after the checkpoint); NonFiniteLossError on a non-finite loss or gradient
 * norm (before anything of the step is reported or saved).
 */
export async function runTrainingLoop<B extends { index: number }, R extends { loss: number }>(
  loop: TrainingLoop<B, R>, resumedAt?: LoopPosition,
): Promise<LoopPosition> {
  const at: LoopPosition = { ...(resumedAt ?? LOOP_START) };
  let checkpointed = resumedAt?.step;
  const checkpoint = async () => {
    await loop.checkpoint({ ...at });
    checkpointed = at.step;
  };
  const stopIfAborted = async () => {
    const aborted = loop.signal?.aborted === true;
    if (!(await (loop.agree ? loop.agree(aborted) : aborted))) return;
    if (checkpointed !== at.step) await checkpoint();
    throw new AbortError(loop.abortMessage(at.step), { cause: loop.signal?.reason });
  };
  const nonFinite = (what: 'loss' | 'gradient norm', value: number) =>
    new NonFiniteLossError(loop.nonFiniteMessage(what, value, { ...at }, checkpointed));
  const finished = () => at.step >= loop.totalSteps;
  const validate = async () => {
    if (loop.validate && (await loop.validate({ ...at }))) at.done = true;
  };

  while (!at.done && at.epoch < loop.epochs && !finished()) {
    let micro = 0;
    for await (const batch of loop.batches(at.epoch, at.nextBatch)) {
      const result = await loop.backward(batch, at.step);
      micro += 1;
      at.nextBatch = batch.index + 1;
      if (!Number.isFinite(result.loss)) throw nonFinite('loss', result.loss);
      if (micro % loop.gradAccum !== 0) continue;
      const lr = learningRate(loop.schedule, at.step);
      const gradNorm = await loop.optimizerStep(lr);
      if (!Number.isFinite(gradNorm)) throw nonFinite('gradient norm', gradNorm);
      at.step += 1;
      await loop.afterStep?.({ step: at.step, epoch: at.epoch, lr, gradNorm, result });
      if (loop.evalEverySteps > 0 && at.step % loop.evalEverySteps === 0) await validate();
      const epochEnds = at.nextBatch >= loop.batchesPerEpoch || finished();
      if (!epochEnds) {
        if (at.step % loop.checkpointEverySteps === 0) await checkpoint();
        await stopIfAborted();
      }
      if (at.done || finished()) break;
    }
    const epochEnded = at.nextBatch >= loop.batchesPerEpoch || finished();
    if (epochEnded) {
      const last = finished() || at.epoch + 1 >= loop.epochs;
      if (loop.evalEverySteps === 0 || (last && at.step % loop.evalEverySteps !== 0)) await validate();
      at.epoch += 1;
      at.nextBatch = 0;
    }
    if (loop.checkpointEachEpoch) {
      await checkpoint();
      await stopIfAborted();
    } else if (!finished()) {
      if (at.step % loop.checkpointEverySteps === 0 && checkpointed !== at.step) await checkpoint();
      await stopIfAborted();
    }
  }
  return at;
}

/** A checkpoint the loop resumes from: its position, its schedule and the caller's own state. */
export interface LoopCheckpoint {
  at: LoopPosition;
  schedule: Schedule;
  extra: Record<string, unknown>;
}

/**
 * Saves `model`'s checkpoint (see checkpoint.ts) at position `at` under `dir`; the training state's `extra` holds
 * the caller's `extra` with the position's epoch, next batch and done flag.
 */
export async function saveLoopCheckpoint(
  model: Blip2Model, dir: string, at: LoopPosition, schedule: Schedule, extra: Record<string, unknown>,
): Promise<void> {
  await saveCheckpoint(model, dir, {
    step: at.step, epoch: at.epoch, schedule, extra: { epoch: at.epoch, nextBatch: at.nextBatch, ...extra, done: at.done },
  });
}

/** Loads the newest checkpoint under `dir` into `model`, or returns undefined (loading nothing) when there is none. */
export async function loadLoopCheckpoint(model: Blip2Model, dir: string): Promise<LoopCheckpoint | undefined> {
  if ((await latestCheckpoint(dir)) === undefined) return undefined;
  const saved = await loadCheckpoint(model, dir);
  const extra = { ...saved.extra };
  const at = { step: saved.step, epoch: saved.epoch, nextBatch: extra.nextBatch as number, done: extra.done === true };
  for (const key of ['epoch', 'nextBatch', 'done']) delete extra[key];
  return { at, schedule: saved.schedule, extra };
}
