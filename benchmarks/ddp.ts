/**
 * Data-parallel training throughput: one LoRA step on a global batch of 8 (20-token captions, r16/α32 on the paper's
 * targets) with 1 rank × all cores against N ranks × cores / N threads, on c10d/Gloo over loopback. Reports
 * samples/s and the communication share of a step (the gradient all-reduce's wall time over the step's).
 *
 *   npx tsx benchmarks/ddp.ts [--model base|tiny] [--ranks 2] [--steps 3]
 *
 * On one machine, ranks share its cores and memory bandwidth: this measures the overhead of the data-parallel
 * machinery (what N machines would add per step), not a speed-up, which needs cores the single process lacks.
 *
 * Then validation as a training run does it (`--val-images 16`, greedy, 20 new tokens, the same model): one rank;
 * N ranks each captioning a contiguous shard, the token ids gathered by one all-reduce (what `train` does); and
 * N ranks where rank 0 captions everything while the others wait (the alternative, `shardValidation: false`).
 * Writes benchmarks/results/ddp.json.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { gatherTokenIds, ProcessGroup } from '../lib/distributed/process-group.js';
import { Blip2Captioner } from '../lib/captioner.js';
import { captionDataset } from '../lib/train/evaluate.js';
import type { CaptionDataset } from '../lib/data/readers.js';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { launchRanks } from '../lib/distributed/launch.js';
import { PassThrough } from 'node:stream';
import { baseConfig, machineLine, median, rssMiB, syntheticBatch, TINY_DIR, writeBaseModel, writeResults } from './common.js';

const GLOBAL_BATCH = 8;

async function rank(model: string, steps: number): Promise<void> {
  const group = (await ProcessGroup.fromEnv(process.env, { timeoutMs: 600_000 }))!;
  const threads = Number(process.env.OMP_NUM_THREADS);
  const net = model === 'tiny' ? await Blip2Model.load(TINY_DIR, { threads }) : await Blip2Model.random(baseConfig(), { threads, seed: 0 });
  await net.addLora({ r: 16, alpha: 32, dropout: 0, seed: 0 });
  await net.setTraining(true);
  const per = GLOBAL_BATCH / group.worldSize;
  const full = syntheticBatch(net.config, GLOBAL_BATCH);
  const size = full.pixelValues.shape[1]! * full.pixelValues.shape[2]! * full.pixelValues.shape[3]!;
  const from = group.rank * per;
  const inputs = {
    pixelValues: { data: full.pixelValues.data.subarray(from * size, (from + per) * size), shape: [per, ...full.pixelValues.shape.slice(1)] },
    inputIds: full.inputIds.slice(from, from + per),
    labels: full.labels.slice(from, from + per),
  };
  const stepTimes: number[] = [];
  const reduceTimes: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    await net.backwardCrossEntropy(inputs, { scale: 1 / group.worldSize });
    const t1 = performance.now();
    if (group.worldSize > 1) await net.reduceGradients(group, { op: 'sum' });
    const t2 = performance.now();
    await net.optimizerStep({ lr: 1e-4 });
    const t3 = performance.now();
    if (s > 0) { // the first step warms up
      stepTimes.push((t3 - t0) / 1000);
      reduceTimes.push((t2 - t1) / 1000);
    }
  }
  const slowest = await group.allReduce([median(stepTimes)], 'max');
  if (group.rank === 0) {
    process.stdout.write(`${JSON.stringify({
      ranks: group.worldSize, threadsPerRank: threads, stepSeconds: slowest[0], reduceSeconds: median(reduceTimes),
      samplesPerSecond: GLOBAL_BATCH / slowest[0]!, peakMiB: rssMiB('VmHWM'), trainable: net.loraInfo().trainableParameters,
    })}\n`);
  }
  net.dispose();
  await group.destroy();
}

/** One rank of the validation measurement: caption `dir`'s images as `mode` says, print rank 0's wall time. */
async function validationRank(modelDir: string, imagesDir: string, count: number, mode: 'shard' | 'rank0'): Promise<void> {
  const group = (await ProcessGroup.fromEnv(process.env, { timeoutMs: 600_000 }))!;
  const captioner = await Blip2Captioner.fromPretrained(modelDir, { threads: Number(process.env.OMP_NUM_THREADS) });
  const dataset: CaptionDataset = {
    name: 'bench', skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
    samples: Array.from({ length: count }, (_, i) => ({ imageId: String(i), image: join(imagesDir, `${i}.png`), captions: ['a photo'] })),
  };
  const options = { generation: { maxNewTokens: 20, numBeams: 1 }, batchSize: 8 };
  await captionDataset(captioner, { ...dataset, samples: dataset.samples.slice(0, 1) }, options); // warm-up
  await group.barrier();
  const t0 = performance.now();
  if (mode === 'shard' || group.worldSize === 1) {
    const mine = await captionDataset(captioner, dataset, { ...options, shard: { index: group.rank, count: group.worldSize } });
    await gatherTokenIds(group, mine.tokenIds, mine.offset, count);
  } else {
    if (group.rank === 0) await captionDataset(captioner, dataset, options);
    await group.barrier();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (group.rank === 0) process.stdout.write(`${JSON.stringify({ ranks: group.worldSize, threadsPerRank: captioner.model.info().threads, mode, seconds })}\n`);
  captioner.dispose();
  await group.destroy();
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    child: { type: 'boolean' }, model: { type: 'string', default: 'base' }, ranks: { type: 'string', default: '2' }, steps: { type: 'string', default: '3' },
    'val-images': { type: 'string', default: '16' }, 'skip-train': { type: 'boolean' }, 'val-child': { type: 'string' }, 'model-dir': { type: 'string' }, 'images-dir': { type: 'string' },
  } });
  const steps = Number(values.steps);
  const valImages = Number(values['val-images']);
  if (values['val-child']) return validationRank(values['model-dir']!, values['images-dir']!, valImages, values['val-child'] as 'shard' | 'rank0');
  if (values.child) return rank(values.model!, steps);
  const cores = availableParallelism();
  const script = fileURLToPath(import.meta.url);
  const rows: Record<string, number>[] = [];
  for (const nproc of values['skip-train'] ? [] : [1, Number(values.ranks)]) {
    process.stderr.write(`${nproc} rank(s)...\n`);
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => { text += c.toString(); });
    const result = await launchRanks(process.execPath, [...process.execArgv, script, '--child', '--model', values.model!, '--steps', String(steps)], {
      nproc, threadsPerRank: Math.max(1, Math.floor(cores / nproc)), stdout: out,
    });
    if (result.exitCode !== 0) throw new Error(`${nproc} rank(s) failed`);
    rows.push(JSON.parse(text.trim().split('\n').at(-1)!));
  }
  const base = rows[0]?.samplesPerSecond ?? 1;
  const table = ['| ranks × threads | s / step (global batch 8) | samples/s | vs 1 rank | all-reduce s (share of step) | peak RSS MiB (rank 0) |', '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.ranks} × ${r.threadsPerRank} | ${r.stepSeconds!.toFixed(2)} | ${r.samplesPerSecond!.toFixed(2)} | ${(r.samplesPerSecond! / base).toFixed(2)}x | ` +
      `${r.reduceSeconds!.toFixed(3)} (${((r.reduceSeconds! / r.stepSeconds!) * 100).toFixed(1)} %) | ${r.peakMiB!.toFixed(0)} |`)];
  const header = `Data-parallel LoRA step, ${values.model} model, ${rows[0]?.trainable ?? '–'} trainable parameters, median of ${steps} after a warm-up; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${table.join('\n')}\n`);

  // validation: a model with a tokenizer (the base-size model, or the tiny fixture) and `valImages` PNGs
  const work = mkdtempSync(join(tmpdir(), 'blip2-ddp-val-'));
  try {
    const modelDir = values.model === 'tiny' ? TINY_DIR : await writeBaseModel();
    if (modelDir !== TINY_DIR) {
      for (const f of ['spiece.model', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'added_tokens.json']) copyFileSync(join(TINY_DIR, f), join(modelDir, f));
      // the tiny model's preprocessing at the base config's image size
      const pre = JSON.parse(readFileSync(join(TINY_DIR, 'preprocessor_config.json'), 'utf8')) as { size: { height: number; width: number } };
      const size = baseConfig().vision_config.image_size;
      writeFileSync(join(modelDir, 'preprocessor_config.json'), JSON.stringify({ ...pre, size: { height: size, width: size } }));
    }
    const imagesDir = join(work, 'images');
    mkdirSync(imagesDir);
    for (let i = 0; i < valImages; i++) {
      const pixels = Buffer.alloc(320 * 240 * 3);
      for (let p = 0; p < pixels.length; p++) pixels[p] = (p * (i + 7) + (p >> 9) * 31) & 255;
      await sharp(pixels, { raw: { width: 320, height: 240, channels: 3 } }).png().toFile(join(imagesDir, `${i}.png`));
    }
    const nproc = Number(values.ranks);
    const valRows: Record<string, number | string>[] = [];
    for (const [ranks, mode] of [[1, 'shard'], [nproc, 'shard'], [nproc, 'rank0']] as const) {
      process.stderr.write(`validation, ${ranks} rank(s), ${mode}...\n`);
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => { text += c.toString(); });
      const result = await launchRanks(process.execPath, [...process.execArgv, script, '--val-child', mode, '--model-dir', modelDir, '--images-dir', imagesDir, '--val-images', String(valImages)], {
        nproc: ranks, threadsPerRank: Math.max(1, Math.floor(cores / ranks)), stdout: out,
      });
      if (result.exitCode !== 0) throw new Error(`validation with ${ranks} rank(s) failed`);
      valRows.push(JSON.parse(text.trim().split('\n').at(-1)!));
    }
    if (modelDir !== TINY_DIR) rmSync(modelDir, { recursive: true, force: true });
    const one = valRows[0]!.seconds as number;
    const valTable = ['| validation | ranks × threads | seconds | images/s | vs 1 rank |', '|---|---|---|---|---|',
      ...valRows.map((r) => `| ${r.ranks === 1 ? 'one process' : r.mode === 'shard' ? 'sharded, gathered (train)' : 'rank 0 alone'} | ${r.ranks} × ${r.threadsPerRank} | ` +
        `${(r.seconds as number).toFixed(2)} | ${(valImages / (r.seconds as number)).toFixed(2)} | ${(one / (r.seconds as number)).toFixed(2)}x |`)];
    process.stdout.write(`\nValidation of ${valImages} images (greedy, 20 new tokens, batch 8)\n\n${valTable.join('\n')}\n`);
    writeResults('ddp', { header, date: new Date().toISOString(), rows, validation: { images: valImages, rows: valRows } });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
