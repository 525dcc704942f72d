/**
 * `blip2-progressive augment`: writes seeded augmentations (and/or corruptions) of images as PNGs, to look at
 * what training or a robustness evaluation will see; with --caption, prints the matching augmented caption
 * (left/right swapped when the image was flipped).
 *
 *   blip2-progressive augment photo.jpg --out previews --count 8 --caption "a cup left of a plate."
 *   blip2-progressive augment photo.jpg --out previews --spec none --corrupt blur:3
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Command } from 'commander';
import sharp from 'sharp';
import { augmentImage, PAPER_IMAGE_AUGMENT, parseImageAugmentSpec, type ImageAugmentSpec } from '../image/augment.js';
import { corruptImage, parseCorruption, type Corruption } from '../image/corrupt.js';
import { loadImage, type RgbImage } from '../image/decode.js';
import { readJsonFile } from '../io/json.js';
import { augmentCaption, PAPER_CAPTION_AUGMENT, swapLeftRight } from '../text/augment.js';
import { parseIntegerFlag, UsageError } from './usage.js';

interface AugmentFlags {
  out: string;
  count: number;
  seed: number;
  spec: string;
  corrupt?: Corruption;
  caption?: string;
  json?: boolean;
}

function parseCorruptFlag(value: string): Corruption {
  try {
    return parseCorruption(value);
  } catch (err) {
    throw new UsageError(`--corrupt: ${(err as Error).message}`);
  }
}

async function loadSpec(spec: string): Promise<ImageAugmentSpec | null> {
  if (spec === 'paper') return PAPER_IMAGE_AUGMENT;
  if (spec === 'none') return null;
  let json: unknown;
  try {
    json = await readJsonFile(spec, 'augmentation spec');
  } catch (err) {
    throw new UsageError(`--spec: ${(err as Error).message}`, { cause: err });
  }
  try {
    return parseImageAugmentSpec(json);
  } catch (err) {
    throw new UsageError(`--spec ${spec}: ${(err as Error).message}`);
  }
}

/** Adds the `augment` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  program
    .command('augment')
    .description('write seeded augmentations / corruptions of images as PNG files (and the augmented caption)')
    .argument('<images...>', 'image files')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--count <n>', 'variants per image', parseIntegerFlag('--count', 1, 1000), 4)
    .option('--seed <n>', 'first seed; variant k of image i uses seed + i·count + k', parseIntegerFlag('--seed', 0, Number.MAX_SAFE_INTEGER), 0)
    .option('--spec <paper|none|file.json>', 'image augmentation: the paper\'s set, none, or an ImageAugmentSpec JSON file', 'paper')
    .option('--corrupt <kind:severity>', 'also corrupt each variant, e.g. blur:3 (noise, blur, motion, dark, jpeg, defocus; 1-5)', parseCorruptFlag)
    .option('--caption <text>', 'print this caption augmented with the paper\'s caption settings for each variant')
    .option('--json', 'print one JSON object per variant: {"image", "output", "seed", "flipped", "params", "caption"}')
    .addHelpText('after', `
Examples:
  $ blip2-progressive augment dog.jpg --out previews --count 8 --caption "A dog to the left of a cup."
  $ blip2-progressive augment dog.jpg --out previews --spec none --corrupt defocus:4`)
    .action(async (images: string[], flags: AugmentFlags) => {
      const spec = await loadSpec(flags.spec);
      await mkdir(flags.out, { recursive: true });
      for (const [i, path] of images.entries()) {
        const image = await loadImage(path);
        for (let k = 0; k < flags.count; k++) {
          const seed = flags.seed + i * flags.count + k;
          await writeVariant(stdout, path, image, seed, k, spec, flags);
        }
      }
    });
}

async function writeVariant(
  stdout: NodeJS.WritableStream, path: string, image: RgbImage, seed: number, k: number, spec: ImageAugmentSpec | null, flags: AugmentFlags,
): Promise<void> {
  let out = image;
  let flipped = false;
  let params: unknown = null;
  if (spec !== null) ({ image: out, flipped, params } = augmentImage(image, spec, seed));
  if (flags.corrupt !== undefined) out = await corruptImage(out, flags.corrupt.kind, flags.corrupt.severity, seed);
  const output = join(flags.out, `${basename(path, extname(path))}.${k}.png`);
  await sharp(out.data, { raw: { width: out.width, height: out.height, channels: 3 } }).png().toFile(output);
  let caption: string | undefined;
  if (flags.caption !== undefined) {
    caption = augmentCaption(flags.caption, PAPER_CAPTION_AUGMENT, seed);
    if (flipped) caption = swapLeftRight(caption);
  }
  if (flags.json) {
    stdout.write(`${JSON.stringify({ image: path, output, seed, flipped, params, corrupt: flags.corrupt ?? null, ...(caption === undefined ? {} : { caption }) })}\n`);
  } else {
    stdout.write(`${output}\tseed ${seed}${flipped ? '\tflipped' : ''}${caption === undefined ? '' : `\t${caption}`}\n`);
  }
}
