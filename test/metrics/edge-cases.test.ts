import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bleu } from '../../lib/metrics/bleu.js';
import { rougeL } from '../../lib/metrics/rouge.js';
import { ciderD } from '../../lib/metrics/cider.js';

interface EdgeCase {
  name: string;
  gts: Record<string, string[]>;
  res: Record<string, string[]>;
  Bleu: number[];
  Bleu_per_image: number[][];
  bleu_totals: { testlen: number; reflen: number; guess: number[]; correct: number[]; ratio: number };
  ROUGE_L: number;
  ROUGE_L_per_image: number[];
  CIDEr?: number;
  CIDEr_per_image?: number[];
  cider_error?: string;
}

const file = fileURLToPath(new URL('../fixtures/caption-metrics/scorer_edge_cases.json', import.meta.url));
const cases = JSON.parse(readFileSync(file, 'utf8')) as EdgeCase[];

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) <= 1e-15;

describe('scorer_edge_cases.json (real Bleu/Rouge/Cider)', () => {
  it('holds 20 suites', () => {
    expect(cases.length).toBe(20);
  });
  for (const c of cases) {
    it(c.name, () => {
      const ids = Object.keys(c.gts);
      const refs = ids.map((id) => c.gts[id]!);
      const cands = ids.map((id) => c.res[id]![0]!);
      const b = bleu(refs, cands);
      expect(b.totals.testlen).toBe(c.bleu_totals.testlen);
      expect(b.totals.reflen).toBe(c.bleu_totals.reflen);
      expect(b.totals.guess).toEqual(c.bleu_totals.guess);
      expect(b.totals.correct).toEqual(c.bleu_totals.correct);
      expect(b.totals.ratio).toBe(c.bleu_totals.ratio);
      let maxRel = 0;
      for (let k = 0; k < 4; k++) {
        expect(close(b.scores[k]!, c.Bleu[k]!), `Bleu_${k + 1}: ${b.scores[k]} vs ${c.Bleu[k]}`).toBe(true);
        for (let i = 0; i < ids.length; i++) {
          const want = c.Bleu_per_image[i]![k]!;
          expect(close(b.perImage[k]![i]!, want)).toBe(true);
          if (want !== 0) maxRel = Math.max(maxRel, Math.abs(b.perImage[k]![i]! - want) / Math.abs(want));
        }
      }
      const r = rougeL(refs, cands);
      expect(r.perImage).toEqual(c.ROUGE_L_per_image);
      expect(r.score).toBe(c.ROUGE_L);
      if (c.cider_error !== undefined) {
        expect(c.cider_error).toBe('ValueError: max() arg is an empty sequence');
        expect(() => ciderD(refs, cands)).toThrow(
          'CIDEr-D needs at least one non-empty reference: every reference is empty ' +
          '(pycocoevalcap raises "ValueError: max() arg is an empty sequence" here)');
      } else {
        const cd = ciderD(refs, cands);
        const dc = Math.max(Math.abs(cd.score - c.CIDEr!), ...cd.perImage.map((v, i) => Math.abs(v - c.CIDEr_per_image![i]!)));
        console.log(`${c.name}: BLEU max rel diff ${maxRel}, CIDEr-D max abs diff ${dc}`);
        expect(dc).toBeLessThanOrEqual(1e-13);
      }
    });
  }
});
