// A single run's differences against the cross-seed spread: hand-worked bounds t(0.975, n − 1) · sd, the verdicts,
// the table, and the shipped reference equal to the sweep in benchmarks/results/bench-seeds.json.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { noiseBound, noiseLabels, noiseReferenceFromSweep, noiseRule, SEED_NOISE_REFERENCE, singleRunTable, type NoiseReference } from '../../lib/synth/noise.js';
import { stageStatistics, type StageStatistic } from '../../lib/synth/stats.js';

const REFERENCE: NoiseReference = {
  source: 'bench --seeds 3 --pretrain-seeds 1', cpu: 'a CPU', date: '2026-01-02', split: 'test',
  design: { scale: 'full', trainViews: 'all', scstPool: 0 },
  differences: [
    { stage: 'LoRA', over: 'zero-shot', sd: 0.1, n: 3 },     // bound 4.303 · 0.1 = 0.4303
    { stage: 'LoRA + DA', over: 'LoRA', sd: 0.01, n: 6 },    // bound 2.571 · 0.01 = 0.02571
    { stage: 'LoRA + DA + SCST', over: 'LoRA + DA', sd: 0.02, n: 6 }, // 0.05142
  ],
};

describe('noiseBound', () => {
  it('is t(0.975, n − 1) times the sd', () => {
    expect(noiseBound({ sd: 0.1, n: 3 })).toBeCloseTo(0.4303, 12);
    expect(noiseBound({ sd: 0.01, n: 6 })).toBeCloseTo(0.02571, 12);
  });
});

describe('noiseLabels', () => {
  it('labels each difference to the stage it builds on: beyond the bound a gain or loss, else within noise', () => {
    const labels = noiseLabels([
      { stage: 'zero-shot', score: 1.0 },
      { stage: 'LoRA', score: 1.5 },              // +0.5 > 0.4303: gain
      { stage: 'LoRA + DA', score: 1.52 },        // +0.02 ≤ 0.02571: within noise
      { stage: 'LoRA + DA + SCST', score: 1.46 }, // −0.06 < −0.05142: loss
      { stage: 'SCST, per-batch CIDEr (ablation)', score: 1.53 }, // vs LoRA + DA; no such reference difference
    ], REFERENCE);
    expect(labels.map((l) => [l.stage, l.over, l.label])).toEqual([
      ['LoRA', 'zero-shot', 'gain'],
      ['LoRA + DA', 'LoRA', 'within noise'],
      ['LoRA + DA + SCST', 'LoRA + DA', 'loss'],
      ['SCST, per-batch CIDEr (ablation)', 'LoRA + DA', 'no reference'],
    ]);
    expect(labels[0]!.difference).toBeCloseTo(0.5, 12);
    expect(labels[1]!.bound).toBeCloseTo(0.02571, 12);
    expect(labels[3]!.bound).toBeUndefined();
  });

  it('a difference exactly at the bound is within noise', () => {
    const [label] = noiseLabels([{ stage: 'zero-shot', score: 0 }, { stage: 'LoRA', score: 0.4303 }], REFERENCE);
    expect(label!.label).toBe('within noise');
  });
});

describe('singleRunTable', () => {
  it('shows test, val and the labelled differences', () => {
    const test = [{ stage: 'zero-shot', scores: { CIDEr: 1.0 } }, { stage: 'LoRA', scores: { CIDEr: 1.5 } }, { stage: 'LoRA + DA', scores: { CIDEr: 1.52 } }];
    const val = [{ stage: 'zero-shot', scores: { CIDEr: 1.1 } }, { stage: 'LoRA', scores: { CIDEr: 1.6 } }, { stage: 'LoRA + DA', scores: { CIDEr: 1.61 } }];
    const labels = noiseLabels(test.map((r) => ({ stage: r.stage, score: r.scores.CIDEr })), REFERENCE);
    expect(singleRunTable(test, val, labels)).toBe([
      '| CIDEr-D | zero-shot | LoRA | LoRA + DA |',
      '|---|---|---|---|',
      '| test | 1.0000 | 1.5000 | 1.5200 |',
      '| val (model choice) | 1.1000 | 1.6000 | 1.6100 |',
      '| test difference to the stage it builds on | – | +0.500 vs zero-shot: gain (bound ±0.430) | +0.020 vs LoRA: within noise (bound ±0.026) |',
    ].join('\n'));
    expect(singleRunTable(test, val).split('\n').length).toBe(4);
  });

  it('the rule names the runs, the CPU and the date', () => {
    expect(noiseRule(REFERENCE)).toBe('within noise: |difference| ≤ t(0.975, n − 1) · sd, sd of that stage\'s paired test CIDEr-D difference over the 6 runs of ' +
      '`bench --seeds 3 --pretrain-seeds 1` (a CPU, 2026-01-02)');
  });
});

describe('noiseReferenceFromSweep', () => {
  it('keeps each paired difference\'s sd and count', () => {
    // differences LoRA − zero-shot: 0.5, 0.5, 0.5 (sd 0); DA − LoRA: 0.1, −0.1, 0.3 (sd 0.2)
    const runs = [[1.0, 1.5, 1.6], [0.9, 1.4, 1.3], [1.1, 1.6, 1.9]].map(([z, l, d]) => ({ cider: { 'zero-shot': z!, LoRA: l!, 'LoRA + DA': d! } }));
    const ref = noiseReferenceFromSweep(stageStatistics(runs), { ...REFERENCE });
    expect(ref.differences.map((d) => [d.stage, d.over, d.n])).toEqual([['LoRA', 'zero-shot', 3], ['LoRA + DA', 'LoRA', 3]]);
    expect(ref.differences[0]!.sd).toBeLessThan(1e-12);
    expect(ref.differences[1]!.sd).toBeCloseTo(0.2, 12);
  });

  it('the shipped reference is the test-split sweep in benchmarks/results/bench-seeds.json', () => {
    const sweep = JSON.parse(readFileSync('benchmarks/results/bench-seeds.json', 'utf8')) as {
      stageSeeds: number; pretrainSeeds: number; design: { trainViews: string; scstPool: number }; stages: StageStatistic[];
    };
    const { differences, ...about } = SEED_NOISE_REFERENCE;
    expect(about.source).toBe(`bench --seeds ${sweep.stageSeeds} --pretrain-seeds ${sweep.pretrainSeeds}`);
    expect([about.split, about.design.trainViews, about.design.scstPool]).toEqual(['test', sweep.design.trainViews, sweep.design.scstPool]);
    expect(differences).toEqual(noiseReferenceFromSweep(sweep.stages, about).differences);
    expect(differences.length).toBe(4);
  });
});
