// CaptionLoader throughput: how much of image preparation prefetching hides behind model work.
// 96 photo-like 640×480 JPEGs (made here with sharp), batch 8, BLIP preprocessing to 224×224 on the worker
// pool, with and without the paper's augmentation. The "model" is a timer (a native call that runs off the
// event loop, e.g. on a GPU) lasting as long as preparing one batch takes alone, so perfect overlap halves
// the epoch. Speed-ups are against prefetch 0 (prepare, then train, in turn) measured in the same run.
// Run: npx tsx benchmarks/data-loader.ts   -> Markdown table on stdout, JSON in benchmarks/results/data-loader.json
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { CaptionLoader } from '../lib/data/loader.js';
import { loadDataset, type CaptionDataset } from '../lib/data/readers.js';
import { PAPER_IMAGE_AUGMENT } from '../lib/image/augment.js';
import { ImageWorkerPool } from '../lib/image/pool.js';
import { BlipImageProcessor } from '../lib/image/processor.js';
import { PAPER_CAPTION_AUGMENT } from '../lib/text/augment.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGES = 96;
const BATCH = 8;
const ROUNDS = 5;
const PREFETCH = [0, 1, 2, 4];

async function makeImages(dir: string): Promise<CaptionDataset> {
  const samples = [];
  for (let i = 0; i < IMAGES; i++) {
    const path = join(dir, `${i}.jpg`);
    const hue = (i * 47) % 360;
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
      <rect width="100%" height="100%" fill="hsl(${hue},60%,50%)"/>
      <circle cx="200" cy="200" r="120" fill="hsl(${(hue + 120) % 360},70%,40%)"/></svg>`;
    const noise = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 20 } } })
      .png().toBuffer();
    await sharp(Buffer.from(svg)).composite([{ input: noise, blend: 'add' }]).jpeg({ quality: 90 }).toFile(path);
    samples.push({ imageId: String(i), image: path, captions: [`A circle on the left of picture ${i}.`, `Picture ${i}. A round shape.`] });
  }
  return { name: 'bench', samples, skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] } };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function epochSeconds(loader: CaptionLoader, epoch: number, modelMs: number): Promise<number> {
  const start = performance.now();
  for await (const batch of loader.epoch(epoch)) {
    if (batch.captions.length === 0) throw new Error('empty batch');
    if (modelMs > 0) await sleep(modelMs);
  }
  return (performance.now() - start) / 1000;
}

/** Seconds for loadDataset to check every image (stat + header) of a processed json listing the images. */
async function checkSeconds(dataset: CaptionDataset, dir: string): Promise<{ checked: number; unchecked: number }> {
  const file = join(dir, 'processed_bench.json');
  writeFileSync(file, JSON.stringify(dataset.samples.map((s) => ({ image: s.image, image_id: s.imageId, captions: s.captions }))));
  const time = async (checkImages: boolean) => {
    const start = performance.now();
    const read = await loadDataset({ file, checkImages });
    if (read.samples.length !== IMAGES) throw new Error(`expected ${IMAGES} samples, read ${read.samples.length}`);
    return (performance.now() - start) / 1000;
  };
  const checked: number[] = [];
  const unchecked: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    checked.push(await time(true));
    unchecked.push(await time(false));
  }
  return { checked: median(checked), unchecked: median(unchecked) };
}

interface Row {
  augment: string;
  prefetch: number;
  modelMsPerBatch: number;
  seconds: number;
  imagesPerSecond: number;
  speedupVsPrefetch0: number;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'blip2-loader-bench-'));
  const pool = new ImageWorkerPool();
  const processor = BlipImageProcessor.fromConfig({ size: { height: 224, width: 224 }, resample: 3 });
  const rows: Row[] = [];
  const loadBefore = loadavg()[0]!;
  let check: { checked: number; unchecked: number };
  try {
    const dataset = await makeImages(dir);
    check = await checkSeconds(dataset, dir);
    for (const augment of [false, true]) {
      const make = (prefetch: number) => new CaptionLoader(dataset, {
        processor, batchSize: BATCH, prefetch, seed: 1, preprocess: { pool },
        ...(augment ? { imageAugment: PAPER_IMAGE_AUGMENT, captionAugment: PAPER_CAPTION_AUGMENT } : {}),
      });
      await epochSeconds(make(0), 99, 0);
      const prepOnly: number[] = [];
      for (let r = 0; r < ROUNDS; r++) prepOnly.push(await epochSeconds(make(0), r, 0));
      const modelMs = Math.round((median(prepOnly) * 1000) / (IMAGES / BATCH));
      // Configurations interleaved round by round, so load from other processes spreads over all of them.
      const times = PREFETCH.map(() => [] as number[]);
      for (let r = 0; r < ROUNDS; r++) {
        for (const [k, prefetch] of PREFETCH.entries()) times[k]!.push(await epochSeconds(make(prefetch), r, modelMs));
      }
      const baseline = median(times[0]!);
      PREFETCH.forEach((prefetch, k) => {
        const seconds = median(times[k]!);
        rows.push({ augment: augment ? 'paper' : 'none', prefetch, modelMsPerBatch: modelMs, seconds, imagesPerSecond: IMAGES / seconds, speedupVsPrefetch0: baseline / seconds });
      });
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.version}`;
  console.log(`CaptionLoader epoch of ${IMAGES} 640×480 JPEGs, batch ${BATCH}, 224×224 Pillow-exact bicubic, median of ${ROUNDS}; ${machine}`);
  console.log(`1-minute load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (${availableParallelism()} cores)`);
  console.log(`loadDataset with checkImages: ${(check.checked * 1000).toFixed(1)} ms for ${IMAGES} images ` +
    `(${(IMAGES / (check.checked - check.unchecked)).toFixed(0)} images/s of stat + header sniff; ${(check.unchecked * 1000).toFixed(1)} ms without)`);
  console.log('The simulated model step (a timer) lasts as long as preparing one batch alone; ideal overlap = 2.00×.\n');
  console.log('| augmentation | prefetch | model ms/batch | epoch (s) | images/s | speed-up vs prefetch 0 |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.augment} | ${r.prefetch} | ${r.modelMsPerBatch} | ${r.seconds.toFixed(3)} | ${r.imagesPerSecond.toFixed(1)} | ${r.speedupVsPrefetch0.toFixed(2)}× |`);
  }
  mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
  writeFileSync(join(root, 'benchmarks', 'results', 'data-loader.json'), `${JSON.stringify({ machine, images: IMAGES, batchSize: BATCH, rounds: ROUNDS, checkImagesSeconds: check, loadAverage: [loadBefore, loadavg()[0]], rows }, null, 2)}\n`);
}

await main();
