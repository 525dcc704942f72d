// METEOR (NLTK 3.8 variant) speed on the caption-metrics corpora, against the NLTK timings recorded
// in test/fixtures/caption-metrics/summary.json (Python 3.11 + NLTK 3.8, 2 vCPU AMD EPYC, 1 run,
// raw captions: word_tokenize + meteor_score per image).
// Run: npx tsx benchmarks/meteor.ts   -> Markdown table on stdout, JSON in benchmarks/results/meteor.json
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { meteor } from '../lib/metrics/meteor/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures', 'caption-metrics');
const REPS = 3;

interface Item { candidate: string; refs: string[]; candidate_tok: string; refs_tok: string[] }
const summary = JSON.parse(readFileSync(join(fixtures, 'summary.json'), 'utf8')) as {
  corpora: Record<string, { timing: Record<string, { min_s: number }> }>;
};

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

interface Row { corpus: string; input: string; run: string; seconds: number; baselineSeconds: number | null; speedup: number | null }
const loadAtStart = loadavg()[0]!;
const rows: Row[] = [];
const corpora = ['coco_derived_5000', 'coco_fakecap_1000'];
let first = true;
for (const name of corpora) {
  const corpus = JSON.parse(readFileSync(join(fixtures, `corpus_${name}.json`), 'utf8')) as Item[];
  const baseline = summary.corpora[name]!.timing['meteor_nltk_raw']!.min_s;
  for (const [input, c, r] of [['raw', 'candidate', 'refs'], ['ptb-tokenized', 'candidate_tok', 'refs_tok']] as const) {
    const refs = corpus.map((item) => item[r]);
    const cands = corpus.map((item) => item[c]);
    const base = input === 'raw' ? baseline : null;
    if (first) {
      // First call in the process: includes loading WordNet and filling the stem/synonym caches.
      const seconds = time(() => meteor(refs, cands));
      rows.push({ corpus: name, input, run: 'cold (first call)', seconds, baselineSeconds: base, speedup: base && base / seconds });
      first = false;
    }
    const runs = Array.from({ length: REPS }, () => time(() => meteor(refs, cands)));
    const seconds = Math.min(...runs);
    rows.push({ corpus: name, input, run: `warm (min of ${REPS})`, seconds, baselineSeconds: base, speedup: base && base / seconds });
  }
}

const fmt = (x: number | null, digits: number): string => (x === null ? '–' : x.toFixed(digits));
console.log(`1-minute load average at start: ${loadAtStart.toFixed(2)} on ${cpus().length} CPUs`);
console.log('| corpus | input | run | time (s) | NLTK 3.8 reference (s) | speed-up |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
  console.log(`| ${row.corpus} | ${row.input} | ${row.run} | ${fmt(row.seconds, 3)} | ${fmt(row.baselineSeconds, 1)} | ${row.speedup === null ? '–' : `${row.speedup.toFixed(1)}×`} |`);
}
mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
writeFileSync(join(root, 'benchmarks', 'results', 'meteor.json'), JSON.stringify({
  benchmark: 'meteor',
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpuCount: cpus().length,
  loadAverage1mAtStart: loadAtStart,
  baseline: 'test/fixtures/caption-metrics/summary.json timing.meteor_nltk_raw (Python 3.11.2, NLTK 3.8, 1 run)',
  rows,
}, null, 2) + '\n');
