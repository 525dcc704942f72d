// kill -9 at every stage boundary, resumed each time: the adapters (best and final of every stage) and the results
// table are byte for byte those of an uninterrupted run. A stage that starts from the previous stage's adapter in a
// fresh process must draw the same adapter-dropout masks as one that follows it in the same process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

const CHILD = resolve('test/helpers/run-child.ts');
const STAGES = ['1-lora', '2-lora-aug', '3-scst'];
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-kill-'));
  await writeTinyRunData(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeConfig(name: string): string {
  const file = join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    model: TINY_MODEL, outDir: join(root, name), seed: 5, threads: 1,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0.3 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [
      { name: 'lora', epochs: 1, lr: 1e-3, batchSize: 2, checkpointEverySteps: 1 },
      { name: 'lora+aug', epochs: 1, lr: 1e-3, batchSize: 2, augment: true, checkpointEverySteps: 1 },
      { name: 'scst', epochs: 1, lr: 1e-4, batchSize: 4, maxSteps: 1, scst: { samples: 2, maxNewTokens: 4 } },
    ],
  }));
  return file;
}

/** Runs the child to completion or to its --kill-at event; returns the signal that ended it (null = exited). */
function runChild(config: string, ...flags: string[]): NodeJS.Signals | null {
  const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, config, ...flags], { encoding: 'utf8' });
  if (child.signal === null && child.status !== 0) throw new Error(`child failed: ${child.stderr}`);
  return child.signal;
}

function artefacts(outDir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = { 'results.json': readFileSync(join(outDir, 'results.json')) };
  for (const stage of STAGES) {
    for (const kind of ['best', 'final']) out[`${stage}/${kind}`] = readFileSync(join(outDir, 'stages', stage, kind, 'adapter_model.safetensors'));
  }
  return out;
}

describe('kill -9 at stage boundaries', () => {
  it('resumes to the adapters and table of an uninterrupted run', () => {
    expect(runChild(writeConfig('reference'))).toBeNull();
    const config = writeConfig('killed');
    const kills = ['stage-start:0', 'stage-start:1', 'stage-end:1', 'stage-start:2'];
    expect(runChild(config, '--kill-at', kills[0]!)).toBe('SIGKILL');
    for (const at of kills.slice(1)) expect(runChild(config, '--resume', '--kill-at', at)).toBe('SIGKILL');
    // what a kill during an adapter save leaves (and the folder swaps of earlier versions) is cleaned up on resume
    const first = join(root, 'killed', 'stages', STAGES[0]!);
    cpSync(join(first, 'best'), join(first, 'best.old-123'), { recursive: true });
    mkdirSync(join(first, 'final.tmp-123'));
    writeFileSync(join(first, 'best', '.adapter_model.safetensors.tmp-123-abc'), 'cut');
    expect(runChild(config, '--resume')).toBeNull();
    expect(readdirSync(first).sort()).toEqual(['best', 'eval-1', 'final']);
    expect(readdirSync(join(first, 'best')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const reference = artefacts(join(root, 'reference'));
    const resumed = artefacts(join(root, 'killed'));
    const differing = Object.keys(reference).filter((k) => !reference[k]!.equals(resumed[k]!));
    console.log(`killed at ${kills.join(', ')}; files differing from the uninterrupted run: ${differing.length ? differing.join(', ') : 'none'}`);
    expect(differing).toEqual([]);
  });
});
