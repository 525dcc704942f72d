// BLIP-2 with an OPT language model through Blip2Captioner, end to end from the image files of
// ../fixtures/blip2-opt-tiny: the byte-level BPE tokenizer and the family's generation ids load, captions equal
// Hugging Face's generate() (generation.json: BOS first, only new tokens after it, left-padded prompts), and
// scores read the golden logits' log-probabilities for the caption tokens that follow the prompt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { toRows } from '../../lib/model/tensors.js';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

const IMAGES = [join(TINY_OPT, 'images', 'img0_rgb_64x48.png'), join(TINY_OPT, 'images', 'img1_rgb_40x72.jpg')];
const generation = JSON.parse(readFileSync(join(TINY_OPT, 'generation.json'), 'utf8')) as {
  cases: Record<string, { kwargs: Record<string, unknown>; sequences: number[][]; texts: string[] }>;
};

let captioner: Blip2Captioner;
beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_OPT_MODEL, { threads: 2 });
});
afterAll(() => captioner?.dispose());

describe('Blip2Captioner with OPT', () => {
  it('loads the BPE tokenizer and the family generation ids (BOS as the first token)', () => {
    expect(captioner.tokenizer.kind).toBe('byte-level-bpe');
    expect(captioner.model.decoderOnly).toBe(true);
    expect(captioner.generationOptions).toMatchObject({ decoderStartTokenId: 2, eosTokenId: 2, padTokenId: 1 });
  });

  it.each(['greedy', 'beam4_lp1.0', 'greedy_no_repeat_ngram_2'])('captions the image files as HF generate() (main/%s)', async (name) => {
    const c = generation.cases[`main/${name}`]!;
    const kw = c.kwargs as { max_new_tokens: number; num_beams?: number; no_repeat_ngram_size?: number };
    const captions = await captioner.caption(IMAGES, {
      prompt: 'a photo of', maxNewTokens: kw.max_new_tokens, numBeams: kw.num_beams ?? 1, noRepeatNgramSize: kw.no_repeat_ngram_size ?? 0,
      preprocess: { pool: 'main' },
    });
    expect(captions.map((x) => x.tokenIds)).toEqual(c.sequences);
    if (name === 'greedy') expect(captions.map((x) => x.text)).toEqual(c.texts.map((t) => t.trim()));
  });

  it('pads a batch of prompts on the left and starts an absent prompt from BOS', () => {
    expect(captioner.promptIds(undefined, 2)).toEqual({ inputIds: [[2], [2]], attentionMask: [[1], [1]] });
    const padded = generation.cases['padded_prompts/greedy'] as unknown as { input_ids: number[][]; attention_mask: number[][] };
    // the golden batch's prompts, as HF's left-padding tokenizer gave them
    const texts = padded.input_ids.map((row) => captioner.tokenizer.decode(row, { skipSpecialTokens: true }));
    const rows = texts.map((t) => captioner.tokenizer.encode(t));
    const width = Math.max(...rows.map((r) => r.length));
    expect(rows.map((r) => [...new Array<number>(width - r.length).fill(1), ...r])).toEqual(padded.input_ids);
  });

  it("scores captions with the golden logits' log-probabilities of the caption tokens", async () => {
    const golden = await readSafetensorsFile(join(TINY_OPT, 'golden-forward.safetensors'));
    const ids = toRows(golden.tensors.get('main.input_ids')!.data as BigInt64Array, golden.tensors.get('main.input_ids')!.shape);
    const logits = golden.tensors.get('main.logits')!;
    const [, L, V] = logits.shape as [number, number, number];
    const prompt = [2, ...captioner.tokenizer.encode('a photo of').slice(1)];
    expect(ids.every((row) => prompt.every((id, t) => row[t] === id))).toBe(true);
    const captions = ids.map((row) => captioner.tokenizer.decode(row.slice(prompt.length).filter((id) => id !== 1), { skipSpecialTokens: true }).trim());
    const scores = await captioner.score(IMAGES, captions, { prompt: 'a photo of', preprocess: { pool: 'main' } });
    scores.forEach((score, b) => {
      const tokens = ids[b]!.slice(prompt.length).filter((id) => id !== 1);
      // the caption's tokens, then EOS (2), which the golden text does not have
      expect(score.tokenIds).toEqual([...tokens, 2]);
      let diff = 0;
      tokens.forEach((token, i) => {
        const t = prompt.length + i - 1; // the position that predicts it
        const row = (logits.data as Float32Array).subarray((b * L + t) * V, (b * L + t + 1) * V);
        const max = Math.max(...row);
        const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
        diff = Math.max(diff, Math.abs(score.tokenLogprobs[i]! - (row[token]! - lse)));
      });
      console.log(`OPT score: caption ${b} token log-probs max abs diff ${diff.toExponential(3)}`);
      // logits agree to 1e-4 (fixture README), so a log-softmax entry to 2e-4
      expect(diff).toBeLessThanOrEqual(2e-4);
    });
  });
});
