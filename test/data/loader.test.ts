import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptionLoader, type BatchImageProcessor, type CaptionBatch } from '../../lib/data/loader.js';
import type { CaptionDataset } from '../../lib/data/readers.js';
import { deriveSeed } from '../../lib/data/seeds.js';
import { ImageWorkerPool } from '../../lib/image/pool.js';
import { BlipImageProcessor, type PixelValues, type PreprocessOptions } from '../../lib/image/processor.js';

/** n samples `/img/<i>.png` with captions `s<i> c<j>` (sample i has 1 + i % 3 captions). */
function dataset(n: number, captionsOf = (i: number) => 1 + (i % 3)): CaptionDataset {
  return {
    name: 'toy',
    samples: Array.from({ length: n }, (_, i) => ({
      imageId: String(i),
      image: `/img/${i}.png`,
      captions: Array.from({ length: captionsOf(i) }, (_, j) => `s${i} c${j}`),
    })),
    skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
  };
}

/**
 * A processor that writes each image's number (from `/img/<n>.png`) into a 3×1×1 pixel row, records its calls,
 * and flips the images whose number `flip` accepts when transforms are requested.
 */
class FakeProcessor implements BatchImageProcessor {
  calls: { inputs: string[]; options: PreprocessOptions | undefined }[] = [];
  constructor(private readonly flip: (n: number) => boolean = () => false) {}

  async preprocess(inputs: readonly unknown[], options?: PreprocessOptions): Promise<PixelValues> {
    const paths = inputs as string[];
    this.calls.push({ inputs: paths, options });
    const numbers = paths.map((p) => Number(/\/(\d+)\.png$/.exec(p)![1]));
    const data = new Float32Array(numbers.length * 3);
    numbers.forEach((n, i) => data.fill(n, 3 * i, 3 * i + 3));
    const out: PixelValues = { data, shape: [numbers.length, 3, 1, 1] };
    if (options?.transforms !== undefined) out.flipped = numbers.map((n) => this.flip(n));
    return out;
  }
}

/**
 * A processor whose batches finish only when the test releases them (by the number of their first image / batch
 * size, i.e. the batch index of an unshuffled loader with batch size 2): preparation order and overlap are observed
 * as events, not timed.
 */
class GatedProcessor implements BatchImageProcessor {
  private readonly pending = new Map<number, () => void>();
  private readonly seen: number[] = [];

  async preprocess(inputs: readonly unknown[]): Promise<PixelValues> {
    const first = Number(/\/(\d+)\.png$/.exec((inputs as string[])[0]!)![1]);
    const batch = first / inputs.length;
    this.seen.push(batch);
    await new Promise<void>((resolve) => this.pending.set(batch, resolve));
    return { data: new Float32Array(inputs.length * 3), shape: [inputs.length, 3, 1, 1] };
  }

  /** The batches asked for so far, in order. */
  requested(): number[] {
    return [...this.seen];
  }

  release(batch: number): void {
    const resolve = this.pending.get(batch);
    if (!resolve) throw new Error(`batch ${batch} was not requested`);
    this.pending.delete(batch);
    resolve();
  }

  releaseAll(): void {
    for (const batch of [...this.pending.keys()]) this.release(batch);
  }
}

/** Lets every promise callback that is already due run (a few macrotask turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** 'ready' when the promise settles once due callbacks have run, else 'pending'. */
async function stateOf(promise: Promise<unknown>): Promise<'ready' | 'pending'> {
  let state: 'ready' | 'pending' = 'pending';
  promise.then(() => { state = 'ready'; }, () => { state = 'ready'; });
  await settle();
  return state;
}

async function collect(iterable: AsyncIterable<CaptionBatch>): Promise<CaptionBatch[]> {
  const batches: CaptionBatch[] = [];
  for await (const batch of iterable) batches.push(batch);
  return batches;
}

const ids = (batches: CaptionBatch[]) => batches.map((b) => b.samples.map((s) => Number(s.imageId)));

describe('CaptionLoader: order and batching', () => {
  it('gives every sample exactly once per epoch, in batches of batchSize with a short last batch', async () => {
    const loader = new CaptionLoader(dataset(10), { processor: new FakeProcessor(), batchSize: 4, seed: 7 });
    expect(loader.batchesPerEpoch).toBe(3);
    const batches = await collect(loader.epoch(0));
    expect(batches.map((b) => b.samples.length)).toEqual([4, 4, 2]);
    expect(batches.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(ids(batches).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const batch of batches) {
      // Pixel row i belongs to samples[i]; the caption is one of that sample's captions.
      expect(Array.from(batch.pixelValues.data.filter((_, k) => k % 3 === 0))).toEqual(batch.samples.map((s) => Number(s.imageId)));
      expect(batch.pixelValues.shape).toEqual([batch.samples.length, 3, 1, 1]);
      batch.captions.forEach((c, i) => expect(batch.samples[i]!.captions).toContain(c));
      expect(batch.epoch).toBe(0);
    }
  });

  it('drops the short last batch with dropLast', async () => {
    const loader = new CaptionLoader(dataset(10), { processor: new FakeProcessor(), batchSize: 4, dropLast: true });
    expect(loader.batchesPerEpoch).toBe(2);
    expect((await collect(loader.epoch(3))).map((b) => b.samples.length)).toEqual([4, 4]);
  });

  it('keeps dataset order without shuffle and takes the first caption in "first" mode', async () => {
    const loader = new CaptionLoader(dataset(5), { processor: new FakeProcessor(), batchSize: 2, shuffle: false, captions: 'first' });
    const batches = await collect(loader.epoch(0));
    expect(ids(batches)).toEqual([[0, 1], [2, 3], [4]]);
    expect(batches.flatMap((b) => b.captions)).toEqual(['s0 c0', 's1 c0', 's2 c0', 's3 c0', 's4 c0']);
  });

  it('expands every caption into its own sample in "all" mode', async () => {
    const loader = new CaptionLoader(dataset(5), { processor: new FakeProcessor(), batchSize: 3, captions: 'all', seed: 1 });
    // captions per sample: 1, 2, 3, 1, 2 = 9 entries.
    expect(loader.entriesPerEpoch).toBe(9);
    expect(loader.batchesPerEpoch).toBe(3);
    const captions = (await collect(loader.epoch(0))).flatMap((b) => b.captions).sort();
    expect(captions).toEqual(['s0 c0', 's1 c0', 's1 c1', 's2 c0', 's2 c1', 's2 c2', 's3 c0', 's4 c0', 's4 c1']);
  });
});

describe('CaptionLoader: determinism', () => {
  const run = async (seed: number, epoch: number, batchSize = 4) => {
    const loader = new CaptionLoader(dataset(40), { processor: new FakeProcessor(), batchSize, seed });
    const batches = await collect(loader.epoch(epoch));
    return { order: ids(batches).flat(), captions: batches.flatMap((b) => b.captions) };
  };

  it('repeats the same order and captions for the same seed and epoch, and changes them otherwise', async () => {
    const a = await run(11, 0);
    const b = await run(11, 0);
    expect(b).toEqual(a);
    const otherSeed = await run(12, 0);
    const otherEpoch = await run(11, 1);
    expect(otherSeed.order).not.toEqual(a.order);
    expect(otherEpoch.order).not.toEqual(a.order);
    // Samples with 3 captions get a fresh draw each epoch: over 13 such samples, at least one changes.
    const threeCaptionSamples = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 3 === 2);
    const pick = (r: { order: number[]; captions: string[] }) => threeCaptionSamples.map((i) => r.captions[r.order.indexOf(i)]);
    expect(pick(otherEpoch)).not.toEqual(pick(a));
  });

  it('chooses the same caption for a sample whatever the batch size', async () => {
    const small = await run(5, 2, 3);
    const large = await run(5, 2, 16);
    expect(large.order).toEqual(small.order);
    expect(large.captions).toEqual(small.captions);
  });

  it('draws caption indices that cover every caption of 3-caption samples', async () => {
    const loader = new CaptionLoader(dataset(300, () => 3), { processor: new FakeProcessor(), batchSize: 300, seed: 3 });
    const counts = [0, 0, 0];
    for (const entry of loader.order(0)) counts[entry.caption]! += 1;
    console.log('caption index counts over 300 samples', counts);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(300);
    // Binomial(300, 1/3): mean 100, sd 8.2; 60..140 is ±4.9 sd.
    for (const c of counts) expect(c > 60 && c < 140).toBe(true);
  });
});

describe('CaptionLoader: resuming and prefetch', () => {
  it('starting at batch k gives exactly the tail of the full epoch', async () => {
    const make = () => new CaptionLoader(dataset(23), { processor: new FakeProcessor(), batchSize: 5, seed: 99, imageAugment: { hflip: 0.5 } });
    const full = await collect(make().epoch(4));
    const tail = await collect(make().epoch(4, { startBatch: 2 }));
    expect(tail.map((b) => b.index)).toEqual([2, 3, 4]);
    expect(tail).toEqual(full.slice(2));
    expect(await collect(make().epoch(4, { startBatch: 5 }))).toEqual([]);
    expect(() => make().epoch(4, { startBatch: 6 })).toThrow('Expected integer between 0 and 5 for startBatch but received 6 of type number');
  });

  it('prepares `prefetch` batches while the consumer works on one', async () => {
    for (const prefetch of [0, 1, 2, 3]) {
      const processor = new GatedProcessor();
      const loader = new CaptionLoader(dataset(20), { processor, batchSize: 2, prefetch, shuffle: false });
      const iterator = loader.epoch(0)[Symbol.asyncIterator]();
      const first = iterator.next();
      await settle();
      // before anything is ready, batch 0 and (with prefetch) the next ones are requested together
      expect(processor.requested(), `prefetch ${prefetch}`).toEqual([0, 1, 2].slice(0, Math.max(1, prefetch)));
      processor.release(0);
      expect((await first).value.index).toBe(0);
      await settle();
      // while the consumer holds batch 0, batches 1..prefetch are being prepared, and no more
      expect(processor.requested(), `prefetch ${prefetch}`).toEqual([0, 1, 2, 3].slice(0, 1 + prefetch));
      for (let k = 1; k <= prefetch; k++) processor.release(k);
      const second = iterator.next();
      if (prefetch > 0) {
        // prepared ahead: batch 1 comes without any further preparation finishing
        expect(await stateOf(second)).toBe('ready');
      } else {
        // not prepared ahead: batch 1 is requested only now, and the consumer waits for it
        await settle();
        expect(processor.requested()).toEqual([0, 1]);
        expect(await stateOf(second)).toBe('pending');
        processor.release(1);
      }
      expect((await second).value.index).toBe(1);
      await iterator.return?.();
      processor.releaseAll();
    }
  });

  it('reports a batch that cannot be prepared, naming the batch', async () => {
    const processor: BatchImageProcessor = {
      preprocess: async (inputs) => {
        if ((inputs as string[]).includes('/img/3.png')) throw new Error('Cannot load image "/img/3.png": no such file');
        return { data: new Float32Array(inputs.length * 3), shape: [inputs.length, 3, 1, 1] };
      },
    };
    const loader = new CaptionLoader(dataset(4), { processor, batchSize: 2, shuffle: false });
    const seen: number[] = [];
    await expect((async () => {
      for await (const batch of loader.epoch(0)) seen.push(batch.index);
    })()).rejects.toThrow('Cannot prepare batch 1 of epoch 0 of toy: Cannot load image "/img/3.png": no such file');
    expect(seen).toEqual([0]);
  });
});

describe('CaptionLoader: augmentation requests', () => {
  /** One caption per image, images /img/0.png, /img/1.png, … */
  const oneCaptionEach = (name: string, captions: string[]): CaptionDataset => ({
    name,
    samples: captions.map((caption, i) => ({ imageId: String(i), image: `/img/${i}.png`, captions: [caption] })),
    skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
  });
  const leftRight = oneCaptionEach('lr', ['A cup on the left of a plate.', 'A dog to the right of a cat.']);

  it('swaps left and right in the captions of mirrored images only', async () => {
    const processor = new FakeProcessor((n) => n === 1);
    const loader = new CaptionLoader(leftRight, { processor, batchSize: 2, shuffle: false, imageAugment: { hflip: 0.5 } });
    const [batch] = await collect(loader.epoch(0));
    expect(batch!.flipped).toEqual([false, true]);
    expect(batch!.captions).toEqual(['A cup on the left of a plate.', 'A dog to the left of a cat.']);
    expect(batch!.pixelValues).toEqual({ data: new Float32Array([0, 0, 0, 1, 1, 1]), shape: [2, 3, 1, 1] });
  });

  it('flipListWords reverses left-to-right lists of those words in mirrored images\' captions only', async () => {
    const rows = oneCaptionEach('rows', ['three boxes: red, blue and green, the image is dark', 'red, blue and green boxes on the left']);
    const processor = new FakeProcessor((n) => n === 1);
    const loader = new CaptionLoader(rows, { processor, batchSize: 2, shuffle: false, imageAugment: { hflip: 0.5 }, flipListWords: ['red', 'green', 'blue'] });
    const [batch] = await collect(loader.epoch(0));
    expect(batch!.captions).toEqual(['three boxes: red, blue and green, the image is dark', 'green, blue and red boxes on the right']);
    expect(() => new CaptionLoader(rows, { processor, batchSize: 2, flipListWords: ['red', 'light blue'] })).toThrow(
      'Expected a single word (letters, apostrophes, hyphens) for flipListWords[1] but received "light blue"',
    );
  });

  it('augments the target caption, then swaps left/right for mirrored images', async () => {
    const processor = new FakeProcessor((n) => n === 1);
    const loader = new CaptionLoader(leftRight, {
      processor, batchSize: 2, shuffle: false, imageAugment: { hflip: 0.5 },
      captionAugment: { synonymProb: 1, synonyms: { dog: ['puppy'], cup: ['mug'] } },
    });
    const [batch] = await collect(loader.epoch(0));
    expect(batch!.captions).toEqual(['A mug on the left of a plate.', 'A puppy to the left of a cat.']);
    expect(loader.captionAugment).toEqual({ synonymProb: 1, shuffleProb: 0, synonyms: { dog: ['puppy'], cup: ['mug'] } });
  });

  it('asks for per-image transforms seeded by (seed, epoch, sample), not by batch position', async () => {
    const spec = { hflip: 0.5, rotate: 10 };
    const corrupt = { kind: 'gaussian_noise', severity: 3 } as const;
    const seedsOf = async (batchSize: number) => {
      const processor = new FakeProcessor();
      const loader = new CaptionLoader(dataset(6), { processor, batchSize, seed: 21, imageAugment: spec, corrupt });
      await collect(loader.epoch(2));
      const bySample = new Map<string, unknown>();
      for (const call of processor.calls) call.inputs.forEach((p, i) => bySample.set(p, call.options!.transforms![i]));
      return bySample;
    };
    const a = await seedsOf(4);
    const b = await seedsOf(1);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [path, t] of a) expect(b.get(path)).toEqual(t);
    expect(a.get('/img/3.png')).toEqual({
      augment: { spec: { crop: false, hflip: 0.5, rotate: 10, rotateFill: 'black', rotateInterpolation: 'nearest', colorJitter: false, grayscale: 0 }, seed: deriveSeed(21, 2, 3, 'imageAugment') },
      corrupt: { kind: 'gaussian_noise', severity: 3, seed: deriveSeed(21, 2, 3, 'corrupt') },
    });
  });

  it('pre-resizes un-augmented images only: the scripts resize to 384 unless the augmentation crops to 384', async () => {
    const transformsOf = async (options: Record<string, unknown>) => {
      const processor = new FakeProcessor();
      await collect(new CaptionLoader(dataset(3), { processor, batchSize: 3, shuffle: false, ...options }).epoch(0));
      return processor.calls[0]!.options?.transforms;
    };
    expect(await transformsOf({ preResize: 384 })).toEqual(Array(3).fill({ resize: { width: 384, height: 384 } }));
    const augmented = await transformsOf({ preResize: 384, imageAugment: { hflip: 0.5 } });
    expect(augmented!.every((t) => t !== undefined && t.resize === undefined && t.augment !== undefined)).toBe(true);
    expect(await transformsOf({})).toBe(undefined);
    expect(() => new CaptionLoader(dataset(3), { processor: new FakeProcessor(), batchSize: 1, preResize: 0 })).toThrow(
      'Expected integer between 1 and 32768 for preResize but received 0 of type number',
    );
  });

  it('seeds each caption of an image separately in "all" mode', async () => {
    const processor = new FakeProcessor();
    const loader = new CaptionLoader(dataset(5), { processor, batchSize: 4, captions: 'all', seed: 8, imageAugment: { hflip: 0.5 } });
    const seedByCaption = new Map<string, number>();
    for await (const batch of loader.epoch(1)) {
      const call = processor.calls[batch.index]!;
      batch.captions.forEach((c, i) => seedByCaption.set(c, call.options!.transforms![i]!.augment!.seed));
    }
    expect(seedByCaption.size).toBe(9);
    expect(new Set(seedByCaption.values()).size).toBe(9);
    // Captions in dataset order: s0 c0 (0), s1 c0 (1), s1 c1 (2), s2 c0 (3), s2 c1 (4), ...
    expect(seedByCaption.get('s2 c1')).toBe(deriveSeed(8, 1, 4, 'imageAugment'));
    expect(seedByCaption.get('s4 c1')).toBe(deriveSeed(8, 1, 8, 'imageAugment'));
  });

  it('matchCorruptions corrupts only images whose target caption names the rule\'s word, at one of its severities', async () => {
    const data = dataset(40);
    data.samples.forEach((s, i) => { s.captions = [i % 4 === 0 ? `a dark image of shape ${i}` : i % 4 === 1 ? `shape ${i}, the image is not clear` : `a darkness-free shape ${i}`]; });
    const processor = new FakeProcessor();
    const rules = [
      { word: 'dark', kind: 'low_light', severities: [1, 2], p: 1 },
      { word: 'not clear', kind: 'blur', severities: [4], p: 0.5 },
    ];
    const loader = new CaptionLoader(data, { processor, batchSize: 40, seed: 3, shuffle: false, matchCorruptions: rules as never });
    await collect(loader.epoch(0));
    const transforms = processor.calls[0]!.options!.transforms!;
    const kinds = transforms.map((t) => (t?.corrupt ? `${t.corrupt.kind}:${t.corrupt.severity}` : '-'));
    for (let i = 0; i < 40; i++) {
      if (i % 4 === 0) expect(kinds[i]).toMatch(/^low_light:[12]$/);
      else if (i % 4 === 1) expect(kinds[i]).toMatch(/^(gaussian_blur:4|-)$/);
      else expect(kinds[i]).toBe('-'); // "darkness" is not the word "dark"
    }
    const blurred = kinds.filter((k) => k === 'gaussian_blur:4').length;
    expect(blurred).toBeGreaterThan(0); // p = 0.5 of 10 images
    expect(blurred).toBeLessThan(10);
    expect(new Set(kinds.filter((k) => k.startsWith('low_light'))).size).toBe(2);
    expect(() => new CaptionLoader(data, { processor, batchSize: 4, matchCorruptions: [{ word: 'dark', kind: 'low_light', severities: [6] }] as never })).toThrow(
      'Expected integer between 1 and 5 for matchCorruptions[0].severities[0] but received 6 of type number',
    );
  });

  it('passes no transforms when augmentation and corruption are off', async () => {
    const processor = new FakeProcessor();
    const loader = new CaptionLoader(dataset(3), { processor, batchSize: 3, preprocess: { fastResize: true } });
    const [batch] = await collect(loader.epoch(0));
    expect(processor.calls[0]!.options).toEqual({ fastResize: true });
    expect(batch!.flipped).toEqual([false, false, false]);
  });
});

describe('CaptionLoader: validation', () => {
  const processor = new FakeProcessor();
  it('rejects bad options with exact messages', () => {
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 0 })).toThrow(
      'Expected integer between 1 and 65536 for batchSize but received 0 of type number',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 2, seed: -1 })).toThrow(
      'Expected integer between 0 and 9007199254740991 for seed but received -1 of type number',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 2, captions: 'one' as 'all' })).toThrow(
      'Expected one of "random", "first", "all" for captions but received "one" of type string',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 2, shufle: true } as never)).toThrow(
      'Unknown option "shufle" in CaptionLoader options; expected one of "processor", "batchSize", "seed", "shuffle", "dropLast", "captions", ' +
      '"prefetch", "preprocess", "imageAugment", "captionAugment", "corrupt", "matchCorruptions"',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 2, corrupt: { kind: 'blur', severity: 6 } })).toThrow(
      'Expected integer between 1 and 5 for corrupt.severity but received 6 of type number',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 4, dropLast: true })).toThrow(
      'Expected at least batchSize (4) entries with dropLast but toy has 3',
    );
    expect(() => new CaptionLoader({ ...dataset(0) }, { processor, batchSize: 1 })).toThrow(
      'Expected a CaptionDataset with at least one sample for dataset but received an array of length 0',
    );
    expect(() => new CaptionLoader(dataset(1), { processor: {} as BatchImageProcessor, batchSize: 1 })).toThrow(
      'Expected an image processor with a preprocess method for processor but received an object of type Object',
    );
    expect(() => new CaptionLoader(dataset(3), { processor, batchSize: 2 }).epoch(-1)).toThrow(
      'Expected integer between 0 and 9007199254740991 for epoch but received -1 of type number',
    );
  });
});

describe('deriveSeed', () => {
  it('gives distinct integer seeds in [0, 2^53) for distinct (seed, epoch, index, stream)', () => {
    const seen = new Set<number>();
    for (const seed of [0, 1, 2 ** 32, 2 ** 53 - 1]) {
      for (let epoch = 0; epoch < 5; epoch++) {
        for (let index = 0; index < 50; index++) {
          for (const stream of ['order', 'caption', 'imageAugment', 'captionAugment', 'corrupt'] as const) {
            const s = deriveSeed(seed, epoch, index, stream);
            expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
            seen.add(s);
          }
        }
      }
    }
    expect(seen.size).toBe(4 * 5 * 50 * 5);
  });
});

describe('CaptionLoader with the BLIP image processor', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blip2-loader-'));
    for (let i = 0; i < 5; i++) {
      await sharp({ create: { width: 6 + i, height: 5, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 17 * i } } })
        .png().toFile(join(dir, `${i}.png`));
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stacks the same pixel values as preprocessing each image alone', async () => {
    const processor = BlipImageProcessor.fromConfig({ size: { height: 8, width: 8 } });
    const data: CaptionDataset = {
      name: 'pngs',
      samples: Array.from({ length: 5 }, (_, i) => ({ imageId: String(i), image: join(dir, `${i}.png`), captions: [`colour ${i}`] })),
      skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
    };
    const loader = new CaptionLoader(data, { processor, batchSize: 2, seed: 4, preprocess: { pool: 'main' } });
    let maxDiff = 0;
    let rows = 0;
    for await (const batch of loader.epoch(0)) {
      for (let i = 0; i < batch.samples.length; i++) {
        const alone = await processor.preprocess([batch.samples[i]!.image], { pool: 'main' });
        const row = batch.pixelValues.data.subarray(i * 192, (i + 1) * 192);
        for (let k = 0; k < 192; k++) maxDiff = Math.max(maxDiff, Math.abs(row[k]! - alone.data[k]!));
        expect(batch.captions[i]).toBe(`colour ${batch.samples[i]!.imageId}`);
        rows += 1;
      }
    }
    console.log(`loader vs single-image preprocess: ${rows} rows, max |diff| ${maxDiff}`);
    expect(rows).toBe(5);
    expect(maxDiff).toBe(0);
  });

  it('mirrors images on the worker pool and swaps left/right in their captions', async () => {
    const processor = BlipImageProcessor.fromConfig({ size: { height: 8, width: 8 } });
    const data: CaptionDataset = {
      name: 'pngs',
      samples: Array.from({ length: 3 }, (_, i) => ({ imageId: String(i), image: join(dir, `${i}.png`), captions: [`A cup left of plate ${i}.`] })),
      skipped: { missing: 0, unreadable: 0, noCaptions: 0, examples: [] },
    };
    const pool = new ImageWorkerPool({ size: 2 });
    try {
      const loader = new CaptionLoader(data, {
        processor, batchSize: 3, shuffle: false, imageAugment: { hflip: 1 }, corrupt: { kind: 'blur', severity: 1 }, preprocess: { pool },
      });
      const [batch] = await collect(loader.epoch(0));
      expect(batch!.flipped).toEqual([true, true, true]);
      expect(batch!.captions).toEqual(['A cup right of plate 0.', 'A cup right of plate 1.', 'A cup right of plate 2.']);
      expect(loader.corrupt).toEqual({ kind: 'gaussian_blur', severity: 1 });
      // The same request made by hand gives the same pixels.
      const transforms = [0, 1, 2].map((i) => ({
        augment: { spec: { hflip: 1 }, seed: deriveSeed(0, 0, i, 'imageAugment') },
        corrupt: { kind: 'gaussian_blur' as const, severity: 1, seed: deriveSeed(0, 0, i, 'corrupt') },
      }));
      const byHand = await processor.preprocess(data.samples.map((s) => s.image), { pool: 'main', transforms });
      let maxDiff = 0;
      byHand.data.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - batch!.pixelValues.data[k]!)); });
      console.log(`augmented loader batch vs hand-made request: max |diff| ${maxDiff}`);
      expect(maxDiff).toBe(0);
    } finally {
      await pool.close();
    }
  });
});
