// --dtype int8 on the command line: listed in the help, refused with a device other than the CPU, and a caption run
// with it prints the caption the library gives an int8 model.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../lib/cli/commands.js';
import { modelFromFlags } from '../../lib/cli/model-flags.js';
import { UsageError } from '../../lib/cli/usage.js';
import { Blip2Captioner } from '../../lib/captioner.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGE = join(TINY, 'images', 'img0_rgb_64x48.png');

describe('--dtype int8', () => {
  it('is in every --dtype help, said to be CPU inference only', () => {
    const program = new Command('blip2-progressive');
    for (const register of commands) register(program);
    const withDtype = program.commands.filter((c) => c.options.some((o) => o.long === '--dtype'));
    expect(withDtype.length).toBeGreaterThan(0);
    for (const command of withDtype) {
      const help = command.options.find((o) => o.long === '--dtype')!.description;
      expect(help).toContain('float32, bfloat16, float16, bfloat16-mixed, int8, auto');
      expect(help).toContain('int8: int8 Linear weights, the rest fp32, CPU inference only');
    }
  });

  it('with --device cuda is a usage error with the fix', async () => {
    await expect(modelFromFlags({ model: TINY_MODEL, dtype: 'int8', device: 'cuda' })).rejects.toThrow(
      new UsageError('--dtype int8 runs on the CPU only; drop --device cuda or use --dtype float32 there'));
  });

  it('captions: the CLI prints what an int8 captioner gives', async () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'caption', IMAGE, '--model', TINY_MODEL,
      '--dtype', 'int8', '--max-new-tokens', '5', '--threads', '1'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { dtype: 'int8', threads: 1 });
    try {
      expect(captioner.model.info().dtype).toBe('int8');
      const [caption] = await captioner.caption([IMAGE], { maxNewTokens: 5 });
      expect(run.stdout.trimEnd().split('\t')).toEqual([IMAGE, caption!.score.toFixed(4), caption!.text]);
    } finally {
      captioner.dispose();
    }
  }, 60_000);
});
