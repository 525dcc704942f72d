// A non-finite loss or gradient norm stops the run with an error naming the stage and the step; nothing of that
// step is logged or checkpointed, so the last checkpoint is the last good state.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { NonFiniteLossError, runProgressive } from '../../lib/train/run.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-nan-'));
  await writeTinyRunData(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function spec(name: string) {
  return parseRunConfig({
    model: TINY_MODEL, outDir: join(root, name), seed: 1, threads: 1, zeroShot: false,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [{ name: 'warm', epochs: 1, batchSize: 4, maxSteps: 1 }, { name: 'lora', epochs: 1, batchSize: 2, checkpointEverySteps: 1 }],
  });
}

const loggedSteps = (name: string) =>
  readFileSync(join(root, name, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => `${JSON.parse(l).stage}:${JSON.parse(l).step}`);
const checkpointed = (name: string) => readFileSync(join(root, name, 'stages', '2-lora', 'checkpoint', 'latest'), 'utf8').trim();

describe('non-finite losses', () => {
  it('a NaN loss stops the run naming the stage and step', async () => {
    const original = Blip2Model.prototype.backwardCrossEntropy;
    let calls = 0;
    vi.spyOn(Blip2Model.prototype, 'backwardCrossEntropy').mockImplementation(async function (this: Blip2Model, ...args) {
      const loss = await original.apply(this, args);
      return ++calls === 4 ? Number.NaN : loss; // the first call is the warm stage's; the 4th is stage lora's 3rd step
    });
    const run = runProgressive(spec('nan'));
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(run).rejects.toThrow('Non-finite loss NaN in stage "lora" (stage 2) at step 3 (epoch 1, batch 3); stopped before the optimizer step, nothing of this step was saved (the last checkpoint is step 2)');
    expect(loggedSteps('nan')).toEqual(['warm:1', 'lora:1', 'lora:2']);
    expect(checkpointed('nan')).toBe('step-2-0');
  });

  it('an infinite gradient norm stops the run naming the stage and step', async () => {
    const original = Blip2Model.prototype.optimizerStep;
    let calls = 0;
    vi.spyOn(Blip2Model.prototype, 'optimizerStep').mockImplementation(async function (this: Blip2Model, ...args) {
      const result = await original.apply(this, args);
      return ++calls === 3 ? { ...result, gradNorm: Number.POSITIVE_INFINITY } : result;
    });
    await expect(runProgressive(spec('inf'))).rejects.toThrow(
      'Non-finite gradient norm Infinity in stage "lora" (stage 2) at step 2 (epoch 1, batch 2); the weights of this step are not saved (the last checkpoint is step 1)',
    );
    expect(loggedSteps('inf')).toEqual(['warm:1', 'lora:1']);
    expect(checkpointed('inf')).toBe('step-1-0');
  });
});
