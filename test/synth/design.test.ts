// The benchmark's design knobs, shrunken (--quick scale): one-sided training views reach the data, and with no pool
// SCST learns from the cross-entropy stages' training images in the same run folder (the default design, SCST on a
// pool of its own, is what report.test.ts runs).
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

  it('trainViews one-sided and scstPool 0: one run folder, SCST on the training images, training views one way', async () => {
    const result = await runSynthBenchmark({
      outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, threads: 1, robustness: false, design: { trainViews: 'one-sided', scstPool: 0 },
    });
    expect(result.design).toEqual({ trainViews: 'one-sided', scstPool: 0 });
    expect([result.summary.rows.map((r) => r.stage), result.val, result.test.map((r) => r.stage)]).toEqual([STAGES, result.summary.rows, STAGES]);
    expect(result.data.manifest.images['assistive/scst']).toBe(0);
    expect(result.data.manifest.parameters.trainViews).toBe('one-sided');
    expect(result.report.runDirs.length).toBe(1);
    // the shipped noise reference is a full-scale, default-design sweep's: no labels here
    expect(result.noise).toBeUndefined();
    const config = JSON.parse(readFileSync(join(result.report.runDirs[0]!, 'config.json'), 'utf8'));
    expect(config.train.file).toBe(join(root, 'data', 'assistive', 'annotations', 'train.json'));
    const scenes = (split: string) => readFileSync(join(root, 'data', 'assistive', 'scenes', `${split}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(scenes('train').every((s) => s.view.angle_degrees >= 0 && s.view.shift_x >= 0)).toBe(true);
    // held-out views keep both ways
    expect(scenes('val').some((s) => s.view.angle_degrees < 0 || s.view.shift_x < 0)).toBe(true);
  }, 600_000);

  it('refuses a bad pool size', async () => {
    await expect(runSynthBenchmark({ outDir: root, scale: QUICK_SCALE, tokenizerDir: TINY_MODEL, design: { scstPool: -1 } })).rejects.toThrow(
      'scstPool must be an integer from 0 to 1000000, got -1');
  });
});
