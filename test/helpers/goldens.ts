/** Golden numbers read from the fixture files, so that tests never re-type them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, TINY } from './paths.js';

/** One suite of caption-metrics/scorer_edge_cases.json (real pycocoevalcap Bleu, Rouge and Cider on tokenized captions). */
export interface ScorerEdgeCase {
  name: string;
  gts: Record<string, string[]>;
  res: Record<string, string[]>;
  Bleu: number[];
  Bleu_per_image: number[][];
  ROUGE_L: number;
  ROUGE_L_per_image: number[];
  CIDEr?: number;
  CIDEr_per_image?: number[];
}

/** The scorer_edge_cases.json suite called `name`. */
export function scorerEdgeCase(name: string): ScorerEdgeCase {
  const suites = JSON.parse(readFileSync(join(FIXTURES, 'caption-metrics', 'scorer_edge_cases.json'), 'utf8')) as ScorerEdgeCase[];
  const suite = suites.find((s) => s.name === name);
  if (!suite) throw new Error(`scorer_edge_cases.json has no suite ${JSON.stringify(name)}`);
  return suite;
}

/** The corpus scores of a suite under pycocoevalcap's keys (CIDEr only where the real scorer gave one). */
export function edgeCaseScores(suite: ScorerEdgeCase): Record<string, number> {
  const [b1, b2, b3, b4] = suite.Bleu;
  return { Bleu_1: b1!, Bleu_2: b2!, Bleu_3: b3!, Bleu_4: b4!, ROUGE_L: suite.ROUGE_L, ...(suite.CIDEr === undefined ? {} : { CIDEr: suite.CIDEr }) };
}

/** blip2-tiny/golden-forward.json: the inputs and Hugging Face losses of the golden batches (labels -100 padded). */
export function goldenForward(): { loss_main: number; loss_padded_prompts: number; captions: string[]; prompt: string; labels: number[][] } {
  return JSON.parse(readFileSync(join(TINY, 'golden-forward.json'), 'utf8'));
}
