// The benchmark's design knobs, shrunken (--quick scale): SCST on an image pool of its own runs as a second run
// folder that starts from the augmented stage's adapter and trains on the pool; one-sided training views reach the
// data.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUICK_SCALE, runSynthBenchmark } from '../../lib/synth/benchmark.js';
import { TINY_MODEL } from '../helpers/paths.js';

const STAGES = ['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST', 'SCST, per-batch CIDEr (ablation)'];

describe('benchmark design (quick scale)', () => {
  const root = mkdtempSync(join(tmpdir(), 'blip2-design-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('scstPool and trainViews: SCST learns from the pool, in a run of its own, from the augmented adapter', async () => {
    const result = await runSynthBenchmark({
      outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, threads: 1, robustness: false, design: { trainViews: 'one-sided', scstPool: 12 },
    });
    expect(result.design).toEqual({ trainViews: 'one-sided', scstPool: 12 });
    expect([result.val.map((r) => r.stage), result.test.map((r) => r.stage)]).toEqual([STAGES, STAGES]);
    expect(result.data.manifest.images['assistive/scst']).toBe(12);
    expect(result.data.manifest.parameters.trainViews).toBe('one-sided');
    expect(result.report.runDirs.length).toBe(2);
    // the shipped noise reference is a full-scale, default-design sweep's: no labels here
    expect(result.noise).toBeUndefined();
    const rl = JSON.parse(readFileSync(join(result.report.runDirs[1]!, 'config.json'), 'utf8'));
    expect(rl.train.file).toBe(join(root, 'data', 'assistive', 'annotations', 'scst.json'));
    expect(rl.stages.map((s: { init?: string }) => s.init)).toEqual([
      join(result.report.runDirs[0]!, 'stages', '2-lora-da', 'best'), join(result.report.runDirs[0]!, 'stages', '2-lora-da', 'best'),
    ]);
    const scenes = readFileSync(join(root, 'data', 'assistive', 'scenes', 'scst.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(scenes.every((s) => s.view.angle_degrees >= 0 && s.view.shift_x >= 0)).toBe(true);
  }, 600_000);

  it('refuses a bad pool size', async () => {
    await expect(runSynthBenchmark({ outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, design: { scstPool: -1 } })).rejects.toThrow(
      'scstPool must be an integer from 0 to 1000000, got -1');
  });
});
