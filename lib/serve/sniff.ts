/**
 * Content sniffing for uploads: the format is judged from the first bytes only, never from a file name or a
 * Content-Type header, and only formats the decoder is meant to read from strangers are let through.
 */

/** Formats accepted from uploads. */
export type SniffedFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff' | 'avif';

/** Why an upload is refused before decoding. */
export class UnsupportedMediaError extends Error {
  override name = 'UnsupportedMediaError';
}

const ACCEPTED = 'JPEG, PNG, GIF, WebP, TIFF or AVIF';

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, Math.min(end, bytes.length) - start)).toString('latin1');
}

/** True for text that starts like XML or SVG (after an optional BOM and whitespace). */
function looksLikeMarkup(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('utf8');
  const text = head.replace(/^\uFEFF/, '').trimStart().toLowerCase();
  return text.startsWith('<?xml') || text.startsWith('<svg') || text.startsWith('<!doctype svg') || /^<!--[\s\S]*?-->\s*<svg/.test(text);
}

/**
 * The image format of `bytes` from their magic numbers.
 *
 * @throws UnsupportedMediaError with a message saying what was received and what is accepted
 */
export function sniffImage(bytes: Uint8Array): SniffedFormat {
  if (bytes.length === 0) throw new UnsupportedMediaError('The upload is empty: send the image bytes (JPEG, PNG, GIF, WebP, TIFF or AVIF)');
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    throw new UnsupportedMediaError(`The upload is an ISO media file of brand ${JSON.stringify(brand)}, not an image this server decodes; send ${ACCEPTED}`);
  }
  if (looksLikeMarkup(bytes)) {
    throw new UnsupportedMediaError(`SVG and other XML uploads are refused (they can reference external resources); send ${ACCEPTED}`);
  }
  throw new UnsupportedMediaError(
    `The upload is not an image: its first bytes match no supported format (the file name and Content-Type are not trusted); send ${ACCEPTED}`,
  );
}
