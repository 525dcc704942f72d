// Training every parameter (pretraining): loss falls on a repeated batch, checkpoints carry all weights and
// resume bit-exactly, and full training and adapters exclude each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { loadCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint.js';
import { resolveSchedule } from '../../lib/train/schedule.js';
import { TINY_MODEL } from '../helpers/paths.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-full-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const batch: ForwardInputs = {
  pixelValues: { data: new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.cos(i * 0.02)), shape: [2, 3, 32, 32] },
  inputIds: [[], []],
  labels: [[3, 164, 46, 1], [24, 148, 1, -100]],
};

async function steps(model: Blip2Model, n: number): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < n; i++) {
    losses.push(await model.backwardCrossEntropy(batch));
    await model.optimizerStep({ lr: 3e-3, betas: [0.9, 0.98], maxGradNorm: 1 });
  }
  return losses;
}

describe('full training', () => {
  it('lowers the loss, checkpoints every weight and resumes exactly', async () => {
    const straight = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await straight.setFullTraining(true);
    const losses = await steps(straight, 6);
    console.log(`full training losses: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    expect(losses[5]!).toBeLessThan(losses[0]! * 0.7);
    const expected = (await straight.forward(batch, ['logits'])).logits!.data as Float32Array;
    straight.dispose();

    const first = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await first.setFullTraining(true);
    await steps(first, 3);
    const dir = join(root, 'ckpt');
    await saveCheckpoint(first, dir, { step: 3, epoch: 0, schedule: resolveSchedule({ lr: 3e-3, totalSteps: 6 }), extra: {} });
    first.dispose();
    const saved = readdirSync(join(dir, 'step-3-0')).sort();
    expect(saved).toEqual(['model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);

    const resumed = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await resumed.setFullTraining(true);
    await loadCheckpoint(resumed, dir);
    await steps(resumed, 3);
    const got = (await resumed.forward(batch, ['logits'])).logits!.data as Float32Array;
    resumed.dispose();
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('and adapters exclude each other', async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 2 });
    await expect(model.setFullTraining(true)).rejects.toThrow('remove the LoRA adapters before training every parameter');
    await model.removeLora();
    await model.setFullTraining(true);
    await expect(model.addLora({ r: 2 })).rejects.toThrow('full training is on; call setFullTraining(false) before adding adapters');
    await model.setFullTraining(false);
    await expect(model.backwardCrossEntropy(batch)).rejects.toThrow('Nothing to train on this model; call addLora() (or setFullTraining(true)) first');
    model.dispose();
  });
});
