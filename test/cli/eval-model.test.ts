// `eval --model`: captions a dataset with the model (and an adapter), optionally corrupted, and scores it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
    const written = JSON.parse(readFileSync(preds, 'utf8')) as { image_id: string; caption: string }[];
    expect(written.map((p) => p.image_id)).toEqual(['0', '1', '2', '3']);
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

  it('usage errors name the flag', async () => {
    await expect(runEval(['--model', TINY_MODEL, '--data', data, '--corrupt', 'fog:3'])).rejects.toThrow(/^--corrupt: /);
    await expect(runEval(['--model', TINY_MODEL, '--data', data, '--threads', '1'])).rejects.toThrow('No usable images in val.json (4 missing)');
    await expect(runEval(['--model', TINY_MODEL])).rejects.toThrow('eval --model needs --data <annotation file>');
    await expect(runEval(['--model', TINY_MODEL, '--refs', data, '--preds', data])).rejects.toThrow('use either --model with --data, or --refs with --preds');
  });
});
