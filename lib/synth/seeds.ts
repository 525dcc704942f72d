/**
 * The built-in benchmark over several seeds: every combination of `pretrainSeeds` pretraining seeds (independent
 * pretrained models on the same data) and `stageSeeds` stage seeds (LoRA initialisation, batch order, SCST
 * sampling) is one run of {@link runSynthBenchmark} (cached and resumable like a single run, robustness curves
 * skipped). Per stage: mean and standard deviation of validation CIDEr over the runs, and the paired difference to
 * the stage it builds on with its 95 % interval (each run one pair), so a claimed gain is a statistic.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSynthBenchmark, type SynthBenchmarkOptions } from './benchmark.js';
import { meanSd, pairedDifference, type PairedDifference } from './stats.js';

export interface SeedSweepOptions extends Omit<SynthBenchmarkOptions, 'stageSeed' | 'pretrainSeed' | 'robustness'> {
  /** Stage seeds per pretrained model: `seed`, `seed + 1`, … Default 3. */
  stageSeeds?: number;
  /** Independently pretrained models: pretraining seeds `seed`, `seed + 1`, … Default 2. */
  pretrainSeeds?: number;
  /** Called before each run (1-based index of `total`). */
  onRun?: (index: number, total: number, seeds: { pretrainSeed: number; stageSeed: number }) => void;
}

export interface SeedRun {
  pretrainSeed: number;
  stageSeed: number;
  /** Validation CIDEr-D of each stage's best model, by stage name in table order. */
  cider: Record<string, number>;
}

export interface StageStatistic {
  stage: string;
  mean: number;
  sd: number;
  n: number;
  /** The paired difference to the stage it builds on (undefined for the first row). */
  gain?: PairedDifference & { over: string };
}

export interface SeedSweepResult {
  runs: SeedRun[];
  stages: StageStatistic[];
  markdown: string;
  /** `<outDir>/seeds.json`: runs and statistics. */
  resultsPath: string;
}

/**
 * The stage each row builds on: the row before it, except that an ablation row (its name says "(ablation)") is set
 * against the row its main counterpart builds on (both start from the same model).
 */
export function previousStages(stages: readonly string[]): (string | undefined)[] {
  const isAblation = (s: string) => s.includes('(ablation)');
  let lastMain = -1;
  let lastMainBase: string | undefined;
  return stages.map((stage, i) => {
    if (i === 0) {
      lastMain = 0;
      return undefined;
    }
    if (isAblation(stage)) return lastMainBase;
    lastMainBase = stages[lastMain];
    lastMain = i;
    return lastMainBase;
  });
}

/** Statistics of the runs, per stage in table order. */
export function stageStatistics(runs: readonly SeedRun[]): StageStatistic[] {
  if (runs.length === 0) throw new RangeError('stageStatistics needs at least one run');
  const stages = Object.keys(runs[0]!.cider);
  const previous = previousStages(stages);
  return stages.map((stage, i) => {
    const values = runs.map((r) => r.cider[stage]!);
    const over = previous[i];
    return {
      stage, ...meanSd(values),
      ...(over !== undefined ? { gain: { ...pairedDifference(runs.map((r) => r.cider[over]!), values), over } } : {}),
    };
  });
}

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/** The sweep's table: mean ± sd per stage, and each gain with its 95 % interval and verdict. */
export function seedTable(stats: readonly StageStatistic[], stageSeeds: number, pretrainSeeds: number): string {
  const head = `| val CIDEr-D (${stageSeeds} stage seed${stageSeeds === 1 ? '' : 's'} × ${pretrainSeeds} pretraining seed${pretrainSeeds === 1 ? '' : 's'}) | ` +
    `${stats.map((s) => s.stage).join(' | ')} |`;
  const rule = `|---|${stats.map(() => '---').join('|')}|`;
  const mean = `| mean ± sd | ${stats.map((s) => `${f3(s.mean)} ± ${f3(s.sd)}`).join(' | ')} |`;
  const gain = `| paired gain over the stage it builds on, 95 % interval | ${stats.map((s) => {
    if (!s.gain) return '–';
    const g = s.gain;
    const interval = g.low === undefined ? '(one run: no interval)' : `[${signed(g.low)}, ${signed(g.high!)}]`;
    return `${signed(g.mean)} ${interval} vs ${g.over}: ${g.verdict}`;
  }).join(' | ')} |`;
  return [head, rule, mean, gain].join('\n');
}

/** Runs the sweep (reusing cached data, pretrained models and finished runs) and writes `<outDir>/seeds.json`. */
export async function runSynthBenchmarkSeeds(options: SeedSweepOptions): Promise<SeedSweepResult> {
  const { stageSeeds = 3, pretrainSeeds = 2, onRun, ...rest } = options;
  for (const [name, value] of [['stageSeeds', stageSeeds], ['pretrainSeeds', pretrainSeeds]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 100) throw new RangeError(`${name} must be an integer from 1 to 100, got ${value}`);
  }
  const seed = rest.seed ?? 0;
  const runs: SeedRun[] = [];
  const total = stageSeeds * pretrainSeeds;
  for (let p = 0; p < pretrainSeeds; p++) {
    for (let s = 0; s < stageSeeds; s++) {
      const seeds = { pretrainSeed: seed + p, stageSeed: seed + s };
      onRun?.(runs.length + 1, total, seeds);
      const result = await runSynthBenchmark({ ...rest, ...seeds, robustness: false });
      runs.push({ ...seeds, cider: Object.fromEntries(result.summary.rows.map((r) => [r.stage, r.scores.CIDEr ?? NaN])) });
    }
  }
  const stages = stageStatistics(runs);
  const markdown = seedTable(stages, stageSeeds, pretrainSeeds);
  const resultsPath = join(rest.outDir, 'seeds.json');
  await writeFile(resultsPath, `${JSON.stringify({ seed, stageSeeds, pretrainSeeds, runs, stages }, null, 2)}\n`);
  return { runs, stages, markdown, resultsPath };
}
