// The command-line journey of issue 22, through the real CLI in a user's folder (relative paths), on the tiny model
// and a small VizWiz-format dataset: caption a folder into a results file → eval it → train two short stages →
// caption with the run's folder as --adapter → serve the base model and that adapter side by side → one API call.
// Each step is checked where it hands over to the next: integer ids from the annotations, scores for every image,
// the run's folder and best adapter on stdout, adapter captions equal to the final stage's validation predictions,
// and the server's two captions equal to the two caption commands'.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyRunData } from '../helpers/tiny-dataset.js';

// tsx by its path: the commands run in the user's folder, outside this checkout
const NODE_ARGS = ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, resolve('lib/cli/main.ts')];
const VAL_IDS = [100, 101, 102, 103]; // writeTinyRunData's validation images, val/img_<id>.png
const TOKENS = ['--max-new-tokens', '4']; // the run config's eval.maxNewTokens: caption as its validation did

let root: string;
let server: ReturnType<typeof spawn> | undefined;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-journey-'));
  await writeTinyRunData(root); // train.json + train/ (8 images), val.json + val/ (4 images)
});
afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, [...NODE_ARGS, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface CaptionLine { image: string; captions: { text: string; score: number }[] }
const captionLines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l) as CaptionLine);

/** Starts `serve` and resolves with its URL once it listens; rejects with its stderr if it exits first. */
function startServe(args: string[]): Promise<{ url: string; stderr: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  server = child;
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolveUrl, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const url = /^serving (http:\/\/127\.0\.0\.1:\d+\/) /m.exec(stderr)?.[1];
      if (url !== undefined) resolveUrl({ url, stderr: () => stderr, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited with code ${code} before listening:\n${stderr}`)));
  });
}

/** SIGTERM, as Ctrl-C would; SIGKILL if the server has not closed within 10 s. */
async function stopServe(exited: Promise<number | null>): Promise<number | null> {
  server!.kill('SIGTERM');
  const timer = setTimeout(() => server!.kill('SIGKILL'), 10_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('the CLI journey: caption a folder → eval → train → caption with the run → serve side by side', () => {
  const seen: { base?: CaptionLine[]; adapted?: CaptionLine[]; modules?: string } = {};

  it('caption <folder> --refs --out writes a results file with the annotations\' integer ids; eval scores every image', () => {
    const captioned = cli('caption', 'val', '--refs', 'val.json', '--out', 'preds.json', '--model', TINY_MODEL, '--threads', '1', ...TOKENS, '--json');
    expect(captioned.status, captioned.stderr).toBe(0);
    seen.base = captionLines(captioned.stdout);
    expect(seen.base.map((l) => l.image)).toEqual(VAL_IDS.map((id) => join('val', `img_${id}.png`))); // sorted by name
    const preds = JSON.parse(readFileSync(join(root, 'preds.json'), 'utf8')) as unknown[];
    expect(preds).toEqual(VAL_IDS.map((image_id, i) => ({ image_id, caption: seen.base![i]!.captions[0]!.text })));

    const scored = cli('eval', '--refs', 'val.json', '--preds', 'preds.json', '--per-image', 'scores.json', '--json');
    expect([scored.status, scored.stderr]).toEqual([0, '']);
    const scores = JSON.parse(scored.stdout) as Record<string, number>;
    expect(scores.images).toBe(4);
    expect(Object.keys(scores)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'meteorVariant', 'tokenize', 'images']);
    const perImage = JSON.parse(readFileSync(join(root, 'scores.json'), 'utf8')) as { image_id: unknown; CIDEr: number }[];
    expect(perImage.map((p) => p.image_id)).toEqual(VAL_IDS); // matched to the references by integer id
    // the corpus CIDEr-D is the mean of the images' (pycocoevalcap)
    expect(Math.abs(perImage.reduce((sum, p) => sum + p.CIDEr, 0) / perImage.length - scores.CIDEr!)).toBeLessThan(1e-12);
  }, 60_000);

  it('train --config runs two stages and prints the run folder and the final stage\'s best adapter', () => {
    writeFileSync(join(root, 'run.json'), JSON.stringify({
      model: TINY_MODEL, outDir: 'runs/mine', threads: 1, zeroShot: false,
      data: { train: { file: 'train.json', imageRoot: 'train' }, val: { file: 'val.json', imageRoot: 'val' } },
      lora: { r: 4, alpha: 8 }, eval: { maxNewTokens: 4, batchSize: 4 },
      // 2 steps of 4 images are one pass over the 8 training images: one validation per stage, which is its best
      stages: [{ name: 'lora', steps: 2, lr: 1e-2, batchSize: 4 }, { name: 'polish', steps: 2, lr: 1e-2, batchSize: 4 }],
    }));
    const trained = cli('train', '--config', 'run.json');
    expect(trained.status, trained.stderr).toBe(0);
    const runDir = join(root, 'runs', 'mine');
    const best = join(runDir, 'stages', '2-polish', 'best');
    expect(trained.stdout.split('\n').filter((l) => /^\| (lora|polish) \|/.test(l))).toHaveLength(2);
    expect(trained.stdout.endsWith(`\nrun folder: ${runDir}\nbest adapter: ${best} (--adapter ${runDir} loads it)\n`)).toBe(true);
    seen.modules = /fresh LoRA on (\d+) modules/.exec(trained.stderr)?.[1];
    expect(seen.modules).toMatch(/^\d+$/);
  }, 60_000);

  it('caption --adapter <run folder> captions with the final stage\'s best adapter', () => {
    const adapted = cli('caption', 'val', '--adapter', join('runs', 'mine'), '--model', TINY_MODEL, '--threads', '1', ...TOKENS, '--json');
    expect(adapted.status, adapted.stderr).toBe(0);
    expect(adapted.stderr).toContain(`\nadapter runs/mine: ${seen.modules} LoRA modules\n`);
    seen.adapted = captionLines(adapted.stdout);
    const validation = (stage: string) => {
      const dir = join(root, 'runs', 'mine', 'stages', stage);
      expect(readdirSync(dir).filter((d) => d.startsWith('eval-'))).toEqual(['eval-1']);
      const preds = JSON.parse(readFileSync(join(dir, 'eval-1', 'predictions.json'), 'utf8')) as { image_id: unknown; caption: string }[];
      return VAL_IDS.map((id) => preds.find((p) => String(p.image_id) === String(id))?.caption);
    };
    // the two stages' validations captioned differently, so equality below tells the final adapter from the first
    expect(validation('2-polish')).not.toEqual(validation('1-lora'));
    expect(seen.adapted.map((l) => l.captions[0]!.text)).toEqual(validation('2-polish'));
    expect(seen.adapted.map((l) => l.captions[0]!.text)).not.toEqual(seen.base!.map((l) => l.captions[0]!.text));
  }, 60_000);

  it('serve --with-base --adapter mine=<run folder>: one API call answers with both models\' captions', async () => {
    const started = await startServe(['--model', TINY_MODEL, '--threads', '1', '--port', '0', '--with-base', '--adapter', `mine=${join('runs', 'mine')}`]);
    let answer: { status: number; body: { captions: { model: string; text: string; score: number }[] } };
    let exitCode: number | null;
    try {
      const res = await fetch(`${started.url}api/caption`, {
        method: 'POST', body: readFileSync(join(root, 'val', 'img_100.png')),
        headers: { 'content-type': 'image/png', 'x-caption-options': JSON.stringify({ maxNewTokens: 4 }) },
      });
      answer = { status: res.status, body: await res.json() as typeof answer.body };
    } finally {
      exitCode = await stopServe(started.exited);
    }
    expect(exitCode).toBe(0); // SIGTERM closes it cleanly
    expect(started.stderr()).toContain(`\nadapter runs/mine: ${seen.modules} LoRA modules, served as "mine"\n`);
    expect(answer.status).toBe(200);
    expect(answer.body.captions.map((c) => [c.model, c.text])).toEqual([
      ['model', seen.base![0]!.captions[0]!.text], // the base model, under its folder's name, first
      ['mine', seen.adapted![0]!.captions[0]!.text],
    ]);
    expect(answer.body.captions[0]!.score).toBeCloseTo(seen.base![0]!.captions[0]!.score, 5);
    expect(answer.body.captions[1]!.score).toBeCloseTo(seen.adapted![0]!.captions[0]!.score, 5);
  }, 60_000);
});
