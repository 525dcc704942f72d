// Scoring end to end: files -> image processor -> tokenizer -> native forward, against Hugging Face's loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGES = [join(TINY, 'images', 'img0_rgb_64x48.png'), join(TINY, 'images', 'img1_rgb_40x72.jpg')];
const CAPTIONS = ['a dog running on the beach', 'two cats'];
const GOLDEN_LOSS = 14.522900581359863; // golden-forward.json loss_main: the batch mean over all 11 tokens

let captioner: Blip2Captioner;
beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 2 });
});
afterAll(() => captioner?.dispose());

describe('Blip2Captioner.score', () => {
  it('reproduces the golden batch loss from the image files and captions', async () => {
    const scores = await captioner.score(IMAGES, CAPTIONS, { prompt: 'caption:', preprocess: { pool: 'main' } });
    expect(scores.map((s) => s.tokenIds)).toEqual([[3, 164, 46, 17, 4, 76, 1], [24, 148, 8, 1]]);
    const tokens = scores.reduce((n, s) => n + s.tokenLogprobs.length, 0);
    const batchLoss = scores.reduce((sum, s) => sum + s.loss * s.tokenLogprobs.length, 0) / tokens;
    const rel = Math.abs(batchLoss - GOLDEN_LOSS) / GOLDEN_LOSS;
    console.log(`score: batch loss ${batchLoss} vs golden ${GOLDEN_LOSS}, relative diff ${rel.toExponential(3)}`);
    expect(tokens).toBe(11);
    expect(rel).toBeLessThanOrEqual(1e-5);
  });

  it("gives each caption the loss it has alone (padding does not leak into another row's score)", async () => {
    const [both, alone] = await Promise.all([
      captioner.score(IMAGES, CAPTIONS, { prompt: 'caption:', preprocess: { pool: 'main' } }),
      captioner.score([IMAGES[1]!], [CAPTIONS[1]!], { prompt: 'caption:', preprocess: { pool: 'main' } }),
    ]);
    expect(Math.abs(both[1]!.loss - alone[0]!.loss)).toBeLessThan(1e-5);
    const mean = -alone[0]!.tokenLogprobs.reduce((a, b) => a + b, 0) / alone[0]!.tokenLogprobs.length;
    expect(alone[0]!.loss).toBeCloseTo(mean, 12);
  });

  it('rejects mismatched inputs by name', async () => {
    await expect(captioner.score(IMAGES, ['one'])).rejects.toThrow(
      'Expected array of 2 strings (one per image) for captions but received an array of length 1',
    );
    await expect(captioner.score(IMAGES, ['a', ''])).rejects.toThrow(
      'Expected non-empty string for captions[1] but received "" of type string',
    );
    await expect(captioner.score(IMAGES, CAPTIONS, { promt: 'x' } as never)).rejects.toThrow(
      'Unknown option "promt" in options; expected one of "prompt", "preprocess"',
    );
  });
});
