// eval --refs --preds: the prediction files it reads (caption --json lines included), SPICE only when asked for and
// only with a jar that exists, the jars' java checked up front, and --per-image scores.
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { register } from '../../lib/cli/eval.js';
import { UsageError } from '../../lib/cli/usage.js';
import { loadPredictions } from '../../lib/metrics/loaders.js';
import { edgeCaseScores, scorerEdgeCase } from '../helpers/goldens.js';

async function runEval(args: string[]) {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (c: Buffer) => { stdout += c.toString(); });
  const err = new PassThrough().on('data', (c: Buffer) => { stderr += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, { stdout: out, stderr: err });
  await program.parseAsync(['eval', ...args], { from: 'user' });
  return { stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'eval-files-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
// scorer_edge_cases.json "three_images_mixed" (as test/metrics/cli-eval.test.ts), with VizWiz-style file names
const suite = scorerEdgeCase('three_images_mixed');
const IDS = Object.keys(suite.gts).map(Number);
const refs = file('refs.json', {
  images: IDS.map((id) => ({ id, file_name: `VizWiz_val_0000000${id}.jpg` })),
  annotations: IDS.flatMap((id) => suite.gts[id]!.map((caption) => ({ image_id: id, caption }))),
});
const CAPTIONS = IDS.map((id) => suite.res[id]![0]!);
const results = file('results.json', CAPTIONS.map((caption, i) => ({ image_id: i + 1, caption })));
const captionLine = (image: string, text: string) => JSON.stringify({ image, captions: [{ text, tokenIds: [0, 5, 1], score: -0.5 }] });
const jsonl = file('captions.jsonl', [
  ...CAPTIONS.map((text, i) => captionLine(`photos/VizWiz_val_0000000${i + 1}.jpg`, text)),
  JSON.stringify({ image: 'photos/broken.jpg', error: 'Cannot load image' }),
].join('\n'));
const { Bleu_4, ROUGE_L, CIDEr } = edgeCaseScores(suite);
const CORPUS = { Bleu_4, ROUGE_L, CIDEr };

describe('eval --preds formats', () => {
  it('reads caption --json lines by image file name, skipping failed images: the scores of the results file', async () => {
    const fromResults = JSON.parse((await runEval(['--refs', refs, '--preds', results, '--json'])).stdout);
    const fromLines = await runEval(['--refs', refs, '--preds', jsonl, '--json']);
    expect(fromLines.stderr).toBe('');
    expect(JSON.parse(fromLines.stdout)).toEqual(fromResults);
    expect(fromResults).toMatchObject({ ...CORPUS, images: 3 });
    expect(await loadPredictions(file('one-line.json', `${captionLine('a/x.png', 'one')}\n`))).toEqual(new Map([['a/x.png', ['one']]]));
  });

  it('names the formats it reads when a file is none of them; several captions per image are refused', async () => {
    const FORMATS = 'a COCO results file [{"image_id", "caption"}], the paper\'s [{"id", "caption"}], an object {"<image_id>": "caption"}, ' +
      'or JSON lines: `blip2-progressive caption --json` output {"image", "captions": [...]} or {"image_id", "caption"}';
    const text = file('captions.txt', 'photo.jpg\t-0.5\ta dog\n');
    await expect(runEval(['--refs', refs, '--preds', text])).rejects.toThrow(
      `Cannot parse prediction file ${text}: invalid JSON at line 1, column 1: unexpected "p"; expected ${FORMATS}`);
    const numbers = file('numbers.json', [1, 2]);
    await expect(runEval(['--refs', refs, '--preds', numbers])).rejects.toThrow(`Expected ${FORMATS} in ${numbers} but received an array of length 2`);
    const several = file('beams.jsonl', `${captionLine('a.jpg', 'x')}\n${JSON.stringify({ image: 'b.jpg', captions: [{ text: 'y' }, { text: 'z' }] })}\n`);
    await expect(runEval(['--refs', refs, '--preds', several])).rejects.toThrow(
      `Expected one caption per image in ${several} but line 2 holds 2 (scores take one hypothesis per image: caption without --num-return-sequences)`);
  });
});

describe('eval scoring flags', () => {
  it('scores BLEU, METEOR, ROUGE-L and CIDEr by default, SPICE only when asked, without warnings', async () => {
    const { stdout, stderr } = await runEval(['--refs', refs, '--preds', results, '--json']);
    expect(Object.keys(JSON.parse(stdout))).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'meteorVariant', 'tokenize', 'images']);
    expect(stderr).toBe('');
  });

  it('SPICE without a jar, a jar that does not exist, and a java that does not run are usage errors before any scoring', async () => {
    const base = ['--refs', refs, '--preds', results];
    const usage = (args: string[]) => runEval([...base, ...args]).then(() => undefined, (err: Error) => [err instanceof UsageError, err.message]);
    expect(await usage(['--metrics', 'spice'])).toEqual([true,
      '--metrics spice needs --spice-jar <spice-1.0.jar> (the official SPICE 1.0 jar, run with Java 8); leave spice out of --metrics to score without it']);
    expect(await usage(['--spice-jar', join(dir, 'spice-1.0.jar')])).toEqual([true, `--spice-jar: no such jar file: ${join(dir, 'spice-1.0.jar')}`]);
    expect(await usage(['--metrics', 'meteor', '--meteor-jar', dir])).toEqual([true, `--meteor-jar: ${dir} is a directory, not a jar file`]);
    // --spice-jar alone asks for SPICE: its java is checked before anything is scored
    const jar = file('spice-1.0.jar', 'not really a jar');
    expect(await usage(['--spice-jar', jar, '--java', join(dir, 'no-java')])).toEqual([true,
      `--java: cannot run ${JSON.stringify(join(dir, 'no-java'))} (spawn ${join(dir, 'no-java')} ENOENT); the jars need Java 8 or newer: install it or pass --java <path>`]);
    expect(await usage(['--per-image', join(dir, 'missing', 'scores.json')])).toEqual([true, `--per-image: the folder of ${join(dir, 'missing', 'scores.json')} does not exist`]);
    expect(await usage(['--preds', join(dir, 'nope.json')])).toEqual([true, `--preds: no such file: ${join(dir, 'nope.json')}`]);
  });

  it('--per-image writes each image\'s scores in evaluation order; their mean is the corpus CIDEr-D', async () => {
    const perImage = join(dir, 'per-image.json');
    const corpus = JSON.parse((await runEval(['--refs', refs, '--preds', jsonl, '--metrics', 'bleu,rouge,cider', '--per-image', perImage, '--json'])).stdout);
    const images = JSON.parse(readFileSync(perImage, 'utf8')) as { image_id: number; CIDEr: number; ROUGE_L: number }[];
    expect(images.map((i) => [i.image_id, Object.keys(i).length])).toEqual([[1, 7], [2, 7], [3, 7]]);
    images.forEach((image, k) => {
      expect(Math.abs(image.CIDEr - suite.CIDEr_per_image![k]!)).toBeLessThan(1e-12);
      expect(Math.abs(image.ROUGE_L - suite.ROUGE_L_per_image[k]!)).toBeLessThan(1e-12);
    });
    expect(Math.abs(images.reduce((s, i) => s + i.CIDEr, 0) / 3 - corpus.CIDEr)).toBeLessThan(1e-12);
    expect(Math.abs(images.reduce((s, i) => s + i.ROUGE_L, 0) / 3 - CORPUS.ROUGE_L)).toBeLessThan(1e-12);
  });
});
