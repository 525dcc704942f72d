// LoRA gradient parity for BLIP-2 with an OPT language model (fixtures blip2-opt-tiny/lora-init, lora-grads,
// lora.json; transformers 4.44 + PEFT semantics): the PEFT adapter on OPT's q/k/v/out_proj, fc1, fc2 and the
// Q-Former's query/key/value/dense loads, and the loss of the `main` batch and all 60 gradients match. The golden
// batch is the whole text as HF's input_ids with labels = ids; ours takes the prompt (the text's BOS) and the
// targets after it, which is the same sequence (see test/native/opt-forward.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';
import { relativeMaxDiff } from '../helpers/tensors.js';

const lora = JSON.parse(readFileSync(join(TINY_OPT, 'lora.json'), 'utf8')) as {
  r: number;
  alpha: number;
  targets: string[];
  loss: number;
};

let dir: string;
let model: Blip2Model;
let grads: SafetensorsFile;
let inputs: ForwardInputs;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blip2-opt-lora-'));
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({
    peft_type: 'LORA', r: lora.r, lora_alpha: lora.alpha, lora_dropout: 0.0, bias: 'none', target_modules: lora.targets, task_type: null,
  }));
  copyFileSync(join(TINY_OPT, 'lora-init.safetensors'), join(dir, 'adapter_model.safetensors'));
  const golden = await readSafetensorsFile(join(TINY_OPT, 'golden-forward.safetensors'));
  grads = await readSafetensorsFile(join(TINY_OPT, 'lora-grads.safetensors'));
  const g = (name: string) => golden.tensors.get(`main.${name}`)!;
  const ids = toRows(g('input_ids').data as BigInt64Array, g('input_ids').shape);
  const labels = toRows(g('labels').data as BigInt64Array, g('labels').shape);
  inputs = {
    pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
    inputIds: ids.map((row) => row.slice(0, 1)),
    labels: labels.map((row) => row.slice(1)),
  };
  model = await Blip2Model.load(TINY_OPT_MODEL, { threads: 1 });
});
afterAll(() => {
  model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('OPT LoRA parity with PyTorch', () => {
  it('loads the PEFT adapter on the 30 target modules', async () => {
    const summary = await model.loadAdapter(dir);
    expect(summary.modules).toBe(lora.targets.length);
    expect(lora.targets.length).toBe(30);
  });

  it('matches the loss and all 60 gradients', async () => {
    const loss = await model.backwardCrossEntropy(inputs);
    console.log(`OPT LoRA loss ${loss} vs ${lora.loss}`);
    expect(Math.abs(loss - lora.loss) / lora.loss).toBeLessThanOrEqual(1e-5);
    const ours = await model.loraTensors('grads');
    expect(Object.keys(ours).sort()).toEqual([...grads.tensors.keys()].sort());
    let worst = 0;
    for (const [name, ref] of grads.tensors) {
      const rel = relativeMaxDiff(ours[name]!.data as Float32Array, ref.data as Float32Array);
      worst = Math.max(worst, rel);
      expect(rel, name).toBeLessThanOrEqual(1e-5);
    }
    console.log(`OPT LoRA gradients: worst max|diff| / max|grad| over ${grads.tensors.size} tensors = ${worst.toExponential(3)}`);
  });

  it('gives the same loss and gradients with gradient checkpointing (activations recomputed in backward)', async () => {
    await model.optimizerStep({ lr: 0 }); // clears the gradients of the test above
    await model.setTraining(true);
    await model.setGradientCheckpointing(true);
    try {
      const loss = await model.backwardCrossEntropy(inputs);
      expect(Math.abs(loss - lora.loss) / lora.loss).toBeLessThanOrEqual(1e-5);
      const ours = await model.loraTensors('grads');
      let worst = 0;
      for (const [name, ref] of grads.tensors) worst = Math.max(worst, relativeMaxDiff(ours[name]!.data as Float32Array, ref.data as Float32Array));
      console.log(`OPT LoRA gradients with checkpointing: worst relative diff ${worst.toExponential(3)}`);
      expect(worst).toBeLessThanOrEqual(1e-5);
    } finally {
      await model.setGradientCheckpointing(false);
      await model.setTraining(false);
    }
  });
});
