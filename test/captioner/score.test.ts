// Scoring end to end: files -> image processor -> tokenizer -> native forward, against Hugging Face's loss.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { goldenForward, goldenTokenLogprobs, meanLoss } from '../helpers/goldens.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGES = [join(TINY, 'images', 'img0_rgb_64x48.png'), join(TINY, 'images', 'img1_rgb_40x72.jpg')];
const { captions: CAPTIONS, prompt: PROMPT, labels: LABELS, loss_main: GOLDEN_LOSS } = goldenForward(); // loss_main: the batch mean over all 11 tokens

let captioner: Blip2Captioner;
/** Per caption, Hugging Face's log-probability of each label token (from the golden logits). */
let golden: number[][];
beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 2 });
  golden = await goldenTokenLogprobs();
});
afterAll(() => captioner?.dispose());

describe('Blip2Captioner.score', () => {
  it('reproduces the golden batch loss from the image files and captions', async () => {
    const scores = await captioner.score(IMAGES, CAPTIONS, { prompt: PROMPT, preprocess: { pool: 'main' } });
    expect(scores.map((s) => s.tokenIds)).toEqual(LABELS.map((row) => row.filter((id) => id !== -100)));
    const tokens = scores.reduce((n, s) => n + s.tokenLogprobs.length, 0);
    const batchLoss = scores.reduce((sum, s) => sum + s.loss * s.tokenLogprobs.length, 0) / tokens;
    const rel = Math.abs(batchLoss - GOLDEN_LOSS) / GOLDEN_LOSS;
    console.log(`score: batch loss ${batchLoss} vs golden ${GOLDEN_LOSS}, relative diff ${rel.toExponential(3)}`);
    expect(tokens).toBe(11);
    expect(rel).toBeLessThanOrEqual(1e-5);
  });

  it("gives each caption Hugging Face's token log-probabilities, and the loss it has alone", async () => {
    const [both, alone] = await Promise.all([
      captioner.score(IMAGES, CAPTIONS, { prompt: PROMPT, preprocess: { pool: 'main' } }),
      captioner.score([IMAGES[1]!], [CAPTIONS[1]!], { prompt: PROMPT, preprocess: { pool: 'main' } }),
    ]);
    both.forEach((score, i) => {
      const expected = golden[i]!;
      const diff = Math.max(...score.tokenLogprobs.map((lp, t) => Math.abs(lp - expected[t]!)));
      const goldenLoss = meanLoss(expected);
      console.log(`score: caption ${i} token log-probs max abs diff ${diff.toExponential(3)}, loss ${score.loss} vs golden ${goldenLoss}`);
      expect(score.tokenLogprobs.length).toBe(expected.length);
      // logits agree to 1e-4 (fixture README), so a log-softmax entry to 2e-4
      expect(diff).toBeLessThanOrEqual(2e-4);
      expect(Math.abs(score.loss - goldenLoss) / goldenLoss).toBeLessThanOrEqual(1e-5);
    });
    // padding does not leak into another row's score
    expect(Math.abs(both[1]!.loss - alone[0]!.loss)).toBeLessThan(1e-5);
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
