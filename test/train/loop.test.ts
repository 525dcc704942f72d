// The shared training loop, driven by recording callbacks (no model): which micro-batches, optimizer steps,
// validations and checkpoints happen in which order, worked out by hand for small epochs; a loop resumed from any
// of its checkpoints continues exactly as the uninterrupted one; an abort checkpoints before it stops.
import { describe, expect, it } from 'vitest';
import { runTrainingLoop, type LoopPosition, type TrainingLoop } from '../../lib/train/loop.js';
import { resolveSchedule } from '../../lib/train/schedule.js';

interface Shape {
  totalSteps: number;
  epochs: number;
  batchesPerEpoch: number;
  gradAccum?: number;
  evalEverySteps?: number;
  checkpointEverySteps?: number;
  checkpointEachEpoch?: boolean;
}

/** A loop whose callbacks append to `trace`: b<epoch>.<batch>, opt<step>, val<step>, ckpt<step>@<epoch>.<nextBatch>. */
function recorder(shape: Shape, overrides: Partial<TrainingLoop<{ index: number }, { loss: number }>> = {}) {
  const trace: string[] = [];
  const checkpoints: LoopPosition[] = [];
  let epoch = 0;
  const loop: TrainingLoop<{ index: number }, { loss: number }> = {
    totalSteps: shape.totalSteps,
    epochs: shape.epochs,
    batchesPerEpoch: shape.batchesPerEpoch,
    gradAccum: shape.gradAccum ?? 1,
    schedule: resolveSchedule({ kind: 'linear', lr: 1, totalSteps: shape.totalSteps }),
    async *batches(e, startBatch) {
      epoch = e;
      for (let index = startBatch; index < shape.batchesPerEpoch; index++) yield { index };
    },
    backward: async (batch) => {
      trace.push(`b${epoch}.${batch.index}`);
      return { loss: 1 };
    },
    optimizerStep: async () => 0.5,
    afterStep: ({ step }) => { trace.push(`opt${step}`); },
    evalEverySteps: shape.evalEverySteps ?? 0,
    validate: async (at) => {
      trace.push(`val${at.step}`);
      return false;
    },
    checkpointEverySteps: shape.checkpointEverySteps ?? 50,
    checkpointEachEpoch: shape.checkpointEachEpoch ?? true,
    checkpoint: async (at) => {
      trace.push(`ckpt${at.step}@${at.epoch}.${at.nextBatch}`);
      checkpoints.push(at);
    },
    abortMessage: (step) => `aborted after step ${step}`,
    nonFiniteMessage: (what, value, at, checkpointed) => `${what} ${value} at step ${at.step + 1} batch ${at.nextBatch}, last checkpoint ${checkpointed}`,
    ...overrides,
  };
  return { loop, trace, checkpoints };
}

describe('runTrainingLoop', () => {
  it('accumulates micro-batches, validates and checkpoints at each epoch end, and stops at totalSteps', async () => {
    // 5 batches per epoch, 2 per step: steps at batches 1 and 3, batch 4 left over; 2 epochs of 2 steps
    const { loop, trace } = recorder({ totalSteps: 4, epochs: 2, batchesPerEpoch: 5, gradAccum: 2, checkpointEverySteps: 1 });
    const end = await runTrainingLoop(loop);
    expect(trace).toEqual([
      'b0.0', 'b0.1', 'opt1', 'ckpt1@0.2', 'b0.2', 'b0.3', 'opt2', 'ckpt2@0.4', 'b0.4', 'val2', 'ckpt2@1.0',
      'b1.0', 'b1.1', 'opt3', 'ckpt3@1.2', 'b1.2', 'b1.3', 'opt4', 'val4', 'ckpt4@2.0',
    ]);
    expect(end).toEqual({ step: 4, epoch: 2, nextBatch: 0, done: false });
  });

  it('evalEverySteps validates every n steps and once more after a last step that is not one of them', async () => {
    const { loop, trace } = recorder({ totalSteps: 5, epochs: 3, batchesPerEpoch: 2, evalEverySteps: 2 });
    await runTrainingLoop(loop);
    expect(trace.filter((t) => !t.startsWith('b'))).toEqual([
      'opt1', 'opt2', 'val2', 'ckpt2@1.0', 'opt3', 'opt4', 'val4', 'ckpt4@2.0', 'opt5', 'val5', 'ckpt5@3.0',
    ]);
  });

  it('resumed from any of its checkpoints, continues exactly as the uninterrupted loop', async () => {
    const shape = { totalSteps: 7, epochs: 3, batchesPerEpoch: 7, gradAccum: 2, checkpointEverySteps: 2, evalEverySteps: 3 };
    const straight = recorder(shape);
    await runTrainingLoop(straight.loop);
    expect(straight.checkpoints.map((c) => `${c.step}@${c.epoch}.${c.nextBatch}`)).toEqual(['2@0.4', '3@1.0', '4@1.2', '6@1.6', '6@2.0', '7@3.0']);
    for (const at of straight.checkpoints) {
      const resumed = recorder(shape);
      const end = await runTrainingLoop(resumed.loop, at);
      const after = straight.trace.indexOf(`ckpt${at.step}@${at.epoch}.${at.nextBatch}`) + 1;
      expect(resumed.trace).toEqual(straight.trace.slice(after));
      expect(end).toEqual({ step: 7, epoch: 3, nextBatch: 0, done: false });
    }
  });

  it('an abort between steps checkpoints the step (unless it just was) and throws; at an epoch end after its validation', async () => {
    const controller = new AbortController();
    const mid = recorder({ totalSteps: 6, epochs: 2, batchesPerEpoch: 3 }, { signal: controller.signal });
    mid.loop.afterStep = ({ step }) => {
      mid.trace.push(`opt${step}`);
      if (step === 2) controller.abort('stop');
    };
    await expect(runTrainingLoop(mid.loop)).rejects.toMatchObject({ name: 'AbortError', message: 'aborted after step 2', cause: 'stop' });
    expect(mid.trace).toEqual(['b0.0', 'opt1', 'b0.1', 'opt2', 'ckpt2@0.2']);

    const atEnd = recorder({ totalSteps: 6, epochs: 2, batchesPerEpoch: 3 });
    atEnd.loop.afterStep = ({ step }) => {
      atEnd.trace.push(`opt${step}`);
      if (step === 3) atEnd.loop.signal = AbortSignal.abort();
    };
    await expect(runTrainingLoop(atEnd.loop)).rejects.toMatchObject({ name: 'AbortError', message: 'aborted after step 3' });
    expect(atEnd.trace.slice(-3)).toEqual(['opt3', 'val3', 'ckpt3@1.0']);

    // the step was checkpointed on schedule: no second save
    const due = recorder({ totalSteps: 6, epochs: 2, batchesPerEpoch: 3, checkpointEverySteps: 2 });
    due.loop.afterStep = ({ step }) => {
      due.trace.push(`opt${step}`);
      if (step === 2) due.loop.signal = AbortSignal.abort();
    };
    await expect(runTrainingLoop(due.loop)).rejects.toMatchObject({ name: 'AbortError' });
    expect(due.trace.slice(-2)).toEqual(['opt2', 'ckpt2@0.2']);
  });

  it('every abort check asks agree(), so that all processes stop at the same step', async () => {
    const asked: boolean[] = [];
    const { loop, trace } = recorder({ totalSteps: 4, epochs: 1, batchesPerEpoch: 4 }, {
      agree: async (aborted) => {
        asked.push(aborted);
        return asked.length === 2; // another process aborted before this one's second check
      },
    });
    await expect(runTrainingLoop(loop)).rejects.toMatchObject({ name: 'AbortError', message: 'aborted after step 2' });
    expect(asked).toEqual([false, false]);
    expect(trace.at(-1)).toBe('ckpt2@0.2');
  });

  it('without checkpointEachEpoch: checkpoints only every n steps before the last, and an abort after the last step is ignored', async () => {
    const { loop, trace } = recorder({ totalSteps: 5, epochs: Infinity, batchesPerEpoch: 2, checkpointEverySteps: 2, checkpointEachEpoch: false });
    loop.validate = undefined;
    loop.afterStep = ({ step }) => {
      trace.push(`opt${step}`);
      if (step === 5) loop.signal = AbortSignal.abort();
    };
    const end = await runTrainingLoop(loop);
    expect(trace).toEqual(['b0.0', 'opt1', 'b0.1', 'opt2', 'ckpt2@1.0', 'b1.0', 'opt3', 'b1.1', 'opt4', 'ckpt4@2.0', 'b2.0', 'opt5']);
    expect(end).toEqual({ step: 5, epoch: 3, nextBatch: 0, done: false });
  });

  it('early stopping: a validation that says stop ends the loop, and the checkpoint records it', async () => {
    const { loop, trace, checkpoints } = recorder({ totalSteps: 8, epochs: 4, batchesPerEpoch: 2, evalEverySteps: 3 });
    loop.validate = async (at) => {
      trace.push(`val${at.step}`);
      return at.step === 3;
    };
    const end = await runTrainingLoop(loop);
    expect(trace.filter((t) => !t.startsWith('b'))).toEqual(['opt1', 'opt2', 'ckpt2@1.0', 'opt3', 'val3', 'ckpt3@1.1']);
    expect(checkpoints.at(-1)).toEqual({ step: 3, epoch: 1, nextBatch: 1, done: true });
    expect(end.done).toBe(true);
    const resumed = recorder({ totalSteps: 8, epochs: 4, batchesPerEpoch: 2, evalEverySteps: 3 });
    await runTrainingLoop(resumed.loop, checkpoints.at(-1));
    expect(resumed.trace).toEqual([]);
  });

  it('a non-finite loss or gradient norm stops before the step is reported or saved', async () => {
    const loss = recorder({ totalSteps: 4, epochs: 1, batchesPerEpoch: 4, checkpointEverySteps: 1 });
    loss.loop.backward = async (batch) => ({ loss: batch.index === 2 ? Number.NaN : 1 });
    await expect(runTrainingLoop(loss.loop)).rejects.toMatchObject({ name: 'NonFiniteLossError', message: 'loss NaN at step 3 batch 3, last checkpoint 2' });
    expect(loss.trace).toEqual(['opt1', 'ckpt1@0.1', 'opt2', 'ckpt2@0.2']);

    const grad = recorder({ totalSteps: 4, epochs: 1, batchesPerEpoch: 4 });
    grad.loop.optimizerStep = async () => Number.POSITIVE_INFINITY;
    await expect(runTrainingLoop(grad.loop)).rejects.toMatchObject({ name: 'NonFiniteLossError', message: 'gradient norm Infinity at step 1 batch 1, last checkpoint undefined' });
    expect(grad.trace).toEqual(['b0.0']);
  });

  it('passes the learning rate of each 0-based step from the schedule', async () => {
    const lrs: number[] = [];
    const { loop } = recorder({ totalSteps: 4, epochs: 1, batchesPerEpoch: 4 }, {
      optimizerStep: async (lr) => {
        lrs.push(lr);
        return 0.5;
      },
    });
    await runTrainingLoop(loop);
    // linear from 1 to 0 over 4 steps, no warm-up: 1 - step / 4
    expect(lrs).toEqual([1, 0.75, 0.5, 0.25]);
  });
});
