import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bleu, bleuVerboseText } from '../../lib/metrics/bleu.js';
import { rougeL } from '../../lib/metrics/rouge.js';
import { ciderD } from '../../lib/metrics/cider.js';

const fixtures = fileURLToPath(new URL('../fixtures/caption-metrics/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(fixtures + name, 'utf8'));

interface CorpusItem { image_id: number; candidate_tok: string; refs_tok: string[] }
interface PerImage {
  image_id: number; Bleu_1: number; Bleu_2: number; Bleu_3: number; Bleu_4: number; ROUGE_L: number; CIDEr: number;
}

function relDiff(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

for (const name of ['coco_fakecap_1000', 'coco_derived_5000']) {
  describe(`pycocoevalcap goldens: ${name}`, () => {
    const corpus = load(`corpus_${name}.json`) as CorpusItem[];
    const golden = load(`scores_${name}.json`);
    const refs = corpus.map((c) => c.refs_tok);
    const cands = corpus.map((c) => c.candidate_tok);
    const per = golden.per_image as PerImage[];

    it('has per-image goldens in corpus order', () => {
      expect(per.map((p) => p.image_id)).toEqual(corpus.map((c) => c.image_id));
    });

    it('BLEU-1..4: integer totals exact, scores within 1e-12 relative', () => {
      let log = '';
      const r = bleu(refs, cands, { verboseLog: (t) => { log += t; } });
      const t = golden.corpus.bleu_totals;
      expect(r.totals.testlen).toBe(t.testlen);
      expect(r.totals.reflen).toBe(t.reflen);
      expect(r.totals.guess).toEqual(t.guess);
      expect(r.totals.correct).toEqual(t.correct);
      expect(r.totals.ratio).toBe(t.ratio);
      expect(log).toBe(golden.corpus.bleu_verbose_stdout);
      let maxCorpus = 0;
      let maxPer = 0;
      for (let k = 0; k < 4; k++) {
        maxCorpus = Math.max(maxCorpus, relDiff(r.scores[k]!, golden.corpus[`Bleu_${k + 1}`]));
        for (let i = 0; i < per.length; i++) {
          maxPer = Math.max(maxPer, relDiff(r.perImage[k]![i]!, (per[i] as unknown as Record<string, number>)[`Bleu_${k + 1}`]!));
        }
      }
      console.log(`${name} BLEU max relative diff: corpus ${maxCorpus}, per-image ${maxPer}`);
      expect(maxCorpus).toBeLessThanOrEqual(1e-12);
      expect(maxPer).toBeLessThanOrEqual(1e-12);
    });

    it('ROUGE-L within 1e-13 absolute', () => {
      const r = rougeL(refs, cands);
      const maxPer = Math.max(...per.map((p, i) => Math.abs(r.perImage[i]! - p.ROUGE_L)));
      const dCorpus = Math.abs(r.score - golden.corpus.ROUGE_L);
      console.log(`${name} ROUGE-L max abs diff: corpus ${dCorpus}, per-image ${maxPer}`);
      expect(maxPer).toBeLessThanOrEqual(1e-13);
      expect(dCorpus).toBeLessThanOrEqual(1e-13);
    });

    it('CIDEr-D within 1e-13 absolute', () => {
      const r = ciderD(refs, cands);
      const maxPer = Math.max(...per.map((p, i) => Math.abs(r.perImage[i]! - p.CIDEr)));
      const dCorpus = Math.abs(r.score - golden.corpus.CIDEr);
      console.log(`${name} CIDEr-D max abs diff: corpus ${dCorpus}, per-image ${maxPer}`);
      expect(maxPer).toBeLessThanOrEqual(1e-13);
      expect(dCorpus).toBeLessThanOrEqual(1e-13);
    });
  });
}

describe('bleuVerboseText', () => {
  it('prints the dict and a Python float repr', () => {
    expect(bleuVerboseText({ testlen: 0, reflen: 5, guess: [0, 0, 0, 0], correct: [0, 0, 0, 0], ratio: 1.9999999996000001e-16 }))
      .toBe("{'testlen': 0, 'reflen': 5, 'guess': [0, 0, 0, 0], 'correct': [0, 0, 0, 0]}\nratio: 1.9999999996000001e-16\n");
  });
});
