import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileError } from '../../lib/errors.js';
import { detectFormat, describeSkipped, imageCaptions, loadDataset } from '../../lib/data/readers.js';
import type { Logger } from '../../lib/logger.js';

let dir: string;

async function png(path: string): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toFile(path);
}

function write(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn(message) { warnings.push(message); } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blip2-data-'));
  for (const name of ['a.png', 'b.png', 'c.png', 'val2014/k1.png', 'val2014/k2.png', 'train2014/k3.png', 'val2014/k4.png']) {
    await png(join(dir, 'images', name));
  }
  writeFileSync(join(dir, 'images', 'broken.jpg'), 'this is not an image');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const vizwiz = {
  info: {},
  images: [
    { id: 1, file_name: 'a.png', text_detected: true },
    { id: 2, file_name: 'b.png', text_detected: false },
    { id: 3, file_name: 'gone.png', text_detected: false },
    { id: 4, file_name: 'c.png' },
  ],
  annotations: [
    { image_id: 1, caption: 'A can of soup.', is_rejected: false, is_precanned: false, text_detected: true },
    { image_id: 1, caption: 'Quality issues are too severe to recognize visual content.', is_rejected: false, is_precanned: true, text_detected: false },
    { image_id: 2, caption: 'Blurry.', is_rejected: true, is_precanned: false, text_detected: false },
    { image_id: 1, caption: 'A red soup can on a table.', is_rejected: false, is_precanned: false, text_detected: true },
    { image_id: 3, caption: 'A dog.', is_rejected: false, is_precanned: false, text_detected: false },
    { image_id: 4, caption: 'A sign saying stop.', is_rejected: false, is_precanned: false, text_detected: true },
  ],
};

describe('loadDataset: VizWiz-Captions', () => {
  it('drops rejected and precanned captions, keeps text_detected, counts missing images and images without captions', async () => {
    const file = write('val.json', vizwiz);
    const logger = recordingLogger();
    const data = await loadDataset({ file, imageRoot: join(dir, 'images'), logger });
    expect(data.name).toBe('val.json');
    expect(data.samples).toEqual([
      { imageId: '1', image: join(dir, 'images', 'a.png'), captions: ['A can of soup.', 'A red soup can on a table.'], textDetected: true },
      { imageId: '4', image: join(dir, 'images', 'c.png'), captions: ['A sign saying stop.'], textDetected: true },
    ]);
    expect(data.skipped).toEqual({
      missing: 1,
      unreadable: 0,
      noCaptions: 1,
      examples: ['no captions: image 2', `missing: ${join(dir, 'images', 'gone.png')} (image 3)`],
    });
    expect(logger.warnings).toEqual([
      `val.json: skipped 2 of 4 images (1 missing, 0 unreadable, 1 without captions), e.g. no captions: image 2; missing: ${join(dir, 'images', 'gone.png')} (image 3)`,
    ]);
  });

  it('keeps missing images when checkImages is false', async () => {
    const file = write('val.json', vizwiz);
    const data = await loadDataset({ file, imageRoot: join(dir, 'images'), checkImages: false });
    expect(data.samples.map((s) => s.imageId)).toEqual(['1', '3', '4']);
    expect(data.skipped.missing).toBe(0);
  });

  it('names the file and the entry of a malformed annotation', async () => {
    const bad = { images: vizwiz.images, annotations: [...vizwiz.annotations, { image_id: 9, caption: 'x', is_rejected: false, is_precanned: false }] };
    const file = write('bad-vizwiz.json', bad);
    await expect(loadDataset({ file, format: 'vizwiz' })).rejects.toThrow(
      `Expected an image_id listed in images at annotations[6] in ${file} but received 9 of type number`,
    );
    const noName = { images: [{ id: 1, file_name: 'a.png' }, { id: 2 }], annotations: [{ image_id: 1, caption: 'x', is_rejected: false }] };
    const file2 = write('bad-vizwiz2.json', noName);
    await expect(loadDataset({ file: file2 })).rejects.toThrow(
      `Expected a non-empty string file_name at images[1] in ${file2} but received undefined`,
    );
  });
});

describe('loadDataset: COCO captions', () => {
  it('reads images in file order with numeric ids as strings and counts unreadable images', async () => {
    const file = write('captions_val2014.json', {
      images: [{ id: 42, file_name: 'b.png' }, { id: 7, file_name: 'broken.jpg' }, { id: 5, file_name: 'a.png' }],
      annotations: [
        { id: 1, image_id: 5, caption: 'first of five' },
        { id: 2, image_id: 42, caption: 'forty-two' },
        { id: 3, image_id: 7, caption: 'broken' },
        { id: 4, image_id: 5, caption: 'second of five' },
      ],
    });
    const data = await loadDataset({ file, imageRoot: join(dir, 'images') });
    expect(data.samples).toEqual([
      { imageId: '42', image: join(dir, 'images', 'b.png'), captions: ['forty-two'] },
      { imageId: '5', image: join(dir, 'images', 'a.png'), captions: ['first of five', 'second of five'] },
    ]);
    expect(data.numericIds).toBe(true);
    expect(data.skipped).toEqual({ missing: 0, unreadable: 1, noCaptions: 0, examples: [`unreadable: ${join(dir, 'images', 'broken.jpg')} (image 7)`] });
  });

  it('rejects a caption that is not a string', async () => {
    const file = write('captions_bad.json', { images: [{ id: 1, file_name: 'a.png' }], annotations: [{ image_id: 1, caption: 3 }] });
    await expect(loadDataset({ file })).rejects.toThrow(`Expected a string caption at [0] in ${file} but received 3 of type number`);
  });
});

const karpathy = {
  dataset: 'coco',
  images: [
    { filepath: 'val2014', filename: 'k1.png', split: 'test', cocoid: 11, imgid: 0, sentences: [{ raw: 'Test one.', tokens: ['test', 'one'] }] },
    { filepath: 'val2014', filename: 'k2.png', split: 'restval', cocoid: 12, imgid: 1, sentences: [{ raw: 'Restval a.' }, { raw: 'Restval b.' }] },
    { filepath: 'train2014', filename: 'k3.png', split: 'train', cocoid: 13, imgid: 2, sentences: [{ raw: 'Train.' }] },
    { filepath: 'val2014', filename: 'k4.png', split: 'val', cocoid: 14, imgid: 3, sentences: [{ raw: 'Val.' }] },
  ],
};

describe('loadDataset: Karpathy dataset_coco.json', () => {
  it('selects splits; restval joins train only with includeRestval', async () => {
    const file = write('dataset_coco.json', karpathy);
    const root = join(dir, 'images');
    const ids = async (split?: 'train' | 'val' | 'test' | 'restval' | 'all', includeRestval?: boolean) =>
      (await loadDataset({ file, imageRoot: root, split, includeRestval })).samples.map((s) => s.imageId);
    expect(await ids('train')).toEqual(['13']);
    expect(await ids('train', true)).toEqual(['12', '13']);
    expect(await ids('val')).toEqual(['14']);
    expect(await ids('test')).toEqual(['11']);
    expect(await ids('restval')).toEqual(['12']);
    expect(await ids()).toEqual(['11', '12', '13', '14']);
    const restval = await loadDataset({ file, imageRoot: root, split: 'restval' });
    expect(restval.samples).toEqual([{ imageId: '12', image: join(root, 'val2014', 'k2.png'), captions: ['Restval a.', 'Restval b.'] }]);
  });

  it('rejects an unknown split in the file and split options for other formats', async () => {
    const file = write('dataset_bad.json', { images: [{ ...karpathy.images[0], split: 'dev' }] });
    await expect(loadDataset({ file })).rejects.toThrow(
      `Expected a split of "train", "val", "test" or "restval" at images[0] in ${file} but received "dev" of type string`,
    );
    const coco = write('captions_split.json', { images: [{ id: 1, file_name: 'a.png' }], annotations: [{ image_id: 1, caption: 'x' }] });
    await expect(loadDataset({ file: coco, split: 'train' })).rejects.toThrow(
      `Options split and includeRestval apply to Karpathy files only, but ${coco} is coco`,
    );
    await expect(loadDataset({ file: coco, split: 'dev' as 'train' })).rejects.toThrow(
      'Expected one of "train", "val", "test", "restval", "all" for split but received "dev" of type string',
    );
  });
});

describe('loadDataset: processed json and JSONL', () => {
  it('reads the paper\'s processed list, merging repeated image ids', async () => {
    const file = write('processed_val.json', [
      { image: 'images/a.png', image_id: 'VizWiz_val_1', captions: ['one', 'two'] },
      { image: 'images/b.png', image_id: 'VizWiz_val_2', captions: [] },
      { image: 'images/a.png', image_id: 'VizWiz_val_1', captions: ['three'] },
    ]);
    const data = await loadDataset({ file });
    expect(data.samples).toEqual([{ imageId: 'VizWiz_val_1', image: join(dir, 'images', 'a.png'), captions: ['one', 'two', 'three'] }]);
    expect(data.skipped.noCaptions).toBe(1);
  });

  it('reads JSONL keyed by the image as written (or its image_id), merging lines of one image, skipping blank lines', async () => {
    const file = write('train.jsonl', [
      JSON.stringify({ image: 'images/a.png', captions: ['zero'] }),
      '',
      JSON.stringify({ image: join(dir, 'images', 'b.png'), captions: ['two a', 'two b'] }),
      JSON.stringify({ image: 'images/c.png', image_id: 'cee', captions: ['three'] }),
      JSON.stringify({ image: 'images/a.png', captions: ['four'] }),
    ].join('\n'));
    const data = await loadDataset({ file });
    expect(data.samples).toEqual([
      { imageId: 'images/a.png', image: join(dir, 'images', 'a.png'), captions: ['zero', 'four'] },
      { imageId: join(dir, 'images', 'b.png'), image: join(dir, 'images', 'b.png'), captions: ['two a', 'two b'] },
      { imageId: 'cee', image: join(dir, 'images', 'c.png'), captions: ['three'] },
    ]);
    expect(data.numericIds).toBe(false);
  });

  it('says whether every image id is a JSON number (results files keep the type)', async () => {
    const numeric = write('ids.jsonl', [{ image: 'images/a.png', image_id: 7, captions: ['x'] }, { image: 'images/b.png', image_id: 8, captions: ['y'] }]
      .map((l) => JSON.stringify(l)).join('\n'));
    expect(await loadDataset({ file: numeric })).toMatchObject({ numericIds: true, samples: [{ imageId: '7' }, { imageId: '8' }] });
    const mixed = write('mixed.jsonl', [{ image: 'images/a.png', image_id: 7, captions: ['x'] }, { image: 'images/b.png', image_id: '8', captions: ['y'] }]
      .map((l) => JSON.stringify(l)).join('\n'));
    expect((await loadDataset({ file: mixed })).numericIds).toBe(false);
  });

  it('names the line of a malformed JSONL entry', async () => {
    const file = write('bad.jsonl', `${JSON.stringify({ image: 'a.png', captions: ['x'] })}\n{"image": "b.png", "captions": "y"}\n`);
    await expect(loadDataset({ file, checkImages: false })).rejects.toThrow(
      `Expected a captions array of strings at line 2 in ${file} but received "y" of type string`,
    );
    const file2 = write('bad2.jsonl', `${JSON.stringify({ image: 'a.png', captions: ['x'] })}\n{"image": \n`);
    await expect(loadDataset({ file: file2, checkImages: false })).rejects.toThrow(
      new FileError(`Cannot parse JSON Lines file ${file2}: invalid JSON at line 2, column 11: unexpected end of file`, { path: file2 }),
    );
  });
});

describe('format detection and file errors', () => {
  it('detects each JSON format from its content', () => {
    expect(detectFormat(vizwiz)).toBe('vizwiz');
    expect(detectFormat({ images: [{ id: 1, file_name: 'a', text_detected: true }], annotations: [] })).toBe('vizwiz');
    expect(detectFormat({ images: [{ id: 1, file_name: 'a' }], annotations: [{ image_id: 1, caption: 'x' }] })).toBe('coco');
    expect(detectFormat(karpathy)).toBe('karpathy');
    expect(detectFormat([{ image: 'a', image_id: 1, captions: [] }])).toBe('processed');
    expect(detectFormat([{ image_id: 1, caption: 'x' }])).toBe(undefined);
    expect(detectFormat({ images: [] })).toBe(undefined);
  });

  it('detects JSONL from the content when the extension does not say', async () => {
    const file = write('pairs.txt', `${JSON.stringify({ image: 'images/a.png', captions: ['x'] })}\n${JSON.stringify({ image: 'images/b.png', captions: ['y'] })}\n`);
    expect((await loadDataset({ file })).samples.map((s) => s.imageId)).toEqual(['images/a.png', 'images/b.png']);
  });

  it('reads one-line JSONL files, and honours an explicit format', async () => {
    const line = JSON.stringify({ image: 'images/a.png', captions: ['only'] });
    const oneJsonl = write('one.jsonl', `${line}\n`);
    const oneJson = write('one.json', line);
    for (const file of [oneJsonl, oneJson]) {
      const data = await loadDataset({ file });
      expect(data.format).toBe('jsonl');
      expect(data.samples).toEqual([{ imageId: 'images/a.png', image: join(dir, 'images', 'a.png'), captions: ['only'] }]);
    }
    const twoLines = write('two.json', `${line}\n${line}\n`);
    await expect(loadDataset({ file: twoLines, format: 'coco' })).rejects.toThrow(
      new FileError(`Cannot parse dataset file ${twoLines}: invalid JSON at line 2, column 1: unexpected "{"`, { path: twoLines }),
    );
    const coco = write('captions_fmt.json', { images: [{ id: 1, file_name: 'images/a.png' }], annotations: [{ image_id: 1, caption: 'x' }] });
    expect((await loadDataset({ file: coco })).format).toBe('coco');
    await expect(loadDataset({ file: coco, format: 'processed' })).rejects.toThrow(
      `Expected a processed caption list [{image, image_id, captions}] in ${coco} but received an object of type Object`,
    );
  });

  it('reports undetectable, unparsable and unreadable files and bad options', async () => {
    const results = write('results.json', [{ image_id: 1, caption: 'x' }]);
    await expect(loadDataset({ file: results })).rejects.toThrow(
      `Cannot detect the dataset format of ${results}: expected VizWiz-Captions or COCO annotations {images, annotations}, ` +
      `Karpathy's {images: [{filename, split, sentences}]}, a processed list [{image, image_id, captions}] or JSONL; received an array of length 1`,
    );
    const broken = write('broken.json', '{"images": [');
    await expect(loadDataset({ file: broken })).rejects.toThrow(
      new FileError(`Cannot parse dataset file ${broken}: invalid JSON at line 1, column 13: unexpected end of file`, { path: broken }));
    const absent = join(dir, 'absent.json');
    await expect(loadDataset({ file: absent })).rejects.toThrow(`Cannot read dataset file ${absent}: no such file`);
    await expect(loadDataset({ file: absent, shuffle: true } as never)).rejects.toThrow(
      'Unknown option "shuffle" in loadDataset options; expected one of "file", "imageRoot", "format", "split", "includeRestval", "role", "checkImages", "name", "logger"',
    );
    await expect(loadDataset({ file: absent, format: 'csv' as 'coco' })).rejects.toThrow(
      'Expected one of "auto", "vizwiz", "coco", "karpathy", "processed", "jsonl" for format but received "csv" of type string',
    );
  });
});

describe('imageCaptions', () => {
  it('maps every image id to all of its captions, merging repeated ids', () => {
    const refs = imageCaptions({
      name: 'x',
      samples: [
        { imageId: '1', image: '/a', captions: ['a', 'b'] },
        { imageId: '2', image: '/b', captions: ['c'] },
        { imageId: '1', image: '/a', captions: ['d'] },
      ],
      skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
    });
    expect([...refs.entries()]).toEqual([['1', ['a', 'b', 'd']], ['2', ['c']]]);
  });

  it('summarises skipped images in one line', () => {
    expect(describeSkipped({ name: 'd', samples: [], skipped: { missing: 2, unreadable: 0, noCaptions: 1, examples: ['m1', 'm2', 'n1'] } }))
      .toBe('d: skipped 3 of 3 images (2 missing, 0 unreadable, 1 without captions), e.g. m1; m2; n1');
  });
});
