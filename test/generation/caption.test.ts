// Blip2Captioner.caption and the `caption` CLI end to end: image files → preprocessing → generate → text,
// against Hugging Face's generate() results in generation.json.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Blip2Captioner } from '../../lib/captioner.js';
import { register } from '../../lib/cli/caption.js';
import { UsageError } from '../../lib/cli/usage.js';
import type { Caption } from '../../lib/generation/caption.js';
import { ProgressBar, formatDuration } from '../../lib/cli/progress.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const IMAGES = [join(TINY, 'images', 'img0_rgb_64x48.png'), join(TINY, 'images', 'img1_rgb_40x72.jpg')];
const PROMPTS = ['caption:', 'Question: what is in the image? Answer:'];
const golden = JSON.parse(readFileSync(join(TINY, 'generation.json'), 'utf8'));
/** HF rows without trailing padding: up to and including the first EOS after the start token. */
const trim = (row: number[]) => (row.indexOf(1) > 0 ? row.slice(0, row.indexOf(1) + 1) : row);
const preprocess = { pool: 'main' as const };

let captioner: Blip2Captioner;
beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 2 });
});
afterAll(() => captioner?.dispose());

describe('Blip2Captioner.caption', () => {
  it("gives HF's greedy token ids and texts, scored by the mean token log-prob of a teacher-forced pass", async () => {
    const captions = await captioner.caption(IMAGES, { prompt: 'caption:', maxNewTokens: 12, preprocess });
    expect(captions.map((c) => c.tokenIds)).toEqual(golden.main.greedy.sequences.map(trim));
    expect(captions.map((c) => c.text)).toEqual(golden.main.greedy.texts);
    const scored = await captioner.score(IMAGES, captions.map((c) => c.text), { prompt: 'caption:', preprocess });
    // the teacher-forced labels re-tokenize the text; compare where they equal the generated ids (image 1 ends in EOS)
    expect(scored[1]!.tokenIds).toEqual(captions[1]!.tokenIds.slice(1));
    const diff = Math.abs(-scored[1]!.loss - captions[1]!.score);
    console.log(`caption: greedy score vs teacher-forced mean log-prob, diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-5);
  });

  it('returns numReturnSequences beams per image, best first, with HF sequences_scores', async () => {
    const result = await captioner.caption(IMAGES, { prompt: 'caption:', maxNewTokens: 12, numBeams: 3, numReturnSequences: 3, preprocess });
    const v = golden.main.beam3_return3;
    const flat = result.flat() as Caption[];
    expect(result.map((r) => (r as Caption[]).length)).toEqual([3, 3]);
    expect(flat.map((c) => c.tokenIds)).toEqual(v.sequences.map(trim));
    const diff = Math.max(...flat.map((c, i) => Math.abs(c.score - v.sequences_scores[i])));
    console.log(`caption: beam3_return3 scores max diff ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
  });

  it('gives each image of a batch its caption alone, with prompts of different lengths (right-padded)', async () => {
    for (const options of [{ maxNewTokens: 12 }, { maxNewTokens: 12, numBeams: 3 }]) {
      const batch = await captioner.caption(IMAGES, { ...options, prompt: PROMPTS, batchSize: 2, preprocess });
      const single = await captioner.caption(IMAGES, { ...options, prompt: PROMPTS, batchSize: 1, preprocess });
      expect(batch.map((c) => c.tokenIds)).toEqual(single.map((c) => c.tokenIds));
      batch.forEach((c, i) => expect(Math.abs(c.score - single[i]!.score)).toBeLessThan(1e-5));
      const hf = golden.padded_prompts.results[options.numBeams ? 'beam3' : 'greedy'].sequences.map(trim);
      expect(batch.map((c) => c.tokenIds)).toEqual(hf);
    }
  });

  it('reports progress and results per batch', async () => {
    const progress: string[] = [];
    const seen: number[] = [];
    await captioner.caption([...IMAGES, IMAGES[0]!], {
      maxNewTokens: 3, batchSize: 2, preprocess, onProgress: (d, t) => progress.push(`${d}/${t}`), onResult: (i) => seen.push(i),
    });
    expect(progress).toEqual(['2/3', '3/3']);
    expect(seen).toEqual([0, 1, 2]);
    const streamed: number[][] = [[], []];
    const captions = await captioner.caption(IMAGES, {
      prompt: 'caption:', maxNewTokens: 12, batchSize: 1, preprocess, onToken: (e) => streamed[e.image]!.push(e.token),
    });
    expect(streamed).toEqual(captions.map((c) => c.tokenIds.slice(1)));
  });

  it('rejects bad options by name', async () => {
    await expect(captioner.caption(IMAGES, { prompt: ['one'] })).rejects.toThrow(
      'Expected string or array of 2 strings (one per image) for prompt but received an array of length 1');
    await expect(captioner.caption(IMAGES, { batchSize: 0 })).rejects.toThrow(
      'Expected integer between 1 and 4096 for batchSize but received 0 of type number');
    await expect(captioner.caption(IMAGES, { numBeams: 65 })).rejects.toThrow(
      'Expected integer between 1 and 64 for numBeams but received 65 of type number');
    await expect(captioner.caption([], {})).rejects.toThrow('Expected non-empty array of images for images but received an array of length 0');
  });
});

async function runCli(args: string[]): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, stream);
  await program.parseAsync(['caption', ...args], { from: 'user' });
  return text;
}

describe('blip2-progressive caption', () => {
  it('--json prints one line per image with HF token ids', async () => {
    const out = await runCli([...IMAGES, '--model', TINY_MODEL, '--prompt', 'caption:', '--max-new-tokens', '12', '--num-beams', '3',
      '--num-return-sequences', '2', '--no-repeat-ngram-size', '2', '--threads', '2', '--json']);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.image)).toEqual(IMAGES);
    expect(lines[0].captions.length).toBe(2);
    const hf = golden.main.beam3_no_repeat_ngram_2;
    expect(lines.map((l) => l.captions[0].tokenIds)).toEqual(hf.sequences.map(trim));
    expect(Math.abs(lines[1].captions[0].score - hf.sequences_scores[1])).toBeLessThan(1e-4);
  });

  it('prints "<image>\\t<score>\\t<text>" lines and rejects bad flag values', async () => {
    const out = await runCli([IMAGES[1]!, '--model', TINY_MODEL, '--prompt', 'caption:', '--max-new-tokens', '12', '--threads', '2']);
    const [image, score, text] = out.trim().split('\t');
    expect([image, text]).toEqual([IMAGES[1], golden.main.greedy.texts[1]]);
    expect(Number(score)).toBeLessThan(0);
    await expect(runCli([IMAGES[0]!, '--model', TINY_MODEL, '--no-repeat-ngram-size', 'x'])).rejects.toThrow(
      '--no-repeat-ngram-size expects an integer between 0 and 1048576 but received "x"');
    // no default model yet: a benchmark home without one (`npm start` may have made the real one)
    const home = process.env.BLIP2_PROGRESSIVE_HOME;
    process.env.BLIP2_PROGRESSIVE_HOME = mkdtempSync(join(tmpdir(), 'blip2-empty-home-'));
    try {
      await expect(runCli([IMAGES[0]!])).rejects.toThrow('--model <dir> is required');
      await expect(runCli([IMAGES[0]!])).rejects.toThrow('run `npx blip2-progressive bench` (`npm start` in a checkout) once to pretrain the default');
    } finally {
      if (home === undefined) delete process.env.BLIP2_PROGRESSIVE_HOME;
      else process.env.BLIP2_PROGRESSIVE_HOME = home;
    }
    // checked against the model's generation defaults before the model loads, as a usage error (exit code 2) in flag
    // names
    await expect(runCli([IMAGES[0]!, '--model', TINY_MODEL, '--num-beams', '2', '--num-return-sequences', '3'])).rejects.toThrow(
      new UsageError('--num-return-sequences 3 is more than --num-beams 2: beam search gives at most num-beams captions per image'));
    await expect(runCli([IMAGES[0]!, '--model', TINY_MODEL, '--min-new-tokens', '3', '--max-new-tokens', '2000'])).rejects.toThrow(
      new UsageError('--max-new-tokens expects an integer between 1 and 1024 but received "2000"'));
  });
});

describe('progress bar', () => {
  it('shows count, rate and ETA', () => {
    let now = 0;
    const lines: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => lines.push(t) }, 40, 'caption', 'img', () => now);
    now = 5000;
    bar.update(10);
    now = 20000;
    bar.update(40);
    expect(lines).toEqual([
      'caption [#####---------------] 10/40 2.0 img/s ETA 15s\n',
      'caption [####################] 40/40 2.0 img/s in 20s\n',
    ]);
    expect([formatDuration(185), formatDuration(3720)]).toEqual(['3m05s', '1h02m']);
  });
});
