/** The paper-style results table: one row per stage with B-1..4, METEOR, ROUGE-L, CIDEr (SPICE when computed). */
import type { CocoEvalResult, MetricScores } from '../metrics/coco-eval.js';
import { METRIC_RESULTS } from '../metrics/registry.js';

/** One stage's row: its name and corpus scores. */
export interface ResultRow {
  stage: string;
  scores: MetricScores;
}

const COLUMNS = METRIC_RESULTS.map(({ label, key }) => [label, key] as const);

/** Keeps only the corpus scores of a cocoEval result. */
export function corpusScores(result: CocoEvalResult): ResultRow['scores'] {
  const out: ResultRow['scores'] = {};
  for (const [, key] of COLUMNS) if (result[key] !== undefined) out[key] = result[key];
  return out;
}

/** A Markdown table with a column for every metric any row has; 4 decimals like the paper. */
export function resultsMarkdown(rows: readonly ResultRow[]): string {
  const columns = COLUMNS.filter(([, key]) => rows.some((r) => r.scores[key] !== undefined));
  const head = `| model | ${columns.map(([label]) => label).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---').join('|')}|`;
  const body = rows.map((r) => `| ${r.stage} | ${columns.map(([, key]) => (r.scores[key] === undefined ? '' : r.scores[key]!.toFixed(4))).join(' | ')} |`);
  return [head, rule, ...body].join('\n') + '\n';
}
