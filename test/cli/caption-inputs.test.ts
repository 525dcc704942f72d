// caption's inputs: files, folders and quoted glob patterns, expanded and checked (with every generation flag)
// before the model loads: a bad one fails at once with exit code 2 and a message in flag names.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkGenerationFlags } from '../../lib/cli/caption.js';
import { expandImageArgs, isImageFile } from '../../lib/cli/image-inputs.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const SOURCE = join(TINY, 'images');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'caption-inputs-'));
  mkdirSync(join(dir, 'photos', 'nested'), { recursive: true });
  mkdirSync(join(dir, 'empty'));
  copyFileSync(join(SOURCE, 'img1_rgb_40x72.jpg'), join(dir, 'photos', 'b.JPG'));
  copyFileSync(join(SOURCE, 'img0_rgb_64x48.png'), join(dir, 'photos', 'a.png'));
  copyFileSync(join(SOURCE, 'img2_gray_50x50.png'), join(dir, 'photos', 'nested', 'c.png'));
  copyFileSync(join(SOURCE, 'img0_rgb_64x48.png'), join(dir, 'photos', '.hidden.png'));
  writeFileSync(join(dir, 'photos', 'notes.txt'), 'not an image');
  writeFileSync(join(dir, 'empty', 'readme.md'), 'no images here');
});

function cli(args: string[], cwd = process.cwd()) {
  // tsx by its path: the command may run in another folder (relative paths)
  const tsx = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
  const run = spawnSync(process.execPath, ['--import', tsx, resolve('lib/cli/main.ts'), 'caption', ...args], { encoding: 'utf8', cwd });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('caption inputs', () => {
  it('a folder gives its image files sorted by name (no subfolders, no hidden files); a pattern reaches into subfolders', async () => {
    const photos = join(dir, 'photos');
    expect(await expandImageArgs([photos])).toEqual([join(photos, 'a.png'), join(photos, 'b.JPG')]);
    expect(await expandImageArgs([join(photos, '**', '*.png')])).toEqual([join(photos, 'a.png'), join(photos, 'nested', 'c.png')]);
    // arguments keep their order; a file is taken as given whatever its extension
    expect(await expandImageArgs([join(photos, 'notes.txt'), join(photos, '*.{png,JPG}')])).toEqual(
      [join(photos, 'notes.txt'), join(photos, 'a.png'), join(photos, 'b.JPG')]);
    expect(['x.JPEG', 'y.webp', 'z.tiff', 'w.bmp', 'v.svg', 'u'].map(isImageFile)).toEqual([true, true, true, false, false, false]);
  });

  it('a folder or pattern without images, or a missing file, is a usage error naming it', async () => {
    const empty = join(dir, 'empty');
    await expect(expandImageArgs([empty])).rejects.toThrow(
      `${JSON.stringify(empty)} is a directory without image files (.jpg .jpeg .png .webp .gif .tif .tiff .avif); ` +
      `its subfolders are not read: quote a glob such as '${join(empty, '**', '*.jpg')}' for them`);
    await expect(expandImageArgs([join(dir, 'photos', '*.gif')])).rejects.toThrow(`the pattern ${JSON.stringify(join(dir, 'photos', '*.gif'))} matches no file`);
    await expect(expandImageArgs([join(dir, 'empty', '*')])).rejects.toThrow(
      `the pattern ${JSON.stringify(join(dir, 'empty', '*'))} matches 1 file(s) but no image file (.jpg .jpeg .png .webp .gif .tif .tiff .avif)`);
    await expect(expandImageArgs([join(dir, 'photos'), 'gone.png', 'also-gone.jpg'])).rejects.toThrow(
      '2 image files do not exist: "gone.png", "also-gone.jpg"');
  });

  it('captions a folder and a relative pattern in one call, in argument order', () => {
    const run = cli(['photos', 'photos/nested/*.png', '--model', TINY_MODEL, '--max-new-tokens', '3', '--threads', '1', '--json'], dir);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; captions: unknown[] });
    expect(lines.map((l) => [l.image, l.captions.length])).toEqual([['photos/a.png', 1], ['photos/b.JPG', 1], ['photos/nested/c.png', 1]]);
  }, 60_000);

  it('checks every path before the model loads: a missing 1,000th image fails at once, before a bad --model is reached', () => {
    const good = join(dir, 'photos', 'a.png');
    const images = [...Array.from({ length: 999 }, () => good), join(dir, 'photos', 'typo.png')];
    const run = cli([...images, '--model', join(dir, 'no-such-model')]);
    expect([run.status, run.stdout, run.stderr]).toEqual([2, '', `error: no such image file: ${JSON.stringify(join(dir, 'photos', 'typo.png'))}\n`]);
    const adapter = cli([good, '--adapter', join(dir, 'no-adapter'), '--model', join(dir, 'no-such-model')]);
    expect([adapter.status, adapter.stderr]).toEqual([2, expect.stringMatching(new RegExp(`^error: --adapter: No adapter_config.json in ${JSON.stringify(join(dir, 'no-adapter'))}; `))]);
  }, 60_000);

  it('speaks of flags when the model\'s defaults decide: beams from generation_config.json, API names translated', () => {
    expect(() => checkGenerationFlags({ numBeams: 4 }, { numReturnSequences: 4 })).not.toThrow();
    expect(() => checkGenerationFlags({ numBeams: 4 }, { numReturnSequences: 5 })).toThrow(
      '--num-return-sequences 5 is more than --num-beams 4: beam search gives at most num-beams captions per image');
    expect(() => checkGenerationFlags({}, { topK: -1, numBeams: 2 })).toThrow('Expected integer between 0 and 2147483647 for --top-k but received -1 of type number');
  });

  // stderr holds the error alone: the model never loaded (a load logs "loaded <dir>: …" first)
  it('checks generation flags against the model\'s defaults before it loads, in flag names (exit 2)', () => {
    const image = join(dir, 'photos', 'a.png');
    const greedy = cli([image, '--model', TINY_MODEL, '--num-return-sequences', '3']);
    expect([greedy.status, greedy.stderr]).toEqual([2, 'error: --num-return-sequences 3 needs beam search (--num-beams 3 or more) or sampling (--do-sample): ' +
      'greedy search gives one caption per image\n']);
    const beams = cli([image, '--model', TINY_MODEL, '--num-return-sequences', '3', '--num-beams', '2']);
    expect([beams.status, beams.stderr]).toEqual([2,
      'error: --num-return-sequences 3 is more than --num-beams 2: beam search gives at most num-beams captions per image\n']);
    const out = cli([image, '--model', TINY_MODEL, '--num-beams', '3', '--num-return-sequences', '3', '--out', join(dir, 'p.json')]);
    expect([out.status, out.stderr]).toEqual([2, 'error: --out writes a COCO results file, one caption per image; it cannot take --num-return-sequences 3\n']);
    const refs = cli([image, '--model', TINY_MODEL, '--refs', join(dir, 'refs.json')]);
    expect([refs.status, refs.stderr]).toEqual([2, 'error: --refs maps image file names to the ids of --out; give --out <file> too\n']);
    const folder = cli([image, '--model', TINY_MODEL, '--out', join(dir, 'nowhere', 'p.json')]);
    expect([folder.status, folder.stderr]).toEqual([2, `error: --out: the folder of ${join(dir, 'nowhere', 'p.json')} does not exist\n`]);
  }, 60_000);
});
