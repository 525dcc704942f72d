/**
 * Where the time of one generate call goes, ours next to Hugging Face's, on the same machine in the same run and the
 * same work as benchmarks/compare-hf.ts (base-size checkpoint, eight 320×240 images, prompt "a photo of", 20 new
 * tokens, batch 8, fp32, 2 threads): preprocessing, vision tower, Q-Former, projection, T5 encoder, the decoder
 * steps (HF computes the cross-attention keys/values inside its first decoder call; ours are timed apart), the LM
 * head, and the rest. Ours come from the addon's phase timers (`phaseProfile`) and generate()'s own split of native
 * and JavaScript time (N-API crossings and thread hops are native await time not inside a phase); HF's from
 * forward hooks (benchmarks/hf_phases.py). Medians over the repetitions after one warm-up.
 *
 *   npx tsx benchmarks/profile.ts [--reps 3] [--dtype float32|bfloat16] [--hf-dir /tmp/hf-baseline]
 *
 * Writes benchmarks/results/profile.json (profile-bf16.json for --dtype bfloat16).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Blip2Captioner } from '../lib/captioner.js';
import { generate } from '../lib/generation/generate.js';
import type { RawImageInput } from '../lib/image/decode.js';
import { native } from '../lib/native.js';
import { machineLine, median, ROOT, writeResults } from './common.js';

const HF_RUN = join(ROOT, '..', 'shared', 'hf-baseline', 'run.sh');
const PROMPT = 'a photo of';
const PHASES = ['preprocess', 'vision', 'qformer', 'projection', 'textEncoder', 'crossKV', 'decoder', 'lmHead', 'reorder', 'scores', 'crossings', 'javascript'] as const;

type Row = Partial<Record<(typeof PHASES)[number] | 'generate' | 'total', number>>;

async function ours(modelDir: string, imagesDir: string, reps: number, dtype: 'float32' | 'bfloat16'): Promise<Record<string, Row>> {
  const meta = JSON.parse(readFileSync(join(imagesDir, 'meta.json'), 'utf8')) as { width: number; height: number; captions: string[] };
  const images: RawImageInput[] = meta.captions.map((_, i) => ({
    data: new Uint8Array(readFileSync(join(imagesDir, `img${i}.rgb`))), width: meta.width, height: meta.height, channels: 3,
  }));
  const captioner = await Blip2Captioner.fromPretrained(modelDir, { threads: 2, dtype });
  const out: Record<string, Row> = {};
  for (const [name, numBeams] of [['beam5', 5], ['greedy', 1]] as const) {
    const rows: Row[] = [];
    for (let rep = 0; rep <= reps; rep++) {
      const t0 = performance.now();
      const pixelValues = await captioner.preprocess(images);
      const prompt = captioner.promptIds(PROMPT, images.length);
      const t1 = performance.now();
      native().phaseProfile(true);
      const result = await generate(captioner.model, { pixelValues, ...prompt }, { numBeams, maxNewTokens: 20 }, {
        decodableVocabSize: captioner.tokenizer.vocabSize, defaults: captioner.generationOptions,
      });
      const phases = native().phaseProfile(false);
      const s = (k: string) => phases[k]?.seconds ?? 0;
      const inside = Object.values(phases).reduce((a, p) => a + p.seconds, 0);
      const row: Row = {
        preprocess: (t1 - t0) / 1000, vision: s('vision'), qformer: s('qformer'), projection: s('projection'), textEncoder: s('textEncoder'),
        crossKV: s('crossKV'), decoder: s('decoderStep'), lmHead: s('lmHead'), reorder: s('reorder'), scores: s('scores'),
        crossings: result.timings.nativeMs / 1000 - inside, javascript: result.timings.jsMs / 1000, generate: result.timings.totalMs / 1000,
      };
      row.total = row.preprocess! + row.generate!;
      if (rep > 0) rows.push(row);
    }
    out[name] = Object.fromEntries(Object.keys(rows[0]!).map((k) => [k, median(rows.map((r) => r[k as keyof Row]!))]));
  }
  captioner.dispose();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, dtype: { type: 'string', default: 'float32' }, 'hf-dir': { type: 'string', default: process.env.HF_BASELINE_DIR ?? '/tmp/hf-baseline' } } });
  const reps = Number(values.reps);
  const dtype = values.dtype as 'float32' | 'bfloat16';
  if (dtype !== 'float32' && dtype !== 'bfloat16') throw new Error(`--dtype must be float32 or bfloat16, got ${values.dtype}`);
  const modelDir = join(values['hf-dir']!, 'blip2-base-random');
  const imagesDir = join(values['hf-dir']!, 'images');
  process.stderr.write('Hugging Face...\n');
  const hfRun = spawnSync('bash', [HF_RUN, 'python', join(ROOT, 'benchmarks', 'hf_phases.py'), '--model', modelDir, '--images', imagesDir, '--reps', String(reps), '--dtype', dtype], {
    encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (hfRun.status !== 0) throw new Error('the HF side failed (run ../shared/hf-baseline/run.sh setup, make-base and images first)');
  const hf = (JSON.parse(hfRun.stdout) as { phases: Record<string, Record<string, number>> }).phases;
  process.stderr.write('ours...\n');
  const mine = await ours(modelDir, imagesDir, reps, dtype);
  const sections: string[] = [];
  for (const phase of ['beam5', 'greedy'] as const) {
    const h = hf[phase]!;
    const o = mine[phase]!;
    const hfRow: Record<string, number | undefined> = {
      preprocess: h.preprocess, vision: h.vision, qformer: h.qformer, projection: h.projection, textEncoder: h.textEncoder,
      decoder: h.decoder, lmHead: h.lmHead, javascript: undefined, total: h.preprocess! + h.generate!,
    };
    const lines = [`| ${phase} | HF s | ours s |`, '|---|---|---|'];
    for (const k of [...PHASES, 'total'] as const) {
      const hv = k === 'decoder' ? h.decoder : hfRow[k];
      const label = k === 'decoder' ? `decoder (${h.decoderCalls} steps${phase === 'beam5' ? ', 40 rows' : ', 8 rows'}; HF: cross K/V inside)`
        : k === 'javascript' ? 'JS: processors, selection, bookkeeping (HF: Python)' : k === 'crossings' ? 'N-API crossings, thread hops' : k;
      const hfValue = k === 'javascript' ? h.bookkeeping : hv;
      lines.push(`| ${label} | ${hfValue === undefined ? '–' : hfValue.toFixed(3)} | ${o[k] === undefined ? '–' : o[k]!.toFixed(3)} |`);
    }
    sections.push(lines.join('\n'));
  }
  const header = `Per-phase profile, ${dtype === 'float32' ? 'fp32' : 'bf16'}, batch 8, 20 new tokens, median of ${reps}; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${sections.join('\n\n')}\n`);
  writeResults(dtype === 'float32' ? 'profile' : 'profile-bf16', { header, dtype, date: new Date().toISOString(), hf, ours: mine });
}

await main();
