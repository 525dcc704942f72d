// Parity of METEOR (NLTK 3.8, as Hugging Face `evaluate` calls it) with the pycocoevalcap fixture
// goldens `METEOR_nltk_raw` (raw captions through word_tokenize) and `METEOR_nltk_ptbtok`
// (PTB-tokenized strings through word_tokenize), per image and corpus-level.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { meteor } from '../../lib/metrics/meteor/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'caption-metrics');

interface CorpusItem {
  image_id: number;
  candidate: string;
  refs: string[];
  candidate_tok: string;
  refs_tok: string[];
}
interface Scores {
  corpus: Record<string, number>;
  per_image: Record<string, number>[];
}

const read = <T>(file: string): T => JSON.parse(readFileSync(join(fixtures, file), 'utf8')) as T;

describe.each(['coco_fakecap_1000', 'coco_derived_5000'])('METEOR (NLTK) on %s', (name) => {
  const corpus = read<CorpusItem[]>(`corpus_${name}.json`);
  const golden = read<Scores>(`scores_${name}.json`);

  it.each([
    ['METEOR_nltk_raw', 'candidate', 'refs'],
    ['METEOR_nltk_ptbtok', 'candidate_tok', 'refs_tok'],
  ] as const)('%s per image and corpus', (key, candidateField, refsField) => {
    const result = meteor(corpus.map((item) => item[refsField]), corpus.map((item) => item[candidateField]));
    expect(result.perImage.length).toBe(corpus.length);
    let maxDiff = 0;
    let exact = 0;
    result.perImage.forEach((value, i) => {
      const diff = Math.abs(value - golden.per_image[i]![key]!);
      maxDiff = Math.max(maxDiff, diff);
      if (diff === 0) exact++;
    });
    const corpusDiff = Math.abs(result.score - golden.corpus[key]!);
    console.log(`${name} ${key}: ${exact}/${corpus.length} images exact, max |diff| ${maxDiff}, corpus |diff| ${corpusDiff}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-12);
    expect(exact).toBe(corpus.length);
    expect(corpusDiff).toBeLessThanOrEqual(1e-12);
  });
});
