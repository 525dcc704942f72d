// `eval --model`: captions a dataset with the model (and an adapter), optionally corrupted, and scores it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../lib/cli/eval.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyVizWiz } from '../helpers/tiny-dataset.js';

let root: string;
let data: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-eval-model-'));
  data = await writeTinyVizWiz(root, 'val', 4);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runEval(args: string[]) {
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, { stdout, stderr: new PassThrough() });
  await program.parseAsync(['eval', ...args], { from: 'user' });
  return out;
}

describe('eval --model', () => {
  it('scores the model on a dataset and writes its predictions; a corruption changes the captions', async () => {
    const preds = join(root, 'preds.json');
    const clean = JSON.parse(await runEval(['--model', TINY_MODEL, '--data', data, '--image-root', join(root, 'val'), '--max-new-tokens', '4', '--threads', '1', '--json', '--preds-out', preds]));
    expect(Object.keys(clean).sort()).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'CIDEr', 'METEOR', 'ROUGE_L', 'images', 'meteorVariant', 'tokenize']);
    expect(clean.images).toBe(4);
    // VizWiz ids are integers in the file, so they are in the results file too (pycocotools rejects "0")
    const written = JSON.parse(readFileSync(preds, 'utf8')) as { image_id: number; caption: string }[];
    expect(written.map((p) => p.image_id)).toEqual([0, 1, 2, 3]);
    const noisyPreds = join(root, 'noisy.json');
    await runEval(['--model', TINY_MODEL, '--data', data, '--image-root', join(root, 'val'), '--max-new-tokens', '4', '--threads', '1', '--corrupt', 'noise:5', '--preds-out', noisyPreds]);
    const noisy = JSON.parse(readFileSync(noisyPreds, 'utf8')) as { caption: string }[];
    expect(noisy.map((p) => p.caption)).not.toEqual(written.map((p) => p.caption));
  });

  it('loads an adapter', async () => {
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 4, alpha: 8, seed: 1 });
    const adapter = join(root, 'adapter');
    await model.saveAdapter(adapter);
    model.dispose();
    const out = JSON.parse(await runEval(['--model', TINY_MODEL, '--adapter', adapter, '--data', data, '--image-root', join(root, 'val'), '--max-new-tokens', '4', '--threads', '1', '--json']));
    expect(out.images).toBe(4);
  });

  it('without --model, --data captions with the built-in default model; --per-image writes each image\'s scores', async () => {
    const home = mkdtempSync(join(tmpdir(), 'blip2-eval-home-'));
    const before = process.env.BLIP2_PROGRESSIVE_HOME;
    process.env.BLIP2_PROGRESSIVE_HOME = home;
    try {
      const args = ['--data', data, '--image-root', join(root, 'val'), '--max-new-tokens', '4', '--threads', '1', '--metrics', 'bleu,cider', '--json'];
      await expect(runEval(args)).rejects.toThrow(
        '--model <dir> is required until the built-in default model exists: point --model at a local BLIP-2 (Flan-T5) snapshot directory or a ' +
        'Hugging Face repo id (org/name), or run `npx blip2-progressive bench` (`npm start` in a checkout) once to pretrain the default');
      writeFileSync(join(home, 'default-model.txt'), `${TINY_MODEL}\n`);
      const perImage = join(root, 'per-image.json');
      const scores = JSON.parse(await runEval([...args, '--per-image', perImage]));
      expect(JSON.parse(await runEval([...args, '--model', TINY_MODEL]))).toEqual(scores);
      expect(JSON.parse(await runEval([...args, '--model', 'default']))).toEqual(scores);
      const images = JSON.parse(readFileSync(perImage, 'utf8')) as { image_id: number; Bleu_4: number; CIDEr: number }[];
      expect(images.map((i) => i.image_id)).toEqual([0, 1, 2, 3]);
      expect(Object.keys(images[0]!)).toEqual(['image_id', 'Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'CIDEr']);
      // corpus CIDEr-D is the mean of the per-image scores
      expect(Math.abs(images.reduce((sum, i) => sum + i.CIDEr, 0) / images.length - scores.CIDEr)).toBeLessThan(1e-12);
    } finally {
      if (before === undefined) delete process.env.BLIP2_PROGRESSIVE_HOME;
      else process.env.BLIP2_PROGRESSIVE_HOME = before;
    }
  });

  it('reads the dataset and checks the flags before the model loads', async () => {
    const nowhere = join(root, 'no-such-model');
    // the images are not next to val.json: the dataset fails, so the missing model is never reached
    await expect(runEval(['--model', nowhere, '--data', data])).rejects.toThrow('No usable images in val.json (4 missing)');
    await expect(runEval(['--model', nowhere, '--data', join(root, 'nope.json')])).rejects.toThrow(`--data: no such file: ${join(root, 'nope.json')}`);
    await expect(runEval(['--model', nowhere, '--data', data, '--metrics', 'cider,spice'])).rejects.toThrow(/^--metrics spice needs --spice-jar/);
    await expect(runEval(['--model', nowhere, '--data', data, '--preds-out', join(root, 'no', 'dir', 'p.json')])).rejects.toThrow(
      `--preds-out: the folder of ${join(root, 'no', 'dir', 'p.json')} does not exist`);
  });

  it('usage errors name the flag', async () => {
    await expect(runEval(['--model', TINY_MODEL, '--data', data, '--corrupt', 'fog:3'])).rejects.toThrow(/^--corrupt: /);
    await expect(runEval(['--model', TINY_MODEL, '--data', data, '--threads', '1'])).rejects.toThrow('No usable images in val.json (4 missing)');
    await expect(runEval(['--model', TINY_MODEL])).rejects.toThrow('eval --model needs --data <annotation file>');
    await expect(runEval(['--model', TINY_MODEL, '--refs', data, '--preds', data])).rejects.toThrow(
      'use either --data (with --model, or the built-in default model), or --refs with --preds');
  });
});
