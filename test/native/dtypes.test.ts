// The reduced-precision dtypes against Hugging Face's float32 goldens (golden-forward.safetensors,
// generation.json, generation-scores.safetensors of the tiny model).
//
// Tolerances from bfloat16's precision, not from a run: bf16 keeps 8 significant bits, so each rounding moves a
// value by at most u = 2^-9 of itself. In 'bfloat16-mixed' the roundings sit in the Linear layers only (input,
// weight and output: 3u relative per product); in 'bfloat16' every activation is rounded too. The logits pass
// through ~12 such products on their longest path (vision 2 layers x 4, Q-Former, projection, T5 encoder and
// decoder), so their error is bounded by ~12 * 3u ≈ 7 % of the logits' scale in the worst case where every
// rounding goes one way; random roundings add in quadrature and give ~1 %. The bounds below are that worst case
// times the largest |logit|; the measured differences are printed.
//
// Greedy tokens are compared with HF's where the fp32 golden's top-1 margin exceeds twice the measured score
// difference of that step: there no difference that small can change the argmax, so equality holds by construction
// on every CPU.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Blip2Model, resolveDtype, type Dtype } from '../../lib/model/blip2-model.js';
import type { ForwardOutputName } from '../../lib/native.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { generate } from '../../lib/generation/generate.js';
import { generationOptionsFromJson, readGenerationOptions } from '../../lib/generation/config.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const U = 2 ** -9;
/** Worst-case relative error of the logits: ~12 products on the longest path, 3 roundings each (all in bfloat16). */
const RELATIVE_BOUND: Record<'bfloat16-mixed' | 'bfloat16', number> = { 'bfloat16-mixed': 12 * 3 * U, bfloat16: 12 * 6 * U };
const TOKENIZER_SIZE = 4100;

const generation = JSON.parse(readFileSync(join(TINY, 'generation.json'), 'utf8')) as {
  input_ids: number[][];
  attention_mask: number[][];
  main: Record<string, { kwargs: Record<string, unknown>; sequences: number[][] }>;
};

let golden: SafetensorsFile;
let scores: SafetensorsFile;
beforeAll(async () => {
  golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  scores = await readSafetensorsFile(join(TINY, 'generation-scores.safetensors'));
});

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

describe.each(['bfloat16-mixed', 'bfloat16'] as const)('dtype %s against the float32 goldens', (dtype) => {
  let model: Blip2Model;
  beforeAll(async () => {
    model = await Blip2Model.load(TINY_MODEL, { threads: 2, dtype });
  });
  afterAll(() => model?.dispose());

  it('reports its dtype', () => {
    expect(model.info().dtype).toBe(dtype);
  });

  it.each(['main', 'padded_prompts'])('logits and loss within the bf16 bound (%s)', async (prefix) => {
    const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
    const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);
    const out = await model.forward({
      pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
      inputIds: rows('input_ids'),
      attentionMask: rows('attention_mask'),
      labels: rows('labels'),
      decoderInputIds: rows('decoder_input_ids'),
    }, ['logits', 'loss'] as ForwardOutputName[]);
    const ref = g('logits').data as Float32Array;
    const got = out.logits!.data as Float32Array;
    expect(out.logits!.shape).toEqual(g('logits').shape);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(got[i]! - ref[i]!));
    const bound = RELATIVE_BOUND[dtype] * maxAbs(ref);
    const loss = Number(out.loss!.data[0]);
    const refLoss = Number(g('loss').data[0]);
    console.log(`${dtype} ${prefix}: logits max abs diff ${diff.toExponential(3)} (bound ${bound.toExponential(3)}, max |logit| ${maxAbs(ref).toFixed(2)}); ` +
      `loss ${loss.toFixed(5)} vs ${refLoss.toFixed(5)}`);
    expect(diff).toBeLessThanOrEqual(bound);
    // log-softmax moves by at most twice the largest logit change (log-sum-exp is 1-Lipschitz in the max norm), and
    // the loss is a mean of log-softmax values
    expect(Math.abs(loss - refLoss)).toBeLessThanOrEqual(2 * diff);
  });

  it('greedy: per-step scores within the bound, and HF float32 tokens wherever the margin decides them', async () => {
    const v = generation.main.greedy!;
    const ref = scores.tensors.get('greedy.scores')!;
    const [steps, batch, vocab] = ref.shape as [number, number, number];
    const data = ref.data as Float32Array;
    const bound = RELATIVE_BOUND[dtype] * maxAbs(golden.tensors.get('main.logits')!.data as Float32Array);
    const forward = golden.tensors.get('main.pixel_values')!;
    // HF lets the undecodable rows 4100..4127 through, so compare with that suppression off (as the fp32 parity test)
    const out = await generate(model, {
      pixelValues: { data: forward.data as Float32Array, shape: forward.shape },
      inputIds: generation.input_ids,
      attentionMask: generation.attention_mask,
    }, { ...generationOptionsFromJson(v.kwargs), outputScores: true, suppressUndecodable: false },
    { defaults: await readGenerationOptions(TINY_MODEL), decodableVocabSize: TOKENIZER_SIZE });
    const tokens = out.sequences.map((s) => Array.from(s));
    // Row by row while our prefix equals HF's: the step's scores differ by d <= bound; where HF's top-1 margin
    // exceeds 2d no score within d can change the argmax, so our token must be HF's. Where it does not, equality
    // is not guaranteed and the row is not compared further.
    let decided = 0;
    let maxDiff = 0;
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
        if (best - second <= 2 * diff) break;
        expect(tokens[b]![t + 1], `row ${b} step ${t}`).toBe(v.sequences[b]![t + 1]);
        decided += 1;
      }
    }
    console.log(`${dtype}: greedy scores max diff ${maxDiff.toExponential(3)}; ${decided} tokens decided by their margin and equal to HF's; ` +
      `sequences ${JSON.stringify(tokens) === JSON.stringify(v.sequences) ? 'equal' : 'differ'} to HF float32's`);
    expect(decided).toBeGreaterThan(0);
  });

  it('keeps LoRA adapters in float32 and trains them', async () => {
    const g = (name: string) => golden.tensors.get(`main.${name}`)!;
    const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 0, targetModules: ['q', 'v'] });
    await model.setTraining(true);
    const inputs = {
      pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
      inputIds: rows('input_ids'),
      attentionMask: rows('attention_mask'),
      labels: rows('labels'),
    };
    const first = await model.backwardCrossEntropy(inputs);
    await model.optimizerStep({ lr: 1e-2, weightDecay: 0, maxGradNorm: 0 });
    await model.zeroGrad();
    const second = await model.backwardCrossEntropy(inputs);
    expect(Number.isFinite(first)).toBe(true);
    expect(second).toBeLessThan(first);
    const adapters = await model.loraTensors('weights');
    expect(Object.keys(adapters).length).toBeGreaterThan(0);
    expect(Object.values(adapters).every((t) => t.dtype === 'float32')).toBe(true);
    await model.setTraining(false);
    await model.removeLora();
  });
});

describe('resolveDtype', () => {
  it.each([
    ['auto', 'cpu', true, 'bfloat16-mixed'],
    ['auto', 'cpu', false, 'float32'],
    ['auto', 'cuda', true, 'float32'],
    ['auto', 'cuda:1', false, 'float32'],
    ['bfloat16', 'cpu', false, 'bfloat16'],
    ['float32', 'cpu', true, 'float32'],
    ['bfloat16-mixed', 'cpu', false, 'bfloat16-mixed'],
  ] as const)('%s on %s (AVX512-BF16: %s) is %s', (dtype, device, bf16, want: Dtype) => {
    expect(resolveDtype(dtype, device, bf16)).toBe(want);
  });

  it("loads with 'auto' as the dtype it resolves to on this CPU", async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1, dtype: 'auto' });
    try {
      expect(model.info().dtype).toBe(resolveDtype('auto', 'cpu'));
    } finally {
      model.dispose();
    }
  });
});
