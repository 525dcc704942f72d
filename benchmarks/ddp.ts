/**
 * Data-parallel training throughput: one LoRA step on a global batch of 8 (20-token captions, r16/α32 on the paper's
 * targets) with 1 rank × all cores against N ranks × cores / N threads, on c10d/Gloo over loopback. Reports
 * samples/s and the communication share of a step (the gradient all-reduce's wall time over the step's).
 *
 *   npx tsx benchmarks/ddp.ts [--model base|tiny] [--ranks 2] [--steps 3]
 *
 * On one machine, ranks share its cores and memory bandwidth: this measures the overhead of the data-parallel
 * machinery (what N machines would add per step), not a speed-up, which needs cores the single process lacks.
 * Writes benchmarks/results/ddp.json.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { ProcessGroup } from '../lib/distributed/process-group.js';
import { launchRanks } from '../lib/distributed/launch.js';
import { PassThrough } from 'node:stream';
import { baseConfig, machineLine, median, rssMiB, syntheticBatch, TINY_DIR, writeResults } from './common.js';

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

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { child: { type: 'boolean' }, model: { type: 'string', default: 'base' }, ranks: { type: 'string', default: '2' }, steps: { type: 'string', default: '3' } } });
  const steps = Number(values.steps);
  if (values.child) return rank(values.model!, steps);
  const cores = availableParallelism();
  const script = fileURLToPath(import.meta.url);
  const rows: Record<string, number>[] = [];
  for (const nproc of [1, Number(values.ranks)]) {
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
  const base = rows[0]!.samplesPerSecond!;
  const table = ['| ranks × threads | s / step (global batch 8) | samples/s | vs 1 rank | all-reduce s (share of step) | peak RSS MiB (rank 0) |', '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.ranks} × ${r.threadsPerRank} | ${r.stepSeconds!.toFixed(2)} | ${r.samplesPerSecond!.toFixed(2)} | ${(r.samplesPerSecond! / base).toFixed(2)}x | ` +
      `${r.reduceSeconds!.toFixed(3)} (${((r.reduceSeconds! / r.stepSeconds!) * 100).toFixed(1)} %) | ${r.peakMiB!.toFixed(0)} |`)];
  const header = `Data-parallel LoRA step, ${values.model} model, ${rows[0]!.trainable} trainable parameters, median of ${steps} after a warm-up; ${machineLine()}`;
  process.stdout.write(`${header}\n\n${table.join('\n')}\n`);
  writeResults('ddp', { header, date: new Date().toISOString(), rows });
}

await main();
