// A run stopped after step k and resumed from its checkpoint ends with exactly the adapter of an uninterrupted run
// (adapter dropout on, so the generator state has to be restored too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { loadCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint.js';
import { learningRate, resolveSchedule, type Schedule } from '../../lib/train/schedule.js';
import { TINY_MODEL } from '../helpers/paths.js';

const STEPS = 6;
const STOP_AT = 3;
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-resume-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function batch(step: number): ForwardInputs {
  const pixels = new Float32Array(2 * 3 * 32 * 32);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.01 + step);
  return {
    pixelValues: { data: pixels, shape: [2, 3, 32, 32] },
    inputIds: [[18, 31, 7, 1], [18, 31, 7, 1]],
    labels: [[3 + step, 164, 46, 1], [24, 148 + step, 1, -100]],
  };
}

async function run(model: Blip2Model, schedule: Schedule, from: number, to: number): Promise<void> {
  for (let step = from; step < to; step++) {
    await model.backwardCrossEntropy(batch(step), { scale: 0.5 });
    await model.backwardCrossEntropy(batch(step + 100), { scale: 0.5 }); // two micro-batches accumulated
    await model.optimizerStep({ lr: learningRate(schedule, step), maxGradNorm: 1.0 });
  }
}

async function fresh(): Promise<Blip2Model> {
  const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  await model.addLora({ r: 4, alpha: 8, dropout: 0.3, seed: 7 });
  await model.setTraining(true);
  return model;
}

describe('resumable training', () => {
  it('resume after step k equals the uninterrupted run bit for bit', async () => {
    const schedule = resolveSchedule({ kind: 'cosine', lr: 5e-3, warmupSteps: 2, totalSteps: STEPS });

    const straight = await fresh();
    await run(straight, schedule, 0, STEPS);
    const expected = await straight.loraTensors('weights');
    straight.dispose();

    const first = await fresh();
    await run(first, schedule, 0, STOP_AT);
    const ckpt = join(root, 'checkpoint');
    await saveCheckpoint(first, ckpt, { step: STOP_AT, epoch: 0, schedule, extra: { note: 'k' } });
    first.dispose();
    expect(readdirSync(root)).toEqual(['checkpoint']); // no temporary directory left behind
    expect(readdirSync(ckpt).sort()).toEqual(['latest', 'step-3-0']);
    expect(readdirSync(join(ckpt, 'step-3-0')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);

    // Disturb the process-wide generator, as a new process would start from another state.
    const disturb = await fresh();
    await run(disturb, schedule, 0, 1);
    disturb.dispose();

    const resumed = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    const state = await loadCheckpoint(resumed, ckpt);
    expect(state).toEqual({ step: STOP_AT, epoch: 0, schedule, extra: { note: 'k' } });
    await resumed.setTraining(true);
    await run(resumed, state.schedule, state.step, STEPS);
    const got = await resumed.loraTensors('weights');
    resumed.dispose();

    let differing = 0;
    for (const name of Object.keys(expected)) {
      const a = expected[name]!.data as Float32Array;
      const b = got[name]!.data as Float32Array;
      if (!Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) differing += 1;
    }
    console.log(`resume after step ${STOP_AT} of ${STEPS}: ${differing} of ${Object.keys(expected).length} adapter tensors differ`);
    expect(differing).toBe(0);
  });

  it('saving over an existing checkpoint replaces it whole', async () => {
    const model = await fresh();
    const schedule = resolveSchedule({ lr: 1e-3, totalSteps: 2 });
    const ckpt = join(root, 'again');
    await saveCheckpoint(model, ckpt, { step: 0, epoch: 0, schedule, extra: {} });
    await run(model, schedule, 0, 1);
    await saveCheckpoint(model, ckpt, { step: 1, epoch: 0, schedule, extra: {} });
    expect(readdirSync(ckpt).sort()).toEqual(['latest', 'step-1-0']);
    const other = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    expect((await loadCheckpoint(other, ckpt)).step).toBe(1);
    await expect(loadCheckpoint(other, join(root, 'missing'))).rejects.toThrow(/^Cannot read checkpoint ".*missing": no "latest" file naming a checkpoint$/);
    other.dispose();
    model.dispose();
  });
});
