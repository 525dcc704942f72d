// Run inside a fresh app whose install found no loadable addon (libtorch and the toolchain hidden): metrics still
// give pycocoevalcap's numbers, the tokenizer and the image processor Hugging Face's, and the first native call
// throws the fix. Usage: node app-no-libtorch.mjs <fixtures>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cocoEval } from 'blip2-progressive/metrics';
import { Blip2Captioner, BlipImageProcessor, T5Tokenizer, readSafetensorsFile } from 'blip2-progressive';

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

const model = join(fixtures, 'blip2-tiny', 'model');
const tokenizer = await T5Tokenizer.fromPretrained(model);
const ids = tokenizer.encode('caption:');
console.log(`tokenizer without the addon: "caption:" -> ${JSON.stringify(ids)}`);
if (JSON.stringify(ids) !== '[18,31,7,1]') throw new Error('the tokenizer differs from the slow T5Tokenizer');
const processor = await BlipImageProcessor.fromPretrained(model);
const pixels = await processor.preprocess([join(fixtures, 'blip2-tiny', 'images', 'img0_rgb_64x48.png')]);
const expected = (await readSafetensorsFile(join(fixtures, 'blip2-tiny', 'images-golden.safetensors'))).tensors.get('img0.pixel_values_32').data;
const maxDiff = pixels.data.reduce((m, x, i) => Math.max(m, Math.abs(x - expected[i])), 0);
console.log(`image processor without the addon: max diff to Hugging Face's pixel values ${maxDiff}`);
if (pixels.data.length !== expected.length || maxDiff > 1e-6) throw new Error('pixel values differ from Hugging Face');

let message;
try {
  await Blip2Captioner.fromPretrained(join(fixtures, 'blip2-tiny', 'model'));
} catch (err) {
  message = err.message;
}
console.log(`fromPretrained: ${message}`);
if (!message?.includes('sudo apt-get install -y libtorch1.13 libopenblas0-openmp')) throw new Error('fromPretrained did not throw the fix');
console.log('install check: metrics work and the first native call names the fix');
