// Gradient checkpointing recomputes blocks in backward: the gradients equal those of the plain backward, with
// adapter dropout on (the recomputation replays the same dropout masks) and with every parameter trainable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { TINY_MODEL } from '../helpers/paths.js';

const batch: ForwardInputs = {
  pixelValues: { data: new Float32Array(2 * 3 * 32 * 32).map((_, i) => Math.sin(i * 0.03)), shape: [2, 3, 32, 32] },
  inputIds: [[18, 31, 7, 1], [18, 31, 7, 1]],
  labels: [[3, 164, 46, 17, 1], [24, 148, 1, -100, -100]],
};

async function gradients(model: Blip2Model, checkpointing: boolean, seed: number, targetModules?: string[]) {
  await model.setGradientCheckpointing(checkpointing);
  // same init; the seed also fixes the dropout stream
  await model.addLora({ r: 4, alpha: 8, dropout: 0.3, seed, ...(targetModules ? { targetModules } : {}) });
  await model.setTraining(true);
  const loss = await model.backwardCrossEntropy(batch);
  const grads = await model.loraTensors('grads');
  return { loss, grads };
}

let model: Blip2Model;
beforeAll(async () => {
  model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
});
afterAll(() => model?.dispose());

describe('gradient checkpointing', () => {
  it('gives the same loss and LoRA gradients, dropout included', async () => {
    const plain = await gradients(model, false, 5);
    const ckpt = await gradients(model, true, 5);
    expect(ckpt.loss).toBe(plain.loss);
    let worst = 0;
    for (const name of Object.keys(plain.grads)) {
      const a = plain.grads[name]!.data as Float32Array;
      const b = ckpt.grads[name]!.data as Float32Array;
      let max = 0;
      let diff = 0;
      for (let i = 0; i < a.length; i++) {
        max = Math.max(max, Math.abs(a[i]!));
        diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      }
      worst = Math.max(worst, max === 0 ? diff : diff / max);
    }
    console.log(`checkpointed vs plain LoRA gradients: worst relative diff ${worst.toExponential(3)} over ${Object.keys(plain.grads).length} tensors`);
    expect(Object.keys(ckpt.grads).length).toBe(104);
    expect(worst).toBeLessThan(1e-5);
    await model.removeLora();
  });

  it('gives the same gradients with T5-only adapters, whose first checkpointed block has no input that requires grad', async () => {
    // the scripts' LoRA: the T5 language model alone; the T5 encoder's input comes from frozen layers
    const t5Only = ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'];
    const plain = await gradients(model, false, 6, t5Only);
    await model.removeLora();
    const ckpt = await gradients(model, true, 6, t5Only);
    await model.removeLora();
    await model.setGradientCheckpointing(false);
    expect(ckpt.loss).toBe(plain.loss);
    expect(Object.keys(ckpt.grads).length).toBe(Object.keys(plain.grads).length);
    let worst = 0;
    let largest = 0;
    for (const name of Object.keys(plain.grads)) {
      const a = plain.grads[name]!.data as Float32Array;
      const b = ckpt.grads[name]!.data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        largest = Math.max(largest, Math.abs(a[i]!));
      }
    }
    console.log(`T5-only LoRA, checkpointed vs plain: max abs diff ${worst.toExponential(3)} (max |grad| ${largest.toExponential(3)}) over ${Object.keys(plain.grads).length} tensors`);
    expect(largest).toBeGreaterThan(0);
    expect(worst / largest).toBeLessThan(1e-5);
  });

  it('works with every parameter trainable (vision layers checkpointed too)', async () => {
    await model.setTraining(false);
    await model.setGradientCheckpointing(false);
    await model.setFullTraining(true);
    const a = await model.backwardCrossEntropy(batch);
    await model.zeroGrad();
    await model.setGradientCheckpointing(true);
    const b = await model.backwardCrossEntropy(batch);
    expect(b).toBe(a);
    const { gradNorm } = await model.optimizerStep({ lr: 0 });
    expect(gradNorm).toBeGreaterThan(0);
    await model.setFullTraining(false);
  });
});
