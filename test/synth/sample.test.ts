// One example from its coordinates: the splits draw from streams of their own, and trainViews 'one-sided' folds the
// training images' camera to one side while the held-out images keep both.
import { describe, expect, it } from 'vitest';
import { exampleSeed, synthesizeExample } from '../../lib/synth/sample.js';

const N = 60;

describe('splits', () => {
  it('give every split its own random stream (train and val keep the seeds they always had)', () => {
    const seeds = (['train', 'val', 'test', 'scst'] as const).map((split) => exampleSeed(0, 'assistive', split, 7));
    expect(new Set(seeds).size).toBe(4);
    const scenes = (['train', 'val', 'test', 'scst'] as const).map((split) => JSON.stringify(synthesizeExample(0, 'assistive', split, 7).scene));
    expect(new Set(scenes).size).toBe(4);
  });
});

describe("trainViews 'one-sided'", () => {
  const train = Array.from({ length: N }, (_, i) => [synthesizeExample(2, 'assistive', 'train', i), synthesizeExample(2, 'assistive', 'train', i, 'one-sided')] as const);

  it('turns and shifts every training view one way: angle ≥ 0, centre at or right of 32', () => {
    for (const [, one] of train) {
      expect(one.view.angle).toBeGreaterThanOrEqual(0);
      expect(one.view.centreX).toBeGreaterThanOrEqual(32);
    }
    // with 'all', both signs occur
    expect(train.some(([all]) => all.view.angle < 0)).toBe(true);
    expect(train.some(([all]) => all.view.centreX < 32)).toBe(true);
  });

  it('folds the signs of the same draws: same scene, captions, zoom and vertical shift', () => {
    for (const [all, one] of train) {
      expect(one.view.angle).toBe(Math.abs(all.view.angle));
      expect(one.view.centreX).toBeCloseTo(32 + Math.abs(all.view.centreX - 32), 12);
      expect([one.view.centreY, one.view.zoom]).toEqual([all.view.centreY, all.view.zoom]);
      expect(one.scene).toEqual(all.scene);
      expect(one.captions).toEqual(all.captions);
    }
  });

  it('leaves validation and test images and the clean domain as they are', () => {
    for (const [domain, split] of [['assistive', 'val'], ['assistive', 'test'], ['clean', 'train']] as const) {
      for (let i = 0; i < 10; i++) {
        expect(Buffer.from(synthesizeExample(2, domain, split, i, 'one-sided').pixels).equals(Buffer.from(synthesizeExample(2, domain, split, i).pixels))).toBe(true);
      }
    }
  });

  it('also folds the SCST pool, a training split', () => {
    const views = Array.from({ length: N }, (_, i) => synthesizeExample(2, 'assistive', 'scst', i, 'one-sided').view);
    expect(views.every((v) => v.angle >= 0 && v.centreX >= 32)).toBe(true);
  });
});
