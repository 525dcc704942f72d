// BLIP image preprocessing speed (decode + Pillow-exact bicubic + normalise → NCHW float32 at 224×224).
// 1. A batch of 32 large photos (4000×3000 JPEGs made here with sharp): main thread vs the worker pool,
//    Pillow-exact vs fastResize, with the worst event-loop stall seen while each batch runs.
// 2. The base-size fixture shape (8 synthetic 320×240 images), against the Hugging Face timing recorded in
//    test/fixtures/base-size/README.md (0.028 s for 8 images on the same machine type).
// Run: npx tsx benchmarks/preprocess.ts   -> Markdown table on stdout, JSON in benchmarks/results/preprocess.json
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import type { ImageInput } from '../lib/image/decode.js';
import { ImageWorkerPool } from '../lib/image/pool.js';
import { BlipImageProcessor, type PreprocessOptions } from '../lib/image/processor.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LARGE = { count: 32, width: 4000, height: 3000 };
const SMALL = { count: 8, width: 320, height: 240, reps: 7 };
const HF_SMALL_SECONDS = 0.028;
const ROUNDS = 2;

const processor = BlipImageProcessor.fromConfig({ size: { height: 224, width: 224 }, resample: 3 });
const pool = new ImageWorkerPool();

/** A photo-like test image: smooth colour field, a few shapes, mild noise (so JPEG sizes are realistic). */
async function photo(width: number, height: number, seed: number): Promise<Sharp> {
  const hue = (seed * 47) % 360;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="hsl(${hue},70%,60%)"/><stop offset="1" stop-color="hsl(${(hue + 140) % 360},60%,30%)"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${width * 0.3}" cy="${height * 0.4}" r="${height * 0.25}" fill="hsl(${(hue + 60) % 360},80%,50%)"/>
    <rect x="${width * 0.55}" y="${height * 0.5}" width="${width * 0.3}" height="${height * 0.35}" fill="hsl(${(hue + 200) % 360},50%,70%)"/>
  </svg>`;
  const base = await sharp(Buffer.from(svg)).raw().toBuffer({ resolveWithObject: true });
  const noise = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 12 } } })
    .raw().toBuffer();
  const data = base.data;
  const channels = base.info.channels;
  for (let i = 0, j = 0; j < noise.length; i += channels, j += 3) {
    for (let c = 0; c < 3; c++) data[i + c] = Math.max(0, Math.min(255, data[i + c]! + noise[j + c]! - 128));
  }
  return sharp(data, { raw: { width, height, channels } }).removeAlpha();
}

interface Row {
  batch: string;
  mode: string;
  seconds: number;
  imagesPerSecond: number;
  baseline: string;
  speedup: number;
  maxEventLoopStallMs: number;
}

async function timed(inputs: ImageInput[], options: PreprocessOptions): Promise<{ seconds: number; stallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const start = process.hrtime.bigint();
  await processor.preprocess(inputs, options);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  histogram.disable();
  return { seconds, stallMs: histogram.max / 1e6 };
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  let fastParity: { maxAbsDiff: number; meanAbsDiff: number };
  const dir = mkdtempSync(join(tmpdir(), 'blip2-preprocess-bench-'));
  const rows: Row[] = [];
  try {
    process.stderr.write(`writing ${LARGE.count} ${LARGE.width}x${LARGE.height} JPEGs to ${dir}\n`);
    const paths: string[] = [];
    let totalBytes = 0;
    for (let i = 0; i < LARGE.count; i++) {
      const path = join(dir, `photo${i}.jpg`);
      const info = await (await photo(LARGE.width, LARGE.height, i)).jpeg({ quality: 90 }).toFile(path);
      totalBytes += info.size;
      paths.push(path);
      process.stderr.write(`\r  ${i + 1}/${LARGE.count}`);
    }
    process.stderr.write(`\n  mean file size ${(totalBytes / LARGE.count / 1e6).toFixed(2)} MB\n`);
    await processor.preprocess(paths.slice(0, pool.size), { pool }); // start the worker threads

    const largeModes: [string, PreprocessOptions][] = [
      ['main thread, Pillow-exact', { pool: 'main' }],
      [`worker pool (${pool.size} threads), Pillow-exact`, { pool }],
      ['main thread, fastResize (sharp)', { pool: 'main', fastResize: true }],
      [`worker pool (${pool.size} threads), fastResize (sharp)`, { pool, fastResize: true }],
    ];
    // Modes are interleaved over ROUNDS rounds and the fastest round kept, so that a burst of other load on
    // the machine does not land on one mode only.
    const best = largeModes.map(() => ({ seconds: Infinity, stallMs: 0 }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, [mode, options]] of largeModes.entries()) {
        process.stderr.write(`large, round ${round + 1}/${ROUNDS}: ${mode}\n`);
        const result = await timed(paths, options);
        if (result.seconds < best[index]!.seconds) best[index]!.seconds = result.seconds;
        best[index]!.stallMs = Math.max(best[index]!.stallMs, result.stallMs);
      }
    }
    const baselineSeconds = best[0]!.seconds;
    // How far fastResize is from the Pillow-exact output on these photos (normalised units and 8-bit levels).
    const exactValues = await processor.preprocess(paths.slice(0, 4), { pool });
    const fastValues = await processor.preprocess(paths.slice(0, 4), { pool, fastResize: true });
    let maxDiff = 0;
    let sumDiff = 0;
    for (let i = 0; i < exactValues.data.length; i++) {
      const d = Math.abs(exactValues.data[i]! - fastValues.data[i]!);
      maxDiff = Math.max(maxDiff, d);
      sumDiff += d;
    }
    fastParity = { maxAbsDiff: maxDiff, meanAbsDiff: sumDiff / exactValues.data.length };
    for (const [index, [mode]] of largeModes.entries()) {
      const { seconds, stallMs } = best[index]!;
      rows.push({
        batch: `${LARGE.count} × ${LARGE.width}×${LARGE.height} JPEG files`, mode, seconds,
        imagesPerSecond: LARGE.count / seconds, baseline: 'main thread, Pillow-exact (same run)',
        speedup: baselineSeconds / seconds, maxEventLoopStallMs: stallMs,
      });
    }

    // Fixture shape: 8 synthetic 320×240 images, already decoded (as PIL images are for HF) and as PNG bytes.
    const raws: ImageInput[] = [];
    const pngs: ImageInput[] = [];
    for (let i = 0; i < SMALL.count; i++) {
      const image = await photo(SMALL.width, SMALL.height, 100 + i);
      const { data, info } = await image.clone().raw().toBuffer({ resolveWithObject: true });
      raws.push({ data, width: info.width, height: info.height, channels: info.channels as 3 });
      pngs.push(await image.png().toBuffer());
    }
    const smallModes: [string, ImageInput[], PreprocessOptions][] = [
      ['main thread, decoded RGB input', raws, { pool: 'main' }],
      [`worker pool (${pool.size} threads), decoded RGB input`, raws, { pool }],
      ['main thread, PNG bytes input', pngs, { pool: 'main' }],
      [`worker pool (${pool.size} threads), PNG bytes input`, pngs, { pool }],
    ];
    for (const [mode, inputs, options] of smallModes) {
      await processor.preprocess(inputs, options);
      const runs: number[] = [];
      let stall = 0;
      for (let r = 0; r < SMALL.reps; r++) {
        const { seconds, stallMs } = await timed(inputs, options);
        runs.push(seconds);
        stall = Math.max(stall, stallMs);
      }
      const seconds = runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
      rows.push({
        batch: `${SMALL.count} × ${SMALL.width}×${SMALL.height} (base-size fixture shape)`, mode, seconds,
        imagesPerSecond: SMALL.count / seconds, baseline: `HF BlipImageProcessor ${HF_SMALL_SECONDS} s (fixture README)`,
        speedup: HF_SMALL_SECONDS / seconds, maxEventLoopStallMs: stall,
      });
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`1-minute load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (${availableParallelism()} cores)\n`);
  console.log(`fastResize vs Pillow-exact on 4 of the large photos: max |diff| ${fastParity.maxAbsDiff.toFixed(4)}, ` +
    `mean |diff| ${fastParity.meanAbsDiff.toFixed(5)} (normalised units; 1/255 level ≈ 0.0146)\n`);
  console.log('| batch | mode | time (s) | images/s | speed-up | vs | worst event-loop stall (ms) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.batch} | ${r.mode} | ${r.seconds.toFixed(3)} | ${r.imagesPerSecond.toFixed(1)} | ${r.speedup.toFixed(2)}× | ${r.baseline} | ${r.maxEventLoopStallMs.toFixed(0)} |`);
  }
  mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
  writeFileSync(join(root, 'benchmarks', 'results', 'preprocess.json'), `${JSON.stringify({
    benchmark: 'preprocess',
    node: process.version,
    sharp: sharp.versions.sharp,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpuCount: availableParallelism(),
    loadAverage1m: { before: loadBefore, after: loadavg()[0]! },
    fastResizeVsExact: fastParity,
    note: 'Run from TypeScript sources with tsx. Large batch: best of 2 interleaved rounds; small batch: median of 7 after a warm-up. Stall = worst event-loop delay on the main thread during the batch.',
    rows,
  }, null, 2)}\n`);
}

await main();
