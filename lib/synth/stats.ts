/**
 * The statistics of a multi-seed benchmark: mean and standard deviation of a score over seeds, and the paired
 * difference between two stages with its 95 % confidence interval (Student's t over the seeds, each seed one pair),
 * per stage of a table.
 */

/**
 * Two-sided 95 % quantiles of Student's t distribution, t(0.975, df) for df = 1…30 (the textbook table; the test
 * checks each against a numerical integration of the density). Beyond 30 degrees of freedom the normal 1.96 is
 * used, which understates the quantile by less than 2 %.
 */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
] as const;

/** t(0.975, df): the half-width of a 95 % interval in standard errors. */
export function tQuantile95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  return df <= T975.length ? T975[df - 1]! : 1.96;
}

/** Mean and sample standard deviation (n − 1 in the denominator; 0 for one value). */
export function meanSd(values: readonly number[]): { mean: number; sd: number; n: number } {
  const n = values.length;
  if (n === 0) throw new RangeError('meanSd needs at least one value');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/** The paired difference `after − before` over seeds, with its 95 % interval. */
export interface PairedDifference {
  /** Mean of the per-seed differences. */
  mean: number;
  /** Sample standard deviation of the per-seed differences. */
  sd: number;
  n: number;
  /** 95 % interval of the mean difference: mean ± t(0.975, n − 1) · sd / √n; undefined for a single pair. */
  low?: number;
  high?: number;
  /** 'gain' when the whole interval is above 0, 'loss' when below, 'within noise' when it holds 0 or n < 2. */
  verdict: 'gain' | 'loss' | 'within noise';
}

/** The paired difference of two stages' scores, `before[i]` and `after[i]` from the same seed. */
export function pairedDifference(before: readonly number[], after: readonly number[]): PairedDifference {
  if (before.length !== after.length) throw new RangeError(`paired scores need equal counts, got ${before.length} and ${after.length}`);
  const { mean, sd, n } = meanSd(after.map((a, i) => a - before[i]!));
  if (n < 2) return { mean, sd, n, verdict: 'within noise' };
  const half = (tQuantile95(n - 1) * sd) / Math.sqrt(n);
  const low = mean - half;
  const high = mean + half;
  return { mean, sd, n, low, high, verdict: low > 0 ? 'gain' : high < 0 ? 'loss' : 'within noise' };
}

/** One stage's statistics over the runs of a sweep. */
export interface StageStatistic {
  stage: string;
  mean: number;
  sd: number;
  n: number;
  /** The paired difference to the stage it builds on (undefined for the first row). */
  gain?: PairedDifference & { over: string };
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

/** Statistics of the runs' scores (`cider`: score by stage name, in table order), per stage in table order. */
export function stageStatistics(runs: readonly { cider: Readonly<Record<string, number>> }[]): StageStatistic[] {
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
