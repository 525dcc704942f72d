// Captioning under bad inputs: long prompts, cancellation, corrupt images in a batch, NaN weights, sampling extremes.
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Blip2Captioner } from '../../lib/captioner.js';
import { isCaptionFailure, type Caption } from '../../lib/generation/caption.js';
import { generate, NonFiniteError } from '../../lib/generation/generate.js';
import { ImageLoadError } from '../../lib/image/decode.js';
import { rawTensors, writeSafetensors } from '../helpers/safetensors-writer.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { FakeModel, fakeInputs } from './fake-session.js';

const IMAGES = [join(TINY, 'images', 'img0_rgb_64x48.png'), join(TINY, 'images', 'img1_rgb_40x72.jpg')];
const preprocess = { pool: 'main' as const };
/** A PNG signature followed by garbage: decoding fails with an ImageLoadError. */
const CORRUPT = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6, 7, 8]);
/** A prompt of well over 512 tokens. */
const LONG_PROMPT = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');

let captioner: Blip2Captioner;
beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
});
afterAll(() => captioner?.dispose());

describe('prompt length limit', () => {
  it('rejects a prompt over maxPromptTokens (default 512) by name, before any image is loaded', async () => {
    const tokens = captioner.tokenizer.encode(LONG_PROMPT).length;
    expect(tokens).toBeGreaterThan(512);
    const expected = `Expected at most 512 tokens for prompt but received ${tokens} tokens (maxPromptTokens sets the limit)`;
    await expect(captioner.caption(['/no/such/image.png'], { prompt: LONG_PROMPT })).rejects.toThrow(expected);
    await expect(captioner.caption(IMAGES, { prompt: ['a', LONG_PROMPT] })).rejects.toThrow(
      `Expected at most 512 tokens for prompt[1] but received ${tokens} tokens`);
    await expect(captioner.score(IMAGES, ['a', 'b'], { prompt: LONG_PROMPT })).rejects.toThrow(expected);
    await expect(captioner.score(IMAGES, ['a', `${LONG_PROMPT} ${LONG_PROMPT}`], { preprocess })).rejects.toThrow(
      `Expected at most 1024 tokens for captions[1] but received ${2 * tokens - 1} tokens`);
    await expect(captioner.caption(IMAGES, { prompt: 'a photo of', maxPromptTokens: 3 })).rejects.toThrow(
      'Expected at most 3 tokens for prompt but received 7 tokens (maxPromptTokens sets the limit)');
    await expect(captioner.caption(IMAGES, { maxPromptTokens: 0 })).rejects.toThrow(
      'Expected integer between 1 and 65536 for maxPromptTokens but received 0 of type number');
    const [caption] = await captioner.caption([IMAGES[0]!], { prompt: LONG_PROMPT, maxPromptTokens: 2048, maxNewTokens: 2, preprocess });
    expect(caption!.tokenIds.length).toBeGreaterThan(1);
  });
});

describe('cancellation', () => {
  it('rejects with an AbortError (cause: the reason) when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    for (const call of [
      captioner.caption(IMAGES, { signal: controller.signal, preprocess }),
      captioner.score(IMAGES, ['a', 'b'], { signal: controller.signal, preprocess }),
      captioner.preprocess(IMAGES, { signal: controller.signal, pool: 'main' }),
    ]) {
      const err = (await call.catch((e: Error) => e)) as Error & { code: string };
      expect([err.name, err.code, err.message, (err.cause as Error).message]).toEqual([
        'AbortError', 'ABORT_ERR', 'The operation was aborted', 'client went away']);
    }
    await expect(captioner.caption(IMAGES, { signal: 'stop' as never })).rejects.toThrow(
      'Expected AbortSignal for signal but received "stop" of type string');
  });

  it('stops within one decoder step of the abort, and frees the decoder session', async () => {
    const controller = new AbortController();
    const tokens: number[] = [];
    const err = await captioner.caption(IMAGES, {
      maxNewTokens: 20, minNewTokens: 20, batchSize: 1, preprocess, signal: controller.signal,
      onToken: (e) => {
        tokens.push(e.token);
        if (tokens.length === 3) controller.abort();
      },
    }).catch((e: Error) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(tokens.length).toBe(3);
    // the same through generate, where the session is visible
    const model = new FakeModel(3, () => [0.5, 0.2, 0.3]);
    const c2 = new AbortController();
    let seen = 0;
    const run = generate(model, fakeInputs([0]), { maxNewTokens: 10, minNewTokens: 10 }, {
      signal: c2.signal, onToken: () => (++seen === 2 ? c2.abort() : undefined),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect([model.sessions[0]!.steps, model.sessions[0]!.disposed]).toEqual([2, true]);
  });
});

describe("onError: 'skip'", () => {
  it('captions the other images of the batch and puts the error in the bad one\'s place', async () => {
    const alone = await captioner.caption(IMAGES, { maxNewTokens: 6, batchSize: 1, preprocess });
    const delivered: number[] = [];
    const results = await captioner.caption([IMAGES[0]!, CORRUPT, IMAGES[1]!], {
      maxNewTokens: 6, batchSize: 3, preprocess, onError: 'skip', onResult: (i) => delivered.push(i),
    });
    expect(delivered).toEqual([0, 1, 2]);
    const bad = results[1]!;
    if (!('error' in bad)) throw new Error('expected a failure');
    expect(bad.error).toBeInstanceOf(ImageLoadError);
    expect(bad.error.message).toMatch(/^Cannot load image <Uint8Array 16 bytes>: /);
    expect(results.map((r) => (isCaptionFailure(r) ? null : (r as Caption).tokenIds))).toEqual([alone[0]!.tokenIds, null, alone[1]!.tokenIds]);
    // a batch of bad images only, and the default ('throw')
    const onlyBad = await captioner.caption([CORRUPT, IMAGES[0]!], { maxNewTokens: 6, batchSize: 1, preprocess, onError: 'skip' });
    expect(onlyBad.map(isCaptionFailure)).toEqual([true, false]);
    await expect(captioner.caption([IMAGES[0]!, CORRUPT], { maxNewTokens: 6, preprocess })).rejects.toBeInstanceOf(ImageLoadError);
    await expect(captioner.caption(IMAGES, { onError: 'ignore' as never })).rejects.toThrow(
      'Expected one of "throw", "skip" for onError but received "ignore" of type string');
  });
});

describe('non-finite numbers', () => {
  it('stops with an error naming the decoder step when the weights hold NaN (score too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nan-model-'));
    cpSync(TINY_MODEL, dir, { recursive: true });
    const tensors = rawTensors(readFileSync(join(TINY_MODEL, 'model.safetensors')));
    const head = tensors.get('language_model.lm_head.weight')!;
    new Float32Array(head.bytes.buffer, head.bytes.byteOffset, head.bytes.length / 4).fill(NaN);
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const broken = await Blip2Captioner.fromPretrained(dir, { threads: 1 });
    try {
      await expect(broken.caption(IMAGES, { maxNewTokens: 4, preprocess })).rejects.toThrow(
        "Non-finite logits at decoder step 1 (NaN in row 0 at token 0); the model's weights or inputs hold NaN or Inf values");
      await expect(broken.caption(IMAGES, { maxNewTokens: 4, numBeams: 2, preprocess })).rejects.toBeInstanceOf(NonFiniteError);
      await expect(broken.score(IMAGES, ['a dog', 'a cat'], { preprocess })).rejects.toThrow(
        'Non-finite log-probability NaN for token 0 of captions[0]');
    } finally {
      broken.dispose();
    }
  });

  it('lets -Infinity through in a row that has finite scores (suppressed tokens), not a row of only -Infinity', async () => {
    const ok = new FakeModel(3, () => [0, 0.5, 0.5]);
    await expect(generate(ok, fakeInputs([0]), { maxNewTokens: 2 })).resolves.toMatchObject({ lengths: [2] });
    const dead = new FakeModel(3, () => [0, 0, 0]);
    await expect(generate(dead, fakeInputs([0]), { maxNewTokens: 2 })).rejects.toThrow(
      'Non-finite logits at decoder step 1 (-Infinity for every token of row 0)');
    expect(dead.sessions[0]!.disposed).toBe(true);
  });
});

describe('sampling extremes through the API', () => {
  it('rejects temperatures that overflow or flatten fp32 logits, and maxNewTokens over the bound', async () => {
    await expect(captioner.caption(IMAGES, { doSample: true, temperature: 1e300 })).rejects.toThrow(
      'Expected number between 0.01 and 10 for temperature but received 1e+300 of type number');
    await expect(captioner.caption(IMAGES, { doSample: true, temperature: 1e-300 })).rejects.toThrow(
      'Expected number between 0.01 and 10 for temperature but received 1e-300 of type number');
    await expect(captioner.caption(IMAGES, { maxNewTokens: 100_000 })).rejects.toThrow(
      'Expected integer between 1 and 1024 for maxNewTokens but received 100000 of type number');
    const [sampled] = await captioner.caption([IMAGES[0]!], { doSample: true, temperature: 10, seed: 1, maxNewTokens: 5, preprocess });
    expect(Number.isFinite(sampled!.score)).toBe(true);
    // at the length-penalty bounds the beam scores stay finite and non-zero (±1e6 gave -0 and -Infinity)
    for (const lengthPenalty of [-10, 10]) {
      const [beam] = await captioner.caption([IMAGES[0]!], { numBeams: 3, lengthPenalty, maxNewTokens: 8, preprocess });
      expect([Number.isFinite(beam!.score), beam!.score < 0]).toEqual([true, true]);
    }
  });
});
