/**
 * Pixel-format conversions to 8-bit RGB with Pillow's exact integer arithmetic.
 *
 * Hugging Face's generic `image_transforms.convert_to_rgb` (used by BlipImageProcessor) is
 * `image.convert("RGB")`: alpha is **dropped** (the colour under a transparent pixel is kept), grey is
 * replicated, CMYK goes through Pillow's naive `cmyk2rgb`. The golden fixture `img3` (an RGBA PNG with
 * 51 alpha levels) confirms this. Some newer processors (idefics2, mllama, chameleon) instead composite
 * onto white with `Image.alpha_composite`; {@link AlphaMode} `'white'` reproduces that arithmetic.
 */

/**
 * What happens to an alpha channel: `'drop'` (Pillow `convert("RGB")`, BLIP) or `'white'` (alpha_composite onto white).
 */
export type AlphaMode = 'drop' | 'white';

/**
 * Composites one RGBA pixel channel onto white the way Pillow's `ImagingAlphaComposite` does
 * (7 extra bits of precision, division by 255 via the shift trick). `value` and `alpha` are 0..255.
 */
export function compositeOnWhite(value: number, alpha: number): number {
  if (alpha === 0) return 255;
  // Pillow: blend = dst.a*(255-src.a); outa255 = src.a*255 + blend; coef1 = src.a*255*255*128/outa255
  const blend = 255 * (255 - alpha);
  const outa255 = alpha * 255 + blend;
  const coef1 = Math.floor((alpha * 255 * 255 * 128) / outa255);
  const coef2 = 255 * 128 - coef1;
  const tmp = value * coef1 + 255 * coef2 + (0x80 << 7);
  return (((tmp >> 8) + tmp) >> 8) >> 7;
}

/** Lookup table `[alpha * 256 + value]` → composited value, built once. */
const WHITE_COMPOSITE = (() => {
  const table = new Uint8Array(256 * 256);
  for (let alpha = 0; alpha < 256; alpha++) {
    for (let value = 0; value < 256; value++) table[alpha * 256 + value] = compositeOnWhite(value, alpha);
  }
  return table;
})();

/** The same `[alpha * 256 + value]` indexing with alpha ignored (Pillow `convert("RGB")`). */
const OPAQUE = (() => {
  const table = new Uint8Array(256 * 256);
  for (let alpha = 0; alpha < 256; alpha++) for (let value = 0; value < 256; value++) table[alpha * 256 + value] = value;
  return table;
})();

/**
 * Converts interleaved 8-bit pixels with 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA) channels to RGB,
 * replicating grey and dropping alpha or compositing it onto white exactly as Pillow does.
 */
export function toRgb(
  data: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4, alpha: AlphaMode = 'drop',
): Uint8Array {
  const pixels = width * height;
  if (channels === 3) return data.length === pixels * 3 ? data : data.slice(0, pixels * 3);
  const out = new Uint8Array(pixels * 3);
  const table = alpha === 'white' ? WHITE_COMPOSITE : OPAQUE;
  for (let i = 0, o = 0; i < pixels; i++, o += 3) {
    if (channels === 1) {
      const v = data[i]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else if (channels === 2) {
      const row = data[i * 2 + 1]! * 256;
      const v = table[row + data[i * 2]!]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else {
      const s = i * 4;
      const row = data[s + 3]! * 256;
      out[o] = table[row + data[s]!]!;
      out[o + 1] = table[row + data[s + 1]!]!;
      out[o + 2] = table[row + data[s + 2]!]!;
    }
  }
  return out;
}

/**
 * CMYK → RGB as Pillow's `cmyk2rgb` (no colour management): `nk = 255 - K`,
 * `R = nk - round(C * nk / 255)`, likewise G and B.
 */
export function cmykToRgb(data: Uint8Array, width: number, height: number): Uint8Array {
  const pixels = width * height;
  const out = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const nk = 255 - data[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = nk - mulDiv255(data[i * 4 + c]!, nk);
  }
  return out;
}

/** Pillow's MULDIV255: `a * b / 255` rounded, via `tmp = a*b + 128; ((tmp >> 8) + tmp) >> 8`. */
function mulDiv255(a: number, b: number): number {
  const tmp = a * b + 128;
  return ((tmp >> 8) + tmp) >> 8;
}

/** How a 16-bit single-channel (grey16) image becomes 8-bit. */
export type Grey16Mode = 'pil' | 'scale';

/**
 * Converts 16-bit grey to RGB. `'pil'` reproduces Pillow (`I;16` → `L`/`RGB` clamps: values above 255
 * become 255, so most 16-bit photos turn white — that is what Hugging Face's processor feeds the model);
 * `'scale'` keeps the high byte (`v >> 8`), as Pillow itself does for 16-bit RGB and grey+alpha PNGs.
 * Returns the RGB pixels and how many values the clamp changed.
 */
export function grey16ToRgb(
  data: Uint16Array,
  width: number,
  height: number,
  mode: Grey16Mode,
): { rgb: Uint8Array; clamped: number } {
  const pixels = width * height;
  const out = new Uint8Array(pixels * 3);
  let clamped = 0;
  for (let i = 0; i < pixels; i++) {
    const v = data[i]!;
    let u: number;
    if (mode === 'scale') {
      u = v >> 8;
    } else if (v > 255) {
      u = 255;
      clamped++;
    } else {
      u = v;
    }
    out[i * 3] = u;
    out[i * 3 + 1] = u;
    out[i * 3 + 2] = u;
  }
  return { rgb: out, clamped };
}
