/**
 * Image decoding with sharp into 8-bit RGB (HWC), reproducing what Hugging Face image processors get
 * from PIL: `Image.open(...)` (first frame, EXIF orientation and ICC profiles ignored) followed by
 * `convert_to_rgb`, which is Pillow's `convert("RGB")`: alpha dropped (or, with `alpha: 'white'`,
 * composited onto white with Pillow's `alpha_composite` arithmetic), CMYK and 16-bit grey converted
 * as Pillow converts them.
 *
 * Untrusted input is refused with an {@link ImageLoadError} that names the input and the reason:
 * missing or unreadable paths, directories, empty or non-image data, truncated data, images over the
 * pixel limit (checked from the header, before any pixel is decoded), SVG unless allowed, zero sizes.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type KernelEnum, type Metadata, type Sharp } from 'sharp';
import { boolean, integerInRange, isPlainObject, knownKeys, oneOf, optional } from '../is.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { cmykToRgb, grey16ToRgb, toRgb, type AlphaMode, type Grey16Mode } from './colour.js';
import type { ResampleFilter } from './resample.js';

/**
 * Decoded pixels: 8-bit RGB, row-major, interleaved (HWC). It is also a valid {@link RawImageInput},
 * so a decoded (or augmented) image can be passed back to `loadImage` or `BlipImageProcessor.preprocess`.
 */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/** Already-decoded pixels: interleaved 8-bit L, LA, RGB or RGBA. */
export interface RawImageInput {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** What {@link loadImage} accepts: a file path, encoded bytes, or raw pixels. */
export type ImageInput = string | Uint8Array | RawImageInput;

/** When sharp aborts on damaged pixel data (sharp's `failOn`). */
export type FailOn = 'none' | 'truncated' | 'error' | 'warning';

/** Options of {@link loadImage}. */
export interface LoadImageOptions {
  /** Apply the EXIF orientation tag. Default false, as Hugging Face processors (PIL) ignore it. */
  autoOrient?: boolean;
  /**
   * Refuse images with more pixels than this, judged from the header before decoding. Default
   * {@link DEFAULT_LIMIT_INPUT_PIXELS} (Pillow's DecompressionBombError threshold). 0 disables the limit.
   */
  limitInputPixels?: number;
  /** Decode SVG (rendered by librsvg). Default false: SVG can reference external resources. */
  allowSvg?: boolean;
  /**
   * Alpha handling: `'drop'` (default; Pillow `convert("RGB")` as in HF's `convert_to_rgb` for BLIP) or
   * `'white'` (Pillow `alpha_composite` onto opaque white, as idefics2/mllama processors do).
   */
  alpha?: AlphaMode;
  /**
   * How 16-bit single-channel images become 8-bit; default `'pil'` (clamp at 255, as Pillow). See {@link Grey16Mode}.
   */
  grey16?: Grey16Mode;
  /**
   * Damage level that aborts decoding. Default `'error'`: truncated files and decoder errors fail
   * (Pillow raises "image file is truncated"), decoder warnings such as extraneous bytes pass (Pillow ignores them).
   */
  failOn?: FailOn;
  /** Receives warnings (e.g. when the 16-bit clamp changed values). Default silent. */
  logger?: Logger;
}

/** Pillow's `Image.MAX_IMAGE_PIXELS * 2` = 2 × ⌊1024³ / 4 / 3⌋: above it Pillow raises DecompressionBombError. */
export const DEFAULT_LIMIT_INPUT_PIXELS = 178956970;

const LOAD_OPTION_KEYS = ['autoOrient', 'limitInputPixels', 'allowSvg', 'alpha', 'grey16', 'failOn', 'logger'] as const;

/** Why an image could not be loaded. */
export type ImageLoadErrorCode =
  | 'NOT_FOUND' | 'NOT_A_FILE' | 'UNREADABLE' | 'EMPTY' | 'UNSUPPORTED_FORMAT' | 'SVG_REFUSED'
  | 'TOO_MANY_PIXELS' | 'ZERO_SIZE' | 'CORRUPT' | 'INVALID_INPUT';

/** An image that could not be loaded; the message reads `Cannot load image <input>: <reason>`. */
export class ImageLoadError extends Error {
  override name = 'ImageLoadError';
  /** Machine-readable reason. */
  readonly code: ImageLoadErrorCode;
  /** How the input is named in the message: a JSON-quoted path, `<Buffer N bytes>`, `<raw WxHxC>`. */
  readonly input: string;
  /** The reason part of the message. */
  readonly reason: string;

  constructor(input: string, code: ImageLoadErrorCode, reason: string, cause?: unknown) {
    super(`Cannot load image ${input}: ${reason}`, cause === undefined ? undefined : { cause });
    this.code = code;
    this.input = input;
    this.reason = reason;
  }
}

/** Resolved, validated load options (no logger: these travel to worker threads). */
export interface ResolvedLoadOptions {
  autoOrient: boolean;
  limitInputPixels: number;
  allowSvg: boolean;
  alpha: AlphaMode;
  grey16: Grey16Mode;
  failOn: FailOn;
}

/** Validates {@link LoadImageOptions} and fills in defaults. */
export function resolveLoadOptions(options?: LoadImageOptions): ResolvedLoadOptions & { logger: Logger } {
  const o = knownKeys('loadImage options', options, LOAD_OPTION_KEYS);
  return {
    autoOrient: optional(o.autoOrient, false, (v) => boolean('autoOrient', v)),
    limitInputPixels: o.limitInputPixels === undefined
      ? DEFAULT_LIMIT_INPUT_PIXELS
      : integerInRange('limitInputPixels', o.limitInputPixels, 0, Number.MAX_SAFE_INTEGER),
    allowSvg: optional(o.allowSvg, false, (v) => boolean('allowSvg', v)),
    alpha: optional(o.alpha, 'drop', (v) => oneOf('alpha', v, ['drop', 'white'] as const)),
    grey16: optional(o.grey16, 'pil', (v) => oneOf('grey16', v, ['pil', 'scale'] as const)),
    failOn: optional(o.failOn, 'error', (v) => oneOf('failOn', v, ['none', 'truncated', 'error', 'warning'] as const)),
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  };
}

/** Names an input for error messages without dumping its bytes. */
export function describeInput(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input);
  if (Buffer.isBuffer(input)) return `<Buffer ${input.length} bytes>`;
  if (input instanceof Uint8Array) return `<Uint8Array ${input.length} bytes>`;
  if (isPlainObject(input)) return `<raw ${String(input.width)}x${String(input.height)}x${String(input.channels)}>`;
  return `<${input === null ? 'null' : typeof input}>`;
}

/**
 * Decodes an image to 8-bit RGB as Hugging Face's `convert_to_rgb(PIL.Image.open(input))` would.
 *
 * @param input a file path, the encoded bytes (JPEG, PNG, WebP, GIF, TIFF, AVIF/HEIF, SVG if allowed),
 *   or raw interleaved pixels `{ data, width, height, channels }` with 1–4 channels.
 * @throws ImageLoadError naming the input and the reason; TypeError for bad options.
 */
export async function loadImage(input: ImageInput, options?: LoadImageOptions): Promise<RgbImage> {
  const { logger, ...resolved } = resolveLoadOptions(options);
  const { image, warnings } = await decodeImage(input, resolved);
  for (const warning of warnings) logger.warn(warning);
  return image;
}

/** {@link loadImage} with resolved options, returning warnings instead of logging (usable in workers). */
export async function decodeImage(
  input: ImageInput,
  options: ResolvedLoadOptions,
): Promise<{ image: RgbImage; warnings: string[] }> {
  const label = describeInput(input);
  if (isPlainObject(input)) return { image: rawToRgb(input, label, options), warnings: [] };
  const bytes = await readInput(input, label);
  return decodeBytes(bytes, label, options);
}

function rawToRgb(input: Record<string, unknown>, label: string, options: ResolvedLoadOptions): RgbImage {
  const { data, width, height, channels } = input;
  const invalid = (reason: string) => new ImageLoadError(label, 'INVALID_INPUT', reason);
  for (const key of Object.keys(input)) {
    if (!['data', 'width', 'height', 'channels'].includes(key)) throw invalid(`unknown raw image key ${JSON.stringify(key)}`);
  }
  if (!(data instanceof Uint8Array)) throw invalid('raw data must be a Uint8Array or Buffer');
  if (!Number.isInteger(width) || !Number.isInteger(height) || (width as number) < 0 || (height as number) < 0) {
    throw invalid('width and height must be non-negative integers');
  }
  if (width === 0 || height === 0) {
    throw new ImageLoadError(label, 'ZERO_SIZE', `zero-size image (${String(width)}x${String(height)})`);
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) throw invalid('channels must be 1, 2, 3 or 4');
  const w = width as number;
  const h = height as number;
  if (options.limitInputPixels > 0 && w * h > options.limitInputPixels) throw tooManyPixels(label, w, h, options.limitInputPixels);
  if (data.length !== w * h * channels) {
    throw invalid(`data has ${data.length} bytes but ${w}x${h}x${channels} needs ${w * h * channels}`);
  }
  return { data: toRgb(data, w, h, channels, options.alpha), width: w, height: h, channels: 3 };
}

async function readInput(input: unknown, label: string): Promise<Uint8Array> {
  if (input instanceof Uint8Array) {
    if (input.length === 0) throw new ImageLoadError(label, 'EMPTY', 'no data (0 bytes)');
    return input;
  }
  if (typeof input !== 'string' || input.length === 0) {
    throw new ImageLoadError(label, 'INVALID_INPUT', 'expected a file path, a Buffer/Uint8Array or a raw pixel object');
  }
  let info;
  try {
    info = await stat(input);
  } catch (error) {
    throw fileError(label, error);
  }
  if (info.isDirectory()) throw new ImageLoadError(label, 'NOT_A_FILE', 'is a directory, not a file');
  if (!info.isFile()) throw new ImageLoadError(label, 'NOT_A_FILE', 'is not a regular file');
  if (info.size === 0) throw new ImageLoadError(label, 'EMPTY', 'file is empty (0 bytes)');
  try {
    return await readFile(input);
  } catch (error) {
    throw fileError(label, error);
  }
}

function fileError(label: string, error: unknown): ImageLoadError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ImageLoadError(label, 'NOT_FOUND', 'no such file', error);
  if (code === 'EACCES' || code === 'EPERM') return new ImageLoadError(label, 'UNREADABLE', 'permission denied', error);
  if (code === 'EISDIR') return new ImageLoadError(label, 'NOT_A_FILE', 'is a directory, not a file', error);
  return new ImageLoadError(label, 'UNREADABLE', `cannot read file (${code ?? (error as Error).message})`, error);
}

function tooManyPixels(label: string, width: number, height: number, limit: number): ImageLoadError {
  return new ImageLoadError(
    label, 'TOO_MANY_PIXELS',
    `${width}x${height} = ${width * height} pixels exceeds limitInputPixels ${limit}`,
  );
}

/** True when the bytes look like SVG (XML whose first element is `<svg`), checked before sharp sees them. */
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString('utf8');
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('<')) return false;
  return /<svg[\s>/]/i.test(text);
}

type Opener = () => Sharp;

/** Sniffs, opens and checks the header (format, size, pixel limit) without decoding pixels. */
async function openChecked(bytes: Uint8Array, label: string, options: ResolvedLoadOptions): Promise<{ open: Opener; meta: Metadata }> {
  const svg = looksLikeSvg(bytes);
  if (svg && !options.allowSvg) throw new ImageLoadError(label, 'SVG_REFUSED', 'SVG input is refused unless allowSvg is true');
  const settings = { failOn: options.failOn, ignoreIcc: true, autoOrient: options.autoOrient, pages: 1 };
  const open = () => sharp(bytes, { ...settings, limitInputPixels: options.limitInputPixels === 0 ? false : options.limitInputPixels });
  let meta: Metadata;
  try {
    // The header is read without sharp's limit so that an oversized image is reported with its size below.
    meta = await sharp(bytes, { ...settings, limitInputPixels: false }).metadata();
  } catch (error) {
    const message = (error as Error).message ?? '';
    if (/unsupported image format/i.test(message)) {
      throw new ImageLoadError(label, 'UNSUPPORTED_FORMAT', 'not a recognised image format', error);
    }
    throw new ImageLoadError(label, 'CORRUPT', 'corrupt image header', error);
  }
  if (meta.format === 'svg' && !options.allowSvg) {
    throw new ImageLoadError(label, 'SVG_REFUSED', 'SVG input is refused unless allowSvg is true');
  }
  if (meta.format === 'heif' && meta.compression === 'hevc') {
    // sharp's prebuilt libvips decodes AVIF only; HEVC (iPhone HEIC) needs a custom libvips build.
    throw new ImageLoadError(label, 'UNSUPPORTED_FORMAT', 'HEIC (HEVC-coded HEIF) is not supported by this sharp build; convert it to JPEG or AVIF');
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width === 0 || height === 0) throw new ImageLoadError(label, 'ZERO_SIZE', `zero-size image (${width}x${height})`);
  if (options.limitInputPixels > 0 && width * height > options.limitInputPixels) {
    throw tooManyPixels(label, width, height, options.limitInputPixels);
  }
  return { open, meta };
}

/** Maps a sharp failure while decoding pixels to an ImageLoadError. */
function decodeError(error: unknown, label: string, meta: Metadata, options: ResolvedLoadOptions): ImageLoadError {
  if (error instanceof ImageLoadError) return error;
  const message = (error as Error).message ?? '';
  if (/pixel limit/i.test(message)) {
    return tooManyPixels(label, meta.width ?? 0, meta.height ?? 0, options.limitInputPixels);
  }
  return new ImageLoadError(label, 'CORRUPT', 'truncated or corrupt image data', error);
}

async function decodeBytes(
  bytes: Uint8Array,
  label: string,
  options: ResolvedLoadOptions,
): Promise<{ image: RgbImage; warnings: string[] }> {
  const { open, meta } = await openChecked(bytes, label, options);
  try {
    return await decodePixels(open, meta, options);
  } catch (error) {
    throw decodeError(error, label, meta, options);
  }
}

/** sharp kernels used by the approximate fast path, per Pillow filter. */
const SHARP_KERNELS: Record<ResampleFilter, keyof KernelEnum> = {
  bicubic: 'cubic', bilinear: 'linear', lanczos: 'lanczos3', box: 'linear', hamming: 'linear',
};

/**
 * Decodes and resizes in one sharp pipeline (shrink-on-load for JPEG, libvips' own kernels).
 * Much faster for large photos but **not** bit-identical to Pillow: expect differences of a few
 * levels per pixel. CMYK and 16-bit grey follow sharp's own colour conversion here.
 */
export async function decodeImageResizedFast(
  input: ImageInput,
  options: ResolvedLoadOptions,
  width: number,
  height: number,
  filter: ResampleFilter,
): Promise<RgbImage> {
  const label = describeInput(input);
  let open: Opener;
  let meta: Metadata;
  if (isPlainObject(input)) {
    const rgb = rawToRgb(input, label, options);
    open = () => sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
    meta = { width: rgb.width, height: rgb.height } as Metadata;
  } else {
    ({ open, meta } = await openChecked(await readInput(input, label), label, options));
  }
  try {
    let pipeline = open();
    pipeline = options.alpha === 'white' ? pipeline.flatten({ background: '#ffffff' }) : pipeline.removeAlpha();
    const { data, info } = await pipeline.toColourspace('srgb')
      .resize(width, height, { fit: 'fill', kernel: SHARP_KERNELS[filter] })
      .raw().toBuffer({ resolveWithObject: true });
    return { data: toRgb(data, info.width, info.height, info.channels as 1 | 2 | 3 | 4), width: info.width, height: info.height, channels: 3 };
  } catch (error) {
    throw decodeError(error, label, meta, options);
  }
}

async function decodePixels(
  open: Opener,
  meta: Metadata,
  options: ResolvedLoadOptions,
): Promise<{ image: RgbImage; warnings: string[] }> {
  if (meta.space === 'cmyk') {
    // Keep the stored CMYK values (no ICC round trip), then Pillow's naive cmyk2rgb.
    const { data, info } = await open().pipelineColourspace('cmyk').toColourspace('cmyk').raw()
      .toBuffer({ resolveWithObject: true });
    const cmyk = info.channels === 4 ? data : selectBands(data, info.channels, 4);
    return { image: { data: cmykToRgb(cmyk, info.width, info.height), width: info.width, height: info.height, channels: 3 }, warnings: [] };
  }
  if (meta.space === 'grey16' && !meta.hasAlpha) {
    const { data, info } = await open().pipelineColourspace('grey16').toColourspace('grey16').raw({ depth: 'ushort' })
      .toBuffer({ resolveWithObject: true });
    const grey = new Uint16Array(info.width * info.height);
    const aligned = data.byteOffset % 2 === 0 ? data : new Uint8Array(data);
    const view = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
    for (let i = 0; i < grey.length; i++) grey[i] = view[i * info.channels]!;
    const { rgb, clamped } = grey16ToRgb(grey, info.width, info.height, options.grey16);
    const warnings = clamped > 0
      ? [`16-bit greyscale image: ${clamped} of ${grey.length} pixels above 255 were clamped to 255 as Pillow does; pass grey16: 'scale' to keep the high byte instead`]
      : [];
    return { image: { data: rgb, width: info.width, height: info.height, channels: 3 }, warnings };
  }
  // 8-bit (16-bit RGB(A) and grey+alpha are reduced to their high byte, as Pillow's ;16B unpackers do).
  const { data, info } = await open().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels as 1 | 2 | 3 | 4;
  return { image: { data: toRgb(data, info.width, info.height, channels, options.alpha), width: info.width, height: info.height, channels: 3 }, warnings: [] };
}

function selectBands(data: Uint8Array, from: number, to: number): Uint8Array {
  const pixels = data.length / from;
  const out = new Uint8Array(pixels * to);
  for (let i = 0; i < pixels; i++) for (let c = 0; c < to; c++) out[i * to + c] = data[i * from + c]!;
  return out;
}
