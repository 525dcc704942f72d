// The KV-cached native decoder: step-by-step logits equal Hugging Face's greedy scores (generation-scores:
// greedy per-step processed scores, which for plain greedy are the raw logits) and the teacher-forced forward.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { readFileSync } from 'node:fs';
import { native } from '../../lib/native.js';
import { readBlip2Config } from '../../lib/model/config.js';

let golden: SafetensorsFile;
let scores: SafetensorsFile;
let model: Blip2Model;
const VOCAB = 4128;
const generation = JSON.parse(readFileSync(join(TINY, 'generation.json'), 'utf8')) as { main: { greedy: { sequences: number[][] } } };

beforeAll(async () => {
  golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  scores = await readSafetensorsFile(join(TINY, 'generation-scores.safetensors'));
  model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
});
afterAll(() => model?.dispose());

function inputs(prefix: string) {
  const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
  return {
    pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
    inputIds: toRows(g('input_ids').data as BigInt64Array, g('input_ids').shape),
    attentionMask: toRows(g('attention_mask').data as BigInt64Array, g('attention_mask').shape),
  };
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

describe('native decoder', () => {
  it("reproduces HF's greedy tokens and per-step scores (main prompts)", async () => {
    const golden = scores.tensors.get('greedy.scores')!; // [12, 2, 4128]
    const expected = generation.main.greedy.sequences;
    const session = await model.startDecoding(inputs('main'));
    const tokens = new Int32Array([0, 0]);
    const seqs = [[0], [0]];
    const done = [false, false];
    let maxDiff = 0;
    for (let step = 0; step < 12; step++) {
      const logits = await session.step(tokens);
      for (let r = 0; r < 2; r++) {
        const row = logits.subarray(r * VOCAB, (r + 1) * VOCAB);
        const ref = (golden.data as Float32Array).subarray((step * 2 + r) * VOCAB, (step * 2 + r + 1) * VOCAB);
        if (!done[r]) for (let v = 0; v < VOCAB; v++) maxDiff = Math.max(maxDiff, Math.abs(row[v]! - ref[v]!));
        const next = done[r] ? 0 : argmax(row);
        seqs[r]!.push(next);
        if (next === 1) done[r] = true;
        tokens[r] = next;
      }
    }
    session.dispose();
    console.log(`greedy per-step logits: max abs diff ${maxDiff.toExponential(3)} over 12 steps`);
    expect(seqs).toEqual(expected);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('gives the teacher-forced forward logits step by step, with right-padded prompts', async () => {
    const g = (name: string) => golden.tensors.get(`padded_prompts.${name}`)!;
    const decoderIds = toRows(g('decoder_input_ids').data as BigInt64Array, g('decoder_input_ids').shape);
    const full = g('logits').data as Float32Array; // [2, 7, 4128]
    const session = await model.startDecoding(inputs('padded_prompts'));
    let maxDiff = 0;
    for (let t = 0; t < 7; t++) {
      const logits = await session.step(new Int32Array([decoderIds[0]![t]!, decoderIds[1]![t]!]));
      for (let r = 0; r < 2; r++) {
        for (let v = 0; v < VOCAB; v++) {
          maxDiff = Math.max(maxDiff, Math.abs(logits[r * VOCAB + v]! - full[(r * 7 + t) * VOCAB + v]!));
        }
      }
    }
    session.dispose();
    console.log(`cached decoding vs golden teacher-forced logits: max abs diff ${maxDiff.toExponential(3)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('expands rows like repeat_interleave and re-selects them between steps', async () => {
    const session = await model.startDecoding(inputs('main'), { expand: 3 });
    expect(session.rows).toBe(6);
    const first = await session.step(new Int32Array(6));
    // Rows expanded from one image hold copies of the same encoder state and see the same token, so they differ
    // only by the summation order the GEMM kernel picks for a row's position in its tile (AVX-512 OpenBLAS kernels
    // handle tile edges differently from AVX2 ones): not bit-identical by construction. Each logit is a chain of
    // fp32 dot products through the decoder; 2^-16 of the largest logit (~500 ulp at that size) bounds that
    // reordering with a wide margin and stays far below what a row of the wrong image shows (checked below).
    const row = (r: number) => first.subarray(r * VOCAB, (r + 1) * VOCAB);
    const scale = row(0).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const tolerance = scale * 2 ** -16;
    const rowDiff = (a: number, b: number) => row(a).reduce((m, x, v) => Math.max(m, Math.abs(x - row(b)[v]!)), 0);
    let sameImage = 0;
    for (let r = 0; r < 6; r++) sameImage = Math.max(sameImage, rowDiff(r, Math.floor(r / 3) * 3));
    const otherImage = rowDiff(0, 3);
    console.log(`expanded rows: same image max diff ${sameImage.toExponential(3)}, other image ${otherImage.toExponential(3)}, tolerance ${tolerance.toExponential(3)}`);
    expect(sameImage).toBeLessThanOrEqual(tolerance);
    expect(otherImage).toBeGreaterThan(1000 * tolerance);
    // keep rows 5 and 0 only (image 1, then image 0), feed different tokens
    const second = await session.step(new Int32Array([1796, 854]), { reorder: new Int32Array([5, 0]), output: 'logprobs' });
    expect(session.rows).toBe(2);
    const ref = await model.startDecoding(inputs('main'));
    await ref.step(new Int32Array([0, 0]));
    const refSecond = await ref.step(new Int32Array([854, 1796]), { output: 'logprobs' });
    let maxDiff = 0;
    for (let v = 0; v < VOCAB; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(second[v]! - refSecond[VOCAB + v]!), Math.abs(second[VOCAB + v]! - refSecond[v]!));
    }
    let sum = 0;
    for (let v = 0; v < VOCAB; v++) sum += Math.exp(second[v]!);
    expect(Math.abs(sum - 1)).toBeLessThan(1e-4);
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    session.dispose();
    ref.dispose();
  });

  it('rejects bad steps by name', async () => {
    const session = await model.startDecoding(inputs('main'));
    await expect(session.step(new Int32Array([0]))).rejects.toThrow(
      'Expected Int32Array of 2 token ids (one per row) for tokens but received an object of type Int32Array',
    );
    await expect(session.step(new Int32Array([0, 5000]))).rejects.toThrow(
      'Expected token ids between 0 and 4127 for tokens but received 5000 of type number',
    );
    await expect(session.step(new Int32Array([0]), { reorder: new Int32Array([2]) })).rejects.toThrow(
      'Expected row indices between 0 and 1 for reorder but received 2 of type number',
    );
    session.dispose();
    await expect(session.step(new Int32Array([0, 0]))).rejects.toThrow('Decoder session has been disposed');
  });

  it('the model code itself refuses a re-selection of rows the cache does not hold, and the decoder steps on after it', async () => {
    const handle = await native().loadModel(TINY_MODEL, await readBlip2Config(TINY_MODEL), { dtype: 'float32', device: 'cpu', threads: 1 });
    const g = (name: string) => golden.tensors.get(`main.${name}`)!;
    const tensor = (name: string) => ({ data: g(name).data as BigInt64Array, shape: g(name).shape });
    try {
      for (const bad of [2, -1]) {
        const decoder = await handle.startDecoding(
          { pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape }, inputIds: tensor('input_ids'), attentionMask: tensor('attention_mask') },
          1,
        );
        await expect(decoder.step(new Int32Array([0]), new Int32Array([bad]), false)).rejects.toThrow('reorder indices must be between 0 and 1');
        expect(await decoder.step(new Int32Array([0, 0]), undefined, false)).toHaveLength(2 * VOCAB);
        decoder.dispose();
      }
    } finally {
      handle.dispose();
    }
  });
});
