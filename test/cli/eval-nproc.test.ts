// eval --model --nproc: shards caption contiguous parts of the dataset in separate processes (corruption noise seeded
// by each image's place in the whole run), and the merged predictions are scored once: the same predictions and
// scores as one process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyVizWiz } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-eval-nproc-'));
  await writeTinyVizWiz(root, 'val', 7);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function evalModel(predsOut: string, ...flags: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'eval', '--model', TINY_MODEL, '--data', join(root, 'val.json'),
    '--image-root', join(root, 'val'), '--max-new-tokens', '4', '--corrupt', 'noise:3', '--metrics', 'bleu,rouge,cider', '--json', '--preds-out', predsOut, ...flags], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`eval ${flags.join(' ')} failed:\n${run.stderr}`);
  return run;
}

describe('eval --model --nproc', () => {
  it('gives the predictions and scores of one process', () => {
    const one = evalModel(join(root, 'one.json'));
    const three = evalModel(join(root, 'three.json'), '--nproc', '3');
    expect(JSON.parse(readFileSync(join(root, 'three.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(root, 'one.json'), 'utf8')));
    expect(JSON.parse(three.stdout)).toEqual(JSON.parse(one.stdout));
    expect(three.stderr).toMatch(/^\[shard 3\/3\] loaded /m);
  });

  it('names a bad shard', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'eval', '--model', TINY_MODEL, '--data', join(root, 'val.json'), '--shard', '4/3'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--shard expects k/n with 1 <= k <= n but received "4/3"');
  });
});
