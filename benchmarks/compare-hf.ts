/**
 * This project against Hugging Face transformers on the same machine, in the same run, on the same work:
 * ../shared/hf-baseline (HF 4.44 on Debian's CPU torch, the same libtorch this project links) times beam 5 and
 * greedy generation (batch 8, eight 320×240 images, prompt "a photo of", 20 new tokens, preprocessing included) and
 * one LoRA step (r16/α32 on the paper's 312 modules, AdamW lr 1e-4, no weight decay, no clipping, 20-token
 * captions); this script times ours on the same weights, images and captions. It prints per-phase medians, HF/ours
 * ratios, whether the first row's token ids agree, peak RSS of each side, and each side's share of the machine's
 * GEMM roofline (matmul FLOPs of the phase, estimated from the config, over the measured 2048³ matmul rate).
 *
 *   ../shared/hf-baseline/run.sh setup && ../shared/hf-baseline/run.sh make-base && \
 *     ../shared/hf-baseline/run.sh images /tmp/hf-baseline/images        # once per machine
 *   npx tsx benchmarks/compare-hf.ts [--reps 3] [--dtypes float32,bfloat16,bfloat16-mixed,int8] \
 *     [--hf-dir /tmp/hf-baseline]
 *
 * bfloat16-mixed (bf16 matmul weights, the rest fp32; what dtype 'auto' picks on AVX512-BF16 CPUs) and int8 (int8
 * Linear weights, dynamic quantized products, the rest fp32; inference only, so no training step) have no HF
 * counterpart and are set against HF's float32, with their token ids compared to HF's float32 ids and their roofline
 * share taken against the float32 matmul rate.
 *
 * Each side runs in its own process, one after the other (never concurrently), with 2 threads. Writes
 * benchmarks/results/compare-hf.json with the CPU model and flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Blip2Captioner } from '../lib/captioner.js';
import type { RawImageInput } from '../lib/image/decode.js';
import { readBlip2Config, type Blip2Config } from '../lib/model/config.js';
import type { Dtype } from '../lib/model/blip2-model.js';
import { runtimeInfo, SPEED_CPU_FLAGS } from '../lib/runtime-info.js';
import { median, ROOT, rssMiB, writeResults } from './common.js';

const HF_RUN = join(ROOT, '..', 'shared', 'hf-baseline', 'run.sh');
const PROMPT = 'a photo of';
const THREADS = 2;

/** Resets VmHWM, so that the next peak is the phase's own (as hf_bench.py does). */
function resetPeak(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

interface OurPhase { medianSeconds: number; times: number[]; peakMiB: number; firstRow?: number[] }

async function timed(reps: number, fn: () => Promise<unknown>): Promise<{ times: number[]; peakMiB: number }> {
  resetPeak();
  await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { times, peakMiB: rssMiB('VmHWM') };
}

/** Our side, in a child process: the phases of hf_bench.py on the same weights and images. */
async function ours(modelDir: string, imagesDir: string, dtype: string, reps: number, train: boolean): Promise<Record<string, OurPhase>> {
  const meta = JSON.parse(readFileSync(join(imagesDir, 'meta.json'), 'utf8')) as { width: number; height: number; captions: string[] };
  const images: RawImageInput[] = meta.captions.map((_, i) => ({
    data: new Uint8Array(readFileSync(join(imagesDir, `img${i}.rgb`))), width: meta.width, height: meta.height, channels: 3,
  }));
  const captioner = await Blip2Captioner.fromPretrained(modelDir, { threads: THREADS, dtype: dtype as Dtype });
  const phases: Record<string, OurPhase> = {};
  for (const [name, numBeams] of [['beam5', 5], ['greedy', 1]] as const) {
    let firstRow: number[] = [];
    const { times, peakMiB } = await timed(reps, async () => {
      const captions = await captioner.caption(images, { prompt: PROMPT, numBeams, maxNewTokens: 20 });
      firstRow = captions[0]!.tokenIds;
    });
    phases[name] = { medianSeconds: median(times), times, peakMiB, firstRow };
  }
  if (train) {
    const model = captioner.model;
    await model.addLora({ r: 16, alpha: 32, dropout: 0, seed: 0 });
    await model.setTraining(true);
    const pixels = await captioner.preprocess(images);
    const prompt = captioner.tokenizer.encode(PROMPT);
    const labels = meta.captions.map((c) => captioner.tokenizer.encode(c).slice(0, 20));
    if (labels.some((l) => l.length !== 20)) throw new Error('the benchmark captions must be 20 tokens each');
    const inputs = { pixelValues: pixels, inputIds: images.map(() => prompt), labels };
    const { times, peakMiB } = await timed(reps, async () => {
      await model.backwardCrossEntropy(inputs);
      await model.optimizerStep({ lr: 1e-4, weightDecay: 0, maxGradNorm: 0 });
    });
    phases.train = { medianSeconds: median(times), times, peakMiB };
  }
  captioner.dispose();
  return phases;
}

/** Matmul FLOPs of each phase for batch 8, 20 new tokens (2 per multiply-add; attention products included). */
function phaseFlops(config: Blip2Config, promptTokens: number): Record<'beam5' | 'greedy' | 'train', number> {
  const v = config.vision_config;
  const q = config.qformer_config;
  const t = config.text_config;
  if (t.model_type !== 't5') throw new Error(`phaseFlops counts T5 language models only, not ${t.model_type}`);
  const batch = 8;
  const tokensV = (v.image_size / v.patch_size) ** 2 + 1;
  const vision = v.num_hidden_layers * (2 * tokensV * (4 * v.hidden_size ** 2 + 2 * v.hidden_size * v.intermediate_size) + 4 * tokensV ** 2 * v.hidden_size);
  const queries = config.num_query_tokens;
  const crossLayers = Math.ceil(q.num_hidden_layers / q.cross_attention_frequency);
  const qformer = q.num_hidden_layers * 2 * queries * (4 * q.hidden_size ** 2 + 2 * q.hidden_size * q.intermediate_size) +
    crossLayers * 2 * (2 * queries * q.hidden_size ** 2 + 2 * tokensV * q.encoder_hidden_size * q.hidden_size);
  const inner = t.num_heads * t.d_kv;
  const encTokens = queries + promptTokens;
  const ffn = (t.feed_forward_proj.startsWith('gated') ? 3 : 2) * t.d_model * t.d_ff;
  const encoder = t.num_layers * 2 * encTokens * (4 * t.d_model * inner + ffn) + t.num_layers * 4 * encTokens ** 2 * inner;
  const crossKv = t.num_decoder_layers * 2 * encTokens * 2 * t.d_model * inner;
  const decoderStep = (position: number) =>
    t.num_decoder_layers * 2 * (6 * t.d_model * inner + ffn + 2 * (position + encTokens) * inner) + 2 * t.d_model * t.vocab_size;
  let steps = 0;
  for (let p = 1; p <= 20; p++) steps += decoderStep(p);
  const perImage = vision + qformer + encoder;
  const beams = 5;
  // beam search: encoder work once per image; cross keys/values and every decoder step for each of the 5 beams
  const beam5 = batch * (perImage + beams * (crossKv + steps));
  const greedy = batch * (perImage + crossKv + steps);
  // training: frozen vision forward only; Q-Former, T5 forward + backward (about 2x forward) on 20 label tokens
  const teacher = crossKv + 20 * (decoderStep(10) - 2 * t.d_model * t.vocab_size) + 20 * 2 * t.d_model * t.vocab_size;
  const train = batch * (vision + 3 * (qformer + encoder + teacher));
  return { beam5, greedy, train };
}

/**
 * GFLOP/s of a 2048³ matmul on 2 threads in `dtype`, measured with the same libtorch through HF's Python env: the
 * best of 10 (the roofline is what the machine can reach; a shared VM's noise only ever slows a run down).
 */
function gemmRate(dtype: string): number {
  const code = `import torch,time\ntorch.set_num_threads(${THREADS})\na=torch.randn(2048,2048).to(torch.${dtype})\nb=torch.randn(2048,2048).to(torch.${dtype})\n` +
    'a@b\nts=[]\nfor _ in range(10):\n  t=time.perf_counter(); a@b; ts.append(time.perf_counter()-t)\nprint(2*2048**3/min(ts)/1e9)';
  const r = spawnSync('bash', [HF_RUN, 'python', '-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`GEMM rate (${dtype}) failed:\n${r.stderr}`);
  return Number(r.stdout.trim().split('\n').at(-1));
}

function hfBench(modelDir: string, dtype: string, reps: number): Record<string, unknown> {
  const args = [HF_RUN, 'bench', '--model', modelDir, '--dtype', dtype, '--reps', String(reps), ...(dtype === 'float32' ? [] : ['--skip', 'train'])];
  const r = spawnSync('bash', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`HF baseline failed:\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const trim = (row: number[]) => {
  const end = row.indexOf(1, 1);
  return end > 0 ? row.slice(0, end + 1) : row.filter((x, i) => i === 0 || x !== 0);
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' }, reps: { type: 'string', default: '3' }, dtypes: { type: 'string', default: 'float32,bfloat16,bfloat16-mixed' },
      'hf-dir': { type: 'string', default: process.env.HF_BASELINE_DIR ?? '/tmp/hf-baseline' },
    },
  });
  const reps = Number(values.reps);
  const modelDir = join(values['hf-dir']!, 'blip2-base-random');
  const imagesDir = join(values['hf-dir']!, 'images');
  if (values.child) {
    const [dtype, train] = values.child.split(':');
    process.stdout.write(`${JSON.stringify(await ours(modelDir, imagesDir, dtype!, reps, train === 'train'))}\n`);
    return;
  }
  for (const path of [HF_RUN, modelDir, join(imagesDir, 'meta.json')]) {
    if (!existsSync(path)) {
      throw new Error(`${path} is missing: run ../shared/hf-baseline/run.sh setup, make-base and images ${imagesDir} first (see the header of this file)`);
    }
  }
  const script = fileURLToPath(import.meta.url);
  const config = await readBlip2Config(modelDir);
  const flops = phaseFlops(config, 4);
  const info = await runtimeInfo();
  const cpu = { model: info.cpu.model, cores: info.cpu.cores, flags: SPEED_CPU_FLAGS.filter((f) => info.cpu.flags[f]) };
  const rows = ['| phase | dtype | HF transformers 4.44 | this project | HF / ours | same token ids | peak RSS HF / ours MiB | roofline share HF / ours |', '|---|---|---|---|---|---|---|---|'];
  const results: Record<string, unknown>[] = [];
  const skipped: string[] = [];
  const hfRuns = new Map<string, ReturnType<typeof hfBench>>();
  for (const dtype of values.dtypes!.split(',')) {
    if ((dtype === 'bfloat16' || dtype === 'bfloat16-mixed') && !info.cpu.flags.avx512_bf16) {
      // without AVX512-BF16 a bf16 matmul runs at ~1 GFLOP/s on this libtorch: hours per phase, on both sides
      process.stderr.write('bfloat16 skipped: this CPU has no AVX512-BF16\n');
      skipped.push(`${dtype} (no AVX512-BF16 on this CPU)`);
      continue;
    }
    // bfloat16-mixed and int8 have no HF counterpart: they are set against HF's float32, the dtype they stand in for
    const hfDtype = dtype === 'bfloat16-mixed' || dtype === 'int8' ? 'float32' : dtype;
    const train = hfDtype === 'float32' && dtype !== 'int8';  // int8 is inference only
    if (!hfRuns.has(hfDtype)) {
      process.stderr.write(`${hfDtype}: Hugging Face...\n`);
      hfRuns.set(hfDtype, hfBench(modelDir, hfDtype, reps));
    }
    const hf = hfRuns.get(hfDtype) as { phases: Record<string, { median_s: number; peak_rss_mib: number; first_row?: number[] }> };
    process.stderr.write(`${dtype}: ours...\n`);
    const child = spawnSync(process.execPath, [...process.execArgv, script, '--child', `${dtype}:${train ? 'train' : 'no'}`, '--reps', String(reps), '--hf-dir', values['hf-dir']!], {
      encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (child.status !== 0) throw new Error(`our side (${dtype}) failed`);
    const mine = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, OurPhase>;
    const rate = gemmRate(dtype === 'float32' || dtype === 'int8' ? 'float32' : 'bfloat16') * 1e9;
    for (const [phase, hfName] of [['beam5', 'beam5'], ['greedy', 'greedy'], ['train', 'train_step']] as const) {
      const h = hf.phases[hfName];
      const o = mine[phase];
      if (!h || !o) continue;
      const same = h.first_row ? JSON.stringify(trim(h.first_row)) === JSON.stringify(o.firstRow) : undefined;
      const share = (s: number) => `${((flops[phase] / s / rate) * 100).toFixed(0)} %`;
      rows.push(`| ${phase} | ${dtype === hfDtype ? dtype : `${dtype} (HF: ${hfDtype})`} | ${h.median_s.toFixed(2)} s | ${o.medianSeconds.toFixed(2)} s | ${(h.median_s / o.medianSeconds).toFixed(2)}x | ` +
        `${same === undefined ? 'n/a' : same ? 'yes' : 'NO'} | ${h.peak_rss_mib.toFixed(0)} / ${o.peakMiB.toFixed(0)} | ${share(h.median_s)} / ${share(o.medianSeconds)} |`);
      results.push({ phase, dtype, hfDtype, hfSeconds: h.median_s, oursSeconds: o.medianSeconds, ratio: h.median_s / o.medianSeconds, sameTokenIds: same,
        hfPeakMiB: h.peak_rss_mib, oursPeakMiB: o.peakMiB, gflops: flops[phase] / 1e9, gemmGflopsPerSecond: rate / 1e9, oursTimes: o.times });
    }
  }
  const header = `Hugging Face vs this project, same machine, same run: ${cpu.model} (${cpu.cores} cores; ${cpu.flags.join(', ')}), ` +
    `libtorch ${info.libtorch?.version}, ${THREADS} threads, median of ${reps} after 1 warm-up`;
  process.stdout.write(`${header}\n\n${rows.join('\n')}\n${skipped.length ? `\nskipped: ${skipped.join(', ')}\n` : ''}`);
  writeResults('compare-hf', { header, date: new Date().toISOString(), cpu, results, skipped });
}

await main();
