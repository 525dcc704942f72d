// c10d process groups across real processes on loopback: collectives, the gradient all-reduce against one process
// on the whole batch, a killed rank, a busy port, and ranks that disagree on WORLD_SIZE or configuration.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { distributedEnv, ProcessGroup } from '../../lib/distributed/process-group.js';
import { freePort } from '../../lib/distributed/launch.js';
import { fullBatch } from '../helpers/dist-batch.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { floatData } from '../helpers/tensors.js';
import type { OutputTensor } from '../../lib/native.js';

const RANK_SCRIPT = resolve('test/helpers/dist-rank.ts');
const work = mkdtempSync(join(tmpdir(), 'blip2-dist-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface RankResult { error?: string; seconds: number; [key: string]: unknown }

/** Starts one process per entry of `worldSizes` (its WORLD_SIZE) and returns what each wrote, with exit codes. */
async function runRanks(scenario: string, worldSizes: number[], fingerprints: string[] = [], timeoutMs = 20_000, env: Record<string, string> = {}) {
  const port = await freePort();
  const runs = worldSizes.map((worldSize, rank) => {
    const out = join(work, `${scenario}-${port}-${rank}.json`);
    const child = spawn(process.execPath, ['--import', 'tsx', RANK_SCRIPT, scenario, out, ...(fingerprints[rank] ? [fingerprints[rank]!] : [])], {
      env: { ...process.env, RANK: String(rank), WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), TEST_TIMEOUT_MS: String(timeoutMs), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    return new Promise<{ code: number | null; signal: NodeJS.Signals | null; result?: RankResult; stderr: string }>((done) => {
      child.on('exit', (code, signal) => {
        let result: RankResult | undefined;
        try { result = JSON.parse(readFileSync(out, 'utf8')); } catch { result = undefined; }
        done({ code, signal, result, stderr });
      });
    });
  });
  return Promise.all(runs);
}

describe('ProcessGroup (Gloo over TCPStore, 2 processes)', () => {
  it('all-reduces with sum, mean, min and max', async () => {
    const [a, b] = await runRanks('reduce', [2, 2]);
    expect(a!.code, a!.stderr).toBe(0);
    expect(b!.code, b!.stderr).toBe(0);
    for (const r of [a!.result!, b!.result!]) {
      expect(r.sum).toEqual([3, 30, -1, 0.2]);
      expect(r.mean).toEqual([1.5, 15, -0.5, 0.1]);
      expect(r.min).toEqual([1, 10, -1, 0.1]);
      expect(r.max).toEqual([2, 20, 0, 0.1]);
    }
  });

  it('summed token-weighted gradients equal one process on the whole batch; clipping sees the global norm', async () => {
    const ranks = await runRanks('grads', [2, 2]);
    for (const r of ranks) expect(r.code, r.stderr).toBe(0);
    const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    await model.addLora({ r: 4, alpha: 8, dropout: 0, seed: 1 });
    await model.backwardCrossEntropy(fullBatch());
    const grads = await model.loraTensors('grads');
    const { gradNorm } = await model.optimizerStep({ lr: 1e-2, maxGradNorm: 0.5 });
    model.dispose();
    // Each rank sums its rows' token losses in another order and the all-reduce adds two partial sums: float
    // reordering only, so the bound is relative to the largest gradient (2^-16, far above reordering error and far
    // below the gradient itself). The rows differ, so a wrong token weighting would be off by a factor.
    const compare = (mine: Record<string, OutputTensor>, theirs: Record<string, number[]>) => {
      let maxAbs = 0;
      let maxDiff = 0;
      for (const [name, t] of Object.entries(mine)) {
        floatData(t, name).forEach((x, i) => {
          maxAbs = Math.max(maxAbs, Math.abs(x));
          maxDiff = Math.max(maxDiff, Math.abs(x - theirs[name]![i]!));
        });
      }
      return { maxAbs, maxDiff };
    };
    for (const r of ranks) {
      const g = compare(grads, r.result!.grads as Record<string, number[]>);
      const norm = Math.abs((r.result!.gradNorm as number) - gradNorm) / gradNorm;
      console.log(`rank ${r.result!.rank}: gradients max diff ${g.maxDiff.toExponential(2)} of max ${g.maxAbs.toExponential(2)}; ` +
        `global norm before clipping ${(r.result!.gradNorm as number).toFixed(6)} vs ${gradNorm.toFixed(6)} (relative ${norm.toExponential(2)})`);
      expect(g.maxDiff).toBeLessThanOrEqual(g.maxAbs * 2 ** -16);
      // the norm is a sum of squares of the same gradients: the same relative bound
      expect(norm).toBeLessThanOrEqual(2 ** -16);
    }
  });

  it('gathers rows of token ids from contiguous shards onto every rank, in order, empty rows included', async () => {
    const ranks = await runRanks('gather', [2, 2]);
    for (const r of ranks) expect(r.result!.rows).toEqual([[5, 6], [7], [], [1, 2, 3]]);
  });

  it('a rank killed with SIGKILL makes the other fail with an error naming it, well within 60 s', async () => {
    const [a, b] = await runRanks('die', [2, 2], [], 60_000);
    expect(b!.signal).toBe('SIGKILL');
    expect(a!.code).toBe(1);
    expect(a!.result!.error).toMatch(/^Rank 0 of 2: a collective failed: rank 1 is gone \(no heartbeat for \d+ s\)/);
    console.log(`surviving rank failed after ${a!.result!.seconds.toFixed(1)} s: ${a!.result!.error}`);
    expect(a!.result!.seconds).toBeLessThan(60);
  });

  it('when rank 0 (the store host) dies, the survivor names it', async () => {
    const [a, b] = await runRanks('die', [2, 2], [], 60_000, { DIE_RANK: '0' });
    expect(a!.signal).toBe('SIGKILL');
    expect(b!.code).toBe(1);
    expect(b!.result!.error).toMatch(/^Rank 1 of 2: a collective failed: rank 0 is gone \(the rendezvous store it serves at 127\.0\.0\.1:\d+ /);
    console.log(`surviving rank failed after ${b!.result!.seconds.toFixed(1)} s: ${b!.result!.error}`);
    expect(b!.result!.seconds).toBeLessThan(60);
  });

  it('in a world of 3, both survivors name the one rank that died', async () => {
    const [a, b, c] = await runRanks('die', [3, 3, 3], [], 60_000, { DIE_RANK: '2' });
    expect(c!.signal).toBe('SIGKILL');
    for (const [rank, run] of [[0, a], [1, b]] as const) {
      expect(run!.code).toBe(1);
      expect(run!.result!.error).toMatch(new RegExp(`^Rank ${rank} of 3: a collective failed: rank 2 is gone \\(no heartbeat`));
      expect(run!.result!.seconds).toBeLessThan(60);
    }
  });

  it('ranks started with different WORLD_SIZE values are named', async () => {
    const [a] = await runRanks('join', [2, 3], [], 5_000);
    expect(a!.code).toBe(1);
    expect(a!.result!.error).toContain('rank 1 was started with WORLD_SIZE=3 but rank 0 with WORLD_SIZE=2');
  });

  it('ranks with different configurations are named', async () => {
    const [a, b] = await runRanks('join', [2, 2], ['cfg-a', 'cfg-b'], 5_000);
    expect(a!.result!.error).toContain('rank 1 runs another configuration than rank 0 (fingerprint cfg-b vs cfg-a)');
    expect(b!.result!.error).toContain('rank 0 runs another configuration than rank 1 (fingerprint cfg-a vs cfg-b)');
  });

  it('a busy rendezvous port is an error that names it', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      await expect(ProcessGroup.init({ rank: 0, worldSize: 1, masterPort: port, timeoutMs: 2000 })).rejects.toThrow(
        `Rank 0 cannot serve the rendezvous on 127.0.0.1:${port}: the port is in use; choose another with MASTER_PORT (or masterPort).`,
      );
    } finally {
      server.close();
    }
  });

  it('reads torchrun\'s environment contract and names a bad variable', () => {
    expect(distributedEnv({})).toBeUndefined();
    expect(distributedEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1', MASTER_ADDR: 'node0', MASTER_PORT: '1234' })).toEqual({
      rank: 3, worldSize: 4, localRank: 1, masterAddr: 'node0', masterPort: 1234,
    });
    expect(distributedEnv({ WORLD_SIZE: '2', RANK: '0' })).toEqual({ rank: 0, worldSize: 2, localRank: 0, masterAddr: '127.0.0.1', masterPort: 29500 });
    expect(() => distributedEnv({ WORLD_SIZE: '2', RANK: 'x' })).toThrow('Expected a non-negative integer in the environment variable RANK but received "x"');
    expect(() => distributedEnv({ WORLD_SIZE: '2', RANK: '2' })).toThrow('RANK=2 must be below WORLD_SIZE=2');
  });
});
