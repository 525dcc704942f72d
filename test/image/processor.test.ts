import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FileError } from '../../lib/errors.js';
import { ImageLoadError } from '../../lib/image/decode.js';
import { ImageWorkerPool } from '../../lib/image/pool.js';
import { BlipImageProcessor, parseProcessorConfig } from '../../lib/image/processor.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';

const fixtures = fileURLToPath(new URL('../fixtures/blip2-tiny/', import.meta.url));
const IMAGES = ['img0_rgb_64x48.png', 'img1_rgb_40x72.jpg', 'img2_gray_50x50.png', 'img3_rgba_30x60.png'];
const goldenJson = JSON.parse(readFileSync(`${fixtures}images-golden.json`, 'utf8')) as {
  processor_tiny: Record<string, unknown>;
  processor_224: Record<string, unknown>;
};
const pool = new ImageWorkerPool({ size: 2 });
afterAll(() => pool.close());

let golden: SafetensorsFile | undefined;
async function goldenFile(): Promise<SafetensorsFile> {
  golden ??= await readSafetensorsFile(`${fixtures}images-golden.safetensors`);
  return golden;
}

function maxAbsDiff(a: Float32Array, b: Float32Array, offset = 0): number {
  let max = 0;
  for (let i = 0; i < b.length; i++) max = Math.max(max, Math.abs(a[offset + i]! - b[i]!));
  return max;
}

describe('parseProcessorConfig', () => {
  it('reads the fixture preprocessor_config.json', () => {
    const json = JSON.parse(readFileSync(`${fixtures}model/preprocessor_config.json`, 'utf8'));
    expect(parseProcessorConfig(json)).toEqual({
      doConvertRgb: true,
      doResize: true,
      size: { height: 32, width: 32 },
      resample: 'bicubic',
      doRescale: true,
      rescaleFactor: 0.00392156862745098,
      doNormalize: true,
      imageMean: [0.48145466, 0.4578275, 0.40821073],
      imageStd: [0.26862954, 0.26130258, 0.27577711],
    });
  });

  it('fills BlipImageProcessor defaults (384x384, bicubic, CLIP mean/std)', () => {
    const settings = parseProcessorConfig({});
    expect([settings.size, settings.resample, settings.rescaleFactor]).toEqual([{ height: 384, width: 384 }, 'bicubic', 1 / 255]);
    expect(parseProcessorConfig({ size: 224, resample: 2, image_mean: 0.5 })).toMatchObject({
      size: { height: 224, width: 224 }, resample: 'bilinear', imageMean: [0.5, 0.5, 0.5],
    });
  });

  it('rejects unknown keys, unsupported filters and bad values with exact messages', () => {
    expect(() => parseProcessorConfig({ do_center_crop: true })).toThrow(
      'Unknown option "do_center_crop" in preprocessor config; expected one of "do_convert_rgb", "do_resize", "size", "resample", "do_rescale", "rescale_factor", "do_normalize", "image_mean", "image_std", "image_processor_type", "processor_class", "_processor_class", "feature_extractor_type", "auto_map"',
    );
    expect(() => parseProcessorConfig({ resample: 0 })).toThrow(
      'Expected one of 1 (LANCZOS), 2 (BILINEAR), 3 (BICUBIC), 4 (BOX), 5 (HAMMING) for resample but received 0 of type number',
    );
    expect(() => parseProcessorConfig({ size: { shortest_edge: 224 } })).toThrow(
      'Expected an object {"height", "width"} or an integer for size but received an object of type Object',
    );
    expect(() => parseProcessorConfig({ size: { height: 0, width: 3 } })).toThrow(
      'Expected integer between 1 and 65535 for size.height but received 0 of type number',
    );
    expect(() => parseProcessorConfig({ image_std: [1, 0, 1] })).toThrow(
      'Expected 3 positive numbers for image_std but received an array of length 3',
    );
    expect(() => parseProcessorConfig({ image_processor_type: 'CLIPImageProcessor' })).toThrow(
      'Expected one of "BlipImageProcessor", "BlipImageProcessorFast" for image_processor_type but received "CLIPImageProcessor" of type string',
    );
    expect(() => parseProcessorConfig({ do_resize: 'yes' })).toThrow('Expected boolean for do_resize but received "yes" of type string');
    expect(() => parseProcessorConfig({ rescale_factor: -1 })).toThrow('Expected positive number for rescale_factor but received -1 of type number');
  });

  it('fromPretrained names a missing config', async () => {
    await expect(BlipImageProcessor.fromPretrained('/nonexistent-model')).rejects.toThrow(
      new FileError('Cannot read preprocessor config /nonexistent-model/preprocessor_config.json: no such file', { path: '/nonexistent-model/preprocessor_config.json' }),
    );
  });
});

describe('BlipImageProcessor.preprocess against HF pixel_values', () => {
  for (const [setting, size] of [['processor_tiny', 32], ['processor_224', 224]] as const) {
    it(`matches pixel_values_${size} from the golden decoded RGB (all 4 images, both threads)`, async () => {
      const file = await goldenFile();
      const processor = BlipImageProcessor.fromConfig(goldenJson[setting]);
      const inputs = IMAGES.map((_, i) => {
        const rgb = file.tensors.get(`img${i}.decoded_rgb_u8`)!;
        return { data: rgb.data as Uint8Array, width: rgb.shape[1]!, height: rgb.shape[0]!, channels: 3 as const };
      });
      for (const where of ['main', pool] as const) {
        const out = await processor.preprocess(inputs, { pool: where });
        expect(out.shape).toEqual([4, 3, size, size]);
        const diffs = IMAGES.map((_, i) => maxAbsDiff(out.data, file.tensors.get(`img${i}.pixel_values_${size}`)!.data as Float32Array, i * 3 * size * size));
        console.log(`pixel_values_${size} from golden RGB (${where === 'main' ? 'main thread' : 'worker pool'}): max abs diff per image ${diffs.join(', ')}`);
        for (const d of diffs) expect(d).toBeLessThanOrEqual(1e-6);
      }
    });

    it(`matches pixel_values_${size} end to end from the files`, async () => {
      const file = await goldenFile();
      const processor = BlipImageProcessor.fromConfig(goldenJson[setting]);
      const out = await processor.preprocess(IMAGES.map((f) => `${fixtures}images/${f}`), { pool });
      const diffs = IMAGES.map((_, i) => maxAbsDiff(out.data, file.tensors.get(`img${i}.pixel_values_${size}`)!.data as Float32Array, i * 3 * size * size));
      console.log(`pixel_values_${size} end to end from files: max abs diff per image ${diffs.join(', ')}`);
      // PNGs must be exact; the JPEG may differ by a decoder LSB (about 0.015 after normalisation).
      diffs.forEach((d, i) => expect(d).toBeLessThanOrEqual(IMAGES[i]!.endsWith('.png') ? 1e-6 : 0.02));
    });
  }

  it('fromPretrained reads the fixture model directory', async () => {
    const processor = await BlipImageProcessor.fromPretrained(`${fixtures}model`);
    const out = await processor.preprocess([`${fixtures}images/img0_rgb_64x48.png`], { pool: 'main' });
    const expected = (await goldenFile()).tensors.get('img0.pixel_values_32')!.data as Float32Array;
    expect(maxAbsDiff(out.data, expected)).toBe(0);
  });
});

describe('BlipImageProcessor.preprocess options and errors', () => {
  const processor = BlipImageProcessor.fromConfig(goldenJson.processor_224);

  it('fastResize runs in sharp: same shape, close to but not bit-identical with Pillow', async () => {
    const path = `${fixtures}images/img0_rgb_64x48.png`;
    const exact = await processor.preprocess([path], { pool: 'main' });
    const fast = await processor.preprocess([path], { pool: 'main', fastResize: true });
    expect(fast.shape).toEqual([1, 3, 224, 224]);
    const diff = maxAbsDiff(fast.data, exact.data);
    console.log(`fastResize vs Pillow-exact, 64x48 -> 224: max abs diff ${diff.toFixed(4)} (normalised units)`);
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThan(1);
  });

  it('fastResize accepts raw pixels and keeps a solid colour exact', async () => {
    const raw = { data: new Uint8Array(40 * 30 * 4).fill(200), width: 40, height: 30, channels: 4 as const };
    const out = await processor.preprocess([raw], { pool: 'main', fastResize: true });
    expect(out.shape).toEqual([1, 3, 224, 224]);
    const expected = Math.fround(Math.fround(Math.fround(200 / 255) - Math.fround(0.4578275)) / Math.fround(0.26130258));
    expect(out.data[224 * 224 + 1000]).toBe(expected);
  });

  it('reports the first failing input in input order, from the pool', async () => {
    const error = await processor.preprocess(
      [`${fixtures}images/img0_rgb_64x48.png`, '/nonexistent/a.png', Buffer.from('not an image')],
      { pool },
    ).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImageLoadError);
    expect((error as ImageLoadError).message).toBe('Cannot load image "/nonexistent/a.png": no such file');
    expect((error as ImageLoadError).code).toBe('NOT_FOUND');
  });

  it('stacks unresized images only when their sizes agree', async () => {
    const noResize = BlipImageProcessor.fromConfig({ ...goldenJson.processor_tiny, do_resize: false });
    const a = { data: new Uint8Array(2 * 3 * 3).fill(255), width: 2, height: 3, channels: 3 as const };
    const out = await noResize.preprocess([a, a], { pool: 'main' });
    expect(out.shape).toEqual([2, 3, 3, 2]);
    // (1.0 - 0.48145466) / 0.26862954 in float32
    expect(out.data[0]).toBe(Math.fround(Math.fround(1 - Math.fround(0.48145466)) / Math.fround(0.26862954)));
    await expect(noResize.preprocess([a, { ...a, width: 3, data: new Uint8Array(27) }], { pool: 'main' })).rejects.toThrow(
      'Cannot stack images of different sizes with do_resize false: input 0 is 2x3, input 1 is 3x3',
    );
  });

  it('rejects bad arguments', async () => {
    await expect(processor.preprocess([])).rejects.toThrow('Expected non-empty array of images for inputs but received an array of length 0');
    await expect(processor.preprocess(['x.png'], { threads: 2 } as never)).rejects.toThrow(
      'Unknown option "threads" in preprocess options; expected one of "pool", "load", "fastResize", "logger"',
    );
    expect(() => new ImageWorkerPool({ size: 0 })).toThrow('Expected integer between 1 and 256 for size but received 0 of type number');
  });

  it('processes large photos on the pool identically to the main thread', async () => {
    const jpeg = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 30, g: 120, b: 200 } } })
      .composite([{ input: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="900"><circle cx="600" cy="450" r="300" fill="#f80"/></svg>') }])
      .jpeg().toBuffer();
    const inputs = [jpeg, jpeg, jpeg];
    const onPool = await processor.preprocess(inputs, { pool });
    const onMain = await processor.preprocess(inputs, { pool: 'main' });
    expect(onPool.shape).toEqual([3, 3, 224, 224]);
    expect(maxAbsDiff(onPool.data, onMain.data)).toBe(0);
  });

  it('leaves the event loop free while the pool works, unlike the main-thread mode', async () => {
    const big = { data: new Uint8Array(2000 * 1500 * 3).fill(90), width: 2000, height: 1500, channels: 3 as const };
    for (const [where, expected] of [[pool, true], ['main', false]] as const) {
      let ticked = false;
      setTimeout(() => { ticked = true; }, 0);
      const out = await processor.preprocess([big], { pool: where });
      expect(out.shape).toEqual([1, 3, 224, 224]);
      // A timer queued before the call has run by the time a pooled batch resolves; on the main thread the
      // raw-input pipeline is synchronous work, so the timer is still waiting.
      expect([where === 'main' ? 'main' : 'pool', ticked]).toEqual([where === 'main' ? 'main' : 'pool', expected]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  });

  it('rejects work after close', async () => {
    const closed = new ImageWorkerPool({ size: 1 });
    await closed.close();
    await expect(processor.preprocess([`${fixtures}images/img0_rgb_64x48.png`], { pool: closed })).rejects.toThrow('ImageWorkerPool is closed');
  });
});
