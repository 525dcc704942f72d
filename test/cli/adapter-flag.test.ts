// caption --adapter / score --adapter load a PEFT adapter directory before running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register as registerCaption } from '../../lib/cli/caption.js';
import { register as registerScore } from '../../lib/cli/score.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGE = join(TINY, 'images', 'img0_rgb_64x48.png');
let root: string;
let zeroAdapter: string;
let trainedAdapter: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-adapter-flag-'));
  const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  await model.addLora({ r: 4, alpha: 8, seed: 1 });
  zeroAdapter = join(root, 'zero'); // B = 0: the adapter changes nothing
  await model.saveAdapter(zeroAdapter);
  const pixels = { data: new Float32Array(3 * 32 * 32).fill(0.3), shape: [1, 3, 32, 32] };
  for (let i = 0; i < 3; i++) {
    await model.backwardCrossEntropy({ pixelValues: pixels, inputIds: [[]], labels: [[3, 164, 46, 1]] });
    await model.optimizerStep({ lr: 0.05 });
  }
  trainedAdapter = join(root, 'trained');
  await model.saveAdapter(trainedAdapter);
  model.dispose();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(registerFn: typeof registerCaption, command: string, args: string[]): Promise<string> {
  let text = '';
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  registerFn(program, stream);
  await program.parseAsync([command, ...args], { from: 'user' });
  return text;
}

describe('--adapter', () => {
  it('caption: a zero adapter changes nothing, a trained one changes the caption', async () => {
    const base = ['--model', TINY_MODEL, '--threads', '1', '--max-new-tokens', '6', '--json'];
    const plain = await run(registerCaption, 'caption', [IMAGE, ...base]);
    expect(await run(registerCaption, 'caption', [IMAGE, ...base, '--adapter', zeroAdapter])).toBe(plain);
    expect(await run(registerCaption, 'caption', [IMAGE, ...base, '--adapter', trainedAdapter])).not.toBe(plain);
  });

  it('score: the trained adapter changes the loss; a missing adapter directory is an error', async () => {
    const args = [IMAGE, '--model', TINY_MODEL, '--threads', '1', '--caption', 'a dog running on the beach', '--json'];
    const plain = JSON.parse(await run(registerScore, 'score', args)) as { loss: number };
    const adapted = JSON.parse(await run(registerScore, 'score', [...args, '--adapter', trainedAdapter])) as { loss: number };
    expect(adapted.loss).not.toBe(plain.loss);
    await expect(run(registerScore, 'score', [...args, '--adapter', join(root, 'missing')])).rejects.toThrow(
      `No adapter_config.json in ${JSON.stringify(join(root, 'missing'))}`,
    );
  });
});
