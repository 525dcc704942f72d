// dtype 'int8' (int8 Linear weights, dynamic quantized products, the rest float32) against Hugging Face's float32
// goldens of the tiny T5 and OPT models, its refusals, and LoRA adapters on it.
//
// Tolerance, from the quantization steps rather than from a run. One product y = x W^T + b in int8 rounds each
// weight to the step s_w = max|w_row| / 127 and each activation to s_x = (max(x, 0) - min(x, 0)) / 255 (per call),
// each rounding uniform within ±s/2 (variance s²/12). Relative to the product's scale (n σ_x² σ_w²) the error's
// variance is ε² = ((s_w / σ_w)² + (s_x / σ_x)²) / 12. The tiny models' Linear weights are normal(0, 0.02), whose
// row maxima over 32-64 entries are ~3σ_w: s_w / σ_w ≈ 3 / 127; a batch's activations (thousands of entries) span
// ~±4.5σ_x: s_x / σ_x ≈ 9 / 255. So ε ≈ 1.2 % per product. The logits pass through ~12 products on their longest
// path (as in test/native/dtypes.test.ts), so the bound adds them in the worst case, 12ε, times the largest |logit|;
// random roundings add in quadrature (√12 ε ≈ 4 %). The single-Linear bound, element by element, is
// test/cpp/quantize_test.cpp's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model, loadPeakBytes } from '../../lib/model/blip2-model.js';
import { estimateParameters, readBlip2Config } from '../../lib/model/config.js';
import type { NativeModel } from '../../lib/native.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { generate } from '../../lib/generation/generate.js';
import { generationOptionsFromJson, readGenerationOptions } from '../../lib/generation/config.js';
import { TINY, TINY_MODEL, TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

const EPSILON = Math.sqrt(((3 / 127) ** 2 + (9 / 255) ** 2) / 12);
const RELATIVE_BOUND = 12 * EPSILON;
const TOKENIZER_SIZE = 4100;

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('int8 on the tiny T5 model against the float32 goldens', () => {
  let model: Blip2Model;
  let golden: SafetensorsFile;
  let scores: SafetensorsFile;
  const generation = JSON.parse(readFileSync(join(TINY, 'generation.json'), 'utf8')) as {
    input_ids: number[][];
    attention_mask: number[][];
    main: Record<string, { kwargs: Record<string, unknown>; sequences: number[][] }>;
  };
  beforeAll(async () => {
    golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
    scores = await readSafetensorsFile(join(TINY, 'generation-scores.safetensors'));
    model = await Blip2Model.load(TINY_MODEL, { threads: 1, dtype: 'int8' });
  });
  afterAll(() => model?.dispose());

  it('reports its dtype and every parameter', async () => {
    const config = await readBlip2Config(TINY_MODEL);
    expect(model.info().dtype).toBe('int8');
    expect(model.info().numParameters).toBe(estimateParameters(config));
  });

  it.each(['main', 'padded_prompts'])('logits and loss within the int8 bound (%s)', async (prefix) => {
    const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
    const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);
    const out = await model.forward({
      pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
      inputIds: rows('input_ids'),
      attentionMask: rows('attention_mask'),
      labels: rows('labels'),
      decoderInputIds: rows('decoder_input_ids'),
    }, ['logits', 'loss']);
    const ref = g('logits').data as Float32Array;
    expect(out.logits!.shape).toEqual(g('logits').shape);
    const diff = maxAbsDiff(out.logits!.data as Float32Array, ref);
    const bound = RELATIVE_BOUND * maxAbs(ref);
    const loss = Number(out.loss!.data[0]);
    const refLoss = Number(g('loss').data[0]);
    console.log(`int8 T5 ${prefix}: logits max abs diff ${diff.toExponential(3)} = ${((diff / maxAbs(ref)) * 100).toFixed(2)} % of ` +
      `max |logit| ${maxAbs(ref).toFixed(3)} (bound ${(RELATIVE_BOUND * 100).toFixed(1)} %); loss ${loss.toFixed(5)} vs ${refLoss.toFixed(5)}`);
    expect(diff).toBeLessThanOrEqual(bound);
    // log-sum-exp is 1-Lipschitz in the max norm: each log-softmax value moves by at most 2 · diff
    expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(2 * diff);
  });

  // Greedy tokens: row by row while our prefix equals HF's, the step's scores differ by d <= bound; where HF's top-1
  // margin exceeds 2d no score within d can change the argmax, so our token must be HF's. Where it does not, no
  // precision short of float32's can promise HF's token, and the row is not compared further (printed instead).
  it('greedy: HF float32 tokens wherever the margin decides them, scores within the bound', async () => {
    const v = generation.main.greedy!;
    const ref = scores.tensors.get('greedy.scores')!;
    const [steps, batch, vocab] = ref.shape as [number, number, number];
    const forward = golden.tensors.get('main.pixel_values')!;
    const out = await generate(model, {
      pixelValues: { data: forward.data as Float32Array, shape: forward.shape },
      inputIds: generation.input_ids,
      attentionMask: generation.attention_mask,
    }, { ...generationOptionsFromJson(v.kwargs), outputScores: true, suppressUndecodable: false },
    { defaults: await readGenerationOptions(TINY_MODEL), decodableVocabSize: TOKENIZER_SIZE });
    const tokens = out.sequences.map((s) => Array.from(s));
    const bound = RELATIVE_BOUND * maxAbs(golden.tensors.get('main.logits')!.data as Float32Array);
    const data = ref.data as Float32Array;
    let decided = 0;
    let maxDiff = 0;
    const undecided: string[] = [];
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < steps; t++) {
        if (v.sequences[b]!.slice(1, t + 1).includes(1)) break;  // HF's row finished (eos = 1)
        let best = -Infinity;
        let second = -Infinity;
        let diff = 0;
        for (let i = 0; i < vocab; i++) {
          const r = data[(t * batch + b) * vocab + i]!;
          const o = out.scores![t]![b * vocab + i]!;
          if (r > best) [best, second] = [r, best];
          else if (r > second) second = r;
          if (r !== -Infinity || o !== -Infinity) diff = Math.max(diff, Math.abs(r - o));
        }
        maxDiff = Math.max(maxDiff, diff);
        expect(diff, `row ${b} step ${t}`).toBeLessThanOrEqual(bound);
        if (best - second <= 2 * diff) {
          undecided.push(`row ${b} step ${t}: HF margin ${(best - second).toExponential(2)}, score diff ${diff.toExponential(2)}, ` +
            `HF token ${v.sequences[b]![t + 1]}, ours ${tokens[b]![t + 1]}`);
          break;
        }
        expect(tokens[b]![t + 1], `row ${b} step ${t}`).toBe(v.sequences[b]![t + 1]);
        decided += 1;
      }
    }
    console.log(`int8 T5 greedy: scores max diff ${maxDiff.toExponential(3)} (bound ${bound.toExponential(3)}); ${decided} tokens decided ` +
      `by their margin and equal to HF's; sequences ${JSON.stringify(tokens) === JSON.stringify(v.sequences) ? 'equal' : 'differ'} to ` +
      `HF float32's; not decided: ${undecided.join('; ') || 'none'}`);
    expect(decided).toBeGreaterThan(0);
  });
});

describe('int8 on the tiny OPT model against the float32 goldens', () => {
  let model: Blip2Model;
  let golden: SafetensorsFile;
  const generation = JSON.parse(readFileSync(join(TINY_OPT, 'generation.json'), 'utf8')) as {
    cases: Record<string, { kwargs: Record<string, unknown>; input_ids: number[][]; attention_mask: number[][]; sequences: number[][] }>;
  };
  beforeAll(async () => {
    golden = await readSafetensorsFile(join(TINY_OPT, 'golden-forward.safetensors'));
    model = await Blip2Model.load(TINY_OPT_MODEL, { threads: 1, dtype: 'int8' });
  });
  afterAll(() => model?.dispose());

  it.each(['main', 'padded_prompts'])('text logits within the int8 bound (%s)', async (prefix) => {
    const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
    const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);
    // as test/native/opt-forward.test.ts: BOS as the prompt, the golden labels after it; our logits are the golden
    // text logits at every position but the last
    const out = await model.forward({
      pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
      inputIds: rows('input_ids').map((row) => row.slice(0, 1)),
      labels: rows('labels').map((row) => row.slice(1)),
    }, ['logits']);
    const [B, L, V] = g('logits').shape as [number, number, number];
    const ref = g('logits').data as Float32Array;
    const got = out.logits!.data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L - 1; t++) {
        for (let v = 0; v < V; v++) {
          const r = ref[(b * L + t) * V + v]!;
          scale = Math.max(scale, Math.abs(r));
          diff = Math.max(diff, Math.abs(got[(b * (L - 1) + t) * V + v]! - r));
        }
      }
    }
    console.log(`int8 OPT ${prefix}: logits max abs diff ${diff.toExponential(3)} = ${((diff / scale) * 100).toFixed(2)} % of max |logit| ` +
      `${scale.toFixed(3)} (bound ${(RELATIVE_BOUND * 100).toFixed(1)} %)`);
    expect(diff).toBeLessThanOrEqual(RELATIVE_BOUND * scale);
  });

  it.each(['main/greedy', 'padded_prompts/greedy'])('%s: token ids equal to HF float32 ids', async (name) => {
    const c = generation.cases[name]!;
    const t = golden.tensors.get(`${name.split('/')[0]}.pixel_values`)!;
    const defaults = { ...(await readGenerationOptions(TINY_OPT_MODEL)), decoderStartTokenId: 2 };
    const out = await generate(model, { pixelValues: { data: t.data as Float32Array, shape: t.shape }, inputIds: c.input_ids, attentionMask: c.attention_mask },
      generationOptionsFromJson(c.kwargs), { defaults });
    const tokens = out.sequences.map((s) => Array.from(s));
    console.log(`int8 OPT ${name}: ${JSON.stringify(tokens)} vs HF float32 ${JSON.stringify(c.sequences)}`);
    expect(tokens).toEqual(c.sequences);
  });
});

describe('int8 refuses what needs the float32 Linear weights', () => {
  let model: Blip2Model;
  let dir: string;
  beforeAll(async () => {
    model = await Blip2Model.load(TINY_MODEL, { threads: 1, dtype: 'int8' });
    dir = mkdtempSync(join(tmpdir(), 'blip2-int8-'));
  });
  afterAll(() => {
    model?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const message = (operation: string) => `${operation} needs the float32 Linear weights, which a model loaded with dtype 'int8' no ` +
    "longer has; load it with dtype 'float32' or 'bfloat16-mixed' to train, merge or save";
  const inputs = { pixelValues: { data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] }, inputIds: [[0]], labels: [[5, 1]] };

  it.each([
    ['Blip2Model.save', () => model.save(join(dir, 'model.safetensors'))],
    ['Blip2Model.loadWeights', () => model.loadWeights(join(TINY_MODEL, 'model.safetensors'))],
    ['Blip2Model.setTraining(true)', () => model.setTraining(true)],
    ['Blip2Model.setFullTraining', () => model.setFullTraining(true)],
    ['Blip2Model.backwardCrossEntropy', () => model.backwardCrossEntropy(inputs)],
    ['Blip2Model.backwardWeighted', () => model.backwardWeighted(inputs, [1])],
    ['Blip2Model.optimizerStep', () => model.optimizerStep({ lr: 1e-3 })],
    ['Blip2Model.mergeLora', () => model.mergeLora()],
    ['Blip2Model.unmergeLora', () => model.unmergeLora()],
  ] as const)('%s', async (operation, call) => {
    await expect(call()).rejects.toThrow(new Error(message(operation)));
  });

  it('setTraining(false) is allowed (inference mode is what int8 runs in)', async () => {
    await model.setTraining(false);
    expect(model.training).toBe(false);
  });

  it('the addon refuses to save too', async () => {
    const handle = (model as unknown as { handle: NativeModel }).handle;
    await expect(handle.save(join(dir, 'native.safetensors'))).rejects.toThrow(message('save'));
  });

  it('int8 runs on the CPU only', async () => {
    await expect(Blip2Model.load(TINY_MODEL, { dtype: 'int8', device: 'cuda' })).rejects.toThrow(
      'Expected a float dtype on device \'cuda\' (int8 runs on the CPU only) for dtype but received "int8" of type string');
  });

  it('the memory check counts the float32 model plus the largest Linear being packed', async () => {
    const config = await readBlip2Config(TINY_MODEL);
    // the largest Linear weight of the tiny config is the vision attention's fused qkv: 3 x 32 rows of 32
    expect(loadPeakBytes(config, 'int8')).toBe(estimateParameters(config) * 4 + 96 * 32 * 6);
    expect(loadPeakBytes(config, 'float32')).toBe(estimateParameters(config) * 4);
  });
});

describe('a LoRA adapter on an int8 model', () => {
  let dir: string;
  let f32: Blip2Model;
  let q: Blip2Model;
  let golden: SafetensorsFile;
  const g = (name: string) => golden.tensors.get(`main.${name}`)!;
  const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);
  const batch = () => ({
    pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
    inputIds: rows('input_ids'),
    attentionMask: rows('attention_mask'),
    labels: rows('labels'),
  });

  beforeAll(async () => {
    golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
    dir = mkdtempSync(join(tmpdir(), 'blip2-int8-lora-'));
    // an adapter that moves the model: a few AdamW steps of the float32 model on the golden batch
    f32 = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await f32.addLora({ r: 4, alpha: 8, dropout: 0, seed: 0, targetModules: ['q', 'v'] });
    await f32.setTraining(true);
    for (let step = 0; step < 5; step++) {
      await f32.backwardCrossEntropy(batch());
      await f32.optimizerStep({ lr: 1e-2, weightDecay: 0, maxGradNorm: 0 });
    }
    await f32.setTraining(false);
    await f32.saveAdapter(dir);
    q = await Blip2Model.load(TINY_MODEL, { threads: 1, dtype: 'int8' });
  });
  afterAll(() => {
    f32?.dispose();
    q?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads, runs unmerged and agrees with the float32 model carrying it', async () => {
    const plain = (await q.forward(batch(), ['logits'])).logits!.data as Float32Array;
    const summary = await q.loadAdapter(dir);
    expect(summary.merged).toBe(false);
    expect(summary.modules).toBeGreaterThan(0);
    const adapted = (await q.forward(batch(), ['logits'])).logits!.data as Float32Array;
    const reference = (await f32.forward(batch(), ['logits'])).logits!.data as Float32Array;
    const effect = maxAbsDiff(adapted, plain);
    const diff = maxAbsDiff(adapted, reference);
    const bound = RELATIVE_BOUND * maxAbs(reference);
    console.log(`int8 + adapter: logits max diff to float32 + adapter ${diff.toExponential(3)} (bound ${bound.toExponential(3)}); ` +
      `the adapter moves the int8 logits by up to ${effect.toExponential(3)}`);
    expect(diff).toBeLessThanOrEqual(bound);
    expect(effect).toBeGreaterThan(diff);
  });

  it('captions greedily with it: the float32 + adapter tokens', async () => {
    const px = g('pixel_values');
    const inputs = { pixelValues: { data: px.data as Float32Array, shape: px.shape }, inputIds: rows('input_ids'), attentionMask: rows('attention_mask') };
    const options = { maxNewTokens: 10, suppressUndecodable: false };
    const context = { defaults: await readGenerationOptions(TINY_MODEL) };
    const ours = (await generate(q, inputs, options, context)).sequences.map((s) => Array.from(s));
    const reference = (await generate(f32, inputs, options, context)).sequences.map((s) => Array.from(s));
    console.log(`int8 + adapter greedy ${JSON.stringify(ours)}; float32 + adapter ${JSON.stringify(reference)}`);
    expect(ours).toEqual(reference);
  });
});
