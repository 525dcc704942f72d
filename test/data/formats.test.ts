// The dataset-format table is the one list of format names: loadDataset reads every format it lists, and the run
// config's data.*.format takes the same names.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASET_FORMATS, DATASET_FORMAT_CHOICES, formatHasSplits } from '../../lib/data/formats.js';
import { loadDataset } from '../../lib/data/readers.js';
import { DATA_KEYS } from '../../lib/train/run-config.js';

const dir = mkdtempSync(join(tmpdir(), 'blip2-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One file per format, one image with two captions each. */
const FILES: Record<string, { name: string; text: string }> = {
  vizwiz: {
    name: 'vizwiz.json',
    text: JSON.stringify({
      images: [{ id: 7, file_name: 'a.png', text_detected: false }],
      annotations: [{ image_id: 7, caption: 'one', is_rejected: false, is_precanned: false }, { image_id: 7, caption: 'two', is_rejected: false, is_precanned: false }],
    }),
  },
  coco: { name: 'coco.json', text: JSON.stringify({ images: [{ id: 7, file_name: 'a.png' }], annotations: [{ image_id: 7, caption: 'one' }, { image_id: 7, caption: 'two' }] }) },
  karpathy: { name: 'karpathy.json', text: JSON.stringify({ images: [{ filename: 'a.png', split: 'test', cocoid: 7, sentences: [{ raw: 'one' }, { raw: 'two' }] }] }) },
  processed: { name: 'processed.json', text: JSON.stringify([{ image: 'a.png', image_id: 7, captions: ['one', 'two'] }]) },
  jsonl: { name: 'pairs.jsonl', text: `${JSON.stringify({ image: 'a.png', image_id: 7, captions: ['one', 'two'] })}\n` },
};

describe('dataset formats', () => {
  it('lists the five formats loadDataset reads, and auto', () => {
    expect(DATASET_FORMATS.map((f) => f.name)).toEqual(['vizwiz', 'coco', 'karpathy', 'processed', 'jsonl']);
    expect(DATASET_FORMAT_CHOICES).toEqual(['auto', 'vizwiz', 'coco', 'karpathy', 'processed', 'jsonl']);
  });

  it('only Karpathy files (and auto, which may find one) have splits', () => {
    expect(DATASET_FORMAT_CHOICES.filter(formatHasSplits)).toEqual(['auto', 'karpathy']);
  });

  it.each(DATASET_FORMATS.map((f) => f.name))('loadDataset reads a %s file, named or detected', async (format) => {
    const { name, text } = FILES[format]!;
    const file = join(dir, name);
    writeFileSync(file, text);
    for (const given of [format, 'auto'] as const) {
      const dataset = await loadDataset({ file, format: given, checkImages: false, ...(format === 'karpathy' ? { split: 'test' as const } : {}) });
      expect(dataset.format).toBe(format);
      expect(dataset.samples.map((s) => [s.image, s.captions])).toEqual([[join(dir, 'a.png'), ['one', 'two']]]);
    }
  });

  it('an unknown format is refused with the table\'s names', async () => {
    await expect(loadDataset({ file: join(dir, 'x.json'), format: 'csv' as never })).rejects.toThrow(
      'Expected one of "auto", "vizwiz", "coco", "karpathy", "processed", "jsonl" for format but received "csv"');
  });

  it('is the list a run config\'s data.*.format takes', () => {
    expect(DATA_KEYS.format.type).toBe('"auto" | "vizwiz" | "coco" | "karpathy" | "processed" | "jsonl"');
  });
});
