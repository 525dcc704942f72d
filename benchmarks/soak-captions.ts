/**
 * Soak test: many captions through the public API (Blip2Captioner.caption) on the tiny fixture model, with the
 * process RSS sampled every N captions, to show that memory stays flat over a long-running service's life.
 *
 *   npx tsx benchmarks/soak-captions.ts [--captions 10000] [--every 500] [--batch 8]
 *
 * The calls rotate through greedy search, beam search (3 beams), sampling and a prompt, on the fixture's PNG and
 * JPEG files; every 10th call also carries a corrupt image (onError: 'skip') and every 25th is aborted after its
 * first token, so the error paths are soaked too. RSS is "flat" when it grows by less than 5 % between the sample
 * at the end of the first decile (warm-up: allocator pools, libtorch kernels, image workers) and the last sample.
 * Prints a table and writes benchmarks/results/soak-captions.json.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Blip2Captioner } from '../lib/captioner.js';
import type { CaptionOptions } from '../lib/generation/caption.js';
import { machineLine, ROOT, rssMiB, TINY_DIR, writeResults } from './common.js';

const { values } = parseArgs({
  options: { captions: { type: 'string', default: '10000' }, every: { type: 'string', default: '500' }, batch: { type: 'string', default: '8' } },
});
const total = Number(values.captions);
const every = Number(values.every);
const batch = Number(values.batch);

const IMAGES = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png']
  .map((name) => join(ROOT, 'test/fixtures/blip2-tiny/images', name));
const CORRUPT = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const VARIANTS: CaptionOptions[] = [
  { maxNewTokens: 20 },
  { maxNewTokens: 20, numBeams: 3 },
  { maxNewTokens: 20, doSample: true, topP: 0.9, seed: 7 },
  { maxNewTokens: 20, prompt: 'a photo of' },
];

interface Sample {
  captions: number;
  seconds: number;
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
}

function sample(captions: number, started: number): Sample {
  const m = process.memoryUsage();
  return {
    captions,
    seconds: (performance.now() - started) / 1000,
    rssMiB: rssMiB('VmRSS'),
    heapMiB: m.heapUsed / 2 ** 20,
    externalMiB: (m.external + m.arrayBuffers) / 2 ** 20,
  };
}

async function main(): Promise<void> {
  const captioner = await Blip2Captioner.fromPretrained(TINY_DIR, { threads: 1 });
  const started = performance.now();
  const samples: Sample[] = [sample(0, started)];
  let done = 0;
  let failures = 0;
  let aborted = 0;
  for (let call = 0; done < total; call++) {
    const images = Array.from({ length: Math.min(batch, total - done) }, (_, i) => IMAGES[(call + i) % IMAGES.length]!);
    const withCorrupt = call % 10 === 9;
    const controller = call % 25 === 24 ? new AbortController() : undefined;
    const options: CaptionOptions = {
      ...VARIANTS[call % VARIANTS.length]!,
      batchSize: batch,
      onError: 'skip',
      ...(controller ? { signal: controller.signal, numBeams: 1, onToken: () => controller.abort() } : {}),
    };
    try {
      const results = await captioner.caption(withCorrupt ? [...images.slice(1), CORRUPT] : images, options);
      failures += results.filter((r) => 'error' in r).length;
      done += images.length;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
      aborted++;
    }
    if (Math.floor(done / every) > samples.length - 1 || done >= total) {
      samples.push(sample(done, started));
      const last = samples.at(-1)!;
      process.stderr.write(`\r${done}/${total} captions, ${(done / last.seconds).toFixed(0)}/s, RSS ${last.rssMiB.toFixed(1)} MiB   `);
    }
  }
  process.stderr.write('\n');
  captioner.dispose();
  report(samples, { failures, aborted });
}

function report(samples: Sample[], counts: { failures: number; aborted: number }): void {
  const reference = samples.find((s) => s.captions >= total / 10) ?? samples[1]!;
  const last = samples.at(-1)!;
  const growth = (last.rssMiB - reference.rssMiB) / reference.rssMiB;
  const flat = growth < 0.05;
  const slope = slopeKiBPer1000(samples.filter((x) => x.captions >= reference.captions));
  console.log(`\nSoak: ${total} captions through Blip2Captioner.caption on the tiny model (batch ${batch}); ${machineLine()}`);
  console.log(`${counts.failures} corrupt images skipped, ${counts.aborted} calls aborted\n`);
  console.log('| captions | seconds | RSS MiB | JS heap MiB | external MiB |');
  console.log('|---:|---:|---:|---:|---:|');
  for (const s of samples) {
    console.log(`| ${s.captions} | ${s.seconds.toFixed(1)} | ${s.rssMiB.toFixed(1)} | ${s.heapMiB.toFixed(1)} | ${s.externalMiB.toFixed(1)} |`);
  }
  console.log(`\nRSS ${reference.rssMiB.toFixed(1)} MiB after ${reference.captions} captions → ${last.rssMiB.toFixed(1)} MiB after ${last.captions}: ` +
    `${(growth * 100).toFixed(2)} % (${flat ? 'flat' : 'GROWING'}: the bound is 5 %); least-squares trend since then ` +
    `${slope.toFixed(0)} KiB per 1,000 captions; ${(last.captions / last.seconds).toFixed(0)} captions/s`);
  writeResults('soak-captions', {
    machine: machineLine(), captions: total, batch, every, ...counts,
    reference: { captions: reference.captions, rssMiB: reference.rssMiB }, growth, flat, slopeKiBPer1000Captions: slope, samples,
  });
}

/** The least-squares slope of RSS over captions, in KiB per 1,000 captions. */
function slopeKiBPer1000(samples: Sample[]): number {
  const n = samples.length;
  const mx = samples.reduce((a, s) => a + s.captions, 0) / n;
  const my = samples.reduce((a, s) => a + s.rssMiB, 0) / n;
  const sxy = samples.reduce((a, s) => a + (s.captions - mx) * (s.rssMiB - my), 0);
  const sxx = samples.reduce((a, s) => a + (s.captions - mx) ** 2, 0);
  return sxx === 0 ? 0 : (sxy / sxx) * 1000 * 1024;
}

await main();
