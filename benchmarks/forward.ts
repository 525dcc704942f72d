/**
 * Forward-pass speed and memory of the native model.
 *
 *   npx tsx benchmarks/forward.ts [--runs 5] [--skip-base]
 *
 * Models: the tiny fixture model, and a base-size model with random weights (test/fixtures/base-size/config.json:
 * ViT-B/16-sized vision, 12-layer Q-Former, T5-base-sized LM; 390M parameters) written to a temporary
 * directory first. Each measurement runs in a fresh child process so peak RSS (VmHWM) belongs to it alone.
 * Workload: batch 8, a 4-token prompt, 20 label tokens (teacher-forced forward with loss), median of runs
 * after one warm-up, at 1 thread and at every core. Loading: peak RSS while loading the weights, against
 * their size on disk. Prints a Markdown table and writes benchmarks/results/forward.json.
 */
import { rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { native } from '../lib/native.js';
import { machineLine, median, rssMiB, runChild as runScript, TINY_DIR, writeBaseModel, syntheticBatch, writeResults } from './common.js';

/** Child: load a model directory and report the load's time and memory. */
async function childLoad(dir: string): Promise<object> {
  const before = rssMiB('VmRSS');
  native(); // libtorch is loaded before the baseline so its pages are not counted as weights
  const baseline = rssMiB('VmRSS');
  const t0 = performance.now();
  const model = await Blip2Model.load(dir, { threads: 1 });
  const seconds = (performance.now() - t0) / 1000;
  const peak = rssMiB('VmHWM');
  const after = rssMiB('VmRSS');
  const bytes = statSync(join(dir, 'model.safetensors')).size;
  model.dispose();
  return { seconds, rssBeforeAddonMiB: before, baselineMiB: baseline, peakMiB: peak, afterLoadMiB: after, checkpointMiB: bytes / 2 ** 20 };
}

/** Child: time a teacher-forced forward at `threads`. */
async function childForward(dir: string, threads: number, runs: number): Promise<object> {
  const model = await Blip2Model.load(dir, { threads });
  const batch = 8;
  const inputs = syntheticBatch(model.config, batch);
  await model.forward(inputs, ['loss']);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await model.forward(inputs, ['loss']);
    times.push((performance.now() - t0) / 1000);
  }
  const info = model.info();
  model.dispose();
  return { threads, batch, runs, medianSeconds: median(times), minSeconds: Math.min(...times), peakMiB: rssMiB('VmHWM'), parameters: info.numParameters };
}

const runChild = (args: string[]) => runScript(fileURLToPath(import.meta.url), args);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [, mode, dir, threads, runs] = argv;
    const result = mode === 'load' ? await childLoad(dir!) : await childForward(dir!, Number(threads), Number(runs));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 5;
  const cores = availableParallelism();
  const threadCounts = [...new Set([1, cores])];
  const models: { name: string; dir: string; temp?: boolean }[] = [{ name: 'tiny (fixture)', dir: TINY_DIR }];
  if (!argv.includes('--skip-base')) {
    process.stderr.write('writing a base-size model with random weights...\n');
    models.push({ name: 'base-size (random)', dir: await writeBaseModel(), temp: true });
  }
  const results: object[] = [];
  const rows: string[] = [
    '| model | parameters | weights MiB | load s | load peak RSS MiB (over runtime) | load peak / weights | threads | forward s (median) | speed-up vs 1 thread | peak RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  try {
    for (const m of models) {
      process.stderr.write(`${m.name}: load\n`);
      const load = runChild(['load', m.dir]);
      const overRuntime = load.peakMiB! - load.baselineMiB!;
      const perThreads: Record<string, number>[] = [];
      for (const t of threadCounts) {
        process.stderr.write(`${m.name}: forward, ${t} thread(s)\n`);
        perThreads.push(runChild(['forward', m.dir, String(t), String(runs)]));
      }
      const one = perThreads[0]!.medianSeconds!;
      for (const f of perThreads) {
        rows.push(
          `| ${m.name} | ${(f.parameters! / 1e6).toFixed(2)}M | ${load.checkpointMiB!.toFixed(1)} | ${load.seconds!.toFixed(2)} | ` +
            `${load.peakMiB!.toFixed(0)} (${overRuntime.toFixed(0)}) | ${(overRuntime / load.checkpointMiB!).toFixed(2)} | ${f.threads} | ` +
            `${f.medianSeconds!.toFixed(4)} | ${(one / f.medianSeconds!).toFixed(2)}x | ${f.peakMiB!.toFixed(0)} |`,
        );
      }
      results.push({ model: m.name, load, forward: perThreads, loadPeakOverRuntimePerCheckpoint: overRuntime / load.checkpointMiB! });
    }
  } finally {
    for (const m of models) if (m.temp) rmSync(m.dir, { recursive: true, force: true });
  }
  const header = `forward: batch 8, prompt 4 tokens, 20 label tokens, median of ${runs} after a warm-up; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${rows.join('\n')}\n`);
  writeResults('forward', { header, date: new Date().toISOString(), results });
}

await main();
