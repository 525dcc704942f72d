/** Small on-disk VizWiz-format datasets for end-to-end tests: coloured images with simple captions. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const COLOURS: [string, [number, number, number]][] = [
  ['red', [220, 30, 30]], ['green', [30, 200, 40]], ['blue', [30, 40, 220]], ['yellow', [230, 220, 30]],
];

/** Writes `<dir>/<split>.json` and `<dir>/<split>/*.png` with `count` images; returns the annotation path. */
export async function writeTinyVizWiz(dir: string, split: string, count: number, offset = 0): Promise<string> {
  mkdirSync(join(dir, split), { recursive: true });
  const images: object[] = [];
  const annotations: object[] = [];
  for (let i = 0; i < count; i++) {
    const id = offset + i;
    const [name, rgb] = COLOURS[id % COLOURS.length]!;
    const file = `img_${id}.png`;
    const pixels = Buffer.alloc(40 * 40 * 3);
    for (let p = 0; p < 40 * 40; p++) {
      const inSquare = p % 40 > 10 && p % 40 < 30 && Math.floor(p / 40) > 10 && Math.floor(p / 40) < 30;
      pixels.set(inSquare ? rgb : [250, 250, 250], p * 3);
    }
    await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(dir, split, file));
    images.push({ id, file_name: file, text_detected: false });
    [`a ${name} square`, `a ${name} box on white`, `the ${name} square`].forEach((caption, k) => {
      annotations.push({ id: id * 10 + k, image_id: id, caption, is_rejected: false, is_precanned: false, text_detected: false });
    });
  }
  const file = join(dir, `${split}.json`);
  writeFileSync(file, JSON.stringify({ images, annotations }));
  return file;
}

/** A run config's `data` for the `train` and `val` splits written into `root` by {@link writeTinyRunData}. */
export function tinyRunData(root: string) {
  return {
    train: { file: join(root, 'train.json'), imageRoot: join(root, 'train') },
    val: { file: join(root, 'val.json'), imageRoot: join(root, 'val') },
  };
}

/**
 * Writes the run tests' splits into `root` (`trainImages` training images, 4 validation images); returns the config's
 * `data`.
 */
export async function writeTinyRunData(root: string, trainImages = 8) {
  await writeTinyVizWiz(root, 'train', trainImages);
  await writeTinyVizWiz(root, 'val', 4, 100);
  return tinyRunData(root);
}
