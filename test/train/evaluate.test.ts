// A dataset's evaluation captions its images as captioner.caption does: the same text, and the same tokens after the
// decoder start token, image by image (greedy search and beam search, across batch boundaries).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { loadDataset, type CaptionDataset } from '../../lib/data/readers.js';
import type { Caption } from '../../lib/generation/caption.js';
import { captionDataset } from '../../lib/train/evaluate.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyVizWiz } from '../helpers/tiny-dataset.js';

let root: string;
let dataset: CaptionDataset;
let captioner: Blip2Captioner;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-evaluate-'));
  dataset = await loadDataset({ file: await writeTinyVizWiz(root, 'val', 5), imageRoot: join(root, 'val') });
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
});
afterAll(() => {
  captioner?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('captionDataset', () => {
  it.each([
    ['greedy', { maxNewTokens: 8 }],
    ['beam search', { maxNewTokens: 8, numBeams: 3 }],
  ])('matches captioner.caption (%s)', async (_, generation) => {
    const images = dataset.samples.map((s) => s.image);
    const expected = (await captioner.caption(images, { ...generation, prompt: 'a photo of', batchSize: 5 })) as Caption[];
    const got = await captionDataset(captioner, dataset, { generation, prompt: 'a photo of', batchSize: 2 });
    expect(got.predictions).toEqual(dataset.samples.map((s, i) => ({ image_id: s.imageId, caption: expected[i]!.text })));
    expect(got.tokenIds).toEqual(expected.map((c) => c.tokenIds.slice(1)));
    expect(got.tokenIds.every((ids) => ids.length >= 1 && ids.length <= 8)).toBe(true);
  });
});
