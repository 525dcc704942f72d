/**
 * The dataset file formats, one row each: the name `loadDataset`'s `format` and a run config's `data.*.format`
 * take, what the format is, and whether it has Karpathy-style splits. Every list of format names is read from this
 * table.
 */

/** One dataset file format. */
export interface DatasetFormatSpec {
  /** The value of `format`. */
  readonly name: string;
  /** What files of this format are. */
  readonly displayName: string;
  /** Whether the file holds several splits, chosen with `split` (and `includeRestval`). */
  readonly splits: boolean;
}

/** The formats `loadDataset` reads. */
export const DATASET_FORMATS = [
  { name: 'vizwiz', displayName: 'VizWiz-Captions annotations', splits: false },
  { name: 'coco', displayName: 'COCO captions annotations', splits: false },
  { name: 'karpathy', displayName: 'Karpathy\'s dataset_coco.json', splits: true },
  { name: 'processed', displayName: 'the paper\'s processed [{image, captions}] json', splits: false },
  { name: 'jsonl', displayName: 'JSON lines, one {"image", "captions", "image_id"?} per line', splits: false },
] as const satisfies readonly DatasetFormatSpec[];

/** The formats `loadDataset` reads. */
export type DatasetFormat = (typeof DATASET_FORMATS)[number]['name'];

/** Every format's name, in table order. */
export const DATASET_FORMAT_NAMES: readonly DatasetFormat[] = DATASET_FORMATS.map((f) => f.name);

/** The values of a `format` option: `'auto'` (detect the format) or a format's name. */
export const DATASET_FORMAT_CHOICES = ['auto', ...DATASET_FORMAT_NAMES] as const;

/** Whether a format (or `'auto'`, which may detect a Karpathy file) can take `split` and `includeRestval`. */
export function formatHasSplits(format: DatasetFormat | 'auto'): boolean {
  return format === 'auto' || DATASET_FORMATS.some((f) => f.name === format && f.splits);
}
