/**
 * Synthetic dataset generation speed.
 *
 *   npx tsx benchmarks/synth.ts [--quick]
 *
 * 1. Per-image phases on one thread (median of 5 rounds over 400 images per domain): scene and caption
 *    sampling, rendering (the flat-pixel shortcut against full 16-sample rendering as the baseline, same
 *    run), degradation, PNG encoding with sharp.
 * 2. Writing the default dataset (20,000 clean train, 500 clean val, 100 assistive train, 1,000 assistive
 *    val = 21,600 images) in-process (1 thread, the baseline) and with one worker thread per core, then a
 *    second call with the same parameters (skipped after checking the manifest). `--quick` writes 1/10.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthDataset, DEFAULT_SYNTH_SIZES } from '../lib/synth/dataset.js';
import { applyDegradation } from '../lib/synth/degrade.js';
import type { Domain } from '../lib/synth/captions.js';
import { renderScene, renderSceneFull } from '../lib/synth/draw.js';
import { SynthRandom } from '../lib/synth/random.js';
import { synthesizeExample } from '../lib/synth/sample.js';
import { encodePng } from '../lib/synth/task.js';
import { median, writeResults } from './common.js';

const PHASE_IMAGES = 400;

type Phases = Record<'wholeExampleUs' | 'renderUs' | 'renderFullUs' | 'degradeUs' | 'pngEncodeUs', number>;

/** Per-image microseconds of each phase for one domain (median of 5 rounds). */
async function phases(domain: Domain): Promise<Phases> {
  const examples = Array.from({ length: PHASE_IMAGES }, (_, i) => synthesizeExample(0, domain, 'train', i));
  const time = async (fn: () => void | Promise<void>) => {
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      await fn();
      rounds.push(((performance.now() - t0) / examples.length) * 1000);
    }
    return median(rounds);
  };
  const rendered = examples.map((e) => renderScene(e.scene, e.view));
  return {
    wholeExampleUs: await time(() => {
      for (let i = 0; i < PHASE_IMAGES; i++) synthesizeExample(0, domain, 'train', i);
    }),
    renderUs: await time(() => {
      for (const e of examples) renderScene(e.scene, e.view);
    }),
    renderFullUs: await time(() => {
      for (const e of examples) renderSceneFull(e.scene, e.view);
    }),
    degradeUs: await time(() => {
      const rng = new SynthRandom(1);
      examples.forEach((e, k) => {
        if (e.degradation !== undefined) applyDegradation({ ...rendered[k]!, data: rendered[k]!.data.slice() }, e.degradation, rng);
      });
    }),
    pngEncodeUs: await time(async () => {
      await Promise.all(examples.map((e) => encodePng(e.pixels, e.width, e.height)));
    }),
  };
}

async function writeRun(outDir: string, workers: number, scale: number) {
  const sizes = {
    clean: { train: DEFAULT_SYNTH_SIZES.clean.train / scale, val: DEFAULT_SYNTH_SIZES.clean.val / scale },
    assistive: { train: DEFAULT_SYNTH_SIZES.assistive.train / scale, val: DEFAULT_SYNTH_SIZES.assistive.val / scale },
  };
  const images = sizes.clean.train + sizes.clean.val + sizes.assistive.train + sizes.assistive.val;
  const first = await generateSynthDataset({ outDir, seed: 0, ...sizes, workers });
  const again = await generateSynthDataset({ outDir, seed: 0, ...sizes, workers });
  return { workers, images, seconds: first.seconds, imagesPerSecond: images / first.seconds, skipSeconds: again.seconds, skipped: again.skipped, contentHash: first.manifest.contentHash };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const scale = quick ? 10 : 1;
  const cores = availableParallelism();
  const machine = `${cpus()[0]?.model ?? 'cpu'} x${cores}, Node ${process.version}`;
  const load = loadavg()[0]!;
  const p = { clean: await phases('clean'), assistive: await phases('assistive') };
  const root = await mkdtemp(join(tmpdir(), 'synth-bench-'));
  let runs;
  try {
    runs = [await writeRun(join(root, 'one'), 0, scale), await writeRun(join(root, 'all'), cores, scale)];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const [one, all] = runs as [Awaited<ReturnType<typeof writeRun>>, Awaited<ReturnType<typeof writeRun>>];
  console.log(`## Synthetic dataset generation (${machine})\n`);
  console.log(`load average at start: ${load.toFixed(2)} (other processes share the cores)\n`);
  console.log('| phase (one thread, µs per image) | clean | assistive |');
  console.log('|---|---|---|');
  const row = (name: string, key: keyof Phases) => console.log(`| ${name} | ${p.clean[key].toFixed(0)} | ${p.assistive[key].toFixed(0)} |`);
  row('whole example (scene, captions, render, degradation, bytes)', 'wholeExampleUs');
  row('render, flat-pixel shortcut', 'renderUs');
  row('render, full 16 samples in every pixel (baseline)', 'renderFullUs');
  console.log(`| shortcut speed-up over full sampling | ${(p.clean.renderFullUs / p.clean.renderUs).toFixed(1)}× | ${(p.assistive.renderFullUs / p.assistive.renderUs).toFixed(1)}× |`);
  row('degradation', 'degradeUs');
  row('PNG encode (sharp, concurrent)', 'pngEncodeUs');
  console.log('');
  console.log(`| writing ${one.images} images (seed 0) | seconds | images/s | ratio | same parameters again (skipped) |`);
  console.log('|---|---|---|---|---|');
  console.log(`| in-process, 1 thread (baseline) | ${one.seconds.toFixed(1)} | ${one.imagesPerSecond.toFixed(0)} | 1.00 | ${one.skipSeconds.toFixed(2)} s |`);
  console.log(`| ${cores} worker threads | ${all.seconds.toFixed(1)} | ${all.imagesPerSecond.toFixed(0)} | ${(all.imagesPerSecond / one.imagesPerSecond).toFixed(2)} | ${all.skipSeconds.toFixed(2)} s |`);
  console.log(`\nidentical content hash across thread counts: ${one.contentHash === all.contentHash}`);
  writeResults('synth', { machine, loadAverageAtStart: load, quick, phasesMicroseconds: p, runs, identicalAcrossThreads: one.contentHash === all.contentHash });
}

await main();
