/**
 * Full-size shapes: BLIP-2 in the Salesforce/blip2-flan-t5-xl configuration (EVA ViT-g, 32 queries, Flan-T5-XL;
 * 3.94 B parameters) with random weights, captioning one 224×224 image with greedy and beam 5, exactly 20 new
 * tokens (min = max, so a random model cannot stop early). For each of our bf16 modes, in its own process: the time
 * to build the weights, the first token (vision, Q-Former, T5 encoder and one decoder step), seconds per further
 * token, and peak RSS. The same on Hugging Face transformers 4.44 in bf16 (benchmarks/hf_full_size.py, the model built
 * directly in bf16) when ../shared/hf-baseline is set up, in the same run. Random weights: token ids are not
 * comparable between the two sides; the work per token is.
 *
 * `--family opt` does the same in the Salesforce/blip2-opt-2.7b configuration (OPT-2.7b, 3.74 B parameters).
 *
 *   npx tsx benchmarks/full-size.ts [--family t5|opt] [--dtypes bfloat16,bfloat16-mixed] [--skip-hf]
 *
 * Needs ~8 GiB of memory per side (bf16). Writes benchmarks/results/full-size.json (full-size-opt.json for OPT).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Blip2Model, type Dtype } from '../lib/model/blip2-model.js';
import { readBlip2Config } from '../lib/model/config.js';
import { generate } from '../lib/generation/generate.js';
import { machineLine, ROOT, rssMiB, writeResults } from './common.js';

/** Per family: the full-size config, its checkpoint's name, and a prompt ("a photo of" in its tokenizer's ids). */
const FAMILIES = {
  t5: { configDir: join(ROOT, 'test/fixtures/blip2-tiny/full-size'), checkpoint: 'blip2-flan-t5-xl', promptIds: [3, 9, 1202, 13, 1], results: 'full-size' },
  opt: { configDir: join(ROOT, 'test/fixtures/blip2-opt-tiny/full-size'), checkpoint: 'blip2-opt-2.7b', promptIds: [2, 102, 1345, 9], results: 'full-size-opt' },
} as const;
type Family = keyof typeof FAMILIES;
const HF_RUN = join(ROOT, '..', 'shared', 'hf-baseline', 'run.sh');
const TOKENS = 20;
const THREADS = 2;

interface Phase { totalSeconds: number; firstTokenSeconds: number; perTokenSeconds: number; newTokens: number; peakMiB: number }
interface Side { loadSeconds: number; parameters: number; phases: Record<string, Phase> }

async function ours(family: Family, dtype: Dtype): Promise<Side> {
  const config = await readBlip2Config(FAMILIES[family].configDir);
  const t0 = performance.now();
  const model = await Blip2Model.random(config, { dtype, threads: THREADS, seed: 0 });
  const loadSeconds = (performance.now() - t0) / 1000;
  const size = config.vision_config.image_size;
  const pixels = new Float32Array(3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.37) * 1.5;
  const inputs = { pixelValues: { data: pixels, shape: [1, 3, size, size] }, inputIds: [[...FAMILIES[family].promptIds]] };
  const phases: Record<string, Phase> = {};
  for (const [name, numBeams] of [['greedy', 1], ['beam5', 5]] as const) {
    const run = async (n: number) => {
      const t = performance.now();
      const out = await generate(model, inputs, { numBeams, maxNewTokens: n, minNewTokens: n });
      return { seconds: (performance.now() - t) / 1000, tokens: out.sequences[0]!.length - 1 };
    };
    const first = await run(1);
    const all = await run(TOKENS);
    phases[name] = {
      totalSeconds: all.seconds, firstTokenSeconds: first.seconds, perTokenSeconds: (all.seconds - first.seconds) / (TOKENS - 1),
      newTokens: all.tokens, peakMiB: rssMiB('VmHWM'),
    };
  }
  const parameters = model.info().numParameters;
  model.dispose();
  return { loadSeconds, parameters, phases };
}

function hf(family: Family): Side {
  const f = FAMILIES[family];
  const r = spawnSync('bash', [HF_RUN, 'python', join(ROOT, 'benchmarks', 'hf_full_size.py'), '--config', join(f.configDir, 'config.json'),
    '--threads', String(THREADS), '--ids', f.promptIds.join(',')], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('the HF side failed (run ../shared/hf-baseline/run.sh setup first)');
  const j = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    load_s: number; params: number; phases: Record<string, { total_s: number; first_token_s: number; per_token_s: number; new_tokens: number; peak_rss_mib: number }>;
  };
  return {
    loadSeconds: j.load_s, parameters: j.params,
    phases: Object.fromEntries(Object.entries(j.phases).map(([k, p]) => [k, {
      totalSeconds: p.total_s, firstTokenSeconds: p.first_token_s, perTokenSeconds: p.per_token_s, newTokens: p.new_tokens, peakMiB: p.peak_rss_mib,
    }])),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' }, family: { type: 'string', default: 't5' }, dtypes: { type: 'string', default: 'bfloat16,bfloat16-mixed' },
      'skip-hf': { type: 'boolean', default: false },
    },
  });
  if (!(values.family! in FAMILIES)) throw new Error(`--family must be t5 or opt, not ${JSON.stringify(values.family)}`);
  const family = values.family as Family;
  if (values.child) {
    process.stdout.write(`${JSON.stringify(await ours(family, values.child as Dtype))}\n`);
    return;
  }
  const sides: Record<string, Side> = {};
  if (!values['skip-hf'] && existsSync(HF_RUN)) {
    process.stderr.write('Hugging Face, bfloat16...\n');
    sides['HF transformers 4.44, bfloat16'] = hf(family);
  }
  for (const dtype of values.dtypes!.split(',')) {
    process.stderr.write(`ours, ${dtype}...\n`);
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--family', family, '--child', dtype], {
      encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`our side (${dtype}) failed`);
    sides[`this project, ${dtype}`] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Side;
  }
  const rows = ['| side | parameters | build weights | phase | first token | s / further token | 20 tokens | peak RSS |', '|---|---|---|---|---|---|---|---|'];
  for (const [side, s] of Object.entries(sides)) {
    for (const [phase, p] of Object.entries(s.phases)) {
      rows.push(`| ${side} | ${(s.parameters / 1e9).toFixed(2)} B | ${s.loadSeconds.toFixed(1)} s | ${phase} | ${p.firstTokenSeconds.toFixed(2)} s | ` +
        `${p.perTokenSeconds.toFixed(3)} s | ${p.totalSeconds.toFixed(2)} s (${p.newTokens} tokens) | ${(p.peakMiB / 1024).toFixed(1)} GiB |`);
    }
  }
  const header = `Full-size shapes (${FAMILIES[family].checkpoint} config, random weights), 1 image, ${THREADS} threads; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${rows.join('\n')}\n`);
  writeResults(FAMILIES[family].results, { header, date: new Date().toISOString(), sides });
}

await main();
