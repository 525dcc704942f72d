/**
 * SCST step throughput: sampling (5 per image) + the greedy baseline + CIDEr-D rewards (document frequencies
 * from a 5000-image COCO reference corpus) + the weighted log-likelihood and CE backward passes + AdamW,
 * on the base-size config with random weights (and the tiny fixture model), LoRA r16/α32 on the paper's targets.
 *
 *   npx tsx benchmarks/scst.ts [--steps 2] [--images 4] [--skip-base]
 *
 * Prints samples/s and the share of wall time in each part; writes benchmarks/results/scst.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { T5Tokenizer } from '../lib/text/tokenizer.js';
import { CiderDScorer } from '../lib/metrics/cider.js';
import { ciderReward, resolveScstOptions, scstBackward } from '../lib/train/scst.js';
import { baseConfig, machineLine, median, ROOT, TINY_DIR, writeResults } from './common.js';

interface CorpusItem { image_id: number; refs: string[] }

async function measure(model: Blip2Model, tokenizer: T5Tokenizer, scorer: CiderDScorer, ids: string[], steps: number, images: number) {
  const size = model.config.vision_config.image_size;
  const pixels = new Float32Array(images * 3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.0007);
  const options = resolveScstOptions({ samples: 5, baseline: 'greedy', maxNewTokens: 20 });
  const labels = tokenizer.encodeTargets(ids.slice(0, images).map(() => 'a man riding a wave on top of a surfboard')).labels;
  const batch = { imageIds: ids.slice(0, images), pixelValues: { data: pixels, shape: [images, 3, size, size] }, inputIds: Array.from({ length: images }, () => []), labels };
  const rows: { total: number; generate: number; reward: number; backward: number; optimizer: number }[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const r = await scstBackward(model, tokenizer, batch, ciderReward(scorer), options, s);
    const t1 = performance.now();
    await model.optimizerStep({ lr: 1e-5, maxGradNorm: 1 });
    const total = performance.now() - t0;
    if (s > 0) rows.push({ total, generate: r.timings.generateMs, reward: r.timings.rewardMs, backward: r.timings.backwardMs, optimizer: performance.now() - t1 });
  }
  const m = (k: keyof (typeof rows)[number]) => median(rows.map((r) => r[k]));
  // the policy-gradient backward of images x 5 captions: each image repeated 5 times vs encoded once (imageRepeat)
  const captionLabels = tokenizer.encodeTargets(Array.from({ length: images * 5 }, (_, i) => `a man riding a wave number ${i}`)).labels;
  const weights = captionLabels.map((_, i) => (i % 2 ? 1 : -1));
  const plane = 3 * size * size;
  const repeated = new Float32Array(images * 5 * plane);
  for (let i = 0; i < images; i++) for (let k = 0; k < 5; k++) repeated.set(pixels.subarray(i * plane, (i + 1) * plane), (i * 5 + k) * plane);
  const explicit = { pixelValues: { data: repeated, shape: [images * 5, 3, size, size] }, inputIds: Array.from({ length: images * 5 }, () => []), labels: captionLabels };
  const once = { pixelValues: batch.pixelValues, inputIds: batch.inputIds, labels: captionLabels, imageRepeat: 5 };
  const timeBackward = async (inputs: typeof explicit | typeof once) => {
    const times: number[] = [];
    for (let s = 0; s <= Math.max(1, steps); s++) {
      const t = performance.now();
      await model.backwardWeighted(inputs, weights);
      if (s > 0) times.push(performance.now() - t);
      await model.zeroGrad();
    }
    return median(times) / 1000;
  };
  const repeatedSeconds = await timeBackward(explicit);
  const onceSeconds = await timeBackward(once);
  return {
    rlBackwardRepeatedSeconds: repeatedSeconds, rlBackwardImageRepeatSeconds: onceSeconds, seconds: m('total') / 1000, samplesPerSecond: (images * 5) / (m('total') / 1000), generateShare: m('generate') / m('total'), rewardShare: m('reward') / m('total'), backwardShare: m('backward') / m('total'), optimizerShare: m('optimizer') / m('total') };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 2;
  const images = argv.includes('--images') ? Number(argv[argv.indexOf('--images') + 1]) : 4;
  const corpus = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/caption-metrics/corpus_coco_derived_5000.json'), 'utf8')) as CorpusItem[];
  const t0 = performance.now();
  const scorer = new CiderDScorer(Object.fromEntries(corpus.map((c) => [String(c.image_id), c.refs])));
  const scorerSeconds = (performance.now() - t0) / 1000;
  const ids = corpus.map((c) => String(c.image_id));
  const tokenizer = await T5Tokenizer.fromPretrained(TINY_DIR);
  const results: Record<string, unknown>[] = [];
  const models: [string, () => Promise<Blip2Model>][] = [['tiny (fixture)', () => Blip2Model.load(TINY_DIR)]];
  if (!argv.includes('--skip-base')) models.push(['base-size (random)', () => Blip2Model.random(baseConfig(), { seed: 0, threads: availableParallelism() })]);
  for (const [name, make] of models) {
    process.stderr.write(`${name}\n`);
    const model = await make();
    await model.addLora({ r: 16, alpha: 32, dropout: 0.05, seed: 0 });
    await model.setTraining(true);
    results.push({ model: name, threads: model.info().threads, ...(await measure(model, tokenizer, scorer, ids, steps, images)) });
    model.dispose();
  }
  const pct = (x: unknown) => `${(100 * (x as number)).toFixed(1)} %`;
  const table = [
    `SCST step: ${images} images x 5 samples (max 20 new tokens) + greedy baseline + CIDEr-D (df over 5000 COCO images, built in ${scorerSeconds.toFixed(2)} s) + backward + AdamW; median of ${steps}; ${machineLine()}`,
    '',
    '| model | threads | s / step | samples/s | sampling + greedy | rewards | backward | optimizer | RL backward: images repeated | encoded once (imageRepeat) | speed-up |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.model} | ${r.threads} | ${(r.seconds as number).toFixed(2)} | ${(r.samplesPerSecond as number).toFixed(2)} | ${pct(r.generateShare)} | ${pct(r.rewardShare)} | ${pct(r.backwardShare)} | ${pct(r.optimizerShare)} | ` +
      `${(r.rlBackwardRepeatedSeconds as number).toFixed(2)} s | ${(r.rlBackwardImageRepeatSeconds as number).toFixed(2)} s | ${((r.rlBackwardRepeatedSeconds as number) / (r.rlBackwardImageRepeatSeconds as number)).toFixed(2)}x |`),
  ].join('\n');
  process.stdout.write(`${table}\n`);
  writeResults('scst', { date: new Date().toISOString(), machine: machineLine(), images, samples: 5, scorerSeconds, results });
}

await main();
