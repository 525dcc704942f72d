// An AbortSignal stops a training run after the step in progress: that step is checkpointed, the promise rejects
// with an AbortError, and resuming ends with the adapters of an uninterrupted run. The CLI does this on SIGINT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-abort-'));
  await writeTinyRunData(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(name: string, extra: Record<string, unknown> = {}) {
  return {
    model: TINY_MODEL, outDir: join(root, name), seed: 2, threads: 1, zeroShot: false,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0.2 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [{ name: 'lora', epochs: 2, lr: 1e-3, batchSize: 2 }, { name: 'more', epochs: 1, lr: 1e-3, batchSize: 2 }],
    ...extra,
  };
}
const adapter = (name: string, stage: string, kind: string) => readFileSync(join(root, name, 'stages', stage, kind, 'adapter_model.safetensors'));
const latest = (name: string, stage: string) => readFileSync(join(root, name, 'stages', stage, 'checkpoint', 'latest'), 'utf8').trim();
const logged = (name: string) => readFileSync(join(root, name, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => `${JSON.parse(l).stage}:${JSON.parse(l).step}`);

describe('runProgressive signal', () => {
  it('stops after the step in progress, checkpoints it, rejects with an AbortError, and resumes exactly', async () => {
    const reference = await runProgressive(parseRunConfig(config('reference')));
    const controller = new AbortController();
    const run = runProgressive(parseRunConfig(config('aborted')), {
      signal: controller.signal,
      events: { onStep: (e) => { if (e.stage === 'lora' && e.step === 3) controller.abort(); } },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', message: 'Training aborted in stage "lora" (stage 1) after step 3; checkpoint saved, resume the run to continue' });
    expect(latest('aborted', '1-lora')).toBe('step-3-0'); // checkpointEverySteps is 50: this is the abort's save
    expect(logged('aborted')).toEqual(['lora:1', 'lora:2', 'lora:3']);
    expect(existsSync(join(root, 'aborted', 'run.lock'))).toBe(false);
    const resumed = await runProgressive(parseRunConfig(config('aborted')), { resume: true });
    expect(resumed.rows).toEqual(reference.rows);
    for (const stage of ['1-lora', '2-more']) {
      for (const kind of ['best', 'final']) expect(adapter('aborted', stage, kind).equals(adapter('reference', stage, kind))).toBe(true);
    }
  });

  it('an abort at a stage\'s last step stops after its last validation, so the resumed stage validates as often', async () => {
    const controller = new AbortController();
    const run = runProgressive(parseRunConfig(config('last-step')), {
      signal: controller.signal,
      events: { onStep: (e) => { if (e.stage === 'lora' && e.step === e.totalSteps) controller.abort(); } },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', message: 'Training aborted in stage "lora" (stage 1) after step 8; checkpoint saved, resume the run to continue' });
    await runProgressive(parseRunConfig(config('last-step')), { resume: true });
    const evals = (name: string) => readdirSync(join(root, name, 'stages', '1-lora')).filter((e) => e.startsWith('eval-')).sort();
    expect(evals('last-step')).toEqual(evals('reference'));
    expect(evals('last-step')).toEqual(['eval-1', 'eval-2']);
    for (const kind of ['best', 'final']) expect(adapter('last-step', '1-lora', kind).equals(adapter('reference', '1-lora', kind))).toBe(true);
  });

  it('an aborted signal rejects before any work; a non-signal is a TypeError', async () => {
    await expect(runProgressive(parseRunConfig(config('pre')), { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(join(root, 'pre'))).toBe(false);
    await expect(runProgressive(parseRunConfig(config('bad')), { signal: {} as AbortSignal })).rejects.toThrow(
      'Expected AbortSignal for signal but received an object of type Object',
    );
  });

  it('the train command finishes the step on SIGINT, saves, and exits 130', async () => {
    const file = join(root, 'cli.json');
    writeFileSync(file, JSON.stringify(config('cli', { stages: [{ name: 'lora', epochs: 20, lr: 1e-3, batchSize: 2 }] })));
    const child = spawn(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'train', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const log = join(root, 'cli', 'log.jsonl');
    const started = Date.now();
    while (!existsSync(log) || readFileSync(log, 'utf8').trim() === '') {
      if (Date.now() - started > 60_000) throw new Error('no step within 60 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', r));
    const steps = logged('cli').length;
    console.log(`SIGINT after step 1 was logged: stopped after step ${steps}, exit ${code}`);
    expect(code).toBe(130);
    expect(latest('cli', '1-lora')).toBe(`step-${steps}-0`);
    expect(stderr).toContain(`error: Training aborted in stage "lora" (stage 1) after step ${steps}; checkpoint saved, resume the run to continue (--resume)`);
  });
});
