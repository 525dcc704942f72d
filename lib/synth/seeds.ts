/**
 * The built-in benchmark over several seeds: every combination of `pretrainSeeds` pretraining seeds (independent
 * pretrained models on the same data) and `stageSeeds` stage seeds (LoRA initialisation, batch order, SCST
 * sampling) is one run of {@link runSynthBenchmark} (cached and resumable like a single run, robustness curves
 * skipped). Per stage: mean and standard deviation of test CIDEr over the runs (each stage's model chosen on
 * validation), and the paired difference to the stage it builds on with its 95 % interval (each run one pair), so a
 * claimed gain is a statistic; the validation scores are kept beside them for reference.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSynthBenchmark, type SynthBenchmarkOptions, type SynthBenchmarkResult } from './benchmark.js';
import { writeReport } from './report.js';
import { stageStatistics, type StageStatistic } from './stats.js';

export { previousStages, stageStatistics, type StageStatistic } from './stats.js';

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
  /** Test CIDEr-D of each stage's chosen model, by stage name in table order. */
  cider: Record<string, number>;
  /** Validation CIDEr-D of the same models (what they were chosen on). */
  valCider: Record<string, number>;
}

export interface SeedSweepResult {
  runs: SeedRun[];
  /** Statistics of the test scores. */
  stages: StageStatistic[];
  /** Statistics of the validation scores, for reference. */
  valStages: StageStatistic[];
  markdown: string;
  /** `<outDir>/seeds.json`: runs and statistics. */
  resultsPath: string;
  /** report.html, with the statistics drawn as intervals. */
  reportPath: string;
}

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;

/**
 * The sweep's table: test mean ± sd per stage, each gain with its 95 % interval and verdict, and (when given) the
 * validation mean ± sd for reference.
 */
export function seedTable(stats: readonly StageStatistic[], stageSeeds: number, pretrainSeeds: number, valStats?: readonly StageStatistic[]): string {
  const head = `| test CIDEr-D (${stageSeeds} stage seed${stageSeeds === 1 ? '' : 's'} × ${pretrainSeeds} pretraining seed${pretrainSeeds === 1 ? '' : 's'}) | ` +
    `${stats.map((s) => s.stage).join(' | ')} |`;
  const rule = `|---|${stats.map(() => '---').join('|')}|`;
  const meanRow = (label: string, list: readonly StageStatistic[]) => `| ${label} | ${list.map((s) => `${f3(s.mean)} ± ${f3(s.sd)}`).join(' | ')} |`;
  const gain = `| paired gain over the stage it builds on, 95 % interval | ${stats.map((s) => {
    if (!s.gain) return '–';
    const g = s.gain;
    const interval = g.low === undefined ? '(one run: no interval)' : `[${signed(g.low)}, ${signed(g.high!)}]`;
    return `${signed(g.mean)} ${interval} vs ${g.over}: ${g.verdict}`;
  }).join(' | ')} |`;
  return [head, rule, meanRow('mean ± sd', stats), gain, ...(valStats ? [meanRow('val (model choice), mean ± sd', valStats)] : [])].join('\n');
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
  let last: SynthBenchmarkResult | undefined;
  for (let p = 0; p < pretrainSeeds; p++) {
    for (let s = 0; s < stageSeeds; s++) {
      const seeds = { pretrainSeed: seed + p, stageSeed: seed + s };
      onRun?.(runs.length + 1, total, seeds);
      last = await runSynthBenchmark({ ...rest, ...seeds, robustness: false });
      const cider = (rows: SynthBenchmarkResult['test']) => Object.fromEntries(rows.map((r) => [r.stage, r.scores.CIDEr ?? NaN]));
      runs.push({ ...seeds, cider: cider(last.test), valCider: cider(last.val) });
    }
  }
  const stages = stageStatistics(runs);
  const valStages = stageStatistics(runs.map((r) => ({ cider: r.valCider })));
  const markdown = seedTable(stages, stageSeeds, pretrainSeeds, valStages);
  const resultsPath = join(rest.outDir, 'seeds.json');
  await writeFile(resultsPath, `${JSON.stringify({ seed, stageSeeds, pretrainSeeds, design: last!.design, runs, stages, valStages }, null, 2)}\n`);
  await writeReport({ ...last!.report, seeds: { stageSeeds, pretrainSeeds, stages, valStages } });
  return { runs, stages, valStages, markdown, resultsPath, reportPath: last!.report.path };
}
