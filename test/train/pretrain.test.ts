// pretrainModel stops on its signal after the step in progress (checkpointed, AbortError) and continues from there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../lib/data/readers.js';
import { pretrainModel, type PretrainOptions } from '../../lib/train/pretrain.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyVizWiz } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-pretrain-'));
  await writeTinyVizWiz(root, 'train', 8);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function options(outDir: string): Promise<PretrainOptions> {
  const json = (f: string) => JSON.parse(readFileSync(join(TINY_MODEL, f), 'utf8')) as Record<string, unknown>;
  return {
    outDir, config: json('config.json'), preprocessorConfig: json('preprocessor_config.json'), generationConfig: json('generation_config.json'),
    tokenizerDir: TINY_MODEL, data: await loadDataset({ file: join(root, 'train.json'), imageRoot: join(root, 'train') }),
    steps: 6, batchSize: 2, lr: 1e-3, threads: 1, checkpointEvery: 100,
  };
}

describe('pretrainModel signal', () => {
  it('checkpoints the step in progress, rejects with an AbortError, and a second call finishes', async () => {
    const outDir = join(root, 'model');
    const controller = new AbortController();
    const run = pretrainModel({ ...(await options(outDir)), signal: controller.signal, onStep: (step) => { if (step === 2) controller.abort(); } });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', message: 'Pretraining aborted after step 2 of 6; checkpoint saved, run again to continue' });
    expect(readFileSync(join(`${outDir}.partial`, 'checkpoint', 'latest'), 'utf8').trim()).toBe('step-2-0');
    const steps: number[] = [];
    await pretrainModel({ ...(await options(outDir)), onStep: (step) => steps.push(step) });
    expect(steps).toEqual([3, 4, 5, 6]);
    expect(JSON.parse(readFileSync(join(outDir, 'pretrain.json'), 'utf8')).losses.length).toBe(6);
    expect(existsSync(`${outDir}.partial`)).toBe(false);
  });
});
