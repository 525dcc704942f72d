// Data-parallel training through the CLI (`train --nproc 2`, c10d/Gloo on loopback) against one process on the same
// global batches: the final adapters and the logged losses agree, and sharded validation gives one process's captions;
// a killed rank stops the other within 60 s; a 2-rank run killed with -9 resumes to the adapters of an uninterrupted
// 2-rank run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';
import { freePort } from '../../lib/distributed/launch.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

const CLI = resolve('lib/cli/main.ts');
const STAGES = ['1-lora', '2-lora-more'];
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-ddp-'));
  await writeTinyRunData(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** LoRA dropout off: with it on each rank draws its own masks, so only then do N ranks equal one process. */
function writeConfig(name: string, stageExtra: object = {}): string {
  const file = join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    model: TINY_MODEL, outDir: join(root, name), seed: 3, threads: 1,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [
      { name: 'lora', epochs: 2, lr: 1e-3, batchSize: 4, checkpointEverySteps: 1, ...stageExtra },
      { name: 'lora more', epochs: 1, lr: 5e-4, batchSize: 4, gradAccum: 2, checkpointEverySteps: 1, ...stageExtra },
    ],
  }));
  return file;
}

function train(config: string, ...flags: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'train', '--config', config, ...flags], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`train ${flags.join(' ')} failed (${run.status ?? run.signal}):\n${run.stderr}`);
  return run;
}

async function finalAdapter(outDir: string, stage: string) {
  return (await readSafetensorsFile(join(outDir, 'stages', stage, 'final', 'adapter_model.safetensors'))).tensors;
}

const losses = (outDir: string) => readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; step: number; loss: number });

describe('train --nproc 2', () => {
  it('ends with the adapters and losses of one process on the same global batches', async () => {
    train(writeConfig('single'));
    const ranks = train(writeConfig('ranks'), '--nproc', '2');
    expect(ranks.stdout).toContain('| lora more |');
    for (const stage of STAGES) {
      const a = await finalAdapter(join(root, 'single'), stage);
      const b = await finalAdapter(join(root, 'ranks'), stage);
      expect([...b.keys()]).toEqual([...a.keys()]);
      let maxAbs = 0;
      let maxDiff = 0;
      for (const [name, t] of a) {
        const u = b.get(name)!.data as Float32Array;
        (t.data as Float32Array).forEach((x, i) => { maxAbs = Math.max(maxAbs, Math.abs(x)); maxDiff = Math.max(maxDiff, Math.abs(x - u[i]!)); });
      }
      console.log(`${stage}: final adapters, 2 ranks vs 1 process: max diff ${maxDiff.toExponential(2)} of max |w| ${maxAbs.toExponential(2)}`);
      // the two ranks' partial sums add in another order than one process's: float reordering through a few AdamW
      // steps, bounded relative to the weights as the issue asks
      expect(maxDiff).toBeLessThanOrEqual(1e-5 * maxAbs);
    }
    // validation is sharded across the ranks and scored on rank 0: the same captions and scores as one process
    for (const stage of STAGES) {
      const evals = (outDir: string) => readdirSync(join(outDir, 'stages', stage)).filter((d) => d.startsWith('eval-')).sort();
      expect(evals(join(root, 'ranks')), stage).toEqual(evals(join(root, 'single')));
      expect(evals(join(root, 'single')).length, stage).toBeGreaterThan(0);
      for (const dir of evals(join(root, 'single'))) {
        const read = (outDir: string, file: string) => JSON.parse(readFileSync(join(outDir, 'stages', stage, dir, file), 'utf8'));
        expect(read(join(root, 'ranks'), 'predictions.json'), `${stage}/${dir}`).toEqual(read(join(root, 'single'), 'predictions.json'));
        expect(read(join(root, 'ranks'), 'metrics.json').corpus, `${stage}/${dir}`).toEqual(read(join(root, 'single'), 'metrics.json').corpus);
      }
    }
    const one = losses(join(root, 'single'));
    const two = losses(join(root, 'ranks'));
    expect(two.map((l) => [l.stage, l.step])).toEqual(one.map((l) => [l.stage, l.step]));
    const worst = Math.max(...one.map((l, i) => Math.abs(l.loss - two[i]!.loss) / Math.abs(l.loss)));
    console.log(`logged losses (${one.length} steps): max relative diff ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('a rank killed with SIGKILL makes the other exit non-zero within 60 s, naming the failure', async () => {
    const config = writeConfig('dead', { epochs: 50 });
    const port = await freePort();
    const ranks = [0, 1].map((rank) => spawn(process.execPath, ['--import', 'tsx', CLI, 'train', '--config', config], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    }));
    let stderr = '';
    ranks[0]!.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    const log = join(root, 'dead', 'log.jsonl');
    for (let i = 0; i < 600 && !(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2); i++) await new Promise((r) => setTimeout(r, 100));
    const killedAt = Date.now();
    ranks[1]!.kill('SIGKILL');
    const code = await new Promise<number | null>((r) => ranks[0]!.on('exit', (c) => r(c)));
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`rank 0 exited with ${code} ${seconds.toFixed(1)} s after rank 1 was killed: ${stderr.trim().split('\n').at(-1)}`);
    expect(code).toBe(1);
    expect(seconds).toBeLessThan(60);
    expect(stderr).toContain('Rank 0 of 2: a collective failed: rank 1 is gone (no heartbeat');
  });

  it('a 2-rank run killed with -9 resumes to the adapters of an uninterrupted 2-rank run', async () => {
    train(writeConfig('uninterrupted'), '--nproc', '2');
    const config = writeConfig('interrupted');
    const launcher = spawn(process.execPath, ['--import', 'tsx', CLI, 'train', '--config', config, '--nproc', '2'], { stdio: 'ignore', detached: true });
    const log = join(root, 'interrupted', 'log.jsonl');
    for (let i = 0; i < 600 && !(existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 3); i++) await new Promise((r) => setTimeout(r, 100));
    process.kill(-launcher.pid!, 'SIGKILL'); // the launcher and both ranks, as a crash of the machine would
    await new Promise((r) => launcher.on('exit', r));
    const steps = readFileSync(log, 'utf8').trim().split('\n').length;
    train(config, '--nproc', '2', '--resume');
    for (const stage of STAGES) {
      const a = readFileSync(join(root, 'uninterrupted', 'stages', stage, 'final', 'adapter_model.safetensors'));
      const b = readFileSync(join(root, 'interrupted', 'stages', stage, 'final', 'adapter_model.safetensors'));
      expect(b.equals(a), `${stage}: killed after ${steps} logged steps, resumed`).toBe(true);
    }
  });
});
