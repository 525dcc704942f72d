/** Golden numbers read from the fixture files, so that tests never re-type them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { FIXTURES, TINY } from './paths.js';

/**
 * One suite of caption-metrics/scorer_edge_cases.json (real pycocoevalcap Bleu, Rouge and Cider on tokenized captions).
 */
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

/**
 * Per caption of golden-forward's `main` batch, Hugging Face's log-probability of each label token: log_softmax of
 * the golden logits, in float64. A caption's loss is minus their mean.
 */
export async function goldenTokenLogprobs(): Promise<number[][]> {
  const golden = await readSafetensorsFile(join(TINY, 'golden-forward.safetensors'));
  const logits = golden.tensors.get('main.logits')!;
  const labels = golden.tensors.get('main.labels')!;
  const [rows, steps, vocab] = logits.shape as [number, number, number];
  return Array.from({ length: rows }, (_, i) => {
    const out: number[] = [];
    for (let t = 0; t < steps; t++) {
      const label = Number(labels.data[i * steps + t]);
      if (label === -100) break;
      const row = logits.data.subarray((i * steps + t) * vocab, (i * steps + t + 1) * vocab) as Float32Array;
      const max = row.reduce((m, x) => Math.max(m, x), -Infinity);
      const logSum = Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0)) + max;
      out.push(row[label]! - logSum);
    }
    return out;
  });
}

/** Minus the mean of a caption's token log-probabilities: its cross-entropy loss. */
export function meanLoss(logprobs: readonly number[]): number {
  return -logprobs.reduce((a, b) => a + b, 0) / logprobs.length;
}
