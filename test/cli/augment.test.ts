import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { register } from '../../lib/cli/augment.js';
import { augmentImage, PAPER_IMAGE_AUGMENT } from '../../lib/image/augment.js';
import { corruptImage } from '../../lib/image/corrupt.js';
import { loadImage } from '../../lib/image/decode.js';

const image = fileURLToPath(new URL('../fixtures/blip2-tiny/images/img0_rgb_64x48.png', import.meta.url));

async function runAugment(args: string[]): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, stream);
  await program.parseAsync(['augment', ...args], { from: 'user' });
  return text;
}

async function pixels(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('blip2-progressive augment', () => {
  it('writes the seeded paper augmentations as PNGs, identical to augmentImage, with the flipped caption swapped', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-augment-'));
    const stdout = await runAugment([image, '--out', out, '--count', '3', '--seed', '10', '--caption', 'A cup on the left.', '--json']);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { output: string; seed: number; flipped: boolean; caption: string });
    expect(lines.map((l) => [l.output, l.seed])).toEqual([0, 1, 2].map((k) => [join(out, `img0_rgb_64x48.${k}.png`), 10 + k]));
    const decoded = await loadImage(image);
    for (const line of lines) {
      const expected = augmentImage(decoded, PAPER_IMAGE_AUGMENT, line.seed);
      const written = await pixels(line.output);
      // the paper's RandomResizedCrop(384): a 384×384 square from the 64×48 image
      expect([written.width, written.height]).toEqual([384, 384]);
      expect(Buffer.compare(written.data, Buffer.from(expected.image.data))).toBe(0);
      expect(line.flipped).toBe(expected.flipped);
      expect(line.caption.includes(expected.flipped ? 'right' : 'left')).toBe(true);
    }
  });

  it('--spec none --corrupt dark:5 writes only the corruption', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-augment-'));
    const stdout = await runAugment([image, '--out', out, '--count', '1', '--spec', 'none', '--corrupt', 'dark:5']);
    expect(stdout).toBe(`${join(out, 'img0_rgb_64x48.0.png')}\tseed 0\n`);
    const expected = await corruptImage(await loadImage(image), 'low_light', 5, 0);
    expect(Buffer.compare((await pixels(join(out, 'img0_rgb_64x48.0.png'))).data, Buffer.from(expected.data))).toBe(0);
  });

  it('reads a JSON spec file and reports bad flags as usage errors', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-augment-'));
    const specFile = join(out, 'spec.json');
    writeFileSync(specFile, JSON.stringify({ hflip: 1 }));
    const stdout = await runAugment([image, '--out', out, '--count', '1', '--spec', specFile]);
    expect(stdout).toBe(`${join(out, 'img0_rgb_64x48.0.png')}\tseed 0\tflipped\n`);
    writeFileSync(specFile, JSON.stringify({ hflip: 3 }));
    await expect(runAugment([image, '--out', out, '--spec', specFile])).rejects.toThrow(
      `--spec ${specFile}: Expected number between 0 and 1 for hflip but received 3 of type number`,
    );
    await expect(runAugment([image, '--out', out, '--corrupt', 'fog:2'])).rejects.toThrow('--corrupt: Expected "<kind>:<severity 1-5>"');
    await expect(runAugment([image, '--out', out, '--count', '0'])).rejects.toThrow('--count expects an integer between 1 and 1000 but received "0"');
  });
});
