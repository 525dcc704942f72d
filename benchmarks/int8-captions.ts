/**
 * Caption agreement of dtype 'int8' with float32 on the built-in default model (the tiny BLIP-2 the built-in
 * benchmark pretrains): the same synthetic validation images (half clean, half assistive, seed 0) captioned greedily
 * by both, with the built-in benchmark's prompt and length. Prints, per domain and over all images, the share of
 * identical captions and each dtype's CIDEr-D against the images' five references (PTB-tokenized, as pycocoevalcap),
 * and the time each dtype took; writes benchmarks/results/int8-captions.json.
 *
 *   npx tsx benchmarks/int8-captions.ts [--images 200] [--model <dir>]
 */
import { parseArgs } from 'node:util';
import { Blip2Captioner } from '../lib/captioner.js';
import { defaultModelDir } from '../lib/hub/default-model.js';
import type { Dtype } from '../lib/model/blip2-model.js';
import { cocoEval } from '../lib/metrics/coco-eval.js';
import { cpuInfo } from '../lib/runtime-info.js';
import { synthesizeExample, type SynthExample } from '../lib/synth/sample.js';
import { SYNTH_MAX_NEW_TOKENS, SYNTH_PROMPT } from '../lib/synth/model-config.js';
import type { Domain } from '../lib/synth/captions.js';
import { writeResults } from './common.js';

const DTYPES: Dtype[] = ['float32', 'int8'];

async function captions(modelDir: string, dtype: Dtype, examples: SynthExample[]): Promise<{ texts: string[]; seconds: number }> {
  const captioner = await Blip2Captioner.fromPretrained(modelDir, { dtype, threads: 1 });
  try {
    const started = performance.now();
    const out = await captioner.caption(
      examples.map((e) => ({ data: e.pixels, width: e.width, height: e.height, channels: 3 as const })),
      { prompt: SYNTH_PROMPT, maxNewTokens: SYNTH_MAX_NEW_TOKENS, batchSize: 50 },
    );
    return { texts: out.map((c) => c.text), seconds: (performance.now() - started) / 1000 };
  } finally {
    captioner.dispose();
  }
}

async function cider(examples: SynthExample[], texts: string[]): Promise<number> {
  const refs = new Map(examples.map((e, i) => [i, e.captions]));
  const preds = new Map(texts.map((t, i) => [i, [t]]));
  return (await cocoEval(refs, preds, { metrics: ['cider'] })).CIDEr!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { images: { type: 'string', default: '200' }, model: { type: 'string' } } });
  const count = Number(values.images);
  const modelDir = values.model ?? (await defaultModelDir());
  if (!modelDir) throw new Error('no built-in default model yet: run `npm start` (the built-in benchmark) once, or pass --model <dir>');
  const domains: Domain[] = ['clean', 'assistive'];
  const examples = domains.flatMap((domain) =>
    Array.from({ length: count / domains.length }, (_, i) => ({ domain, example: synthesizeExample(0, domain, 'val', i) })));
  const all = examples.map((e) => e.example);
  const byDtype = new Map<Dtype, { texts: string[]; seconds: number }>();
  for (const dtype of DTYPES) {
    process.stderr.write(`${dtype}: captioning ${all.length} images...\n`);
    byDtype.set(dtype, await captions(modelDir, dtype, all));
  }
  const f32 = byDtype.get('float32')!;
  const q = byDtype.get('int8')!;
  const rows: Record<string, unknown>[] = [];
  const table = ['| images | identical captions | CIDEr-D float32 | CIDEr-D int8 |', '|---|---|---|---|'];
  for (const group of [...domains, 'all'] as const) {
    const idx = examples.flatMap((e, i) => (group === 'all' || e.domain === group ? [i] : []));
    const pick = (texts: string[]) => idx.map((i) => texts[i]!);
    const identical = idx.filter((i) => f32.texts[i] === q.texts[i]).length;
    const ciderF32 = await cider(idx.map((i) => all[i]!), pick(f32.texts));
    const ciderInt8 = await cider(idx.map((i) => all[i]!), pick(q.texts));
    table.push(`| ${group} (${idx.length}) | ${identical} (${((identical / idx.length) * 100).toFixed(1)} %) | ${ciderF32.toFixed(4)} | ${ciderInt8.toFixed(4)} |`);
    rows.push({ group, images: idx.length, identical, identicalShare: identical / idx.length, ciderF32, ciderInt8 });
  }
  const cpu = cpuInfo();
  const header = `int8 vs float32 on the built-in default model (${modelDir}), greedy, prompt ${JSON.stringify(SYNTH_PROMPT)}, ` +
    `${SYNTH_MAX_NEW_TOKENS} new tokens, synthetic val images (seed 0); ${cpu.model}, 1 thread`;
  process.stdout.write(`${header}\n\n${table.join('\n')}\n\ncaptioning time: float32 ${f32.seconds.toFixed(1)} s, int8 ${q.seconds.toFixed(1)} s\n`);
  const differing = all.flatMap((_, i) => (f32.texts[i] === q.texts[i] ? [] : [{ image: i, float32: f32.texts[i], int8: q.texts[i] }]));
  writeResults('int8-captions', {
    header, date: new Date().toISOString(), cpu: cpu.model, modelDir, rows,
    seconds: { float32: f32.seconds, int8: q.seconds }, differing: differing.slice(0, 20),
  });
}

await main();
