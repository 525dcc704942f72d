// Parity of the native forward pass with Hugging Face transformers (golden-forward.safetensors, made with
// transformers 4.44 on CPU fp32). Tolerances from the fixture README: hidden states 1e-5 abs (1e-4 relative
// for larger-scale tensors), logits 1e-4 abs, loss 1e-5 relative.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import type { ForwardOutputName } from '../../lib/native.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const TOLERANCE: Record<string, number> = {
  vision_last_hidden_state: 1e-5,
  vision_pooler_output: 1e-5,
  qformer_last_hidden_state: 1e-5,
  qformer_pooler_output: 1e-5,
  language_projection: 1e-5,
  lm_inputs_embeds: 1e-5,
  lm_attention_mask: 0,
  t5_encoder_last_hidden_state: 1e-5,
  logits: 1e-4,
};

let golden: SafetensorsFile;
let model: Blip2Model;

beforeAll(async () => {
  golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  model = await Blip2Model.load(TINY_MODEL, { threads: 2 });
});
afterAll(() => model?.dispose());

function maxAbsDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(Number(a[i]) - Number(b[i])));
  return max;
}

describe.each(['main', 'padded_prompts'])('forward parity with Hugging Face (%s)', (prefix) => {
  const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
  const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);

  it('matches every golden tensor within the README tolerances', async () => {
    const outputs = [...Object.keys(TOLERANCE), 'loss'] as ForwardOutputName[];
    const result = await model.forward(
      {
        pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
        inputIds: rows('input_ids'),
        attentionMask: rows('attention_mask'),
        labels: rows('labels'),
        decoderInputIds: rows('decoder_input_ids'),
      },
      outputs,
    );
    for (const [name, tol] of Object.entries(TOLERANCE)) {
      const got = result[name as ForwardOutputName]!;
      expect(got.shape, name).toEqual(g(name).shape);
      const diff = maxAbsDiff(got.data, g(name).data);
      console.log(`${prefix}.${name}: max abs diff ${diff.toExponential(3)} (tolerance ${tol})`);
      expect(diff, name).toBeLessThanOrEqual(tol);
    }
    const loss = Number(result.loss!.data[0]);
    const expected = Number(g('loss').data[0]);
    console.log(`${prefix}.loss: ${loss} vs ${expected}, relative diff ${(Math.abs(loss - expected) / expected).toExponential(3)}`);
    expect(Math.abs(loss - expected) / expected).toBeLessThanOrEqual(1e-5);
  });

  it('derives decoder inputs from labels with T5 shift-right when they are omitted', async () => {
    const result = await model.forward(
      {
        pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
        inputIds: rows('input_ids'),
        attentionMask: rows('attention_mask'),
        labels: rows('labels'),
      },
      ['loss'],
    );
    const expected = Number(g('loss').data[0]);
    expect(Math.abs(Number(result.loss!.data[0]) - expected) / expected).toBeLessThanOrEqual(1e-5);
  });
});

describe('token log-probabilities', () => {
  it('average, over non-ignored tokens, to the batch loss', async () => {
    const g = (name: string) => golden.tensors.get(`main.${name}`)!;
    const labels = toRows(g('labels').data as BigInt64Array, g('labels').shape);
    const result = await model.forward(
      {
        pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
        inputIds: toRows(g('input_ids').data as BigInt64Array, g('input_ids').shape),
        labels,
      },
      ['token_logprobs'],
    );
    const lp = toRows(result.token_logprobs!.data, result.token_logprobs!.shape);
    let sum = 0;
    let count = 0;
    labels.forEach((row, i) => row.forEach((id, j) => {
      if (id === -100) {
        expect(lp[i]![j]).toBe(0);
      } else {
        sum += lp[i]![j]!;
        count += 1;
      }
    }));
    expect(count).toBe(11);
    const loss = -sum / count;
    const expected = Number(g('loss').data[0]);
    expect(Math.abs(loss - expected) / expected).toBeLessThanOrEqual(1e-5);
  });
});
