/**
 * LoRA training-step speed and memory.
 *
 *   npx tsx benchmarks/train-step.ts [--steps 3] [--skip-base]
 *
 * One step = forward + backward (teacher-forced cross-entropy on 20-token captions, 4-token prompt) + global-norm
 * clipping + AdamW, batch 8, LoRA r16/α32 on the paper's targets (T5 q,k,v,o,wi_0,wi_1,wo; Q-Former
 * query,key,value,dense). Models: the tiny fixture and the base-size config with random weights. Against Hugging
 * Face, measured in the same run on the same machine: benchmarks/compare-hf.ts.
 * Each configuration runs in its own process (peak RSS = VmHWM); median of the steps after a warm-up step.
 */
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { baseConfig, machineLine, median, rssMiB, runChild, TINY_DIR, syntheticBatch, writeResults } from './common.js';


async function child(which: string, threads: number, steps: number): Promise<object> {
  const model = which === 'tiny'
    ? await Blip2Model.load(TINY_DIR, { threads })
    : await Blip2Model.random(baseConfig(), { threads, seed: 0 });
  const lora = await model.addLora({ r: 16, alpha: 32, dropout: 0.05, seed: 0 });
  await model.setTraining(true);
  const batch = 8;
  const inputs = syntheticBatch(model.config, batch);
  const step = async () => {
    await model.backwardCrossEntropy(inputs);
    await model.optimizerStep({ lr: 1e-4, maxGradNorm: 1.0 });
  };
  await step();
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t0 = performance.now();
    await step();
    times.push((performance.now() - t0) / 1000);
  }
  model.dispose();
  return {
    threads, batch, steps, medianSeconds: median(times), peakMiB: rssMiB('VmHWM'),
    modules: lora.modules, trainable: lora.trainableParameters, total: lora.totalParameters,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    process.stdout.write(`${JSON.stringify(await child(argv[1]!, Number(argv[2]), Number(argv[3])))}\n`);
    return;
  }
  const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 3;
  const cores = availableParallelism();
  const script = fileURLToPath(import.meta.url);
  const configs: [string, number][] = [['tiny', 1], ['tiny', cores], ...(argv.includes('--skip-base') ? [] : [['base', cores] as [string, number]])];
  const rows = [
    '| model | LoRA modules | trainable / total params | threads | s / step (median) | steps/s | peak RSS MiB |',
    '|---|---|---|---|---|---|---|',
  ];
  const results: object[] = [];
  for (const [which, threads] of configs) {
    process.stderr.write(`${which}, ${threads} thread(s)\n`);
    const r = runChild(script, [which, String(threads), String(steps)]);
    rows.push(
      `| ${which === 'tiny' ? 'tiny (fixture)' : 'base-size (random)'} | ${r.modules} | ${(r.trainable! / 1e6).toFixed(2)}M / ${(r.total! / 1e6).toFixed(1)}M | ` +
        `${threads} | ${r.medianSeconds!.toFixed(3)} | ${(1 / r.medianSeconds!).toFixed(2)} | ${r.peakMiB!.toFixed(0)} |`,
    );
    results.push({ model: which, ...r });
  }
  const header = `LoRA train step: batch 8, 20-token captions, r16/a32 on the paper's targets, median of ${steps} after a warm-up; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${rows.join('\n')}\n`);
  writeResults('train-step', { header, date: new Date().toISOString(), results });
}

await main();
