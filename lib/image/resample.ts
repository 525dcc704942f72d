/**
 * A Pillow-identical 8-bit convolution resampler (Pillow's `ImagingResample`, used by
 * `Image.resize(size, resample)` with no box and no `reducing_gap`, which is how Hugging Face
 * image processors call it).
 *
 * Pillow's algorithm, reproduced bit for bit:
 * - separable, horizontal pass first (only over the rows the vertical pass needs), then vertical;
 *   a pass is skipped when that dimension does not change;
 * - per output pixel, the filter is centred at `(x + 0.5) * scale`, its support widened by the
 *   downscale factor (`support * max(scale, 1)`), and its weights normalised to sum 1 in double precision;
 * - weights are converted to fixed point with 22 fractional bits (`PRECISION_BITS = 32 - 8 - 2`),
 *   rounded half away from zero;
 * - each pass accumulates in integers starting at `1 << 21` (rounding) and clamps to 0..255
 *   after shifting (`clip8`), so the intermediate image is uint8 like Pillow's.
 */

/** Pillow resampling filter ids, as in `PIL.Image.Resampling` and `preprocessor_config.json`'s `resample`. */
export const PIL_RESAMPLE = { NEAREST: 0, LANCZOS: 1, BILINEAR: 2, BICUBIC: 3, BOX: 4, HAMMING: 5 } as const;

/** The convolution filters this resampler implements (Pillow's NEAREST is not a convolution and is not offered). */
export type ResampleFilter = 'bicubic' | 'bilinear' | 'lanczos' | 'box' | 'hamming';

interface Filter {
  weight(x: number): number;
  support: number;
}

const FILTERS: Record<ResampleFilter, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0) },
  bilinear: {
    support: 1.0,
    weight: (x) => {
      if (x < 0.0) x = -x;
      return x < 1.0 ? 1.0 - x : 0.0;
    },
  },
  hamming: {
    support: 1.0,
    weight: (x) => {
      if (x < 0.0) x = -x;
      if (x === 0.0) return 1.0;
      if (x >= 1.0) return 0.0;
      x = x * Math.PI;
      // Pillow writes 0.54f and 0.46f: float constants promoted to double.
      return (Math.sin(x) / x) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(x));
    },
  },
  bicubic: {
    support: 2.0,
    weight: (x) => {
      const a = -0.5;
      if (x < 0.0) x = -x;
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
      if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
      return 0.0;
    },
  },
  lanczos: {
    support: 3.0,
    weight: (x) => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0),
  },
};

function sinc(x: number): number {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

const PRECISION_BITS = 32 - 8 - 2;
const ROUNDING = 1 << (PRECISION_BITS - 1);
const CLIP_HIGH = 1 << (PRECISION_BITS + 8);

/**
 * Fixed-point filter weights for one axis: output i reads `size[i]` inputs from `start[i]`.
 * Accumulation is int32 (`Math.imul` and `| 0`), exactly Pillow's `INT32 ss` arithmetic.
 */
interface AxisCoefficients {
  start: Int32Array;
  size: Int32Array;
  /** `ksize` weights per output, fixed point with PRECISION_BITS fractional bits. */
  weights: Int32Array;
  ksize: number;
}

/** Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for an axis of `inSize` → `outSize`. */
function axisCoefficients(inSize: number, outSize: number, filter: Filter): AxisCoefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1.0);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1.0 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // (int)(center - support + 0.5) truncates toward zero, then clamps.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.weight((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x]! / ww : k[x]!;
      const fixed = w * (1 << PRECISION_BITS);
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + fixed) : Math.trunc(0.5 + fixed);
    }
    start[xx] = xmin;
    size[xx] = xmax;
  }
  return { start, size, weights, ksize };
}

/** Pillow's clip8: `sum >> PRECISION_BITS`, clamped to 0..255. */
function clip8(sum: number): number {
  if (sum >= CLIP_HIGH) return 255;
  if (sum <= 0) return 0;
  return sum >> PRECISION_BITS;
}

/** Horizontal pass over rows [rowOffset, rowOffset + rows) of `src` (width `inW`) into `dst` (width outW). */
function resampleHorizontal(
  src: Uint8Array, inW: number, rowOffset: number, rows: number,
  dst: Uint8Array, outW: number, channels: number, c: AxisCoefficients,
): void {
  if (channels === 3) {
    resampleHorizontalRgb(src, inW, rowOffset, rows, dst, outW, c);
    return;
  }
  const { start, size, weights, ksize } = c;
  for (let y = 0; y < rows; y++) {
    const srcRow = (y + rowOffset) * inW * channels;
    const dstRow = y * outW * channels;
    for (let xx = 0; xx < outW; xx++) {
      const xmax = size[xx]!;
      const kBase = xx * ksize;
      for (let ch = 0; ch < channels; ch++) {
        let sum = ROUNDING;
        let p = srcRow + start[xx]! * channels + ch;
        for (let x = 0; x < xmax; x++, p += channels) sum = (sum + Math.imul(src[p]!, weights[kBase + x]!)) | 0;
        dst[dstRow + xx * channels + ch] = clip8(sum);
      }
    }
  }
}

/** The 3-channel horizontal pass with the three sums in one loop, as Pillow does. */
function resampleHorizontalRgb(
  src: Uint8Array, inW: number, rowOffset: number, rows: number,
  dst: Uint8Array, outW: number, c: AxisCoefficients,
): void {
  const { start, size, weights, ksize } = c;
  for (let y = 0; y < rows; y++) {
    const srcRow = (y + rowOffset) * inW * 3;
    let d = y * outW * 3;
    for (let xx = 0; xx < outW; xx++) {
      const xmax = size[xx]!;
      const kBase = xx * ksize;
      let s0 = ROUNDING;
      let s1 = ROUNDING;
      let s2 = ROUNDING;
      let p = srcRow + start[xx]! * 3;
      for (let x = 0; x < xmax; x++, p += 3) {
        const w = weights[kBase + x]!;
        s0 = (s0 + Math.imul(src[p]!, w)) | 0;
        s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
        s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
      }
      dst[d++] = clip8(s0);
      dst[d++] = clip8(s1);
      dst[d++] = clip8(s2);
    }
  }
}

/**
 * Vertical pass: `src` rows are indexed from the first row any output needs (`c.start` already shifted).
 * Three adjacent values share each weight load (any channel count: the row stride is just bytes here).
 */
function resampleVertical(
  src: Uint8Array, width: number, dst: Uint8Array, outH: number, channels: number, c: AxisCoefficients,
): void {
  const { start, size, weights, ksize } = c;
  const stride = width * channels;
  const tripleEnd = stride - (stride % 3);
  for (let yy = 0; yy < outH; yy++) {
    const first = start[yy]! * stride;
    const ymax = size[yy]!;
    const kBase = yy * ksize;
    const dstRow = yy * stride;
    for (let i = 0; i < tripleEnd; i += 3) {
      let s0 = ROUNDING;
      let s1 = ROUNDING;
      let s2 = ROUNDING;
      for (let y = 0, p = first + i; y < ymax; y++, p += stride) {
        const w = weights[kBase + y]!;
        s0 = (s0 + Math.imul(src[p]!, w)) | 0;
        s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
        s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
      }
      dst[dstRow + i] = clip8(s0);
      dst[dstRow + i + 1] = clip8(s1);
      dst[dstRow + i + 2] = clip8(s2);
    }
    for (let i = tripleEnd; i < stride; i++) {
      let sum = ROUNDING;
      for (let y = 0, p = first + i; y < ymax; y++, p += stride) sum = (sum + Math.imul(src[p]!, weights[kBase + y]!)) | 0;
      dst[dstRow + i] = clip8(sum);
    }
  }
}

/** An interleaved 8-bit image. */
export interface PixelBuffer {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Resizes an interleaved 8-bit image to exactly `outWidth`×`outHeight` with Pillow's convolution
 * resampler, bit-identical to `PIL.Image.resize((outWidth, outHeight), filter)` for modes L and RGB.
 * Returns the input unchanged (not copied) when the size already matches, as Pillow returns a copy.
 */
export function resizePil(image: PixelBuffer, outWidth: number, outHeight: number, filter: ResampleFilter = 'bicubic'): PixelBuffer {
  const { data, width, height, channels } = image;
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth < 1 || outHeight < 1) {
    throw new RangeError(`Expected positive integer output size but received ${outWidth}x${outHeight}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(`Pixel buffer has ${data.length} bytes but ${width}x${height}x${channels} needs ${width * height * channels}`);
  }
  const f = FILTERS[filter];
  if (f === undefined) throw new RangeError(`Unknown resample filter ${JSON.stringify(filter)}`);
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  if (!needHorizontal && !needVertical) return image;

  const horizontal = axisCoefficients(width, outWidth, f);
  const vertical = axisCoefficients(height, outHeight, f);
  // Rows the vertical pass reads: [firstRow, lastRow).
  const firstRow = vertical.start[0]!;
  const lastRow = vertical.start[outHeight - 1]! + vertical.size[outHeight - 1]!;

  let current = data;
  let currentHeight = height;
  if (needHorizontal) {
    const rows = needVertical ? lastRow - firstRow : height;
    const rowOffset = needVertical ? firstRow : 0;
    const tmp = new Uint8Array(outWidth * rows * channels);
    resampleHorizontal(data, width, rowOffset, rows, tmp, outWidth, channels, horizontal);
    if (needVertical) for (let i = 0; i < outHeight; i++) vertical.start[i] = vertical.start[i]! - firstRow;
    current = tmp;
    currentHeight = rows;
  }
  if (!needVertical) return { data: current, width: outWidth, height: currentHeight, channels };
  const out = new Uint8Array(outWidth * outHeight * channels);
  resampleVertical(current, outWidth, out, outHeight, channels, vertical);
  return { data: out, width: outWidth, height: outHeight, channels };
}
