// Run inside a fresh app whose install found no loadable addon (libtorch and the toolchain hidden): metrics still
// give pycocoevalcap's numbers, and the first native call throws the fix. Usage: node app-no-libtorch.mjs <fixtures>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cocoEval } from 'blip2-progressive/metrics';
import { Blip2Captioner } from 'blip2-progressive';

const fixtures = process.argv[2];
const load = (name) => JSON.parse(readFileSync(join(fixtures, 'caption-metrics', name), 'utf8'));
const corpus = load('corpus_coco_fakecap_1000.json').slice(0, 50);
const refs = new Map(corpus.map((c) => [c.image_id, c.refs]));
const preds = new Map(corpus.map((c) => [c.image_id, c.candidate]));
const result = await cocoEval(refs, preds, { metrics: ['bleu', 'rouge'] });
const golden = load('scores_coco_fakecap_1000.json').per_image.slice(0, 50);
const meanRouge = golden.reduce((s, p) => s + p.ROUGE_L, 0) / golden.length;
console.log(`metrics without the addon: ROUGE_L ${result.ROUGE_L} (pycocoevalcap per-image mean ${meanRouge})`);
if (Math.abs(result.ROUGE_L - meanRouge) > 1e-12) throw new Error('ROUGE_L differs from pycocoevalcap');

let message;
try {
  await Blip2Captioner.fromPretrained(join(fixtures, 'blip2-tiny', 'model'));
} catch (err) {
  message = err.message;
}
console.log(`fromPretrained: ${message}`);
if (!message?.includes('sudo apt-get install -y libtorch1.13 libopenblas0-openmp')) throw new Error('fromPretrained did not throw the fix');
console.log('install check: metrics work and the first native call names the fix');
