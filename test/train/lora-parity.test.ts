// LoRA training parity with PyTorch + PEFT semantics (fixtures lora-init / lora-grads / lora-after-adamw, made
// with transformers 4.44 and torch.optim.AdamW): the adapter loads from PEFT's layout, the loss, every one of
// the 100 gradients and one AdamW step match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { relativeMaxDiff } from '../helpers/tensors.js';

const lora = JSON.parse(readFileSync(join(TINY, 'lora.json'), 'utf8')) as {
  target_modules: string[];
  loss_with_lora_before_step: number;
  loss_with_lora_after_adamw_step: number;
  optimizer: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
};

let dir: string;
let model: Blip2Model;
let golden: SafetensorsFile;
let grads: SafetensorsFile;
let after: SafetensorsFile;
let inputs: ForwardInputs;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blip2-lora-'));
  // A PEFT adapter directory: the fixture's hand-made LoRA (r=4, alpha=8, no dropout) on its 50 modules.
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0.0, bias: 'none', target_modules: lora.target_modules, task_type: null,
  }));
  copyFileSync(join(TINY, 'lora-init.safetensors'), join(dir, 'adapter_model.safetensors'));
  golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  grads = await readSafetensorsFile(join(TINY, 'lora-grads.safetensors'));
  after = await readSafetensorsFile(join(TINY, 'lora-after-adamw.safetensors'));
  const g = (name: string) => golden.tensors.get(`main.${name}`)!;
  inputs = {
    pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
    inputIds: toRows(g('input_ids').data as BigInt64Array, g('input_ids').shape),
    attentionMask: toRows(g('attention_mask').data as BigInt64Array, g('attention_mask').shape),
    labels: toRows(g('labels').data as BigInt64Array, g('labels').shape),
    decoderInputIds: toRows(g('decoder_input_ids').data as BigInt64Array, g('decoder_input_ids').shape),
  };
  model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
});
afterAll(() => {
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('LoRA parity with PyTorch', () => {
  it('loads the PEFT adapter and reports trainable vs total parameters', async () => {
    const summary = await model.loadAdapter(dir);
    expect(summary.modules).toBe(50);
    const initElements = [...(await readSafetensorsFile(join(dir, 'adapter_model.safetensors'))).tensors.values()]
      .reduce((n, t) => n + t.data.length, 0);
    expect(summary.trainableParameters).toBe(initElements);
    expect(summary.totalParameters).toBe(360_576 + initElements);
  });

  it('matches the loss, all 100 gradients and one AdamW step', async () => {
    const loss = await model.backwardCrossEntropy(inputs);
    console.log(`LoRA loss before the step ${loss} vs ${lora.loss_with_lora_before_step}`);
    expect(Math.abs(loss - lora.loss_with_lora_before_step) / lora.loss_with_lora_before_step).toBeLessThanOrEqual(1e-5);

    const ours = await model.loraTensors('grads');
    expect(Object.keys(ours).sort()).toEqual([...grads.tensors.keys()].sort());
    let worst = 0;
    for (const [name, ref] of grads.tensors) {
      const rel = relativeMaxDiff(ours[name]!.data as Float32Array, ref.data as Float32Array);
      worst = Math.max(worst, rel);
      expect(rel, name).toBeLessThanOrEqual(1e-5);
    }
    console.log(`LoRA gradients: worst max|diff| / max|grad| over 100 tensors = ${worst.toExponential(3)}`);

    const { step } = await model.optimizerStep({
      lr: lora.optimizer.lr, betas: lora.optimizer.betas, eps: lora.optimizer.eps, weightDecay: lora.optimizer.weight_decay,
    });
    expect(step).toBe(1);
    const weights = await model.loraTensors('weights');
    let maxDiff = 0;
    for (const [name, ref] of after.tensors) {
      const got = weights[name]!.data as Float32Array;
      const g = grads.tensors.get(name)!.data as Float32Array;
      const r = ref.data as Float32Array;
      for (let i = 0; i < r.length; i++) if (Math.abs(g[i]!) >= 1e-6) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - r[i]!));
    }
    console.log(`after one AdamW step: max abs diff ${maxDiff.toExponential(3)} (entries with |g| >= 1e-6)`);
    expect(maxDiff).toBeLessThanOrEqual(1e-6);
    expect(Object.keys(await model.loraTensors('grads'))).toEqual([]);

    const out = await model.forward(inputs, ['loss']);
    const lossAfter = Number(out.loss!.data[0]);
    console.log(`LoRA loss after the step ${lossAfter} vs ${lora.loss_with_lora_after_adamw_step}`);
    expect(Math.abs(lossAfter - lora.loss_with_lora_after_adamw_step) / lora.loss_with_lora_after_adamw_step).toBeLessThanOrEqual(1e-5);
  });
});
