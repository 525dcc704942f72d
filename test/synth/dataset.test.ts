// The dataset writer: byte-identical output for a seed whatever the thread count, skip when up to date,
// atomic replacement, VizWiz-Captions files that the project's reader loads, disjoint train / val / test / scst
// splits of the configured sizes, a cache written before the test split never reused, and option errors.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../lib/data/readers.js';
import { generateSynthDataset, type SynthProgress } from '../../lib/synth/dataset.js';

const SIZES = { clean: { train: 9, val: 4, test: 0, scst: 0 }, assistive: { train: 6, val: 7, test: 5, scst: 3 } };
const TOTAL = 9 + 4 + 6 + 7 + 5 + 3;
// an annotation file and a scene file per domain and split (2 domains × 4 splits), and the manifest
const TEXT_FILES = 8 + 8 + 1;

const root = await mkdtemp(join(tmpdir(), 'synth-test-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

describe('generateSynthDataset', () => {
  it('writes byte-identical files for the same seed, in-process or on worker threads', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const progress: SynthProgress[] = [];
    const first = await generateSynthDataset({ outDir: a, seed: 3, ...SIZES, workers: 0, onProgress: (p) => progress.push(p) });
    const second = await generateSynthDataset({ outDir: b, seed: 3, ...SIZES, workers: 2 });
    expect([first.skipped, second.skipped]).toEqual([false, false]);
    const filesA = await listFiles(a);
    const filesB = await listFiles(b);
    expect(filesA.map((f) => relative(a, f))).toEqual(filesB.map((f) => relative(b, f)));
    expect(filesA.length).toBe(TOTAL + TEXT_FILES);
    let differing = 0;
    for (let k = 0; k < filesA.length; k++) {
      if (!(await readFile(filesA[k]!)).equals(await readFile(filesB[k]!))) differing++;
    }
    console.log(`${filesA.length} files compared, ${differing} differ; content hash ${first.manifest.contentHash}`);
    expect(differing).toBe(0);
    expect(second.manifest.contentHash).toBe(first.manifest.contentHash);
    expect(progress[progress.length - 1]!.done).toBe(TOTAL);
    expect(progress.every((p) => p.total === TOTAL)).toBe(true);
  });

  it('writes VizWiz-Captions annotations with five captions per image', async () => {
    const file = join(root, 'a', 'assistive', 'annotations', 'val.json');
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(Object.keys(json)).toEqual(['info', 'images', 'annotations']);
    expect(json.images.length).toBe(7);
    expect(Object.keys(json.images[0]).sort()).toEqual(['file_name', 'id', 'text_detected']);
    expect(json.images[6].file_name).toBe('synth_assistive_val_00000006.png');
    expect(json.annotations.length).toBe(35);
    expect(Object.keys(json.annotations[0]).sort()).toEqual(['caption', 'id', 'image_id', 'is_precanned', 'is_rejected', 'text_detected']);
    expect(new Set(json.annotations.map((a: { id: number }) => a.id)).size).toBe(35);
    expect(json.annotations.filter((a: { image_id: number }) => a.image_id === 4).length).toBe(5);
    const scenes = (await readFile(join(root, 'a', 'assistive', 'scenes', 'val.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(scenes.length).toBe(7);
    expect(['blur', 'dark', 'noise', 'glare']).toContain(scenes[0].degradation.kind);
  });

  it('writes 64×64 RGB PNG images', async () => {
    const meta = await sharp(join(root, 'a', 'clean', 'train', 'synth_clean_train_00000000.png')).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 64, 64, 3]);
  });

  it('loads with the project reader (format vizwiz)', async () => {
    const dataset = await loadDataset({
      file: join(root, 'a', 'clean', 'annotations', 'train.json'), imageRoot: join(root, 'a', 'clean', 'train'), format: 'vizwiz',
    });
    expect(dataset.samples.length).toBe(9);
    expect(dataset.samples.every((s) => s.captions.length === 5)).toBe(true);
    expect([dataset.skipped.missing, dataset.skipped.unreadable]).toEqual([0, 0]);
  });

  it('skips generation when the folder already holds the same dataset', async () => {
    const dir = join(root, 'a');
    const before = (await stat(join(dir, 'manifest.json'))).mtimeMs;
    let calls = 0;
    const again = await generateSynthDataset({ outDir: dir, seed: 3, ...SIZES, workers: 0, onProgress: () => calls++ });
    expect([again.skipped, calls]).toEqual([true, 0]);
    expect((await stat(join(dir, 'manifest.json'))).mtimeMs).toBe(before);
  });

  it('regenerates when a file was damaged or the parameters changed, replacing the whole folder', async () => {
    const dir = join(root, 'b');
    const original = await generateSynthDataset({ outDir: dir, seed: 3, ...SIZES, workers: 0 });
    await rm(join(dir, 'clean', 'annotations', 'val.json'));
    const repaired = await generateSynthDataset({ outDir: dir, seed: 3, ...SIZES, workers: 0 });
    expect([original.skipped, repaired.skipped, repaired.manifest.contentHash]).toEqual([true, false, original.manifest.contentHash]);
    const other = await generateSynthDataset({ outDir: dir, seed: 4, clean: { train: 2, val: 0 }, assistive: { train: 0, val: 1, test: 0 }, workers: 0 });
    expect(other.skipped).toBe(false);
    expect(other.manifest.contentHash).not.toBe(original.manifest.contentHash);
    expect((await listFiles(dir)).length).toBe(3 + TEXT_FILES);
    expect((await readdir(root)).sort()).toEqual(['a', 'b']);
  });

  it('rejects bad options with the project error format', async () => {
    await expect(generateSynthDataset({ outDir: join(root, 'x'), seed: -1 })).rejects.toThrow(
      'Expected integer between 0 and 4294967295 for seed but received -1 of type number',
    );
    await expect(generateSynthDataset({ outDir: join(root, 'x'), clean: { train: 1.5 } })).rejects.toThrow(
      'Expected integer between 0 and 10000000 for clean.train but received 1.5 of type number',
    );
    await expect(generateSynthDataset({ outDir: join(root, 'x'), assistive: { holdout: 3 } } as never)).rejects.toThrow(
      'Unknown option "holdout" in assistive; expected one of "train", "val", "test", "scst"',
    );
    await expect(generateSynthDataset({ outDir: join(root, 'x'), trainViews: 'mirrored' } as never)).rejects.toThrow(
      'Expected one of "all", "one-sided" for trainViews but received "mirrored" of type string',
    );
    await expect(generateSynthDataset({ outDir: '' })).rejects.toThrow('Expected non-empty string for outDir but received "" of type string');
    await expect(generateSynthDataset({ outDir: join(root, 'x'), size: 3 } as never)).rejects.toThrow('Unknown option "size" in options');
  });

  it('writes each split at its configured size, with images no other split has', async () => {
    const dir = join(root, 'a');
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.images).toEqual({
      'clean/train': 9, 'clean/val': 4, 'clean/test': 0, 'clean/scst': 0,
      'assistive/train': 6, 'assistive/val': 7, 'assistive/test': 5, 'assistive/scst': 3,
    });
    const hashesOf = async (split: string) => {
      const folder = join(dir, 'assistive', split);
      const names = (await readdir(folder)).filter((n) => n.endsWith('.png'));
      return Promise.all(names.map(async (n) => createHash('sha256').update(await readFile(join(folder, n))).digest('hex')));
    };
    const all = await Promise.all(['train', 'val', 'test', 'scst'].map(hashesOf));
    expect(all.map((h) => h.length)).toEqual([6, 7, 5, 3]);
    // 21 images, 21 distinct contents: no image is in two splits (or twice in one)
    expect(new Set(all.flat()).size).toBe(21);
    const test = JSON.parse(await readFile(join(dir, 'assistive', 'annotations', 'test.json'), 'utf8'));
    expect([test.info.split, test.images.length, test.images[4].file_name]).toEqual(['test', 5, 'synth_assistive_test_00000004.png']);
  });

  it('adding the test and scst splits leaves the train and val files byte for byte', async () => {
    const dir = join(root, 'c');
    await generateSynthDataset({ outDir: dir, seed: 3, clean: SIZES.clean, assistive: { train: 6, val: 7, test: 0, scst: 0 }, workers: 0 });
    for (const file of ['assistive/annotations/train.json', 'assistive/annotations/val.json', 'assistive/scenes/val.jsonl',
      'clean/annotations/train.json', 'assistive/val/synth_assistive_val_00000006.png', 'assistive/train/synth_assistive_train_00000005.png']) {
      expect((await readFile(join(dir, file))).equals(await readFile(join(root, 'a', file)))).toBe(true);
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('never reuses a dataset written before the test split (its manifest lacks the split sizes)', async () => {
    const dir = join(root, 'd');
    const first = await generateSynthDataset({ outDir: dir, seed: 3, ...SIZES, workers: 0 });
    // the manifest as the generator wrote it before the test and scst splits and the trainViews knob
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'));
    for (const domain of ['clean', 'assistive']) {
      delete manifest.parameters[domain].test;
      delete manifest.parameters[domain].scst;
    }
    delete manifest.parameters.trainViews;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const again = await generateSynthDataset({ outDir: dir, seed: 3, ...SIZES, workers: 0 });
    expect([first.skipped, again.skipped, again.manifest.contentHash]).toEqual([false, false, first.manifest.contentHash]);
    await rm(dir, { recursive: true, force: true });
  });
});
