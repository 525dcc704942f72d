// score checks its image paths and --adapter before the model is looked for, as caption does: a typo fails at once
// with exit code 2 and a message naming it, even when --model names nothing (a load would fail on that first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { register } from '../../lib/cli/score.js';
import { UsageError } from '../../lib/cli/usage.js';
import { goldenForward, goldenTokenLogprobs, meanLoss } from '../helpers/goldens.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGE = join(TINY, 'images', 'img0_rgb_64x48.png');
const NO_MODEL = '/nonexistent/blip2-model';

async function score(args: string[]): Promise<string> {
  let text = '';
  const stdout = new PassThrough();
  stdout.on('data', (c: Buffer) => { text += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, stdout);
  await program.parseAsync(['score', ...args], { from: 'user' });
  return text;
}

describe('score inputs', () => {
  it('names missing images, a folder and a bad --adapter before the model is looked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'score-inputs-'));
    const captions = (n: number) => Array.from({ length: n }, () => ['--caption', 'a red square']).flat();
    await expect(score([IMAGE, 'typo.png', '--model', NO_MODEL, ...captions(2)])).rejects.toThrow(new UsageError('no such image file: "typo.png"'));
    await expect(score(['a.png', IMAGE, 'b.png', '--model', NO_MODEL, ...captions(3)])).rejects.toThrow(new UsageError('2 image files do not exist: "a.png", "b.png"'));
    await expect(score([dir, '--model', NO_MODEL, ...captions(1)])).rejects.toThrow(
      new UsageError(`${JSON.stringify(dir)} is a directory; give its image files, one per --caption`));
    await expect(score([IMAGE, '--model', NO_MODEL, '--adapter', join(dir, 'none'), ...captions(1)])).rejects.toThrow(
      new UsageError(`--adapter: No adapter_config.json in ${JSON.stringify(join(dir, 'none'))}; looked for ${JSON.stringify(join(dir, 'none', 'adapter_config.json'))} ` +
        '(an adapter folder: adapter_config.json and adapter_model.safetensors) and for ' +
        `${JSON.stringify(join(dir, 'none', 'config.json'))} with ${JSON.stringify(join(dir, 'none', 'run-state.json'))} (a training run folder, whose final stage's best adapter would be loaded)`));
  });

  it("existing files pass the check and are scored: Hugging Face's loss for the golden caption", async () => {
    const { captions, prompt } = goldenForward();
    const line = JSON.parse(await score([IMAGE, '--model', TINY_MODEL, '--threads', '1', '--prompt', prompt, '--caption', captions[0]!, '--json'])) as
      { image: string; loss: number };
    expect(line.image).toBe(IMAGE);
    const expected = meanLoss((await goldenTokenLogprobs())[0]!);
    expect(Math.abs(line.loss - expected) / expected).toBeLessThanOrEqual(1e-5);
  });

  it('the command exits 2 with the error alone: the model never loaded', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'score', IMAGE, 'typo.png', '--caption', 'x', '--caption', 'y', '--model', NO_MODEL], { encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([2, '', 'error: no such image file: "typo.png"\n']);
  }, 60_000);
});
