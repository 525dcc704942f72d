// Learning-rate schedules, checked against hand-computed values of transformers' formulas.
import { describe, expect, it } from 'vitest';
import { learningRate, resolveSchedule } from '../../lib/train/schedule.js';

describe('learningRate', () => {
  it('warms up linearly from 0', () => {
    const s = resolveSchedule({ kind: 'constant', lr: 1e-3, warmupSteps: 4, totalSteps: 10 });
    expect([0, 1, 2, 3, 4, 9].map((t) => learningRate(s, t))).toEqual([0, 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3]);
  });

  it('linear decay: lr (total - step) / (total - warmup)', () => {
    const s = resolveSchedule({ kind: 'linear', lr: 1, warmupSteps: 2, totalSteps: 10 });
    expect(learningRate(s, 2)).toBe(1);
    expect(learningRate(s, 6)).toBe(0.5); // (10 - 6) / 8
    expect(learningRate(s, 10)).toBe(0);
  });

  it('cosine: 0.5 (1 + cos(pi progress)), with a floor', () => {
    const s = resolveSchedule({ kind: 'cosine', lr: 2, warmupSteps: 0, totalSteps: 8 });
    expect(learningRate(s, 0)).toBe(2);
    expect(learningRate(s, 4)).toBeCloseTo(1, 15); // progress 1/2: cos(pi/2) = 0
    expect(learningRate(s, 8)).toBeCloseTo(0, 15);
    const floored = resolveSchedule({ lr: 1e-3, totalSteps: 100, minLrRatio: 0.05 });
    expect(learningRate(floored, 100)).toBeCloseTo(5e-5, 18);
    expect(learningRate(floored, 50)).toBeCloseTo(1e-3 * (0.05 + 0.95 * 0.5), 18);
  });

  it('rejects bad options by name', () => {
    expect(() => resolveSchedule({ lr: 1e-3, totalSteps: 0 })).toThrow('Expected integer between 1 and 1000000000 for totalSteps but received 0 of type number');
    expect(() => resolveSchedule({ kind: 'step', lr: 1, totalSteps: 5 })).toThrow('Expected one of "constant", "linear", "cosine" for kind but received "step" of type string');
    expect(() => resolveSchedule({ lr: 1, totalSteps: 5, warmup: 1 })).toThrow('Unknown option "warmup" in schedule');
  });
});
