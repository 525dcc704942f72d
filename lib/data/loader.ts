/**
 * CaptionLoader: seeded, resumable epochs of image–caption batches, with decoding, preprocessing and
 * augmentation running on the image worker pool `prefetch` batches ahead of the consumer, so that
 * preparing images overlaps model work.
 *
 * Every random choice is a pure function of (seed, epoch, entry index) — see {@link deriveSeed} — so an
 * epoch is the same whatever the prefetch depth, and starting an epoch at batch k gives exactly the tail of
 * the full epoch.
 */
import { chance, pick, randomInt, shuffleInPlace, Xoshiro128 } from '../random.js';
import { parseImageAugmentSpec, type ImageAugmentSpec, type ResolvedImageAugmentSpec } from '../image/augment.js';
import { corruptionKind, type Corruption, type CorruptionKind, type CorruptionName } from '../image/corrupt.js';
import type { ImageInput } from '../image/decode.js';
import type { ImageTransform } from '../image/pipeline.js';
import type { PixelValues, PreprocessOptions } from '../image/processor.js';
import { boolean, integerInRange, invalidParameterError, isPlainObject, knownKeys, numberInRange, oneOf, optional } from '../is.js';
import { augmentCaption, parseCaptionAugmentSpec, swapLeftRight, wordListReverser, type CaptionAugmentSpec } from '../text/augment.js';
import type { CaptionDataset, CaptionSample } from './readers.js';
import { deriveSeed } from './seeds.js';
import { ArgumentError } from '../errors.js';

/** What the loader needs of an image processor: {@link BlipImageProcessor} fits (the loader adds `transforms`). */
export interface BatchImageProcessor {
  preprocess(inputs: readonly ImageInput[], options?: PreprocessOptions): Promise<PixelValues>;
}

/** Preprocessing options the loader passes through (it sets `transforms` itself). */
export type LoaderPreprocessOptions = Omit<PreprocessOptions, 'transforms'>;

/** How target captions are chosen. */
export type CaptionMode = 'random' | 'first' | 'all';

/** Options of {@link CaptionLoader}. */
export interface CaptionLoaderOptions {
  /** Turns image files into pixel values (usually a {@link BlipImageProcessor}). */
  processor: BatchImageProcessor;
  /** Samples per batch, 1–65536. */
  batchSize: number;
  /** Run seed, an integer in [0, 2^53). Default 0. */
  seed?: number;
  /** Shuffle each epoch (seeded by seed and epoch). Default true. */
  shuffle?: boolean;
  /** Drop the last batch of an epoch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /**
   * Target captions: `'random'` (default) one caption per image per epoch drawn by the seeded generator;
   * `'first'` the first caption; `'all'` every caption as its own sample (an image appears once per caption).
   */
  captions?: CaptionMode;
  /** Batches prepared ahead of the one being consumed, 0–64. Default 2. */
  prefetch?: number;
  /** Passed to the processor's `preprocess` (pool, load, fastResize, logger). */
  preprocess?: LoaderPreprocessOptions;
  /** Image augmentation (seeded per image); mirrored images get left/right swapped in their caption. */
  imageAugment?: ImageAugmentSpec;
  /**
   * Resize every image to a size×size square (Pillow bicubic) before the processor when `imageAugment` is off —
   * the paper's scripts' 384 for un-augmented images (their augmentation crops to 384 instead). Default: off.
   */
  preResize?: number;
  /** Caption augmentation (seeded per image), applied to the target caption. */
  captionAugment?: CaptionAugmentSpec;
  /**
   * A corruption applied to every image (seeded per image), e.g. `{ kind: 'gaussian_blur', severity: 3 }`; aliases
   * accepted.
   */
  corrupt?: { kind: CorruptionName; severity: number };
  /**
   * Label-preserving degradation augmentation: the first rule whose `word` the target caption contains (as a whole
   * word) applies its corruption with probability `p`, at a severity drawn from `severities` — more of the blur,
   * darkness or noise the caption already names, e.g.
   * `{ word: 'dark', kind: 'low_light', severities: [1, 2], p: 0.5 }`.
   */
  matchCorruptions?: MatchCorruption[];
  /**
   * Words whose lists read left to right in the captions (e.g. the colours of a row of objects): a mirrored
   * image's caption gets such lists reversed ("red, blue and green" → "green, blue and red") as well as
   * left/right swapped. Default none.
   */
  flipListWords?: string[];
}

/** A rule of {@link CaptionLoaderOptions.matchCorruptions}. */
export interface MatchCorruption {
  word: string;
  kind: CorruptionKind;
  severities: number[];
  p: number;
}

/** Validates flipListWords: an array of single words (letters, apostrophes, hyphens). */
export function parseFlipListWords(value: unknown): string[] {
  if (!Array.isArray(value)) throw invalidParameterError('flipListWords', 'array of words, e.g. ["red", "blue"]', value);
  wordListReverser(value as string[], 'flipListWords');
  return [...(value as string[])];
}

/** Validates matchCorruptions rules (unknown keys, kinds, severities 1–5, p in [0, 1]). */
export function parseMatchCorruptions(value: unknown): MatchCorruption[] {
  if (!Array.isArray(value)) throw invalidParameterError('matchCorruptions', 'array of { word, kind, severities, p }', value);
  return value.map((rule, i) => {
    const r = knownKeys(`matchCorruptions[${i}]`, rule, ['word', 'kind', 'severities', 'p']);
    if (typeof r.word !== 'string' || !/^[a-z][a-z' -]*$/i.test(r.word)) throw invalidParameterError(`matchCorruptions[${i}].word`, 'a word or phrase of letters', r.word);
    if (!Array.isArray(r.severities) || r.severities.length === 0) throw invalidParameterError(`matchCorruptions[${i}].severities`, 'non-empty array of integers 1-5', r.severities);
    return {
      word: r.word.toLowerCase(),
      kind: corruptionKind(r.kind),
      severities: r.severities.map((s, k) => integerInRange(`matchCorruptions[${i}].severities[${k}]`, s, 1, 5)),
      p: optional(r.p, 1, (v) => numberInRange(`matchCorruptions[${i}].p`, v, 0, 1)),
    };
  });
}

/** One unit of an epoch: a sample and which of its captions is the target. */
export interface LoaderEntry {
  /** Index into `dataset.samples`. */
  sample: number;
  /** Index into that sample's `captions`. */
  caption: number;
}

/** A prepared batch. */
export interface CaptionBatch {
  /** The epoch this batch belongs to. */
  epoch: number;
  /** Its position in the epoch, 0-based. */
  index: number;
  /** The samples, in batch order. */
  samples: CaptionSample[];
  /** The entries (sample and caption indices) the batch was made from. */
  entries: LoaderEntry[];
  /** Pixel values, NCHW float32, row i for samples[i]. */
  pixelValues: PixelValues;
  /** Target captions after augmentation (and left/right swapped for mirrored images). */
  captions: string[];
  /** Whether each image was mirrored by augmentation. */
  flipped: boolean[];
}

/** Options of {@link CaptionLoader.epoch}. */
export interface EpochOptions {
  /** First batch to produce (for resuming mid-epoch): 0 to batchesPerEpoch. Default 0. */
  startBatch?: number;
}

const OPTION_KEYS = [
  'processor', 'batchSize', 'seed', 'shuffle', 'dropLast', 'captions', 'prefetch', 'preprocess', 'imageAugment', 'captionAugment', 'corrupt', 'matchCorruptions',
  'flipListWords', 'preResize',
] as const;

function checkDataset(dataset: unknown): CaptionDataset {
  if (!isPlainObject(dataset) || !Array.isArray(dataset.samples) || dataset.samples.length === 0) {
    throw invalidParameterError('dataset', 'a CaptionDataset with at least one sample', isPlainObject(dataset) ? dataset.samples : dataset);
  }
  dataset.samples.forEach((s: unknown, i: number) => {
    if (!isPlainObject(s) || typeof s.image !== 'string' || !Array.isArray(s.captions) || s.captions.length === 0) {
      throw invalidParameterError(`dataset.samples[${i}]`, 'a sample with an image path and at least one caption', s);
    }
  });
  return dataset as unknown as CaptionDataset;
}

function checkCorruption(value: unknown): Corruption {
  const c = knownKeys('corrupt', value, ['kind', 'severity']);
  return { kind: corruptionKind(c.kind), severity: integerInRange('corrupt.severity', c.severity, 1, 5) };
}

/** Seeded, prefetching batches of (image, target caption) for training and evaluation. */
export class CaptionLoader {
  /** The dataset batches are drawn from. */
  readonly dataset: CaptionDataset;
  /** Entries per batch. */
  readonly batchSize: number;
  /** The run seed every random choice derives from. */
  readonly seed: number;
  /** Whether each epoch is shuffled. */
  readonly shuffle: boolean;
  /** Whether a short last batch is dropped. */
  readonly dropLast: boolean;
  /** How target captions are chosen. */
  readonly captionMode: CaptionMode;
  /** Batches prepared ahead of the consumer. */
  readonly prefetch: number;
  private readonly processor: BatchImageProcessor;
  private readonly preprocessOptions: LoaderPreprocessOptions;
  /** The validated image augmentation (every field present), or undefined when off. */
  readonly imageAugment: ResolvedImageAugmentSpec | undefined;
  /** The side of the bicubic pre-resize of un-augmented images, or undefined when off. */
  readonly preResize: number | undefined;
  /** The validated caption augmentation (every field present), or undefined when off. */
  readonly captionAugment: Required<CaptionAugmentSpec> | undefined;
  /** The caption spec as given: re-validating the normalised copy's synonym table on every caption costs 4×. */
  private readonly captionAugmentSpec: CaptionAugmentSpec | undefined;
  /** The validated corruption, or undefined when off. */
  readonly corrupt: Corruption | undefined;
  /** The validated caption-matched corruption rules (empty when off), with their whole-word patterns. */
  readonly matchCorruptions: (MatchCorruption & { pattern: RegExp })[];
  /** Words whose lists a flip reverses in the caption (empty when none). */
  readonly flipListWords: string[];
  private readonly reverseLists: ((caption: string) => string) | undefined;
  /** Entries per epoch: one per sample, or one per caption in `'all'` mode. */
  readonly entriesPerEpoch: number;
  /** In `'all'` mode, the index of each sample's first caption among all captions (for per-entry seeds). */
  private readonly captionOffsets: number[];

  /**
   * @param dataset samples from {@link loadDataset} (or built by hand).
   * @throws TypeError for an empty dataset or invalid options.
   */
  constructor(dataset: CaptionDataset, options: CaptionLoaderOptions) {
    this.dataset = checkDataset(dataset);
    if (options === undefined) throw invalidParameterError('CaptionLoader options', 'plain object', options);
    const o = knownKeys('CaptionLoader options', options, OPTION_KEYS);
    if (typeof (o.processor as Partial<BatchImageProcessor> | undefined)?.preprocess !== 'function') {
      throw invalidParameterError('processor', 'an image processor with a preprocess method', o.processor);
    }
    this.processor = o.processor as BatchImageProcessor;
    this.batchSize = integerInRange('batchSize', o.batchSize, 1, 65536);
    this.seed = optional(o.seed, 0, (v) => integerInRange('seed', v, 0, Number.MAX_SAFE_INTEGER));
    this.shuffle = optional(o.shuffle, true, (v) => boolean('shuffle', v));
    this.dropLast = optional(o.dropLast, false, (v) => boolean('dropLast', v));
    this.captionMode = optional(o.captions, 'random', (v) => oneOf('captions', v, ['random', 'first', 'all'] as const));
    this.prefetch = optional(o.prefetch, 2, (v) => integerInRange('prefetch', v, 0, 64));
    this.preprocessOptions = knownKeys('preprocess', o.preprocess, ['pool', 'load', 'fastResize', 'logger']) as LoaderPreprocessOptions;
    this.imageAugment = optional(o.imageAugment, undefined, parseImageAugmentSpec);
    this.preResize = optional(o.preResize, undefined, (v) => integerInRange('preResize', v, 1, 1 << 15));
    this.captionAugment = optional(o.captionAugment, undefined, parseCaptionAugmentSpec);
    this.captionAugmentSpec = o.captionAugment as CaptionAugmentSpec | undefined;
    this.corrupt = optional(o.corrupt, undefined, checkCorruption);
    this.matchCorruptions = optional(o.matchCorruptions, [], parseMatchCorruptions).map((r) => ({
      ...r, pattern: new RegExp(`(^|[^a-z])${r.word.replace(/[-']/g, '\\$&')}([^a-z]|$)`, 'i'),
    }));
    this.flipListWords = optional(o.flipListWords, [], parseFlipListWords);
    this.reverseLists = this.flipListWords.length > 0 ? wordListReverser(this.flipListWords) : undefined;
    this.captionOffsets = [];
    let captions = 0;
    for (const sample of this.dataset.samples) {
      this.captionOffsets.push(captions);
      captions += sample.captions.length;
    }
    this.entriesPerEpoch = this.captionMode === 'all' ? captions : this.dataset.samples.length;
    if (this.dropLast && this.entriesPerEpoch < this.batchSize) {
      throw new ArgumentError(`Expected at least batchSize (${this.batchSize}) entries with dropLast but ${this.dataset.name} has ${this.entriesPerEpoch}`);
    }
  }

  /** Batches per epoch (the last one smaller unless dropLast). */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.entriesPerEpoch / this.batchSize) : Math.ceil(this.entriesPerEpoch / this.batchSize);
  }

  /**
   * The epoch's entries in order, before batching: in `'random'` mode each sample's target caption is drawn
   * from its own seed (seed, epoch, sample); the order is a Fisher–Yates shuffle seeded by (seed, epoch).
   */
  order(epoch: number): LoaderEntry[] {
    integerInRange('epoch', epoch, 0, Number.MAX_SAFE_INTEGER);
    const entries: LoaderEntry[] = [];
    this.dataset.samples.forEach((sample, i) => {
      if (this.captionMode === 'all') {
        for (let c = 0; c < sample.captions.length; c++) entries.push({ sample: i, caption: c });
      } else if (this.captionMode === 'first') {
        entries.push({ sample: i, caption: 0 });
      } else {
        const rng = new Xoshiro128(deriveSeed(this.seed, epoch, i, 'caption'));
        entries.push({ sample: i, caption: randomInt(rng, sample.captions.length) });
      }
    });
    if (this.shuffle) {
      shuffleInPlace(new Xoshiro128(deriveSeed(this.seed, epoch, 0, 'order')), entries);
    }
    return entries;
  }

  /** The entries of every batch of an epoch (what {@link epoch} will prepare, without any image work). */
  plan(epoch: number): LoaderEntry[][] {
    const entries = this.order(epoch);
    const batches: LoaderEntry[][] = [];
    for (let b = 0; b < this.batchesPerEpoch; b++) batches.push(entries.slice(b * this.batchSize, (b + 1) * this.batchSize));
    return batches;
  }

  /**
   * The batches of one epoch, prepared `prefetch` batches ahead on the processor's worker pool.
   * Breaking out of the loop stops scheduling new batches (those already in flight finish and are dropped).
   *
   * @param epoch the epoch number (0-based); it seeds the order, captions and augmentation.
   * @param options `startBatch` to resume mid-epoch: the batches are exactly those of a full epoch from that index.
   * @throws Error (on iteration) when a batch cannot be prepared, naming the batch and the failing image.
   */
  epoch(epoch: number, options?: EpochOptions): AsyncIterable<CaptionBatch> {
    const o = knownKeys('epoch options', options, ['startBatch']);
    const plan = this.plan(epoch);
    const start = optional(o.startBatch, 0, (v) => integerInRange('startBatch', v, 0, plan.length));
    return { [Symbol.asyncIterator]: () => this.iterate(epoch, plan, start) };
  }

  private async *iterate(epoch: number, plan: LoaderEntry[][], start: number): AsyncGenerator<CaptionBatch> {
    const inFlight: Promise<CaptionBatch>[] = [];
    let next = start;
    const schedule = (depth: number) => {
      while (next < plan.length && inFlight.length < depth) {
        const batch = this.prepare(epoch, next, plan[next]!);
        batch.catch(() => {});
        inFlight.push(batch);
        next += 1;
      }
    };
    for (;;) {
      schedule(Math.max(1, this.prefetch));
      const pending = inFlight.shift();
      if (pending === undefined) return;
      const batch = await pending;
      // While the consumer holds this batch, `prefetch` batches are being prepared.
      schedule(this.prefetch);
      yield batch;
    }
  }

  /** The per-image transforms for a batch, or undefined when no pre-resize, augmentation or corruption is on. */
  private transforms(epoch: number, entries: LoaderEntry[]): ImageTransform[] | undefined {
    const augment = this.imageAugment;
    const corrupt = this.corrupt;
    const rules = this.matchCorruptions;
    const resize = augment === undefined && this.preResize !== undefined ? { width: this.preResize, height: this.preResize } : undefined;
    if (augment === undefined && resize === undefined && corrupt === undefined && rules.length === 0) return undefined;
    return entries.map((entry) => {
      const index = this.entryIndex(entry);
      const transform: ImageTransform = {};
      if (resize !== undefined) transform.resize = resize;
      if (augment !== undefined) transform.augment = { spec: augment, seed: deriveSeed(this.seed, epoch, index, 'imageAugment') };
      if (corrupt !== undefined) {
        transform.corrupt = { ...corrupt, seed: deriveSeed(this.seed, epoch, index, 'corrupt') };
      } else if (rules.length > 0) {
        const caption = this.dataset.samples[entry.sample]!.captions[entry.caption]!;
        const rule = rules.find((r) => r.pattern.test(caption));
        if (rule !== undefined) {
          const rng = new Xoshiro128(deriveSeed(this.seed, epoch, index, 'matchCorrupt'));
          if (chance(rng, rule.p)) {
            transform.corrupt = { kind: rule.kind, severity: pick(rng, rule.severities), seed: rng.nextUint32() };
          }
        }
      }
      return transform;
    });
  }

  /** A stable index for an entry: the sample index, or in `'all'` mode the caption's position in the dataset. */
  private entryIndex(entry: LoaderEntry): number {
    return this.captionMode === 'all' ? this.captionOffsets[entry.sample]! + entry.caption : entry.sample;
  }

  private async prepare(epoch: number, index: number, entries: LoaderEntry[]): Promise<CaptionBatch> {
    const samples = entries.map((e) => this.dataset.samples[e.sample]!);
    const transforms = this.transforms(epoch, entries);
    let pixelValues: PixelValues;
    try {
      const options: PreprocessOptions = transforms === undefined ? { ...this.preprocessOptions } : { ...this.preprocessOptions, transforms };
      pixelValues = await this.processor.preprocess(samples.map((s) => s.image), options);
    } catch (error) {
      throw new Error(`Cannot prepare batch ${index} of epoch ${epoch} of ${this.dataset.name}: ${(error as Error).message}`, { cause: error });
    }
    const flipped = entries.map((_, i) => pixelValues.flipped?.[i] === true);
    const captions = entries.map((entry, i) => {
      let text = samples[i]!.captions[entry.caption]!;
      if (this.captionAugmentSpec !== undefined) {
        text = augmentCaption(text, this.captionAugmentSpec, deriveSeed(this.seed, epoch, this.entryIndex(entry), 'captionAugment'));
      }
      if (!flipped[i]) return text;
      text = swapLeftRight(text);
      return this.reverseLists === undefined ? text : this.reverseLists(text);
    });
    const { flipped: _flipped, ...pixels } = pixelValues;
    return { epoch, index, samples, entries, pixelValues: pixels, captions, flipped };
  }
}
