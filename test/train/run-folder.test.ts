// What a run folder tells afterwards, on tiny runs of the fixture model: `loadAdapter(<run folder>)` is the final
// stage's best adapter (and says what it looked for when there is none), a resume of a finished run does nothing
// and says so, a changed config names its keys, a stage starts from an `init` adapter, `steps` is exact while
// `maxSteps` only caps, and `"model": "default"` is the built-in default model.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { parseRunConfig, resolveDefaultModel } from '../../lib/train/run-config.js';
import { configDifferences, runProgressive, type RunSummary } from '../../lib/train/run.js';
import { setDefaultModel } from '../../lib/hub/default-model.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
let finished: RunSummary;
const home = process.env.BLIP2_PROGRESSIVE_HOME;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-run-folder-'));
  await writeTinyRunData(root); // 8 training images: 2 steps per epoch at batch size 4
  finished = await runProgressive(parseRunConfig(config(join(root, 'two-stages'))));
});
afterAll(() => {
  if (home === undefined) delete process.env.BLIP2_PROGRESSIVE_HOME;
  else process.env.BLIP2_PROGRESSIVE_HOME = home;
  rmSync(root, { recursive: true, force: true });
});

function config(outDir: string, extra: Record<string, unknown> = {}) {
  return {
    model: TINY_MODEL, outDir, seed: 5, threads: 1, zeroShot: false, data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0 }, eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [
      { name: 'lora', epochs: 1, lr: 1e-3, batchSize: 4 },
      { name: 'more', epochs: 1, lr: 1e-3, batchSize: 4, maxSteps: 1 },
    ],
    ...extra,
  };
}

/** The adapter weights `dir` loads as. */
async function weights(dir: string) {
  const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  try {
    await model.loadAdapter(dir);
    return await model.loraTensors('weights');
  } finally {
    model.dispose();
  }
}

const steps = (outDir: string) => readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; step: number; epoch: number });

describe('a run folder as an adapter', () => {
  it('loads the final stage\'s best adapter', async () => {
    const outDir = join(root, 'two-stages');
    expect(finished.bestAdapter).toBe(join(outDir, 'stages', '2-more', 'best'));
    const fromRun = await weights(outDir);
    expect(fromRun).toEqual(await weights(finished.bestAdapter));
    expect(fromRun).not.toEqual(await weights(join(outDir, 'stages', '1-lora', 'best')));
  });

  it('says what it looked for in a folder that is neither, and which stages are done in an unfinished run', async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    try {
      await expect(model.loadAdapter(root)).rejects.toThrow(
        `No adapter_config.json in ${JSON.stringify(root)}; looked for ${JSON.stringify(join(root, 'adapter_config.json'))} (an adapter folder: ` +
        `adapter_config.json and adapter_model.safetensors) and for ${JSON.stringify(join(root, 'config.json'))} with ` +
        `${JSON.stringify(join(root, 'run-state.json'))} (a training run folder, whose final stage's best adapter would be loaded)`,
      );
      // the finished run's files with its second stage not yet recorded
      const unfinished = join(root, 'unfinished');
      mkdirSync(unfinished);
      cpSync(join(root, 'two-stages', 'config.json'), join(unfinished, 'config.json'));
      const state = JSON.parse(readFileSync(join(root, 'two-stages', 'run-state.json'), 'utf8')) as { stages: unknown[] };
      writeFileSync(join(unfinished, 'run-state.json'), JSON.stringify({ ...state, stages: state.stages.slice(0, 1) }));
      await expect(model.loadAdapter(unfinished)).rejects.toThrow(
        `${JSON.stringify(unfinished)} is a training run whose final stage "more" has not finished, so it has no final adapter yet; finish it ` +
        `with train --config <its config> --resume, or load a finished stage's best adapter: ${join(unfinished, 'stages', '1-lora', 'best')}`,
      );
    } finally {
      model.dispose();
    }
  });
});

describe('resuming', () => {
  it('a finished run: nothing runs, no model loads, the same results come back', async () => {
    const load = vi.spyOn(Blip2Captioner, 'fromPretrained');
    try {
      const again = await runProgressive(parseRunConfig(config(join(root, 'two-stages'))), { resume: true });
      expect(load).not.toHaveBeenCalled();
      expect(again).toEqual({ ...finished, alreadyFinished: true });
    } finally {
      load.mockRestore();
    }
  });

  it('a changed config names every differing key', async () => {
    const outDir = join(root, 'two-stages');
    const changed = config(outDir, { eval: { maxNewTokens: 5, batchSize: 4 } });
    changed.stages[1]!.lr = 2e-3;
    await expect(runProgressive(parseRunConfig(changed), { resume: true })).rejects.toThrow(
      `${outDir} holds a run of a different config (eval.maxNewTokens: 4 → 5; stages[1].lr: 0.001 → 0.002); resume needs the same config (or choose another outDir)`,
    );
  });

  it('configDifferences: nested keys, list items by index, lists of plain values whole, absent keys', () => {
    const before = { a: 1, eval: { metrics: ['bleu', 'cider'] }, stages: [{ lr: 1 }, { lr: 2 }] };
    const after = { a: 1, eval: { metrics: ['cider'] }, stages: [{ lr: 1, init: '/x' }], extra: true };
    expect(configDifferences(before, after)).toEqual([
      'eval.metrics: ["bleu","cider"] → ["cider"]',
      'stages[0].init: (not set) → "/x"',
      'stages[1]: {"lr":2} → (not set)',
      'extra: (not set) → true',
    ]);
  });
});

describe('stage starts and lengths', () => {
  it('init: a stage starts from an adapter folder or a run folder (relative to the config); with lr 0 it ends where it started', async () => {
    process.env.BLIP2_PROGRESSIVE_HOME = join(root, 'home');
    await setDefaultModel(TINY_MODEL);
    const json = config('from-init', { model: 'default', stages: [{ name: 'tuned', init: 'two-stages', lr: 0, batchSize: 4, maxSteps: 1 }] });
    const spec = parseRunConfig(json, root);
    expect([spec.model, spec.stages[0]!.init]).toEqual(['default', join(root, 'two-stages')]);
    expect((await resolveDefaultModel(spec)).model).toBe(TINY_MODEL);
    const summary = await runProgressive(spec);
    expect(JSON.parse(readFileSync(join(root, 'from-init', 'config.json'), 'utf8')).model).toBe(TINY_MODEL);
    expect(await weights(join(summary.outDir, 'stages', '1-tuned', 'final'))).toEqual(await weights(finished.bestAdapter));
  });

  it('init is checked before the model loads; init with from, freshAdapter or trainable "all" is refused', async () => {
    const load = vi.spyOn(Blip2Captioner, 'fromPretrained');
    try {
      const spec = parseRunConfig(config('bad-init', { stages: [{ name: 'tuned', init: 'nowhere' }] }), root);
      await expect(runProgressive(spec)).rejects.toThrow(`Stage "tuned" (stages[0].init): No adapter_config.json in ${JSON.stringify(join(root, 'nowhere'))}`);
      expect(load).not.toHaveBeenCalled();
    } finally {
      load.mockRestore();
    }
    expect(() => parseRunConfig(config('x', { stages: [{ name: 'a' }, { name: 'b', from: 'a', init: '/x' }] }))).toThrow(
      'stages[1]: from and init both say where the stage starts; give one');
    expect(() => parseRunConfig(config('x', { stages: [{ name: 'a', init: '/x', freshAdapter: true }] }))).toThrow(
      'stages[0]: init and freshAdapter both say where the stage starts; give one');
    expect(() => parseRunConfig(config('x', { trainable: 'all', stages: [{ name: 'a', init: '/x' }] }))).toThrow(
      'Stage "a" asks for an init adapter, but trainable "all" trains model weights (no adapters)');
  });

  it('"model": "default" without a default model says how to make one', async () => {
    process.env.BLIP2_PROGRESSIVE_HOME = join(root, 'empty-home');
    await expect(resolveDefaultModel(parseRunConfig(config('x', { model: 'default' })))).rejects.toThrow(
      'model "default" is the built-in default model, which does not exist yet: run `npx blip2-progressive bench` once to make it');
  });

  it('steps runs exactly that many steps across epochs; maxSteps only caps the epochs\' steps', async () => {
    const stages = [
      { name: 'exact', steps: 5, lr: 1e-3, batchSize: 4, freshAdapter: true },
      { name: 'capped', maxSteps: 10, lr: 1e-3, batchSize: 4, freshAdapter: true },
    ];
    await runProgressive(parseRunConfig(config(join(root, 'lengths'), { stages })));
    const log = steps(join(root, 'lengths'));
    // 2 steps per epoch: 5 steps take epochs 0, 0, 1, 1, 2; 1 epoch with a cap of 10 is still 2 steps
    expect(log.map((l) => `${l.stage}:${l.epoch}:${l.step}`)).toEqual([
      'exact:0:1', 'exact:0:2', 'exact:1:3', 'exact:1:4', 'exact:2:5', 'capped:0:1', 'capped:0:2',
    ]);
    expect(() => parseRunConfig(config('x', { stages: [{ steps: 5, epochs: 2 }] }))).toThrow(
      'stages[0].steps is an exact step count; it cannot be given with stages[0].epochs (drop one)');
    expect(() => parseRunConfig(config('x', { stages: [{ steps: 5, maxSteps: 2 }] }))).toThrow(
      'stages[0].steps is an exact step count; it cannot be given with stages[0].maxSteps (drop one)');
  });
});
