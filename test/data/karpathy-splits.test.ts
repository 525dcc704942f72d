// Karpathy's dataset_coco.json named as training or validation data is read in the split of its role: a run trains
// on train (+ restval only when asked) and validates on val; `eval --data` scores the test split unless --split says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../lib/cli/eval.js';
import { loadDataset } from '../../lib/data/readers.js';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyVizWiz } from '../helpers/tiny-dataset.js';

const SPLITS = ['train', 'train', 'train', 'train', 'restval', 'val', 'val', 'test'];
let root: string;
let file: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-karpathy-'));
  await writeTinyVizWiz(root, 'img', SPLITS.length);
  file = join(root, 'dataset_coco.json');
  const colours = ['red', 'green', 'blue', 'yellow'];
  writeFileSync(file, JSON.stringify({
    dataset: 'coco',
    images: SPLITS.map((split, i) => ({
      filepath: 'img', filename: `img_${i}.png`, split, cocoid: i, imgid: i, sentences: [{ raw: `a ${colours[i % 4]} square` }],
    })),
  }));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ids = async (options: Partial<Parameters<typeof loadDataset>[0]>) => (await loadDataset({ file, ...options })).samples.map((s) => s.imageId);

describe('Karpathy splits by role', () => {
  it('loadDataset: a role picks the split when none is given; an explicit split wins', async () => {
    expect(await ids({})).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(await ids({ role: 'train' })).toEqual(['0', '1', '2', '3']);
    expect(await ids({ role: 'train', includeRestval: true })).toEqual(['0', '1', '2', '3', '4']);
    expect(await ids({ role: 'val' })).toEqual(['5', '6']);
    expect(await ids({ role: 'test' })).toEqual(['7']);
    expect(await ids({ role: 'val', split: 'all' })).toHaveLength(8);
    await expect(ids({ role: 'dev' as 'val' })).rejects.toThrow('Expected one of "train", "val", "test" for role but received "dev" of type string');
  });

  it('run config: data.train / data.val take split and includeRestval, validated', () => {
    const base = { model: TINY_MODEL, stages: [{}] };
    const spec = parseRunConfig({ ...base, data: { train: { file, includeRestval: true }, val: { file, split: 'test' } } });
    expect(spec.train).toEqual({ file, format: 'auto', includeRestval: true });
    expect(spec.val).toEqual({ file, format: 'auto', split: 'test' });
    expect(() => parseRunConfig({ ...base, data: { train: { file, split: 'dev' }, val: { file } } })).toThrow(
      'Expected one of "train", "val", "test", "restval", "all" for data.train.split but received "dev" of type string',
    );
    expect(() => parseRunConfig({ ...base, data: { train: { file, includeRestval: 'yes' }, val: { file } } })).toThrow(
      'Expected boolean for data.train.includeRestval but received "yes" of type string',
    );
    expect(() => parseRunConfig({ ...base, data: { train: { file, format: 'coco', split: 'train' }, val: { file } } })).toThrow(
      'data.train.split and data.train.includeRestval apply to Karpathy files only, but data.train.format is "coco"',
    );
  });

  it('a run with one dataset_coco.json as train and val data trains on train and validates on val', async () => {
    const outDir = join(root, 'run');
    const messages: string[] = [];
    const logger = { debug() {}, info: (m: string) => messages.push(m), warn: (m: string) => messages.push(m) };
    await runProgressive(parseRunConfig({
      model: TINY_MODEL, outDir, threads: 1, zeroShot: false, data: { train: { file }, val: { file } },
      lora: { r: 2, alpha: 4 }, eval: { maxNewTokens: 3 }, stages: [{ name: 'lora', batchSize: 2, maxSteps: 1 }],
    }), { logger });
    expect(messages.filter((m) => /Karpathy|^data:/.test(m))).toEqual([
      'train: Karpathy file without a split; reading its train split',
      'val: Karpathy file without a split; reading its val split',
      'data: 4 training images, 2 validation images',
    ]);
    const predictions = JSON.parse(readFileSync(join(outDir, 'stages', '1-lora', 'eval-1', 'predictions.json'), 'utf8')) as { image_id: number }[];
    // the file's cocoids are JSON numbers, and the results file keeps them numbers
    expect(predictions.map((p) => p.image_id)).toEqual([5, 6]);
  });

  it('eval --model --data: the test split by default, --split to choose', async () => {
    const run = async (...args: string[]) => {
      let out = '';
      const stdout = new PassThrough();
      stdout.on('data', (c: Buffer) => { out += c.toString(); });
      const program = new Command('blip2-progressive').exitOverride();
      register(program, { stdout, stderr: new PassThrough() });
      await program.parseAsync(['eval', '--model', TINY_MODEL, '--data', file, '--max-new-tokens', '3', '--threads', '1', '--json', ...args], { from: 'user' });
      return JSON.parse(out) as { images: number };
    };
    expect((await run()).images).toBe(1);
    expect((await run('--split', 'val')).images).toBe(2);
    expect((await run('--split', 'all')).images).toBe(8);
    await expect(run('--split', 'dev')).rejects.toThrow('--split expects one of train, val, test, restval, all but received "dev"');
  });
});
