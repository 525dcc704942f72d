// Generation parity with Hugging Face transformers 4.44 for BLIP-2 with an OPT language model
// (../fixtures/blip2-opt-tiny/generation.json): every case — greedy, min_new_tokens, repetition penalty, n-gram
// blocking, beam 4 with two length penalties and an EOS list — for the `main` prompts and the left-padded
// `padded_prompts`: token ids exactly (BOS first, then only new tokens, finished rows padded with pad = 1), and
// beam search's sequences_scores within 1e-4.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generationOptionsFromJson, readGenerationOptions, type GenerationOptions } from '../../lib/generation/config.js';
import { generate } from '../../lib/generation/generate.js';
import type { DecodingInputs } from '../../lib/generation/types.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

interface Case {
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  attention_mask: number[][];
  sequences: number[][];
  sequences_scores?: number[];
}
const golden = JSON.parse(readFileSync(join(TINY_OPT, 'generation.json'), 'utf8')) as { cases: Record<string, Case> };

let model: Blip2Model;
let defaults: GenerationOptions;
const pixels: Record<string, DecodingInputs['pixelValues']> = {};

beforeAll(async () => {
  model = await Blip2Model.load(TINY_OPT_MODEL, { threads: 2 });
  // generation_config.json: bos 2, eos 2, pad 1; sequences start with BOS
  defaults = { ...(await readGenerationOptions(TINY_OPT_MODEL)), decoderStartTokenId: 2 };
  const forward = await readSafetensorsFile(join(TINY_OPT, 'golden-forward.safetensors'));
  for (const group of ['main', 'padded_prompts']) {
    const t = forward.tensors.get(`${group}.pixel_values`)!;
    pixels[group] = { data: t.data as Float32Array, shape: t.shape };
  }
});
afterAll(() => model?.dispose());

describe('generation.json (OPT)', () => {
  it('the model is decoder-only', () => {
    expect(model.decoderOnly).toBe(true);
  });

  it.each(Object.entries(golden.cases))('%s: token ids and sequences_scores', async (name, c) => {
    const group = name.split('/')[0]!;
    const inputs: DecodingInputs = { pixelValues: pixels[group]!, inputIds: c.input_ids, attentionMask: c.attention_mask };
    const out = await generate(model, inputs, generationOptionsFromJson(c.kwargs), { defaults });
    expect(out.sequences.map((s) => Array.from(s))).toEqual(c.sequences);
    if (c.sequences_scores) {
      const diff = Math.max(...c.sequences_scores.map((s, i) => Math.abs(s - out.sequencesScores[i]!)));
      console.log(`${name}: sequences_scores max diff ${diff.toExponential(2)}`);
      expect(diff).toBeLessThanOrEqual(1e-4);
    }
  });

  it('without maxNewTokens the sequence is maxLength - L long (BOS included), as HF sets max_length for BLIP-2 + OPT', async () => {
    // HF: max_length + Q - 1 for the language model, minus the Q + L prefix embeddings in generate(): with the default
    // max_length 20 and L = 4 prompt tokens, 15 new tokens after BOS; this model never emits EOS on these images
    const c = golden.cases['main/greedy']!;
    const out = await generate(model, { pixelValues: pixels.main!, inputIds: c.input_ids, attentionMask: c.attention_mask }, {}, { defaults });
    expect(out.sequences.map((s) => s.length)).toEqual([16, 16]);
    expect(Array.from(out.sequences[0]!.subarray(0, 13))).toEqual(c.sequences[0]);
  });

  it('numReturnSequences > 1 (which 4.44 rejects for decoder-only models): one BOS per returned sequence', async () => {
    const c = golden.cases['main/beam4_lp1.0']!;
    const inputs = { pixelValues: pixels.main!, inputIds: c.input_ids, attentionMask: c.attention_mask };
    const beams = await generate(model, inputs, { maxNewTokens: 12, numBeams: 4, numReturnSequences: 2 }, { defaults });
    const rows = beams.sequences.map((s) => Array.from(s));
    expect(rows.length).toBe(4);
    // the best beam of each image is HF's num_return_sequences=1 result
    expect([rows[0], rows[2]]).toEqual(c.sequences);
    expect(rows.every((r) => r[0] === 2)).toBe(true);
    const sampled = await generate(model, inputs, { maxNewTokens: 6, doSample: true, numReturnSequences: 3, seed: 5 }, { defaults });
    expect(sampled.sequences.length).toBe(6);
    expect(sampled.sequences.every((s) => s[0] === 2 && s.length <= 7)).toBe(true);
  });
});
