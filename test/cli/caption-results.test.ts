// caption → eval: `caption --out` writes a COCO results file with integer ids (from --refs, or from the digits in
// the file names), and `eval --preds` reads it as well as `caption --json` output, giving the same scores.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { idFromFileName, imageIds } from '../../lib/cli/results-file.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

let dir: string;
let refs: string;
const NAMES = ['VizWiz_val_00000123.png', 'VizWiz_val_00000007.jpg', 'COCO_val2014_000000391895.png'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'caption-results-'));
  ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png'].forEach((source, i) => copyFileSync(join(TINY, 'images', source), join(dir, NAMES[i]!)));
  refs = join(dir, 'refs.json');
  // COCO-style annotations whose ids are not the numbers in the names
  writeFileSync(refs, JSON.stringify({
    images: NAMES.map((file_name, i) => ({ id: 900 + i, file_name: `val/${file_name}` })),
    annotations: NAMES.flatMap((_, i) => [{ id: 2 * i, image_id: 900 + i, caption: 'a red square' }, { id: 2 * i + 1, image_id: 900 + i, caption: 'remove it' }]),
  }));
});

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), ...args], { encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('image ids for results files', () => {
  it('takes the last number of a file name', () => {
    expect(['VizWiz_val_00000123.jpg', 'COCO_val2014_000000391895.jpg', 'dir/9/img_42-final.png', '7.png', 'dog.jpg', `a${'9'.repeat(20)}.png`].map(idFromFileName))
      .toEqual([123, 391895, 42, 7, undefined, undefined]);
  });

  it('names the images without an id, or with the same id, and says how to map them', async () => {
    await expect(imageIds(['a/dog.jpg', 'a/img_1.png', 'cat.png'])).rejects.toThrow(
      '--out needs an image id for every image: 2 file name(s) hold no number to take it from ("a/dog.jpg", "cat.png"); ' +
      'pass --refs <annotations> to take ids from an annotation file (images[].file_name → id)');
    await expect(imageIds(['a/img_1.png', 'b/photo-001.jpg'])).rejects.toThrow(
      '"a/img_1.png" and "b/photo-001.jpg" both give image id 1 (from the digits in their names); pass --refs <annotations> to map names to ids');
    await expect(imageIds(['a/img_1.png', 'a/img_1.png'])).rejects.toThrow('"a/img_1.png" is given twice; a results file holds one caption per image');
  });

  it('maps file names through --refs (with or without the extension), naming those it does not list', async () => {
    expect(await imageIds(['x/VizWiz_val_00000123.png', 'COCO_val2014_000000391895.jpeg'], refs)).toEqual([900, 902]);
    await expect(imageIds(['x/VizWiz_val_00000123.png', 'other.png'], refs)).rejects.toThrow(`1 image(s) are not in --refs ${refs} (by file name): "other.png"`);
    const resultList = join(dir, 'results-only.json');
    writeFileSync(resultList, JSON.stringify([{ image_id: 1, caption: 'x' }]));
    await expect(imageIds(['a.png'], resultList)).rejects.toThrow(`--refs ${resultList} names no image files: expected COCO or VizWiz annotations ` +
      '(images[].file_name) or the processed json (image)');
  });
});

describe('caption --out and eval --preds', () => {
  it('writes integer ids from the names or from --refs; eval scores the results file and caption --json output alike', () => {
    const images = NAMES.map((name) => join(dir, name));
    const fromNames = join(dir, 'from-names.json');
    const named = cli('caption', ...images, '--model', TINY_MODEL, '--max-new-tokens', '4', '--threads', '1', '--json', '--out', fromNames);
    expect(named.status, named.stderr).toBe(0);
    const captions = named.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { captions: { text: string }[] }).captions[0]!.text);
    expect(JSON.parse(readFileSync(fromNames, 'utf8'))).toEqual([123, 7, 391895].map((image_id, i) => ({ image_id, caption: captions[i] })));

    const fromRefs = join(dir, 'from-refs.json');
    expect(cli('caption', dir, '--refs', refs, '--out', fromRefs, '--model', TINY_MODEL, '--max-new-tokens', '4', '--threads', '1').status).toBe(0);
    // the folder is read sorted by name: COCO_…, VizWiz_…07, VizWiz_…123
    expect(JSON.parse(readFileSync(fromRefs, 'utf8'))).toEqual([[902, 2], [901, 1], [900, 0]].map(([image_id, i]) => ({ image_id, caption: captions[i!] })));

    const jsonl = join(dir, 'captions.jsonl');
    writeFileSync(jsonl, named.stdout);
    const scores = [fromRefs, jsonl].map((preds) => {
      const run = cli('eval', '--refs', refs, '--preds', preds, '--json');
      expect([run.status, run.stderr]).toEqual([0, '']);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    });
    expect(scores[1]).toEqual(scores[0]);
    expect(Object.keys(scores[0]!)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'meteorVariant', 'tokenize', 'images']);
    expect(scores[0]!.images).toBe(3);
  }, 120_000);
});
