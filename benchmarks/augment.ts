// CPU cost of augmentation and corruptions per image, on the calling thread, against the Pillow-exact bicubic
// resize to 224×224 that preprocessing does anyway (the baseline, measured in the same run).
// Image: 640×480 RGB (COCO / VizWiz-like size), photo-like (gradient, shapes, noise).
// Run: npx tsx benchmarks/augment.ts   -> Markdown table on stdout, JSON in benchmarks/results/augment.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  adjustBrightness, adjustContrast, adjustSaturation, augmentImage, grayscale, hflip, PAPER_IMAGE_AUGMENT, resizedCrop, rotate,
} from '../lib/image/augment.js';
import { CORRUPTIONS, corruptImage } from '../lib/image/corrupt.js';
import type { RgbImage } from '../lib/image/decode.js';
import { resizePil } from '../lib/image/resample.js';
import { augmentCaption, PAPER_CAPTION_AUGMENT } from '../lib/text/augment.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WIDTH = 640;
const HEIGHT = 480;
const REPS = 15;

function photo(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = 12345;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const noise = (s >>> 24) % 25 - 12;
      const inCircle = (x - 200) ** 2 + (y - 200) ** 2 < 120 ** 2;
      const i = (y * width + x) * 3;
      data[i] = Math.max(0, Math.min(255, (inCircle ? 220 : x * 0.3) + noise));
      data[i + 1] = Math.max(0, Math.min(255, (inCircle ? 40 : y * 0.4) + noise));
      data[i + 2] = Math.max(0, Math.min(255, 90 + (x > 400 && y > 250 ? 120 : 0) + noise));
    }
  }
  return { data, width, height, channels: 3 };
}

async function medianMs(fn: () => unknown): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    // Process CPU time (all threads), not wall time: the development machine is shared, and CPU time is
    // far less disturbed by other processes' load.
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  const image = photo(WIDTH, HEIGHT);
  const baseline = await medianMs(() => resizePil(image, 224, 224, 'bicubic'));
  const ops: [string, () => unknown][] = [
    ['resized crop (90 % area, bilinear back to 640×480)', () => resizedCrop(image, { top: 20, left: 30, height: 456, width: 608 }, WIDTH, HEIGHT)],
    ['horizontal flip', () => hflip(image)],
    ['resized crop to the paper\'s 384×384 square', () => resizedCrop(image, { top: 20, left: 30, height: 456, width: 608 }, 384, 384)],
    ['rotation 7.5° (nearest, torchvision\'s default)', () => rotate(image, 7.5)],
    ['rotation 7.5° (bilinear)', () => rotate(image, 7.5, 'black', 'bilinear')],
    ['brightness 1.1', () => adjustBrightness(image, 1.1)],
    ['contrast 0.9', () => adjustContrast(image, 0.9)],
    ['saturation 1.15', () => adjustSaturation(image, 1.15)],
    ['greyscale', () => grayscale(image)],
    ['augmentImage(PAPER_IMAGE_AUGMENT) (384×384 out), seed 1', () => augmentImage(image, PAPER_IMAGE_AUGMENT, 1)],
    ...CORRUPTIONS.map((kind): [string, () => unknown] => [`corrupt ${kind}:3`, () => corruptImage(image, kind, 3, 1)]),
    ...CORRUPTIONS.map((kind): [string, () => unknown] => [`corrupt ${kind}:5`, () => corruptImage(image, kind, 5, 1)]),
  ];
  const rows: { op: string; ms: number; ratioToResize: number }[] = [{ op: 'baseline: Pillow-exact bicubic resize to 224×224', ms: baseline, ratioToResize: 1 }];
  for (const [op, fn] of ops) {
    const ms = await medianMs(fn);
    rows.push({ op, ms, ratioToResize: ms / baseline });
    process.stderr.write(`${op}: ${ms.toFixed(2)} ms\n`);
  }
  const caption = 'A small man sits on a big couch next to a dog. The picture is blurry.';
  const captionUs = (await medianMs(() => { for (let i = 0; i < 1000; i++) augmentCaption(caption, PAPER_CAPTION_AUGMENT, i); })) / 1000 * 1000;

  const lines = [
    `Image ${WIDTH}×${HEIGHT} RGB, median CPU time of ${REPS} runs, one thread (${cpus()[0]?.model ?? 'unknown CPU'}). Ratio = time / baseline resize time (same run).`,
    '',
    '| operation | CPU ms | × baseline |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.op} | ${r.ms.toFixed(2)} | ${r.ratioToResize.toFixed(2)} |`),
    '',
    `augmentCaption(PAPER_CAPTION_AUGMENT) on a 2-sentence caption: ${captionUs.toFixed(1)} µs per caption`,
  ];
  console.log(lines.join('\n'));
  mkdirSync(join(root, 'benchmarks/results'), { recursive: true });
  writeFileSync(join(root, 'benchmarks/results/augment.json'), JSON.stringify({
    image: { width: WIDTH, height: HEIGHT }, reps: REPS, cpu: cpus()[0]?.model, rows, captionMicroseconds: captionUs,
  }, null, 2) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
