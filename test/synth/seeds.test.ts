import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUICK_SCALE } from '../../lib/synth/benchmark.js';
import { previousStages, runSynthBenchmarkSeeds, seedTable, stageStatistics, type SeedRun } from '../../lib/synth/seeds.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { register } from '../../lib/cli/bench.js';
import { UsageError } from '../../lib/cli/usage.js';

const STAGES = ['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST', 'SCST, per-batch CIDEr (ablation)'];

describe('previousStages', () => {
  it('sets each stage against the one it builds on, an ablation against its counterpart\'s start', () => {
    expect(previousStages(STAGES)).toEqual([undefined, 'zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA']);
    expect(previousStages(['zero-shot', 'LoRA'])).toEqual([undefined, 'zero-shot']);
  });
});

describe('stageStatistics', () => {
  // three runs, hand-made: LoRA always +0.5 over zero-shot (sd 0), DA +0.1/-0.1/+0.3 over LoRA
  const run = (stageSeed: number, z: number, l: number, d: number): SeedRun => ({
    pretrainSeed: 0, stageSeed, cider: { 'zero-shot': z, LoRA: l, 'LoRA + DA': d }, valCider: { 'zero-shot': z + 0.1, LoRA: l + 0.1, 'LoRA + DA': d + 0.1 },
  });
  const runs = [run(0, 1.0, 1.5, 1.6), run(1, 0.9, 1.4, 1.3), run(2, 1.1, 1.6, 1.9)];
  const stats = stageStatistics(runs);

  it('mean and sd per stage', () => {
    expect(stats.map((s) => s.stage)).toEqual(['zero-shot', 'LoRA', 'LoRA + DA']);
    expect(stats[0]!.mean).toBeCloseTo(1.0, 12);
    expect(stats[0]!.sd).toBeCloseTo(0.1, 12);  // deviations -0.1, 0.1, 0 → √(0.02 / 2)
    expect(stats[0]!.gain).toBeUndefined();
  });

  it('paired gains: a constant gain is certain, a varying one within noise', () => {
    const lora = stats[1]!.gain!;
    expect(lora.over).toBe('zero-shot');
    expect(lora.mean).toBeCloseTo(0.5, 12);
    expect(lora.sd).toBeLessThan(1e-12);
    expect(lora.verdict).toBe('gain');
    const da = stats[2]!.gain!;
    // differences 0.1, -0.1, 0.3: mean 0.1, sd 0.2, half-width 4.303 · 0.2 / √3 = 0.4969
    expect(da.mean).toBeCloseTo(0.1, 12);
    expect(da.sd).toBeCloseTo(0.2, 12);
    expect(da.low).toBeCloseTo(0.1 - (4.303 * 0.2) / Math.sqrt(3), 12);
    expect(da.verdict).toBe('within noise');
  });

  it('the table shows test mean ± sd, each interval with its verdict, and validation for reference', () => {
    const table = seedTable(stats, 3, 1, stageStatistics(runs.map((r) => ({ cider: r.valCider }))));
    expect(table).toContain('| test CIDEr-D (3 stage seeds × 1 pretraining seed) | zero-shot | LoRA | LoRA + DA |');
    expect(table).toContain('| val (model choice), mean ± sd | 1.100 ± 0.100 | 1.600 ± 0.100 | 1.700 ± 0.300 |');
    expect(table).toContain('| mean ± sd | 1.000 ± 0.100 | 1.500 ± 0.100 | 1.600 ± 0.300 |');
    expect(table).toContain('+0.500 [+0.500, +0.500] vs zero-shot: gain');
    expect(table).toContain('+0.100 [-0.397, +0.597] vs LoRA: within noise');
  });
});

describe('runSynthBenchmarkSeeds (quick scale)', () => {
  const root = mkdtempSync(join(tmpdir(), 'blip2-seeds-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs every stage seed on the pretrained model and writes seeds.json', async () => {
    const seen: string[] = [];
    const result = await runSynthBenchmarkSeeds({
      outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, threads: 1, seed: 5, stageSeeds: 2, pretrainSeeds: 1,
      onRun: (i, total, s) => seen.push(`${i}/${total} p${s.pretrainSeed} s${s.stageSeed}`),
    });
    expect(seen).toEqual(['1/2 p5 s5', '2/2 p5 s6']);
    expect(result.runs.map((r) => Object.keys(r.cider))).toEqual([STAGES, STAGES]);
    expect(result.runs.map((r) => Object.keys(r.valCider))).toEqual([STAGES, STAGES]);
    expect(result.valStages.map((s) => s.stage)).toEqual(STAGES);
    // both runs share the pretrained model, so their zero-shot rows are the same evaluation
    expect(result.runs[0]!.cider['zero-shot']).toBe(result.runs[1]!.cider['zero-shot']);
    expect(result.stages[0]!.sd).toBe(0);
    const written = JSON.parse(readFileSync(result.resultsPath, 'utf8')) as { runs: SeedRun[]; stageSeeds: number };
    expect(written.runs).toEqual(result.runs);
    expect(written.stageSeeds).toBe(2);
    expect(result.markdown).toContain('2 stage seeds × 1 pretraining seed');
    // report.html draws the sweep: mean ± sd of test and val per stage (5 + 5 error bars) and the 4 paired gains
    const html = readFileSync(result.reportPath, 'utf8');
    const seedCharts = html.slice(html.indexOf('id="seed-charts"'));
    expect(seedCharts.match(/<path class="interval"/g)?.length).toBe(14);
    expect(html).toContain('<h2>Over seeds</h2>');
  }, 600_000);

  it('refuses counts out of range', async () => {
    await expect(runSynthBenchmarkSeeds({ outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, stageSeeds: 0 })).rejects.toThrow(
      'stageSeeds must be an integer from 1 to 100, got 0');
  });
});

describe('bench --seeds flags', () => {
  const bench = async (args: string[]) => {
    const program = new Command('blip2-progressive').exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    register(program, new PassThrough());
    await program.parseAsync(['bench', ...args], { from: 'user' });
  };

  it('--pretrain-seeds needs --seeds, and --stage-seed does not go with them', async () => {
    await expect(bench(['--pretrain-seeds', '2'])).rejects.toThrow(new UsageError('--pretrain-seeds needs --seeds K (stage seeds per pretrained model)'));
    await expect(bench(['--seeds', '3', '--stage-seed', '1'])).rejects.toThrow(UsageError);
    await expect(bench(['--seeds', '0'])).rejects.toThrow(/--seeds/);
  });
});
