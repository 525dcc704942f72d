/**
 * Caption dataset readers: VizWiz-Captions annotation files, COCO caption files, Karpathy's
 * `dataset_coco.json`, the paper's `processed_*.json` and JSONL, all read into one {@link CaptionDataset}
 * of image paths and captions. Images that are missing, unreadable or left without captions are counted
 * in `skipped` and reported through the logger, never fatal; malformed files are errors that name the
 * file and the offending entry.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import sharp from 'sharp';
import { boolean, describe, invalidParameterError, isPlainObject, knownKeys, nonEmptyString, oneOf, optional } from '../is.js';
import { silentLogger, type Logger } from '../logger.js';
import { parseJsonFile, readTextFile } from '../io/json.js';
import { badFile, collect, isId, isVizWizAnnotations, isVizWizReference, jsonObjectLines } from '../metrics/loaders.js';
import { ArgumentError } from '../errors.js';
import { DATASET_FORMAT_CHOICES, formatHasSplits, type DatasetFormat } from './formats.js';

export type { DatasetFormat };

/** One image with its captions. */
export interface CaptionSample {
  /** The image id as a string (COCO's numeric ids become decimal strings). */
  imageId: string;
  /** Absolute path of the image file. */
  image: string;
  /** The image's captions (at least one), in file order. */
  captions: string[];
  /** VizWiz-Captions only: whether the image shows text. */
  textDetected?: boolean;
}

/** Why images were left out of a dataset. */
export interface SkippedImages {
  /** Image files that do not exist (or are not regular files). */
  missing: number;
  /** Image files whose header is not a decodable image. */
  unreadable: number;
  /** Images with no usable caption (e.g. all of a VizWiz image's captions rejected or precanned). */
  noCaptions: number;
  /** Up to {@link MAX_SKIPPED_EXAMPLES} examples, e.g. `missing: /data/x.jpg (image 42)`. */
  examples: string[];
}

/** A read dataset: the usable samples, in file order, and what was skipped. */
export interface CaptionDataset {
  /** A display name: the file's base name (e.g. `val.json`), or what the caller passed. */
  name: string;
  /** The format the file was read as (set by {@link loadDataset}). */
  format?: DatasetFormat;
  samples: CaptionSample[];
  skipped: SkippedImages;
  /**
   * Whether every image id of the file is a JSON number (COCO and VizWiz ids are): `Number(imageId)` gives the id
   * back as the file writes it, so that results files (`image_id`) keep its type. Set by {@link loadDataset}.
   */
  numericIds?: boolean;
}


/** Karpathy split names, plus `'all'` for every image. */
export type KarpathySplit = 'train' | 'val' | 'test' | 'restval' | 'all';

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** The annotation file. */
  file: string;
  /** Directory image paths are relative to. Default: the annotation file's directory. Absolute image paths are kept. */
  imageRoot?: string;
  /** The file's format; `'auto'` (default) detects it from the content (see {@link detectFormat}). */
  format?: DatasetFormat | 'auto';
  /** Karpathy files only: which split to read. Default: the split of `role`, else `'all'`. */
  split?: KarpathySplit;
  /** Karpathy files only: with split `'train'`, also take the `restval` images. Default false. */
  includeRestval?: boolean;
  /**
   * What the data is for. A Karpathy file read without `split` takes the split of that name (so a
   * `dataset_coco.json` named as training data never trains on its val and test images); other formats ignore it.
   */
  role?: 'train' | 'val' | 'test';
  /**
   * Stat every image file and read its header (sharp metadata), skipping missing and unreadable images
   * instead of failing later in the loader. Default true.
   */
  checkImages?: boolean;
  /** Dataset name. Default: the file's base name. */
  name?: string;
  /** Receives one warning summarising skipped images. Default silent. */
  logger?: Logger;
}

/** How many skipped images are named in {@link SkippedImages.examples}. */
export const MAX_SKIPPED_EXAMPLES = 5;

/** The split names {@link loadDataset} takes. */
export const KARPATHY_SPLITS = ['train', 'val', 'test', 'restval', 'all'] as const;
const LOAD_KEYS = ['file', 'imageRoot', 'format', 'split', 'includeRestval', 'role', 'checkImages', 'name', 'logger'] as const;
/** Header checks in flight at once: enough to hide file-system latency, few enough for libuv's pool. */
const CHECK_CONCURRENCY = 16;

/** Parsing context: where entries came from and what was skipped while parsing. */
interface ParseContext {
  source: string;
  imageRoot: string;
  skipped: SkippedImages;
  /** The JSON types of the image ids read (see {@link CaptionDataset.numericIds}). */
  idTypes: Set<'number' | 'string'>;
}

/** An image id as a sample's string id, noting its JSON type. */
function idString(ctx: ParseContext, id: string | number): string {
  ctx.idTypes.add(typeof id === 'number' ? 'number' : 'string');
  return String(id);
}

function emptySkipped(): SkippedImages {
  return { missing: 0, unreadable: 0, noCaptions: 0, examples: [] };
}

function noteSkip(skipped: SkippedImages, reason: 'missing' | 'unreadable' | 'noCaptions', example: string): void {
  skipped[reason] += 1;
  if (skipped.examples.length < MAX_SKIPPED_EXAMPLES) skipped.examples.push(example);
}

/** Keeps a sample with captions, or counts it as having none. */
function addSample(out: CaptionSample[], ctx: ParseContext, sample: CaptionSample): void {
  if (sample.captions.length === 0) noteSkip(ctx.skipped, 'noCaptions', `no captions: image ${sample.imageId}`);
  else out.push(sample);
}

function stringField(ctx: ParseContext, item: Record<string, unknown>, key: string, where: string): string {
  const value = item[key];
  if (typeof value !== 'string' || value.length === 0) throw badFile(ctx.source, `a non-empty string ${key} at ${where}`, value);
  return value;
}

function captionList(ctx: ParseContext, value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) {
    throw badFile(ctx.source, `a captions array of strings at ${where}`, value);
  }
  return value as string[];
}

/** The `images` list of a COCO-style file, checked: `[{id, file_name, ...}]`. */
function cocoImages(ctx: ParseContext, json: Record<string, unknown>): Record<string, unknown>[] {
  const images = json.images;
  if (!Array.isArray(images)) throw badFile(ctx.source, 'an images array', images);
  const seen = new Set<string | number>();
  return images.map((img, i) => {
    if (!isPlainObject(img) || !isId(img.id)) throw badFile(ctx.source, `an image with a number or string id at images[${i}]`, img);
    if (seen.has(img.id)) throw badFile(ctx.source, `a unique image id at images[${i}]`, img.id);
    seen.add(img.id);
    stringField(ctx, img, 'file_name', `images[${i}]`);
    return img;
  });
}

function annotationsOf(ctx: ParseContext, json: Record<string, unknown>): unknown[] {
  if (!Array.isArray(json.annotations)) throw badFile(ctx.source, 'an annotations array', json.annotations);
  return json.annotations;
}

/**
 * VizWiz-Captions annotations (`train.json` / `val.json`): rejected and precanned captions are dropped, as the
 * VizWiz evaluation does; `text_detected` is kept (the image's flag, or, when images lack it, whether any
 * kept caption's annotation has it).
 */
function parseVizWiz(json: unknown, ctx: ParseContext): CaptionSample[] {
  if (!isPlainObject(json)) throw badFile(ctx.source, 'a VizWiz-Captions object {images, annotations}', json);
  const images = cocoImages(ctx, json);
  const annotations = annotationsOf(ctx, json);
  const captions = collect(annotations, ctx.source, new Map(), isVizWizReference);
  const textInCaptions = new Set<string | number>();
  annotations.forEach((a, i) => {
    const rec = a as Record<string, unknown>;
    if (rec.text_detected !== undefined && typeof rec.text_detected !== 'boolean') {
      throw badFile(ctx.source, `a boolean text_detected at annotations[${i}]`, rec.text_detected);
    }
    if (rec.text_detected === true && isVizWizReference(rec)) textInCaptions.add(rec.image_id as string | number);
  });
  const known = new Set(images.map((img) => img.id as string | number));
  annotations.forEach((a, i) => {
    const id = (a as Record<string, unknown>).image_id as string | number;
    if (!known.has(id)) throw badFile(ctx.source, `an image_id listed in images at annotations[${i}]`, id);
  });
  const out: CaptionSample[] = [];
  images.forEach((img, i) => {
    if (img.text_detected !== undefined && typeof img.text_detected !== 'boolean') {
      throw badFile(ctx.source, `a boolean text_detected at images[${i}]`, img.text_detected);
    }
    const id = img.id as string | number;
    addSample(out, ctx, {
      imageId: idString(ctx, id),
      image: resolve(ctx.imageRoot, img.file_name as string),
      captions: captions.get(id) ?? [],
      textDetected: (img.text_detected as boolean | undefined) ?? textInCaptions.has(id),
    });
  });
  return out;
}

/**
 * COCO caption files (`captions_train2014.json`, ...):
 * `{images: [{id, file_name}], annotations: [{image_id, caption}]}`.
 */
function parseCoco(json: unknown, ctx: ParseContext): CaptionSample[] {
  if (!isPlainObject(json)) throw badFile(ctx.source, 'a COCO captions object {images, annotations}', json);
  const images = cocoImages(ctx, json);
  const annotations = annotationsOf(ctx, json);
  const captions = collect(annotations, ctx.source, new Map());
  const known = new Set(images.map((img) => img.id as string | number));
  annotations.forEach((a, i) => {
    const id = (a as Record<string, unknown>).image_id as string | number;
    if (!known.has(id)) throw badFile(ctx.source, `an image_id listed in images at annotations[${i}]`, id);
  });
  const out: CaptionSample[] = [];
  for (const img of images) {
    const id = img.id as string | number;
    addSample(out, ctx, { imageId: idString(ctx, id), image: resolve(ctx.imageRoot, img.file_name as string), captions: captions.get(id) ?? [] });
  }
  return out;
}

/** Whether a Karpathy image's split is wanted. */
function splitMatches(imageSplit: string, split: KarpathySplit, includeRestval: boolean): boolean {
  if (split === 'all') return true;
  return imageSplit === split || (split === 'train' && includeRestval && imageSplit === 'restval');
}

/**
 * Karpathy's `dataset_coco.json` (also `dataset_flickr8k/30k.json`): `{images: [{filepath?, filename, split,
 * cocoid | imgid, sentences: [{raw}]}]}`. The image path is `imageRoot/filepath/filename`; the id is `cocoid`
 * when present, else `imgid`.
 */
function parseKarpathy(json: unknown, ctx: ParseContext, split: KarpathySplit, includeRestval: boolean): CaptionSample[] {
  if (!isPlainObject(json) || !Array.isArray(json.images)) throw badFile(ctx.source, 'a Karpathy dataset object {images: [...]}', json);
  const out: CaptionSample[] = [];
  json.images.forEach((img: unknown, i: number) => {
    const where = `images[${i}]`;
    if (!isPlainObject(img)) throw badFile(ctx.source, `an image object at ${where}`, img);
    const filename = stringField(ctx, img, 'filename', where);
    if (img.filepath !== undefined && typeof img.filepath !== 'string') throw badFile(ctx.source, `a string filepath at ${where}`, img.filepath);
    if (typeof img.split !== 'string' || !(KARPATHY_SPLITS as readonly string[]).includes(img.split) || img.split === 'all') {
      throw badFile(ctx.source, `a split of "train", "val", "test" or "restval" at ${where}`, img.split);
    }
    const id = img.cocoid ?? img.imgid;
    if (!isId(id)) throw badFile(ctx.source, `a number or string cocoid or imgid at ${where}`, id);
    if (!Array.isArray(img.sentences)) throw badFile(ctx.source, `a sentences array at ${where}`, img.sentences);
    const captions = img.sentences.map((s: unknown, j: number) => {
      if (!isPlainObject(s) || typeof s.raw !== 'string') throw badFile(ctx.source, `a sentence {raw: string} at ${where}.sentences[${j}]`, s);
      return s.raw;
    });
    if (!splitMatches(img.split, split, includeRestval)) return;
    addSample(out, ctx, { imageId: idString(ctx, id), image: resolve(ctx.imageRoot, (img.filepath as string | undefined) ?? '', filename), captions });
  });
  return out;
}

/** Groups items by image id, merging the captions of repeated ids (the first path wins). */
function mergeById(items: CaptionSample[], ctx: ParseContext): CaptionSample[] {
  const byId = new Map<string, CaptionSample>();
  for (const item of items) {
    const first = byId.get(item.imageId);
    if (first === undefined) byId.set(item.imageId, { ...item, captions: [...item.captions] });
    else first.captions.push(...item.captions);
  }
  const out: CaptionSample[] = [];
  for (const sample of byId.values()) addSample(out, ctx, sample);
  return out;
}

/** The paper's `processed_*.json`: `[{"image", "image_id", "captions": [...]}]`. */
function parseProcessed(json: unknown, ctx: ParseContext): CaptionSample[] {
  if (!Array.isArray(json)) throw badFile(ctx.source, 'a processed caption list [{image, image_id, captions}]', json);
  const items = json.map((item: unknown, i: number) => {
    const where = `[${i}]`;
    if (!isPlainObject(item)) throw badFile(ctx.source, `an object at ${where}`, item);
    const image = stringField(ctx, item, 'image', where);
    if (!isId(item.image_id)) throw badFile(ctx.source, `a number or string image_id at ${where}`, item.image_id);
    return { imageId: idString(ctx, item.image_id), image: resolve(ctx.imageRoot, image), captions: captionList(ctx, item.captions, where) };
  });
  return mergeById(items, ctx);
}

/**
 * JSONL: one `{"image", "captions": [...]}` object per line; `image_id` is optional and defaults to the `image`
 * path as the line writes it, so lines of one image share its id (their captions are merged) and predictions are
 * keyed by the image, whatever the line order. Blank lines are ignored; errors name the 1-based line number.
 */
function parseJsonl(text: string, ctx: ParseContext): CaptionSample[] {
  const items: CaptionSample[] = [];
  for (const { item, where } of jsonObjectLines(text, ctx.source)) {
    const image = stringField(ctx, item, 'image', where);
    const id = item.image_id ?? image;
    if (!isId(id)) throw badFile(ctx.source, `a number or string image_id at ${where}`, id);
    items.push({ imageId: idString(ctx, id), image: resolve(ctx.imageRoot, image), captions: captionList(ctx, item.captions, where) });
  }
  return mergeById(items, ctx);
}

/**
 * Detects a dataset format from parsed JSON (`undefined` content = not one JSON document, i.e. JSONL):
 * Karpathy (`images` entries with `sentences`), VizWiz-Captions (annotations with `is_rejected` /
 * `is_precanned`, or images with `text_detected`), COCO (`images` + `annotations`), processed (a list of
 * objects with `captions`). Returns undefined when none fits.
 */
export function detectFormat(json: unknown): Exclude<DatasetFormat, 'jsonl'> | undefined {
  if (Array.isArray(json)) {
    return json.length > 0 && isPlainObject(json[0]) && 'captions' in json[0] && 'image' in json[0] ? 'processed' : undefined;
  }
  if (!isPlainObject(json) || !Array.isArray(json.images)) return undefined;
  const first: unknown = json.images[0];
  if (isPlainObject(first) && 'sentences' in first) return 'karpathy';
  if (!Array.isArray(json.annotations)) return undefined;
  const textFlag = json.images.some((img: unknown) => isPlainObject(img) && 'text_detected' in img);
  return isVizWizAnnotations(json.annotations) || textFlag ? 'vizwiz' : 'coco';
}

/** True when text looks like JSONL: more than one non-blank line, the first an object. */
function looksLikeJsonl(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  return lines.length > 1 && lines[0]!.trim().startsWith('{');
}

/** The format of a file: the given one, `.jsonl` by extension, else JSONL-looking text, else from the JSON content. */
function resolveFormat(text: string, source: string, format: DatasetFormat | 'auto'): { format: DatasetFormat; json?: unknown } {
  if (format === 'jsonl' || (format === 'auto' && extname(source).toLowerCase() === '.jsonl')) return { format: 'jsonl' };
  if (format !== 'auto') return { format, json: parseJsonFile(text, source, 'dataset file') };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    if (looksLikeJsonl(text)) return { format: 'jsonl' };
    json = parseJsonFile(text, source, 'dataset file'); // not JSON either: the FileError naming the line and column
  }
  const detected = detectFormat(json);
  if (detected !== undefined) return { format: detected, json };
  // A one-line JSONL file is also a JSON document.
  if (isPlainObject(json) && 'image' in json && 'captions' in json) return { format: 'jsonl' };
  throw new ArgumentError(
    `Cannot detect the dataset format of ${source}: expected VizWiz-Captions or COCO annotations {images, annotations}, ` +
    `Karpathy's {images: [{filename, split, sentences}]}, a processed list [{image, image_id, captions}] or JSONL; ` +
    `received ${describe(json)}`,
  );
}

/** Samples from a file's text in the given (or detected) format. */
function parseText(text: string, ctx: ParseContext, format: DatasetFormat | 'auto', split: KarpathySplit, includeRestval: boolean): { format: DatasetFormat; samples: CaptionSample[] } {
  const { format: resolved, json } = resolveFormat(text, ctx.source, format);
  switch (resolved) {
    case 'jsonl': return { format: resolved, samples: parseJsonl(text, ctx) };
    case 'vizwiz': return { format: resolved, samples: parseVizWiz(json, ctx) };
    case 'coco': return { format: resolved, samples: parseCoco(json, ctx) };
    case 'karpathy': return { format: resolved, samples: parseKarpathy(json, ctx, split, includeRestval) };
    case 'processed': return { format: resolved, samples: parseProcessed(json, ctx) };
  }
}

/** Why an image cannot be used, or undefined when its file exists and its header decodes. */
async function imageProblem(path: string): Promise<'missing' | 'unreadable' | undefined> {
  try {
    if (!(await stat(path)).isFile()) return 'missing';
  } catch {
    return 'missing';
  }
  try {
    const meta = await sharp(path).metadata();
    return meta.width !== undefined && meta.width > 0 && meta.height !== undefined && meta.height > 0 ? undefined : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Drops samples whose image is missing or unreadable, counting them; keeps the order of the rest. */
async function checkImageFiles(samples: CaptionSample[], skipped: SkippedImages): Promise<CaptionSample[]> {
  const problems = new Array<'missing' | 'unreadable' | undefined>(samples.length);
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const i = next++;
      problems[i] = await imageProblem(samples[i]!.image);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, samples.length) }, worker));
  const kept: CaptionSample[] = [];
  samples.forEach((sample, i) => {
    const problem = problems[i];
    if (problem === undefined) kept.push(sample);
    else noteSkip(skipped, problem, `${problem}: ${sample.image} (image ${sample.imageId})`);
  });
  return kept;
}

/** The one-line summary {@link loadDataset} logs when images were skipped. */
export function describeSkipped(dataset: CaptionDataset): string {
  const { missing, unreadable, noCaptions, examples } = dataset.skipped;
  const total = missing + unreadable + noCaptions;
  return `${dataset.name}: skipped ${total} of ${total + dataset.samples.length} images ` +
    `(${missing} missing, ${unreadable} unreadable, ${noCaptions} without captions), e.g. ${examples.join('; ')}`;
}

/**
 * Reads a caption dataset from an annotation file.
 *
 * @example
 * const val = await loadDataset({ file: 'annotations/val.json', imageRoot: 'val', logger: streamLogger() });
 * // val.samples[0] =
 * //   { imageId: '23431', image: '/…/val/VizWiz_val_00000000.jpg', captions: [...], textDetected: true }
 * @throws TypeError for invalid options, or a malformed file (naming the file and the entry).
 * @throws Error when the file cannot be read.
 */
export async function loadDataset(options: LoadDatasetOptions): Promise<CaptionDataset> {
  const o = knownKeys('loadDataset options', options, LOAD_KEYS);
  const file = resolve(nonEmptyString('file', o.file));
  const imageRoot = optional(o.imageRoot, dirname(file), (v) => resolve(nonEmptyString('imageRoot', v)));
  const format = optional(o.format, 'auto', (v) => oneOf('format', v, DATASET_FORMAT_CHOICES));
  const role = optional(o.role, undefined, (v) => oneOf('role', v, ['train', 'val', 'test'] as const));
  const split = optional(o.split, role ?? 'all', (v) => oneOf('split', v, KARPATHY_SPLITS));
  const includeRestval = optional(o.includeRestval, false, (v) => boolean('includeRestval', v));
  const checkImages = optional(o.checkImages, true, (v) => boolean('checkImages', v));
  const name = optional(o.name, basename(file), (v) => nonEmptyString('name', v));
  const logger = (o.logger as Logger | undefined) ?? silentLogger;
  if (o.logger !== undefined && typeof (o.logger as Partial<Logger> | null)?.warn !== 'function') {
    throw invalidParameterError('logger', 'a Logger {debug, info, warn}', o.logger);
  }
  const text = await readTextFile(file, 'dataset file');
  const skipped = emptySkipped();
  const ctx: ParseContext = { source: file, imageRoot, skipped, idTypes: new Set() };
  const parsed = parseText(text, ctx, format, split, includeRestval);
  if ((o.split !== undefined || o.includeRestval !== undefined) && !formatHasSplits(parsed.format)) {
    throw new ArgumentError(`Options split and includeRestval apply to Karpathy files only, but ${file} is ${parsed.format}`);
  }
  if (parsed.format === 'karpathy' && o.split === undefined && role !== undefined) {
    logger.info(`${name}: Karpathy file without a split; reading its ${role} split${role === 'train' && includeRestval ? ' and restval' : ''}`);
  }
  const samples = checkImages ? await checkImageFiles(parsed.samples, skipped) : parsed.samples;
  const numericIds = ctx.idTypes.size === 1 && ctx.idTypes.has('number');
  const dataset: CaptionDataset = { name, format: parsed.format, samples, skipped, numericIds };
  if (skipped.missing + skipped.unreadable + skipped.noCaptions > 0) logger.warn(describeSkipped(dataset));
  return dataset;
}

/**
 * Image id → all of its captions (the references for CIDEr and cocoEval), in dataset order.
 * Samples sharing an id (possible when datasets are concatenated) have their captions merged.
 */
export function imageCaptions(dataset: CaptionDataset): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const sample of dataset.samples) {
    const list = map.get(sample.imageId);
    if (list === undefined) map.set(sample.imageId, [...sample.captions]);
    else list.push(...sample.captions);
  }
  return map;
}

/**
 * The dataset's image ids as results files write them (`image_id`): numbers when every id in the file is a JSON
 * number (COCO, VizWiz; pycocotools rejects string ids there), else the strings.
 */
export function resultsImageId(dataset: CaptionDataset): (id: string | number) => string | number {
  return dataset.numericIds === true ? (id) => Number(id) : (id) => id;
}
