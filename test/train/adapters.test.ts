// Adapters: PEFT layout round trip, merge/unmerge, weighted log-likelihood, bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, type ForwardInputs } from '../../lib/model/blip2-model.js';
import { toRows } from '../../lib/model/tensors.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

let root: string;
let inputs: ForwardInputs;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-adapters-'));
  const golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  const g = (name: string) => golden.tensors.get(`main.${name}`)!;
  inputs = {
    pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
    inputIds: toRows(g('input_ids').data as BigInt64Array, g('input_ids').shape),
    labels: toRows(g('labels').data as BigInt64Array, g('labels').shape),
  };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Grads = Awaited<ReturnType<Blip2Model['loraTensors']>>;

/** max |a − sign·b| over every adapter gradient, and max |a| for scale. */
function compareGrads(a: Grads, b: Grads, sign = 1): { maxDiff: number; maxAbs: number } {
  let maxDiff = 0;
  let maxAbs = 0;
  for (const name of Object.keys(a)) {
    const x = a[name]!.data as Float32Array;
    const y = b[name]!.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(x[i]! - sign * y[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(x[i]!));
    }
  }
  return { maxDiff, maxAbs };
}

async function trainedModel(seed: number): Promise<Blip2Model> {
  const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  const summary = await model.addLora({ r: 4, alpha: 8, dropout: 0, seed });
  // the paper's targets on this model: T5 2x7 (encoder) + 2x11 (decoder); Q-Former layer 0 with cross-attention
  // 10 (3+1 self, 3+1 cross, intermediate_query and output_query dense), layer 1 without it 6
  expect(summary.modules).toBe(52);
  await model.backwardCrossEntropy(inputs);
  await model.optimizerStep({ lr: 1e-2 });
  return model;
}

describe('adapter files', () => {
  it('save then load round-trips bit-exactly in PEFT layout', async () => {
    const a = await trainedModel(3);
    const dir = join(root, 'adapter');
    await a.saveAdapter(dir, { baseModel: 'tiny' });
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8, lora_dropout: 0, bias: 'none', base_model_name_or_path: 'tiny' });
    expect(config.target_modules).toEqual(['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo', 'query', 'key', 'value', 'dense']);
    const file = await readSafetensorsFile(join(dir, 'adapter_model.safetensors'));
    expect(file.tensors.has('base_model.model.language_model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight')).toBe(true);
    expect(file.tensors.has('base_model.model.qformer.encoder.layer.0.intermediate_query.dense.lora_B.weight')).toBe(true);
    expect(file.tensors.size).toBe(104);

    const b = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await b.loadAdapter(dir);
    const wa = await a.loraTensors('weights');
    const wb = await b.loraTensors('weights');
    for (const name of Object.keys(wa)) expect(Buffer.from((wb[name]!.data as Float32Array).buffer).equals(Buffer.from((wa[name]!.data as Float32Array).buffer)), name).toBe(true);
    const la = await a.forward(inputs, ['loss']);
    const lb = await b.forward(inputs, ['loss']);
    expect(lb.loss!.data[0]).toBe(la.loss!.data[0]);
    a.dispose();
    b.dispose();
  });

  it('merged inference equals unmerged within float reordering error, and unmerge restores it', async () => {
    const model = await trainedModel(4);
    const before = (await model.forward(inputs, ['logits'])).logits!.data as Float32Array;
    await model.mergeLora();
    expect(model.loraInfo().merged).toBe(true);
    const merged = (await model.forward(inputs, ['logits'])).logits!.data as Float32Array;
    await model.unmergeLora();
    const after = (await model.forward(inputs, ['logits'])).logits!.data as Float32Array;
    let dm = 0;
    let du = 0;
    for (let i = 0; i < before.length; i++) {
      dm = Math.max(dm, Math.abs(merged[i]! - before[i]!));
      du = Math.max(du, Math.abs(after[i]! - before[i]!));
    }
    // Merging computes W + s·B·A once (one rounding per weight, relative 2^-24) where unmerged inference computes
    // W·x + s·B·(A·x): the same sum in another order, through every layer of the model, and BLAS picks different
    // kernels (so different orders) for the two shapes on each CPU. The bound is relative to the logits' size:
    // 2^-16 of the largest logit is ~250 ulp there, well above reordering error, and far below the effect of the
    // adapter itself (checked against the base model's logits).
    const scale = before.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const tolerance = scale * 2 ** -16;
    console.log(`merged vs unmerged logits: max abs diff ${dm.toExponential(3)}; after unmerge ${du.toExponential(3)}; tolerance ${tolerance.toExponential(3)}`);
    expect(dm).toBeLessThanOrEqual(tolerance);
    expect(du).toBeLessThanOrEqual(tolerance);
    await model.mergeLora();
    await expect(model.backwardCrossEntropy(inputs)).rejects.toThrow('unmerge the adapters before training');
    await model.unmergeLora();
    await model.removeLora();
    const base = (await model.forward(inputs, ['logits'])).logits!.data as Float32Array;
    const adapterEffect = base.reduce((m, x, i) => Math.max(m, Math.abs(x - before[i]!)), 0);
    console.log(`adapter effect on the logits: max abs diff ${adapterEffect.toExponential(3)}`);
    expect(adapterEffect).toBeGreaterThan(100 * tolerance);
    model.dispose();
  });
});

describe('weighted log-likelihood', () => {
  it('equals -(1/B) sum_i w_i sum_t log p(y_it) with log p read where each token is predicted', async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 1 });
    const lp = await model.forward(inputs, ['token_logprobs']);
    const rows = toRows(lp.token_logprobs!.data, lp.token_logprobs!.shape);
    const seq = rows.map((r) => r.reduce((a, b) => a + b, 0));
    const w = [0.7, -1.3];
    const { loss, sequenceLogprobs } = await model.backwardWeighted(inputs, w);
    const expected = -(w[0]! * seq[0]! + w[1]! * seq[1]!) / 2;
    expect(Array.from(sequenceLogprobs).map((x, i) => Math.abs(x - seq[i]!) < 1e-4)).toEqual([true, true]);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-4);
    // gradients are linear in the weights: w and -w give opposite gradients
    const g1 = await model.loraTensors('grads');
    await model.zeroGrad();
    await model.backwardWeighted(inputs, w.map((x) => -x));
    const g2 = await model.loraTensors('grads');
    const { maxDiff: maxSum, maxAbs } = compareGrads(g1, g2, -1);
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxSum / maxAbs).toBeLessThan(1e-5);
    await expect(model.backwardWeighted(inputs, [1])).rejects.toThrow(
      'Expected 2 finite numbers (one per sequence) for weights but received an array of length 1',
    );
    model.dispose();
  });
});

describe('imageRepeat', () => {
  it('gives the loss and gradients of explicitly repeated images and prompts, encoding each image once', async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 2 });
    const R = 3;
    const [b, ...rest] = inputs.pixelValues.shape;
    const plane = rest.reduce((x, y) => x * y, 1);
    const pixels = new Float32Array(b! * R * plane);
    for (let i = 0; i < b!; i++) for (let k = 0; k < R; k++) pixels.set(inputs.pixelValues.data.subarray(i * plane, (i + 1) * plane), (i * R + k) * plane);
    // B·R label rows: each image's caption, then shortened variants of it
    const labels = inputs.labels!.flatMap((row) => [row, row.map((t, j) => (j >= row.length - 2 ? -100 : t)), row.map((t, j) => (j >= 3 ? -100 : t))]);
    const weights = labels.map((_, i) => (i % 2 ? -0.5 : 1.25) + i / 10);
    const explicit = { pixelValues: { data: pixels, shape: [b! * R, ...rest] }, inputIds: inputs.inputIds.flatMap((r) => Array(R).fill(r)), labels };
    const a = await model.backwardWeighted(explicit, weights);
    const ga = await model.loraTensors('grads');
    await model.zeroGrad();
    const c = await model.backwardWeighted({ pixelValues: inputs.pixelValues, inputIds: inputs.inputIds, labels, imageRepeat: R }, weights);
    const gc = await model.loraTensors('grads');
    await model.zeroGrad();
    const { maxDiff, maxAbs } = compareGrads(ga, gc);
    const seqDiff = Math.max(...Array.from(a.sequenceLogprobs, (v, i) => Math.abs(v - c.sequenceLogprobs[i]!)));
    console.log(`imageRepeat ${R} vs repeated inputs: loss diff ${Math.abs(a.loss - c.loss).toExponential(2)}, sequence log-prob max diff ${seqDiff.toExponential(2)}, grad max diff ${(maxDiff / maxAbs).toExponential(2)} of max|g|`);
    expect(Math.abs(a.loss - c.loss)).toBeLessThan(1e-5 * Math.abs(a.loss));
    expect(seqDiff).toBeLessThan(1e-4);
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxDiff / maxAbs).toBeLessThan(1e-5);
    await expect(model.backwardWeighted({ ...inputs, imageRepeat: R }, [1, 1])).rejects.toThrow(
      `Expected ${b! * R} rows (${R} per image: imageRepeat) for labels`,
    );
    await expect(model.forward({ pixelValues: inputs.pixelValues, inputIds: inputs.inputIds, imageRepeat: 2 }, ['vision_pooler_output'])).rejects.toThrow('imageRepeat');
    model.dispose();
  });
});

describe('adapter errors', () => {
  let model: Blip2Model;
  beforeAll(async () => {
    model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  });
  afterAll(() => model.dispose());

  it('r = 0', async () => {
    await expect(model.addLora({ r: 0 })).rejects.toThrow('Expected integer between 1 and 65536 for r but received 0 of type number');
  });

  it('a target pattern that matches nothing', async () => {
    await expect(model.addLora({ targetModules: ['q', 'qkvz'] })).rejects.toThrow('target_modules "qkvz" match no Linear layer of the model');
    await expect(model.addLora({ targetModules: '.*\\.nothing' })).rejects.toThrow('target_modules pattern ".*\\.nothing" matches no Linear layer of the model');
  });

  it('an adapter whose shapes do not match the model', async () => {
    const dir = join(root, 'wrong-rank');
    mkdirSync(dir);
    const a = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await a.addLora({ r: 4, alpha: 8, seed: 0 });
    await a.saveAdapter(dir);
    a.dispose();
    const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ ...config, r: 8 }));
    await expect(model.loadAdapter(dir)).rejects.toThrow(
      /^Adapter does not match the model \(104 problems\):\n {2}base_model\.model\.[^\n]+ has shape \[4, \d+\] but the model expects \[8, \d+\]/,
    );
    expect(model.loraConfig).toBeUndefined();
  });

  it('an adapter for other target modules', async () => {
    const dir = join(root, 'other-targets');
    mkdirSync(dir);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q'] }));
    copyFileSync(join(TINY, 'lora-init.safetensors'), join(dir, 'adapter_model.safetensors'));
    await expect(model.loadAdapter(dir)).rejects.toThrow(/^Adapter does not match the model \(\d+ problems\):\n {2}unexpected base_model\.model\./);
  });

  it('a corrupt adapter file', async () => {
    const dir = join(root, 'corrupt');
    mkdirSync(dir);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q'] }));
    writeFileSync(join(dir, 'adapter_model.safetensors'), Buffer.from('not a safetensors file at all'));
    await expect(model.loadAdapter(dir)).rejects.toThrow(/^Invalid safetensors file .*adapter_model\.safetensors: header length \d+ runs past the end of the file/);
  });

  it('PEFT features that are not implemented', async () => {
    const dir = join(root, 'dora');
    mkdirSync(dir);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['q'], use_dora: true }));
    await expect(model.loadAdapter(dir)).rejects.toThrow(`Unsupported adapter in ${join(dir, 'adapter_config.json')}: use_dora (DoRA is not implemented)`);
    await expect(model.loadAdapter(join(root, 'none'))).rejects.toThrow(`No adapter_config.json in ${JSON.stringify(join(root, 'none'))}`);
  });

  it('training without adapters', async () => {
    await expect(model.backwardCrossEntropy(inputs)).rejects.toThrow('Nothing to train on this model; call addLora() (or setFullTraining(true)) first');
  });
});
