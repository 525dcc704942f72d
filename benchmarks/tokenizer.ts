/**
 * Tokenizer micro-benchmark: encodes/s for 10,000 short captions (real COCO captions from the
 * caption-metrics fixture), batch encoding with padding, and decoding.
 *
 * Baseline, measured in the same run: a straightforward unigram tokenizer of the kind many JS ports
 * use — `String.prototype.normalize('NFKC')`, whitespace collapse, and a Viterbi that looks up every
 * substring (up to the longest piece) in a Map. Speeds are reported as ratios against it.
 *
 * Run: npx tsx benchmarks/tokenizer.ts   (writes benchmarks/results/tokenizer.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { T5Tokenizer } from '../lib/text/tokenizer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(root, 'test/fixtures/blip2-tiny/model');
const corpusPath = path.join(root, 'test/fixtures/caption-metrics/corpus_coco_derived_5000.json');
const CAPTIONS = 10_000;
const REPEATS = 5;

interface CorpusItem {
  candidate: string;
  refs: string[];
}

/** The naive baseline: NFKC + whitespace collapse + substring-Map Viterbi (no trie, float64). */
class NaiveUnigram {
  private readonly ids = new Map<string, number>();
  private readonly scores: number[];
  private readonly maxPieceLength: number;
  private readonly unkScore: number;

  constructor(vocab: [string, number][], special: Set<string>, private readonly unkId: number) {
    this.scores = vocab.map(([, score]) => score);
    let maxLength = 0;
    let minScore = Infinity;
    vocab.forEach(([piece, score], id) => {
      if (id === unkId || special.has(piece)) return;
      this.ids.set(piece, id);
      maxLength = Math.max(maxLength, piece.length);
      minScore = Math.min(minScore, score);
    });
    this.maxPieceLength = maxLength;
    this.unkScore = minScore - 10;
  }

  encode(text: string): number[] {
    const normalized = '\u2581' + text.normalize('NFKC').trim().split(/\s+/).join('\u2581');
    const n = normalized.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const from = new Int32Array(n + 1);
    const tokenAt = new Int32Array(n + 1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      if (best[start] === -Infinity) continue;
      let single = false;
      for (let end = start + 1; end <= Math.min(n, start + this.maxPieceLength); end++) {
        const id = this.ids.get(normalized.slice(start, end));
        if (id === undefined) continue;
        if (end === start + 1) single = true;
        const score = best[start] + this.scores[id];
        if (score > best[end]) [best[end], from[end], tokenAt[end]] = [score, start, id];
      }
      if (!single && best[start] + this.unkScore > best[start + 1]) {
        [best[start + 1], from[start + 1], tokenAt[start + 1]] = [best[start] + this.unkScore, start, this.unkId];
      }
    }
    const ids: number[] = [];
    for (let end = n; end > 0; end = from[end]) ids.push(tokenAt[end]);
    ids.reverse();
    ids.push(1);
    return ids;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time in ms of `REPEATS` runs of `fn`, after one warm-up run. */
function time(fn: () => void): number {
  fn();
  const runs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = process.hrtime.bigint();
    fn();
    runs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(runs);
}

const corpus = JSON.parse(readFileSync(corpusPath, 'utf8')) as CorpusItem[];
const captions = corpus.flatMap((item) => [item.candidate, ...item.refs]).slice(0, CAPTIONS);
const tokenizer = await T5Tokenizer.fromPretrained(modelDir);
const tokenizerJson = JSON.parse(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8')) as {
  model: { vocab: [string, number][]; unk_id: number };
  added_tokens: { content: string }[];
};
const naive = new NaiveUnigram(
  tokenizerJson.model.vocab,
  new Set(tokenizerJson.added_tokens.map((t) => t.content)),
  tokenizerJson.model.unk_id,
);

let sink = 0;
const encoded = captions.map((c) => tokenizer.encode(c));
const totalTokens = encoded.reduce((sum, ids) => sum + ids.length, 0);
const naiveAgreement = captions.filter((c, i) => JSON.stringify(naive.encode(c)) === JSON.stringify(encoded[i])).length;

const baselineMs = time(() => {
  for (const c of captions) sink += naive.encode(c).length;
});
const encodeMs = time(() => {
  for (const c of captions) sink += tokenizer.encode(c).length;
});
const batchMs = time(() => {
  for (let i = 0; i < captions.length; i += 64) {
    sink += tokenizer.encodeBatch(captions.slice(i, i + 64), { padding: 'longest' }).inputIds.length;
  }
});
const decodeMs = time(() => {
  for (const ids of encoded) sink += tokenizer.decode(ids, { skipSpecialTokens: true }).length;
});

const rows = [
  { name: 'baseline: naive NFKC + substring-Map Viterbi', ms: baselineMs },
  { name: 'T5Tokenizer.encode', ms: encodeMs },
  { name: 'T5Tokenizer.encodeBatch (64/batch, padding longest)', ms: batchMs },
  { name: 'T5Tokenizer.decode (skipSpecialTokens)', ms: decodeMs },
].map((r) => ({ ...r, perSecond: Math.round((captions.length / r.ms) * 1000), vsBaseline: baselineMs / r.ms }));

console.log(`Tokenizer benchmark: ${captions.length} COCO captions, ${totalTokens} tokens, median of ${REPEATS} runs`);
console.log(`(${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version})\n`);
console.log('| operation | ms / 10k captions | captions/s | speed vs baseline |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(1)} | ${r.perSecond.toLocaleString('en-US')} | ${r.vsBaseline.toFixed(2)}× |`);
console.log(`\nThe naive baseline gives the same ids as T5Tokenizer for ${naiveAgreement}/${captions.length} captions.`);

const resultsDir = path.join(root, 'benchmarks/results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  path.join(resultsDir, 'tokenizer.json'),
  `${JSON.stringify(
    {
      benchmark: 'tokenizer',
      captions: captions.length,
      tokens: totalTokens,
      repeats: REPEATS,
      machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version },
      naiveBaselineAgreement: naiveAgreement,
      rows,
      sink: sink > 0,
    },
    null,
    2,
  )}\n`,
);
