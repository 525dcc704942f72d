/**
 * A unit of dataset work — a contiguous range of examples of one domain and split — run either on a
 * worker thread or in-process. It renders each example, encodes it as PNG with sharp, writes the file
 * and returns the annotation records and file hashes in index order.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Domain } from './captions.js';
import { synthesizeExample, type Split, type SynthExample, type TrainViews } from './sample.js';

/** A range of examples to generate into `imageDir`. */
export interface SynthTask {
  seed: number;
  domain: Domain;
  split: Split;
  start: number;
  count: number;
  imageDir: string;
  /** The assistive camera of training against held-out images; default `all`. */
  trainViews?: TrainViews;
}

/** What the annotation files need to know about one written example. */
export interface SynthRecord {
  index: number;
  fileName: string;
  /** sha256 of the PNG bytes, hex. */
  sha256: string;
  captions: string[];
  textDetected: boolean;
  /** Scene description for the sidecar file (layout, objects, word, camera, degradation). */
  meta: Record<string, unknown>;
}

/** The image file name of an example (VizWiz style: `VizWiz_train_00000000.jpg`). */
export function synthFileName(domain: Domain, split: Split, index: number): string {
  return `synth_${domain}_${split}_${String(index).padStart(8, '0')}.png`;
}

const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;

/** A compact JSON-friendly description of what was drawn (for analyses such as CIDEr against severity). */
export function exampleMeta(example: SynthExample): Record<string, unknown> {
  const { scene, view, degradation } = example;
  const meta: Record<string, unknown> = {
    layout: scene.layout,
    objects: scene.objects.map((o) => ({ shape: o.shape, colour: o.colour, size: o.size })),
    label: scene.label?.colour ?? null,
    word: scene.text?.word ?? null,
  };
  if (degradation === undefined) return meta;
  meta.view = {
    angle_degrees: round((view.angle * 180) / Math.PI, 3),
    shift_x: round(view.centreX - 32, 3),
    shift_y: round(view.centreY - 32, 3),
    zoom: round(view.zoom),
  };
  const { kind, severity, ...parameters } = degradation;
  meta.degradation = {
    kind,
    severity: round(severity),
    parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, round(v as number)])),
  };
  return meta;
}

/** PNG bytes of an 8-bit RGB image; fixed encoder settings keep the bytes reproducible. */
export async function encodePng(pixels: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

/** Runs a task: generates, encodes and writes its examples; returns their records in index order. */
export async function runSynthTask(task: SynthTask): Promise<SynthRecord[]> {
  const jobs: Promise<SynthRecord>[] = [];
  for (let index = task.start; index < task.start + task.count; index++) {
    const example = synthesizeExample(task.seed, task.domain, task.split, index, task.trainViews);
    const fileName = synthFileName(task.domain, task.split, index);
    jobs.push(
      encodePng(example.pixels, example.width, example.height).then(async (png) => {
        await writeFile(join(task.imageDir, fileName), png);
        return {
          index, fileName, sha256: createHash('sha256').update(png).digest('hex'),
          captions: example.captions, textDetected: example.textDetected, meta: exampleMeta(example),
        };
      }),
    );
  }
  return Promise.all(jobs);
}
