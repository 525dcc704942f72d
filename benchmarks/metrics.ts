/**
 * Caption-metric speed against pycocoevalcap: PTB tokenization (gts + res, two calls), BLEU(4),
 * ROUGE-L, CIDEr-D and METEOR (NLTK) on the fixture corpora, beside the Python timings recorded
 * in test/fixtures/caption-metrics/summary.json (same kind of 2-vCPU machine, in-process timings).
 *
 *   npx tsx benchmarks/metrics.ts            # writes benchmarks/results/metrics.json
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { bleu } from '../lib/metrics/bleu.js';
import { ciderD } from '../lib/metrics/cider.js';
import { meteor } from '../lib/metrics/meteor/index.js';
import { tokenizeForEval } from '../lib/metrics/ptb.js';
import { rougeL } from '../lib/metrics/rouge.js';

const fixtures = fileURLToPath(new URL('../test/fixtures/caption-metrics/', import.meta.url));
const summary = JSON.parse(readFileSync(`${fixtures}summary.json`, 'utf8'));
interface CorpusItem { image_id: number; candidate: string; refs: string[]; candidate_tok: string; refs_tok: string[] }

function time(reps: number, fn: () => unknown): { min: number; median: number } {
  fn(); // warm-up (JIT)
  const all: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    all.push((performance.now() - t0) / 1000);
  }
  all.sort((a, b) => a - b);
  return { min: all[0]!, median: all[Math.floor(all.length / 2)]! };
}

const loadBefore = loadavg()[0]!;
const rows: { corpus: string; step: string; ts_min_s: number; ts_median_s: number; py_min_s: number; py_median_s: number; speedup_min: number }[] = [];
for (const name of ['coco_fakecap_1000', 'coco_derived_5000']) {
  const corpus = JSON.parse(readFileSync(`${fixtures}corpus_${name}.json`, 'utf8')) as CorpusItem[];
  const refsRaw = new Map(corpus.map((c) => [c.image_id, c.refs]));
  const predsRaw = new Map(corpus.map((c) => [c.image_id, [c.candidate]]));
  const refs = corpus.map((c) => c.refs_tok);
  const cands = corpus.map((c) => c.candidate_tok);
  const py = summary.corpora[name].timing;
  const steps: [string, string, () => unknown, number][] = [
    ['PTB tokenize (gts + res)', 'ptb_tokenize_gts_and_res', () => tokenizeForEval(refsRaw, predsRaw), 10],
    ['Bleu(4)', 'bleu_compute_score_only', () => bleu(refs, cands), 10],
    ['ROUGE_L', 'rouge_compute_score_only', () => rougeL(refs, cands), 10],
    ['CIDEr-D', 'cider_compute_score_only', () => ciderD(refs, cands), 10],
    ['METEOR (NLTK, raw)', 'meteor_nltk_raw', () => meteor(corpus.map((c) => c.refs), corpus.map((c) => c.candidate)), 2],
  ];
  for (const [step, key, fn, reps] of steps) {
    const t = time(reps, fn);
    rows.push({ corpus: name, step, ts_min_s: t.min, ts_median_s: t.median, py_min_s: py[key].min_s, py_median_s: py[key].median_s, speedup_min: py[key].min_s / t.min });
  }
  const sum = (keys: string[], f: (r: (typeof rows)[number]) => number) => rows.filter((r) => r.corpus === name && keys.includes(r.step)).reduce((a, r) => a + f(r), 0);
  const core = ['Bleu(4)', 'ROUGE_L', 'CIDEr-D'];
  rows.push({ corpus: name, step: 'BLEU + ROUGE_L + CIDEr-D', ts_min_s: sum(core, (r) => r.ts_min_s), ts_median_s: sum(core, (r) => r.ts_median_s),
    py_min_s: sum(core, (r) => r.py_min_s), py_median_s: sum(core, (r) => r.py_median_s), speedup_min: sum(core, (r) => r.py_min_s) / sum(core, (r) => r.ts_min_s) });
  const all = [...core, 'PTB tokenize (gts + res)'];
  rows.push({ corpus: name, step: 'tokenize + BLEU + ROUGE_L + CIDEr-D', ts_min_s: sum(all, (r) => r.ts_min_s), ts_median_s: sum(all, (r) => r.ts_median_s),
    py_min_s: sum(all, (r) => r.py_min_s), py_median_s: sum(all, (r) => r.py_median_s), speedup_min: sum(all, (r) => r.py_min_s) / sum(all, (r) => r.ts_min_s) });
}

const loadAfter = loadavg()[0]!;
const f = (s: number) => s.toFixed(s < 0.1 ? 4 : 3);
console.log(`Caption metrics, TypeScript vs pycocoevalcap (Python timings from summary.json; ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, ` +
  `Node ${process.version}, 1-min load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})\n`);
console.log('| corpus | step | TS min / median (s) | pycocoevalcap min / median (s) | speed-up (min) |');
console.log('|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.corpus} | ${r.step} | ${f(r.ts_min_s)} / ${f(r.ts_median_s)} | ${f(r.py_min_s)} / ${f(r.py_median_s)} | ${r.speedup_min.toFixed(1)}x |`);
const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(`${out}metrics.json`, `${JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, cpus: cpus().length, load_average_1min: [loadBefore, loadAfter], python_reference: summary.environment, rows }, null, 1)}\n`);
