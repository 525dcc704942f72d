/**
 * Generation speed: captions/s for greedy search and beam search (5 beams), batch 1 and 8, 20 new tokens on every
 * row (minNewTokens = maxNewTokens = 20), with the share of wall time spent in JavaScript (processors, candidate
 * selection, bookkeeping) rather than awaiting the native decoder.
 *
 *   npx tsx benchmarks/generate.ts [--runs 3] [--skip-base]
 *
 * Models: the tiny fixture model and a base-size random model (test/fixtures/base-size/config.json, 390M
 * parameters, created in memory with Blip2Model.random). Each timing includes preprocessing synthetic 320×240
 * RGB images with the model's BlipImageProcessor. Against Hugging Face, measured in the same run on the same
 * machine: benchmarks/compare-hf.ts. Median of runs after one warm-up. Writes benchmarks/results/generate.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '../lib/generation/generate.js';
import type { DecoderSession, DecodingModel } from '../lib/generation/types.js';
import { BlipImageProcessor } from '../lib/image/processor.js';
import type { RawImageInput } from '../lib/image/decode.js';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { parseBlip2Config } from '../lib/model/config.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const TINY_DIR = join(ROOT, 'test/fixtures/blip2-tiny/model');
const BASE_DIR = join(ROOT, 'test/fixtures/base-size');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function peakRssMiB(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Deterministic 320×240 RGB test images (smooth gradients with per-image phase). */
function syntheticImages(n: number): RawImageInput[] {
  return Array.from({ length: n }, (_, k) => {
    const width = 320;
    const height = 240;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        data[i] = (x * 255) / width;
        data[i + 1] = (y * 255) / height;
        data[i + 2] = 128 + 127 * Math.sin((x + y) / 17 + k);
      }
    }
    return { data, width, height, channels: 3 };
  });
}

interface Measurement {
  model: string;
  strategy: 'greedy' | 'beam5';
  batch: number;
  runs: number;
  medianSeconds: number;
  captionsPerSecond: number;
  preprocessSeconds: number;
  decoderSteps: number;
  jsShare: number;
  jsMsPerStep: number;
}

async function measure(
  name: string, model: Blip2Model, processor: BlipImageProcessor, strategy: 'greedy' | 'beam5', batch: number, runs: number,
): Promise<Measurement> {
  const images = syntheticImages(batch);
  const options = { maxNewTokens: 20, minNewTokens: 20, numBeams: strategy === 'beam5' ? 5 : 1 };
  const once = async () => {
    const t0 = performance.now();
    const pixelValues = await processor.preprocess(images);
    const t1 = performance.now();
    const out = await generate(model, { pixelValues, inputIds: images.map(() => []) }, options);
    const t2 = performance.now();
    if (out.lengths.some((n) => n < 21)) throw new Error('a row ended before 20 new tokens');
    return { seconds: (t2 - t0) / 1000, preprocess: (t1 - t0) / 1000, timings: out.timings };
  };
  await once();
  const results = [];
  for (let r = 0; r < runs; r++) results.push(await once());
  const seconds = median(results.map((r) => r.seconds));
  const mid = results.find((r) => r.seconds === seconds)!;
  const m: Measurement = {
    model: name,
    strategy,
    batch,
    runs,
    medianSeconds: seconds,
    captionsPerSecond: batch / seconds,
    preprocessSeconds: mid.preprocess,
    decoderSteps: mid.timings.steps,
    jsShare: mid.timings.jsMs / mid.timings.totalMs,
    jsMsPerStep: mid.timings.jsMs / mid.timings.steps,
  };
  process.stderr.write(`${name} ${strategy} batch ${batch}: ${seconds.toFixed(3)} s\n`);
  return m;
}

/**
 * A decoder that answers instantly with fixed random log-probs of a Flan-T5-sized vocabulary (32128): what is
 * left is the JavaScript per step (processors, selection, bookkeeping) plus the copy of the returned rows.
 */
function instantModel(vocab: number): DecodingModel {
  const table = new Float32Array(vocab * 64);
  let x = 12345;
  for (let i = 0; i < table.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    table[i] = -5 - (x / 2 ** 32) * 10;
  }
  return {
    async startDecoding(inputs, options = {}) {
      let rows = inputs.inputIds.length * (options.expand ?? 1);
      let steps = 0;
      const session: DecoderSession = {
        get rows() { return rows; },
        vocabSize: vocab,
        get steps() { return steps; },
        async step(tokens, o = {}) {
          rows = o.reorder ? o.reorder.length : rows;
          steps += 1;
          const out = new Float32Array(rows * vocab);
          for (let r = 0; r < rows; r++) out.set(table.subarray(((r + steps) % 64) * vocab, ((r + steps) % 64 + 1) * vocab), r * vocab);
          return out;
        },
        dispose() {},
      };
      return session;
    },
  };
}

/** JS milliseconds per step at a 32128 vocabulary, batch 8, 20 tokens. */
async function jsPerStepLargeVocab(strategy: 'greedy' | 'beam5'): Promise<{ strategy: string; vocab: number; batch: number; msPerStep: number }> {
  const model = instantModel(32128);
  const inputs = { pixelValues: { data: new Float32Array(8), shape: [8, 1, 1, 1] }, inputIds: Array.from({ length: 8 }, () => []) };
  const options = { maxNewTokens: 20, minNewTokens: 20, numBeams: strategy === 'beam5' ? 5 : 1 };
  await generate(model, inputs, options);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const out = await generate(model, inputs, options);
    times.push(out.timings.totalMs / out.timings.steps);
  }
  return { strategy, vocab: 32128, batch: 8, msPerStep: median(times) };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 3;
  const threads = availableParallelism();
  const models: { name: string; load: () => Promise<Blip2Model>; processorDir: string }[] = [
    { name: 'tiny (fixture)', load: () => Blip2Model.load(TINY_DIR, { threads }), processorDir: TINY_DIR },
  ];
  if (!argv.includes('--skip-base')) {
    const raw = JSON.parse(readFileSync(join(BASE_DIR, 'config.json'), 'utf8'));
    models.push({
      name: 'base-size (random)',
      load: () => Blip2Model.random(parseBlip2Config(raw, join(BASE_DIR, 'config.json')), { seed: 0, threads }),
      processorDir: BASE_DIR,
    });
  }
  const results: Measurement[] = [];
  for (const m of models) {
    const model = await m.load();
    const processor = await BlipImageProcessor.fromPretrained(m.processorDir);
    for (const strategy of ['greedy', 'beam5'] as const) {
      for (const batch of [1, 8]) results.push(await measure(m.name, model, processor, strategy, batch, runs));
    }
    model.dispose();
  }
  const rows = [
    '| model | strategy | batch | seconds (median) | captions/s | preprocess s | JS share of generate | JS ms/step |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map((r) =>
      `| ${r.model} | ${r.strategy === 'beam5' ? 'beam 5' : 'greedy'} | ${r.batch} | ${r.medianSeconds.toFixed(3)} | ` +
        `${r.captionsPerSecond.toFixed(2)} | ${r.preprocessSeconds.toFixed(3)} | ${(100 * r.jsShare).toFixed(1)} % | ` +
        `${r.jsMsPerStep.toFixed(3)} |`),
  ];
  const largeVocab = [await jsPerStepLargeVocab('greedy'), await jsPerStepLargeVocab('beam5')];
  rows.push('', '| JS per step with an instant decoder, Flan-T5 vocabulary 32128, batch 8 | ms/step (incl. copying the rows) |', '|---|---|',
    ...largeVocab.map((r) => `| ${r.strategy === 'beam5' ? 'beam 5 (40 rows)' : 'greedy (8 rows)'} | ${r.msPerStep.toFixed(2)} |`));
  const header = `generate: 20 new tokens per row (minNewTokens = maxNewTokens = 20), no prompt, synthetic 320x240 images ` +
    `preprocessed in the timing; median of ${runs} after a warm-up; ${threads} threads, ${cpus()[0]?.model ?? 'cpu'} x${threads}, ` +
    `load average ${loadavg()[0]!.toFixed(2)}, peak RSS ${peakRssMiB().toFixed(0)} MiB`;
  process.stdout.write(`${header}\n\n${rows.join('\n')}\n`);
  mkdirSync(join(HERE, 'results'), { recursive: true });
  writeFileSync(join(HERE, 'results', 'generate.json'), `${JSON.stringify({ header, date: new Date().toISOString(), results, largeVocab }, null, 2)}\n`);
}

await main();
