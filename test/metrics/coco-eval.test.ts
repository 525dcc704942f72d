import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cocoEval } from '../../lib/metrics/coco-eval.js';
import { CiderDScorer } from '../../lib/metrics/cider.js';
import type { Logger } from '../../lib/logger.js';

const fixtures = fileURLToPath(new URL('../fixtures/caption-metrics/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(fixtures + name, 'utf8'));
interface CorpusItem { image_id: number; candidate: string; refs: string[]; candidate_tok: string; refs_tok: string[] }
type Golden = Record<string, number>;

describe('cocoEval on raw captions reproduces pycocoevalcap (coco_fakecap_1000)', async () => {
  const corpus = load('corpus_coco_fakecap_1000.json') as CorpusItem[];
  const golden = load('scores_coco_fakecap_1000.json') as { corpus: Golden; per_image: Golden[] };
  const refs = new Map(corpus.map((c) => [c.image_id, c.refs]));
  const preds = new Map(corpus.map((c) => [c.image_id, c.candidate]));
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m) };
  const result = await cocoEval(refs, preds, { logger });

  it('corpus scores under pycocoevalcap keys', () => {
    const keys: [string, string][] = [['Bleu_1', 'Bleu_1'], ['Bleu_2', 'Bleu_2'], ['Bleu_3', 'Bleu_3'], ['Bleu_4', 'Bleu_4'],
      ['ROUGE_L', 'ROUGE_L'], ['CIDEr', 'CIDEr'], ['METEOR', 'METEOR_nltk_raw']];
    for (const [key, goldenKey] of keys) {
      const got = (result as unknown as Record<string, number>)[key]!;
      const d = Math.abs(got - golden.corpus[goldenKey]!);
      console.log(`cocoEval ${key}: ${got} (golden ${golden.corpus[goldenKey]}, |diff| ${d})`);
      expect(d).toBeLessThanOrEqual(1e-12);
    }
    expect(result.meteorVariant).toBe('nltk-raw');
  });

  it('per-image scores in evaluation order', () => {
    expect(result.perImage.map((p) => p.image_id)).toEqual(golden.per_image.map((p) => p.image_id));
    let max = 0;
    result.perImage.forEach((p, i) => {
      for (const k of ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'ROUGE_L', 'CIDEr'] as const) {
        max = Math.max(max, Math.abs(p[k]! - golden.per_image[i]![k]!));
      }
    });
    console.log(`cocoEval per-image max |diff| (BLEU, ROUGE-L, CIDEr): ${max}`);
    expect(max).toBeLessThanOrEqual(1e-13);
  });

  it('SPICE is not computed without the jar, never a silent zero', () => {
    expect(result.notComputed).toEqual(['SPICE']);
    expect(result.SPICE).toBeUndefined();
    expect(warnings).toEqual(['SPICE not computed: pass spiceJar (the official spice-1.0.jar) to compute it']);
  });

  it('meteorInput tokenized gives METEOR_nltk_ptbtok', async () => {
    const r = await cocoEval(refs, preds, { metrics: ['meteor'], meteorInput: 'tokenized' });
    const d = Math.abs(r.METEOR! - golden.corpus.METEOR_nltk_ptbtok!);
    console.log(`cocoEval METEOR (tokenized): |diff| ${d}`);
    expect(d).toBeLessThanOrEqual(1e-12);
    expect(Object.keys(r).sort()).toEqual(['METEOR', 'meteorVariant', 'perImage', 'tokenize']);
  });

  it('CiderDScorer built on the evaluated references equals cocoEval CIDEr-D per image (<= 1e-12)', () => {
    const scorer = new CiderDScorer(refs);
    const ids = corpus.map((c) => c.image_id);
    const rewards = scorer.score(ids, corpus.map((c) => c.candidate));
    const max = Math.max(...result.perImage.map((p, i) => Math.abs(p.CIDEr! - rewards[i]!)));
    console.log(`CiderDScorer vs cocoEval CIDEr-D max |diff|: ${max}`);
    expect(max).toBeLessThanOrEqual(1e-12);
  });
});

describe('cocoEval on raw captions reproduces pycocoevalcap (coco_derived_5000)', () => {
  it('corpus and per-image scores', async () => {
    const corpus = load('corpus_coco_derived_5000.json') as CorpusItem[];
    const golden = load('scores_coco_derived_5000.json') as { corpus: Golden; per_image: Golden[] };
    const r = await cocoEval(new Map(corpus.map((c) => [c.image_id, c.refs])), new Map(corpus.map((c) => [c.image_id, c.candidate])),
      { metrics: ['bleu', 'meteor', 'rouge', 'cider'] });
    let maxCorpus = 0;
    let maxPer = 0;
    for (const k of ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'ROUGE_L', 'CIDEr'] as const) {
      maxCorpus = Math.max(maxCorpus, Math.abs(r[k]! - golden.corpus[k]!));
      r.perImage.forEach((p, i) => { maxPer = Math.max(maxPer, Math.abs(p[k]! - golden.per_image[i]![k]!)); });
    }
    const dMeteor = Math.abs(r.METEOR! - golden.corpus.METEOR_nltk_raw!);
    console.log(`cocoEval 5000: corpus max |diff| ${maxCorpus}, per-image max |diff| ${maxPer}, METEOR |diff| ${dMeteor}`);
    expect(maxCorpus).toBeLessThanOrEqual(1e-13);
    expect(maxPer).toBeLessThanOrEqual(1e-13);
    expect(dMeteor).toBeLessThanOrEqual(1e-12);
    expect(r.notComputed).toBeUndefined();
  });
});
