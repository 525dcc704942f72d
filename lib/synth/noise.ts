/**
 * Which differences of a single benchmark run are within noise. A single run has no spread of its own, so each of
 * its stage-to-stage differences is set against the spread that same difference showed over the runs of a
 * multi-seed sweep (`bench --seeds K --pretrain-seeds M`): the rule is
 *
 *   within noise  ⇔  |difference| ≤ t(0.975, n − 1) · sd,
 *
 * where sd is the sample standard deviation of that stage's paired difference over the sweep's n runs. A run whose
 * stage truly did nothing shows a difference beyond that bound about one time in twenty.
 */
import { previousStages, tQuantile95, type StageStatistic } from './stats.js';

/** The spread of each stage's paired difference over a sweep, and where the sweep ran. */
export interface NoiseReference {
  /** The command that measured it. */
  source: string;
  /** The CPU it ran on (the spread holds per benchmark design, not per CPU, but the numbers came from there). */
  cpu: string;
  /** Day of the sweep, YYYY-MM-DD. */
  date: string;
  /** The split the differences were measured on. */
  split: 'test' | 'val';
  /** The benchmark design the sweep ran (a run of another design has no reference). */
  design: { scale: 'full' | 'quick'; trainViews: string; scstPool: number };
  /** Per stage, the stage it builds on and the sd of the paired difference over n runs. */
  differences: { stage: string; over: string; sd: number; n: number }[];
}

/** A single run's difference between a stage and the one it builds on, labelled against a reference. */
export interface NoiseLabel {
  stage: string;
  over: string;
  difference: number;
  /** t(0.975, n − 1) · sd of the reference; undefined when the reference has no such difference. */
  bound?: number;
  label: 'gain' | 'loss' | 'within noise' | 'no reference';
}

/** The reference of a sweep's statistics (its `seeds.json` `stages`), with where and when it ran. */
export function noiseReferenceFromSweep(stages: readonly StageStatistic[], about: Omit<NoiseReference, 'differences'>): NoiseReference {
  return {
    ...about,
    differences: stages.filter((s) => s.gain !== undefined).map((s) => ({ stage: s.stage, over: s.gain!.over, sd: s.gain!.sd, n: s.gain!.n })),
  };
}

/** The bound of a reference difference: t(0.975, n − 1) · sd. */
export function noiseBound(reference: { sd: number; n: number }): number {
  return tQuantile95(reference.n - 1) * reference.sd;
}

/**
 * Labels each stage's difference to the stage it builds on (the ablation against its counterpart's start) in one
 * run's scores: gain or loss when beyond the reference's bound, else within noise.
 */
export function noiseLabels(scores: readonly { stage: string; score: number }[], reference: NoiseReference): NoiseLabel[] {
  const stages = scores.map((s) => s.stage);
  const byStage = new Map(scores.map((s) => [s.stage, s.score]));
  return previousStages(stages).flatMap((over, i): NoiseLabel[] => {
    if (over === undefined) return [];
    const stage = stages[i]!;
    const difference = byStage.get(stage)! - byStage.get(over)!;
    const ref = reference.differences.find((d) => d.stage === stage && d.over === over && d.n >= 2);
    if (ref === undefined) return [{ stage, over, difference, label: 'no reference' }];
    const bound = noiseBound(ref);
    const label = difference > bound ? 'gain' : difference < -bound ? 'loss' : 'within noise';
    return [{ stage, over, difference, bound, label }];
  });
}

/** One line that says where the reference comes from and the rule, for tables and the report. */
export function noiseRule(reference: NoiseReference): string {
  const n = Math.max(...reference.differences.map((d) => d.n));
  return `within noise: |difference| ≤ t(0.975, n − 1) · sd, sd of that stage's paired ${reference.split} CIDEr-D difference over the ${n} runs of ` +
    `\`${reference.source}\` (${reference.cpu}, ${reference.date})`;
}

/**
 * The shipped reference: `bench --seeds 3 --pretrain-seeds 2` at full scale with the default design (SCST on a pool
 * of 400 images of its own; benchmarks/results/bench-seeds.json; the test checks that these numbers are that file's).
 */
export const SEED_NOISE_REFERENCE: NoiseReference = {
  source: 'bench --seeds 3 --pretrain-seeds 2',
  cpu: 'AMD EPYC, 2 cores, AVX-512',
  date: '2026-12-02',
  split: 'test',
  design: { scale: 'full', trainViews: 'all', scstPool: 400 },
  // bounds t(0.975, 5) · sd = 2.571 · sd: ±0.153, ±0.075, ±0.052, ±0.037
  differences: [
    { stage: 'LoRA', over: 'zero-shot', sd: 0.05961459590901164, n: 6 },
    { stage: 'LoRA + DA', over: 'LoRA', sd: 0.029047721572837963, n: 6 },
    { stage: 'LoRA + DA + SCST', over: 'LoRA + DA', sd: 0.02034116757192433, n: 6 },
    { stage: 'SCST, per-batch CIDEr (ablation)', over: 'LoRA + DA', sd: 0.014271938140706956, n: 6 },
  ],
};

const signedDiff = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/**
 * A single run's CIDEr-D table: test and validation per stage and, with labels, each test difference to the stage
 * it builds on with its verdict against the noise bound.
 */
export function singleRunTable(
  test: readonly { stage: string; scores: { CIDEr?: number } }[],
  val: readonly { stage: string; scores: { CIDEr?: number } }[],
  labels?: readonly NoiseLabel[],
): string {
  const cider = (rows: typeof test, stage: string) => rows.find((r) => r.stage === stage)?.scores.CIDEr;
  const cell = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
  const stages = test.map((r) => r.stage);
  const lines = [
    `| CIDEr-D | ${stages.join(' | ')} |`,
    `|---|${stages.map(() => '---').join('|')}|`,
    `| test | ${stages.map((s) => cell(cider(test, s))).join(' | ')} |`,
    `| val (model choice) | ${stages.map((s) => cell(cider(val, s))).join(' | ')} |`,
  ];
  if (labels !== undefined) {
    lines.push(`| test difference to the stage it builds on | ${stages.map((s) => {
      const l = labels.find((x) => x.stage === s);
      if (l === undefined) return '–';
      return `${signedDiff(l.difference)} vs ${l.over}: ${l.label}${l.bound === undefined ? '' : ` (bound ±${l.bound.toFixed(3)})`}`;
    }).join(' | ')} |`);
  }
  return lines.join('\n');
}
