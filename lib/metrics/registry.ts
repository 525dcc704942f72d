/**
 * The caption metrics, one row each: the name `cocoEval`, `--metrics` and a run config's `eval.metrics` select it
 * by, pycocoevalcap's result keys with the label of their table column, the jar that computes it (and whether it
 * needs one), and whether it runs when no metric list is given. Every list of metric names or result keys in the
 * package is read from this table.
 */

/** One result key of pycocoevalcap's `eval` and the label of its column in a results table. */
export interface MetricResult {
  readonly key: string;
  readonly label: string;
}

/** The official jar that computes a metric, run with Java. */
export interface MetricJar {
  /** The option of `cocoEval` (and of a run config's `eval`) that names the jar. */
  readonly option: 'spiceJar' | 'meteorJar';
  /** The command-line flag that names the jar. */
  readonly flag: string;
  /** The jar's file name. */
  readonly file: string;
  /** What the jar is, as usage errors describe it. */
  readonly about: string;
  /** True: the metric is only computed with the jar; false: the jar replaces a built-in implementation. */
  readonly required: boolean;
}

/** One caption metric. */
export interface MetricSpec {
  /** The selector of `cocoEval`'s `metrics`, `--metrics` and `eval.metrics`. */
  readonly name: string;
  /** The metric's name in prose. */
  readonly displayName: string;
  /** pycocoevalcap's result keys of the metric, in its order. */
  readonly results: readonly MetricResult[];
  /** The jar that computes it, if any. */
  readonly jar?: MetricJar;
  /** Computed when no metric list is given. */
  readonly defaultOn: boolean;
}

/** The metrics, in pycocoevalcap's order. */
export const METRICS = [
  {
    name: 'bleu', displayName: 'BLEU-1..4', defaultOn: true,
    results: [{ key: 'Bleu_1', label: 'B-1' }, { key: 'Bleu_2', label: 'B-2' }, { key: 'Bleu_3', label: 'B-3' }, { key: 'Bleu_4', label: 'B-4' }],
  },
  {
    name: 'meteor', displayName: 'METEOR', defaultOn: true,
    results: [{ key: 'METEOR', label: 'METEOR' }],
    jar: { option: 'meteorJar', flag: '--meteor-jar', file: 'meteor-1.5.jar', about: 'the official METEOR 1.5 jar', required: false },
  },
  { name: 'rouge', displayName: 'ROUGE-L', defaultOn: true, results: [{ key: 'ROUGE_L', label: 'ROUGE-L' }] },
  { name: 'cider', displayName: 'CIDEr-D', defaultOn: true, results: [{ key: 'CIDEr', label: 'CIDEr' }] },
  {
    name: 'spice', displayName: 'SPICE', defaultOn: false,
    results: [{ key: 'SPICE', label: 'SPICE' }],
    jar: { option: 'spiceJar', flag: '--spice-jar', file: 'spice-1.0.jar', about: 'the official SPICE 1.0 jar, run with Java 8', required: true },
  },
] as const satisfies readonly MetricSpec[];

/** A metric's selector. */
export type MetricName = (typeof METRICS)[number]['name'];
/** A result key of pycocoevalcap's `eval`. */
export type MetricResultKey = (typeof METRICS)[number]['results'][number]['key'];

/** Every metric's selector, in table order. */
export const METRIC_NAMES: readonly MetricName[] = METRICS.map((m) => m.name);

/** The metrics computed when no list is given and no jar of a jar-only metric is named. */
export const DEFAULT_METRICS: readonly MetricName[] = METRICS.filter((m) => m.defaultOn).map((m) => m.name);

/** Every result key with its column label, in table order. */
export const METRIC_RESULTS: readonly { key: MetricResultKey; label: string; metric: MetricName }[] =
  METRICS.flatMap((m) => m.results.map((r) => ({ key: r.key, label: r.label, metric: m.name })));

/** The row of a metric. */
export function metricSpec(name: MetricName): MetricSpec {
  return METRICS.find((m) => m.name === name)!;
}

/** Whether a metric can only be computed with its jar (SPICE). */
export function needsJar(name: MetricName): boolean {
  return metricSpec(name).jar?.required === true;
}

/**
 * The metrics computed when no list is given: the default ones, plus each jar-only metric whose jar is named
 * (`jars` maps a jar option such as `spiceJar` to its path).
 */
export function defaultMetrics(jars: Partial<Record<MetricJar['option'], string>>): MetricName[] {
  return METRICS.filter((m) => m.defaultOn || (needsJar(m.name) && jars[(m as MetricSpec).jar!.option] !== undefined)).map((m) => m.name);
}
