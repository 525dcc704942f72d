/** The paper-style results table: one row per stage with B-1..4, METEOR, ROUGE-L, CIDEr (SPICE when computed). */
import type { CocoEvalResult } from '../metrics/coco-eval.js';

export interface ResultRow {
  stage: string;
  scores: Pick<CocoEvalResult, 'Bleu_1' | 'Bleu_2' | 'Bleu_3' | 'Bleu_4' | 'METEOR' | 'ROUGE_L' | 'CIDEr' | 'SPICE'>;
}

const COLUMNS = [
  ['B-1', 'Bleu_1'], ['B-2', 'Bleu_2'], ['B-3', 'Bleu_3'], ['B-4', 'Bleu_4'],
  ['METEOR', 'METEOR'], ['ROUGE-L', 'ROUGE_L'], ['CIDEr', 'CIDEr'], ['SPICE', 'SPICE'],
] as const;

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
