// One default model: every command's --model help names it, `--model default` and no --model both reach it, and
// --threads' help says what the default really is.
import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../lib/cli/commands.js';
import { DEFAULT_MODEL_HELP, modelArgument } from '../../lib/cli/model-flags.js';
import { UsageError } from '../../lib/cli/usage.js';
import { defaultModelDir } from '../../lib/index.js';

const before = process.env.BLIP2_PROGRESSIVE_HOME;
afterEach(() => {
  if (before === undefined) delete process.env.BLIP2_PROGRESSIVE_HOME;
  else process.env.BLIP2_PROGRESSIVE_HOME = before;
});

describe('the default model on the command line', () => {
  it('every --model help names the default and how it is made; --threads says 1 below 20M parameters', () => {
    const program = new Command('blip2-progressive');
    for (const register of commands) register(program);
    const withModel = program.commands.filter((c) => c.options.some((o) => o.long === '--model'));
    expect(withModel.map((c) => c.name()).sort()).toEqual(['caption', 'eval', 'score', 'serve']);
    for (const command of withModel) {
      expect(command.options.find((o) => o.long === '--model')!.description).toContain(DEFAULT_MODEL_HELP);
      expect(command.options.find((o) => o.long === '--threads')!.description).toBe(
        'intra-op threads (default: 1 for models under 20M parameters, such as the built-in default model, where a second thread only adds overhead; otherwise every core)');
    }
    expect(DEFAULT_MODEL_HELP).toContain('`npx blip2-progressive bench` (`npm start` in a checkout)');
  });

  it('no --model and --model default give defaultModelDir(); before it exists, the fix is named', async () => {
    process.env.BLIP2_PROGRESSIVE_HOME = mkdtempSync(join(tmpdir(), 'blip2-home-'));
    expect(await defaultModelDir()).toBeUndefined();
    await expect(modelArgument('default')).rejects.toThrow(new UsageError(
      '--model default names nothing until the built-in default model exists: point --model at a local BLIP-2 (Flan-T5) snapshot directory ' +
      'or a Hugging Face repo id (org/name), or run `npx blip2-progressive bench` (`npm start` in a checkout) once to pretrain the default'));
    writeFileSync(join(process.env.BLIP2_PROGRESSIVE_HOME, 'default-model.txt'), '/models/tiny\n');
    expect([await modelArgument(undefined), await modelArgument('default'), await modelArgument('./default'), await modelArgument('org/name')])
      .toEqual(['/models/tiny', '/models/tiny', './default', 'org/name']);
  });
});
