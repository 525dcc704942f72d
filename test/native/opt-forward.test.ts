// Parity of the native forward pass of BLIP-2 with an OPT language model against Hugging Face transformers 4.44
// (../fixtures/blip2-opt-tiny/golden-forward.safetensors, CPU fp32). HF feeds the whole text (prompt + caption) as
// input_ids with labels = ids (-100 on padding), cuts the logits to the text positions, shifts them by one and
// takes the mean cross-entropy. Our forward takes the prompt and the targets that follow it, with logits aligned
// to the targets: the text's first token (BOS) as the prompt and the golden labels after it give the same
// sequence, so our logits equal the golden logits at every text position but the last (whose prediction follows
// the text). Tolerances from the fixture README: logits 1e-4 abs, loss 1e-5 relative, Q-Former output 1e-5.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

let golden: SafetensorsFile;
let model: Blip2Model;

beforeAll(async () => {
  golden = await readSafetensorsFile(join(TINY_OPT, 'golden-forward.safetensors'));
  model = await Blip2Model.load(TINY_OPT_MODEL, { threads: 2 });
});
afterAll(() => model?.dispose());

function maxAbsDiff(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(Number(a[i]) - Number(b[i])));
  return max;
}

describe.each(['main', 'padded_prompts'])('OPT forward parity with Hugging Face (%s)', (prefix) => {
  const g = (name: string) => golden.tensors.get(`${prefix}.${name}`)!;
  const rows = (name: string) => toRows(g(name).data as BigInt64Array, g(name).shape);

  it('matches the Q-Former output, the text logits and the loss', async () => {
    const ids = rows('input_ids');
    const labels = rows('labels');
    // the golden text starts with BOS on every row, never padded
    expect(ids.every((row) => row[0] === 2)).toBe(true);
    const result = await model.forward(
      {
        pixelValues: { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape },
        inputIds: ids.map((row) => row.slice(0, 1)),
        labels: labels.map((row) => row.slice(1)),
      },
      ['qformer_last_hidden_state', 'logits', 'loss'],
    );
    const qformer = maxAbsDiff(result.qformer_last_hidden_state!.data, g('qformer_last_hidden_state').data);
    console.log(`${prefix}.qformer_last_hidden_state: max abs diff ${qformer.toExponential(3)} (tolerance 1e-5)`);
    expect(qformer).toBeLessThanOrEqual(1e-5);

    const [B, L, V] = g('logits').shape as [number, number, number];
    expect(result.logits!.shape).toEqual([B, L - 1, V]);
    const expected = g('logits').data as Float32Array;
    const got = result.logits!.data as Float32Array;
    let diff = 0;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L - 1; t++) {
        for (let v = 0; v < V; v++) {
          diff = Math.max(diff, Math.abs(got[(b * (L - 1) + t) * V + v]! - expected[(b * L + t) * V + v]!));
        }
      }
    }
    console.log(`${prefix}.logits: max abs diff ${diff.toExponential(3)} (tolerance 1e-4)`);
    expect(diff).toBeLessThanOrEqual(1e-4);

    const loss = Number(result.loss!.data[0]);
    const want = Number(g('loss').data[0]);
    console.log(`${prefix}.loss: ${loss} vs ${want}, relative diff ${(Math.abs(loss - want) / want).toExponential(3)}`);
    expect(Math.abs(loss - want) / want).toBeLessThanOrEqual(1e-5);
  });

  it('refuses decoder inputs and the T5 encoder output', async () => {
    const pixelValues = { data: g('pixel_values').data as Float32Array, shape: g('pixel_values').shape };
    const ids = rows('input_ids');
    await expect(model.forward({ pixelValues, inputIds: ids, labels: ids, decoderInputIds: ids }, ['loss']))
      .rejects.toThrow(/decoder_input_ids is for encoder-decoder/);
    await expect(model.forward({ pixelValues, inputIds: ids }, ['t5_encoder_last_hidden_state']))
      .rejects.toThrow(/needs a T5 language model; this one is opt/);
  });
});
