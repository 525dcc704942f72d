/**
 * `tokenize: 'none'`, the paper's eval_utils.py protocol: raw captions lower-cased and split by the
 * scorers themselves. Expected values come from an invariant (already-tokenized input) or are
 * worked out by hand from pycocoevalcap's formulas (test/fixtures/caption-metrics/README.md).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { cocoEval } from '../../lib/metrics/coco-eval.js';
import { predictionsFromJson, referencesFromJson } from '../../lib/metrics/loaders.js';
import { register } from '../../lib/cli/eval.js';
import type { Logger } from '../../lib/logger.js';

const fixtures = fileURLToPath(new URL('../fixtures/caption-metrics/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(fixtures + name, 'utf8'));
interface CorpusItem { image_id: number; candidate: string; refs: string[]; candidate_tok: string; refs_tok: string[] }
type Golden = Record<string, number>;

function recorder(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, logger: { debug() {}, info() {}, warn: (m) => warnings.push(m) } };
}

/** pycocoevalcap's BLEU from clipped counts (README: tiny 1e-15, small 1e-9, closest reference length). */
function bleuFormula(correct: number[], guess: number[], testlen: number, reflen: number): number[] {
  const out: number[] = [];
  let b = 1;
  for (let k = 0; k < 4; k++) {
    b *= (correct[k]! + 1e-15) / (guess[k]! + 1e-9);
    out.push(b ** (1 / (k + 1)));
  }
  const ratio = (testlen + 1e-15) / (reflen + 1e-9);
  return ratio < 1 ? out.map((v) => v * Math.exp(1 - 1 / ratio)) : out;
}

describe("tokenize 'none' on already-tokenized input equals the PTB goldens", () => {
  // Invariant: the PTB path hands the scorers ptbTokenize(raw) = *_tok (ptb.test.ts checks every
  // caption); 'none' hands them *_tok lower-cased, which is *_tok again (checked below), so every
  // scorer reads the same strings and must give the same numbers.
  for (const name of ['coco_fakecap_1000', 'coco_derived_5000']) {
    it(name, async () => {
      const corpus = load(`corpus_${name}.json`) as CorpusItem[];
      const golden = load(`scores_${name}.json`) as { corpus: Golden; per_image: Golden[] };
      const tokenized = corpus.flatMap((c) => [c.candidate_tok, ...c.refs_tok]);
      expect(tokenized.filter((t) => t.toLowerCase() !== t)).toEqual([]);
      const refs = new Map(corpus.map((c) => [c.image_id, c.refs_tok]));
      const preds = new Map(corpus.map((c) => [c.image_id, c.candidate_tok]));
      const r = await cocoEval(refs, preds, { tokenize: 'none', metrics: ['bleu', 'meteor', 'rouge', 'cider'] });
      expect(r.tokenize).toBe('none');
      const keys: [keyof typeof r & string, string][] = [['Bleu_1', 'Bleu_1'], ['Bleu_2', 'Bleu_2'], ['Bleu_3', 'Bleu_3'], ['Bleu_4', 'Bleu_4'],
        ['ROUGE_L', 'ROUGE_L'], ['CIDEr', 'CIDEr'], ['METEOR', 'METEOR_nltk_ptbtok']];
      for (const [key, goldenKey] of keys) {
        const corpusDiff = Math.abs((r[key] as number) - golden.corpus[goldenKey]!);
        let perImageDiff = 0;
        r.perImage.forEach((p, i) => { perImageDiff = Math.max(perImageDiff, Math.abs((p[key as 'CIDEr'] as number) - golden.per_image[i]![goldenKey]!)); });
        console.log(`${name} tokenize none ${key}: corpus |diff| ${corpusDiff}, per-image max |diff| ${perImageDiff}`);
        expect(corpusDiff).toBeLessThanOrEqual(1e-12);
        expect(perImageDiff).toBeLessThanOrEqual(1e-12);
      }
    });
  }
});

describe("tokenize 'none' on raw captions: the scorers' own whitespace splitting", () => {
  it('BLEU: a trailing period stays on its word, so "runs." does not match "runs"', async () => {
    const refs = { 1: ['A dog runs.'] };
    const preds = { 1: 'A  dog runs' };
    const ptb = await cocoEval(refs, preds, { metrics: ['bleu'] });
    const none = await cocoEval(refs, preds, { metrics: ['bleu'], tokenize: 'none' });
    // PTB: "a dog runs" vs "a dog runs": every n-gram matches. guess [3,2,1,0], correct [3,2,1,0].
    const ptbExpected = bleuFormula([3, 2, 1, 0], [3, 2, 1, 0], 3, 3);
    // none: "a  dog runs".split() = [a, dog, runs] vs [a, dog, runs.]: a, dog, "a dog" match. correct [2,1,0,0].
    const noneExpected = bleuFormula([2, 1, 0, 0], [3, 2, 1, 0], 3, 3);
    ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4'].forEach((k, i) => {
      expect((ptb as unknown as Record<string, number>)[k]).toBeCloseTo(ptbExpected[i]!, 14);
      expect((none as unknown as Record<string, number>)[k]).toBeCloseTo(noneExpected[i]!, 14);
    });
    expect(none.Bleu_1).toBeCloseTo(2 / 3, 9);
    expect(none.Bleu_2).toBeCloseTo(Math.sqrt((2 / 3) * (1 / 2)), 9);
  });

  it('ROUGE-L splits on single spaces, so a double space is an empty token', async () => {
    const r = await cocoEval({ 1: ['A dog runs.'] }, { 1: 'A  dog runs' }, { metrics: ['rouge'], tokenize: 'none' });
    // ["a", "", "dog", "runs"] vs ["a", "dog", "runs."]: LCS 2, P = 2/4, R = 2/3, beta = 1.2.
    const p = 2 / 4;
    const rec = 2 / 3;
    expect(r.ROUGE_L).toBeCloseTo(((1 + 1.44) * p * rec) / (rec + 1.44 * p), 14);
    const ptb = await cocoEval({ 1: ['A dog runs.'] }, { 1: 'A  dog runs' }, { metrics: ['rouge'] });
    expect(ptb.ROUGE_L).toBe(1);
  });

  it('CIDEr-D: "b." is a different unigram and bigram from "b" (two images, worked by hand)', async () => {
    const refs = { 1: ['A b.'], 2: ['C d'] };
    const preds = { 1: 'a B', 2: 'c D' };
    // N = 2 images, idf weight of every n-gram here = ln 2 (df 1, or df 0 -> max(1, 0)).
    // Image 2, "c d" vs "c d": cosine 1 for 1- and 2-grams, 0 for 3-, 4-grams: (1 + 1 + 0 + 0) / 4 * 10 = 5.
    // Image 1 with none, [a, b] vs [a, b.]: unigram cosine ln2^2 / (sqrt2 ln2)^2 = 1/2, bigram "a b" vs
    // "a b." 0; same length, no penalty: (1/2 + 0 + 0 + 0) / 4 * 10 = 1.25. With PTB "a b." -> "a b": 5.
    const none = await cocoEval(refs, preds, { metrics: ['cider'], tokenize: 'none' });
    expect(none.perImage.map((p) => p.CIDEr)).toEqual([expect.closeTo(1.25, 12), expect.closeTo(5, 12)]);
    expect(none.CIDEr).toBeCloseTo(3.125, 12);
    const ptb = await cocoEval(refs, preds, { metrics: ['cider'] });
    expect(ptb.perImage.map((p) => p.CIDEr)).toEqual([expect.closeTo(5, 12), expect.closeTo(5, 12)]);
  });

  it('rejects an unknown mode', async () => {
    await expect(cocoEval({ 1: ['a'] }, { 1: 'a' }, { tokenize: 'raw' } as never)).rejects.toThrow(
      'Expected one of "ptb", "none" for tokenize but received "raw" of type string');
  });
});

describe("the paper's prediction format [{id, caption}] with file-name ids", () => {
  const vizwiz = {
    images: [
      { id: 23431, file_name: 'VizWiz_val_00000001.jpg' },
      { id: 23432, file_name: 'VizWiz_val_00000002.jpg' },
      { id: 23433, file_name: 'VizWiz_val_00000003.jpg' },
    ],
    annotations: [
      { image_id: 23431, caption: 'A can of soup.', is_rejected: false, is_precanned: false },
      { image_id: 23432, caption: 'A bottle of water.', is_rejected: false, is_precanned: false },
      { image_id: 23433, caption: 'A red mug.', is_rejected: false, is_precanned: false },
    ],
  };
  const seedPreds = [
    { id: 'VizWiz_val_00000001.jpg', caption: 'a can of soup' },
    { id: 'val/VizWiz_val_00000002', caption: 'a bottle of water' },
    { id: 'VizWiz_val_09999999.jpg', caption: 'a dog' },
  ];

  it('references keep the file names; predictions read the id field', () => {
    const refs = referencesFromJson(vizwiz);
    expect([...refs.fileNames.entries()]).toEqual([['VizWiz_val_00000001.jpg', 23431], ['VizWiz_val_00000002.jpg', 23432], ['VizWiz_val_00000003.jpg', 23433]]);
    expect([...referencesFromJson([{ image: 'imgs/x.jpg', image_id: 7, captions: ['a'] }]).fileNames.entries()]).toEqual([['x.jpg', 7]]);
    expect([...predictionsFromJson(seedPreds).keys()]).toEqual(seedPreds.map((p) => p.id));
    expect(() => predictionsFromJson([{ id: null, caption: 'x' }], 'p.json')).toThrow('Expected a number or string id at [0] in p.json but received null');
  });

  it("tokenize 'none' evaluates the ids both sides have, matched by file name, and warns about the rest", async () => {
    const { logger, warnings } = recorder();
    const r = await cocoEval(referencesFromJson(vizwiz), predictionsFromJson(seedPreds), { metrics: ['bleu'], tokenize: 'none', logger });
    expect(r.perImage.map((p) => p.image_id)).toEqual([23431, 23432]);
    expect(warnings).toEqual([
      '1 prediction(s) have no references ("VizWiz_val_09999999.jpg"); they are dropped',
      '1 image(s) have references but no prediction; they are not evaluated',
    ]);
    // "a can of soup" vs "a can of soup." and "a bottle of water" vs "a bottle of water.": the last word
    // never matches; summed counts correct [6, 4, 2, 0], guess [8, 6, 4, 2], lengths 8 and 8.
    expect(r.Bleu_1).toBeCloseTo(bleuFormula([6, 4, 2, 0], [8, 6, 4, 2], 8, 8)[0]!, 14);
    expect(r.Bleu_3).toBeCloseTo(bleuFormula([6, 4, 2, 0], [8, 6, 4, 2], 8, 8)[2]!, 14);
  });

  it("tokenize 'ptb' refuses predictions without references, as pycocoevalcap, and says how to drop them", async () => {
    await expect(cocoEval(referencesFromJson(vizwiz), predictionsFromJson(seedPreds), { metrics: ['bleu'] })).rejects.toThrow(
      'Predictions for 1 image(s) without references ("VizWiz_val_09999999.jpg"); pycocoevalcap refuses these too ' +
      '("Results do not correspond to current coco set"); tokenize \'none\' (eval_utils.py) drops them instead');
  });

  it("tokenize 'none': an image whose references were all rejected counts as having none", async () => {
    const { logger, warnings } = recorder();
    const refs = referencesFromJson({ ...vizwiz, annotations: vizwiz.annotations.map((a) => (a.image_id === 23432 ? { ...a, is_rejected: true } : a)) });
    const r = await cocoEval(refs, predictionsFromJson(seedPreds.slice(0, 2)), { metrics: ['bleu'], tokenize: 'none', logger });
    expect(r.perImage.map((p) => p.image_id)).toEqual([23431]);
    expect(warnings[0]).toBe('1 prediction(s) have no references (23432); they are dropped');
    await expect(cocoEval(refs, predictionsFromJson(seedPreds.slice(0, 2)), { metrics: ['bleu'] })).rejects.toThrow(
      'Expected at least one reference caption for refs of image 23432 but received an array of length 0');
  });

  it('no overlap at all is an error', async () => {
    await expect(cocoEval(referencesFromJson(vizwiz), predictionsFromJson([{ id: 'other.jpg', caption: 'x' }]), { tokenize: 'none' })).rejects.toThrow(
      'Expected at least one prediction for an image of the references for preds');
  });

  it('the CLI: --tokenize none on a seed-format file, and a bad mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eval-tokenize-'));
    writeFileSync(join(dir, 'refs.json'), JSON.stringify(vizwiz));
    writeFileSync(join(dir, 'preds.json'), JSON.stringify(seedPreds));
    const files = ['--refs', join(dir, 'refs.json'), '--preds', join(dir, 'preds.json')];
    const run = async (args: string[]) => {
      const out = new PassThrough();
      const err = new PassThrough();
      let stdout = '';
      let stderr = '';
      out.on('data', (c: Buffer) => { stdout += c.toString(); });
      err.on('data', (c: Buffer) => { stderr += c.toString(); });
      const program = new Command('blip2-progressive').exitOverride();
      register(program, { stdout: out, stderr: err });
      await program.parseAsync(['eval', ...args], { from: 'user' });
      return { stdout, stderr };
    };
    const { stdout, stderr } = await run([...files, '--metrics', 'bleu', '--tokenize', 'none', '--json']);
    const json = JSON.parse(stdout) as Record<string, unknown>;
    expect([json.tokenize, json.images]).toEqual(['none', 2]);
    expect(json.Bleu_1).toBeCloseTo(bleuFormula([6, 4, 2, 0], [8, 6, 4, 2], 8, 8)[0]!, 14);
    expect(stderr).toBe('warning: 1 prediction(s) have no references ("VizWiz_val_09999999.jpg"); they are dropped\n' +
      'warning: 1 image(s) have references but no prediction; they are not evaluated\n');
    await expect(run([...files, '--tokenize', 'raw'])).rejects.toThrow('--tokenize expects ptb or none but received "raw"');
    await expect(run(['--model', dir, '--data', join(dir, 'refs.json'), '--tokenize', 'none'])).rejects.toThrow(
      '--tokenize none applies to --refs with --preds; --data evaluation scores with the PTB protocol');
  });
});
