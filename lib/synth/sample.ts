/**
 * One synthetic example from (seed, domain, split, index): scene, camera, degradation, pixels and
 * captions. Each example draws from its own random stream, so examples are independent of each other
 * and of how generation is split across threads.
 */
import { sampleCaptions, type Domain } from './captions.js';
import { applyDegradation, mildDegradation, sampleAssistiveView, sampleDegradation, type Degradation } from './degrade.js';
import { IDENTITY_VIEW, IMAGE_SIZE, renderScene, toBytes, type View } from './draw.js';
import { mixSeed, SynthRandom } from './random.js';
import { sampleScene, type Scene } from './scene.js';

/**
 * The splits: `train` (fine-tuning), `val` (early stopping and choices), `test` (the reported numbers) and `scst` (an
 * optional pool of training images for a reinforcement stage, apart from the cross-entropy stages' `train`). Each
 * split has its own random streams, so their images are distinct and adding one split leaves the others' bytes as
 * they were.
 */
export const SPLITS = ['train', 'val', 'test', 'scst'] as const;
export type Split = (typeof SPLITS)[number];

/** Splits models learn from; the others are held out. */
export const TRAINING_SPLITS: readonly Split[] = ['train', 'scst'];

/**
 * How the assistive camera varies between training and held-out images:
 * - `all`: every split turns and shifts both ways (±20°, ±13 px);
 * - `one-sided`: training images (`train`, `scst`) turn one way and shift one way only (angle ≥ 0, horizontal
 *   shift ≥ 0), held-out images (`val`, `test`) both ways, so half of the held-out views are mirror
 *   images of views no training image has: variation that a horizontal flip supplies and nothing else does.
 */
export const TRAIN_VIEWS = ['all', 'one-sided'] as const;
export type TrainViews = (typeof TRAIN_VIEWS)[number];

/** A generated example: 64×64 RGB bytes, five captions and what was drawn. */
export interface SynthExample {
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, row-major. */
  pixels: Uint8Array;
  captions: string[];
  /** Whether the image shows a printed word (VizWiz's `text_detected`). */
  textDetected: boolean;
  scene: Scene;
  view: View;
  /** Every assistive image has one; a quarter of the clean ones a mild one ({@link CLEAN_QUALITY_SHARE}). */
  degradation?: Degradation;
}

/**
 * Share of clean images with a mild quality issue, captioned in the assistive style (the degradation named, "box",
 * "beside"), as a web-scale pretraining corpus has some dark or unclear photos. Without them the pretrained model's
 * frozen output layer has untrained rows for every word only assistive captions use ("dark", "box", …), and
 * LoRA on the paper's targets never learned to produce those words from 100 assistive images.
 */
export const CLEAN_QUALITY_SHARE = 0.25;

/** The seed of one example's random stream (train 1, val 2, test 3, scst 4: the first two as they always were). */
export function exampleSeed(seed: number, domain: Domain, split: Split, index: number): number {
  return mixSeed(seed, domain === 'clean' ? 1 : 2, SPLITS.indexOf(split) + 1, index);
}

/** A view turned to angle ≥ 0 and shifted right: the same random draws, their signs folded. */
function oneSidedView(view: View): View {
  return { ...view, angle: Math.abs(view.angle), centreX: IMAGE_SIZE / 2 + Math.abs(view.centreX - IMAGE_SIZE / 2) };
}

/**
 * Generates one example deterministically from its coordinates. `trainViews` (default `all`) is the assistive
 * camera's split between training and held-out images ({@link TRAIN_VIEWS}).
 */
export function synthesizeExample(seed: number, domain: Domain, split: Split, index: number, trainViews: TrainViews = 'all'): SynthExample {
  const rng = new SynthRandom(exampleSeed(seed, domain, split, index));
  const scene = sampleScene(rng);
  let view = domain === 'assistive' ? sampleAssistiveView(rng) : IDENTITY_VIEW;
  if (domain === 'assistive' && trainViews === 'one-sided' && TRAINING_SPLITS.includes(split)) view = oneSidedView(view);
  const degradation = domain === 'assistive' ? sampleDegradation(rng)
    : rng.uniform(0, 1) < CLEAN_QUALITY_SHARE ? mildDegradation(sampleDegradation(rng)) : undefined;
  // a degraded image is captioned in the assistive style, naming the degradation
  const captions = sampleCaptions(scene, degradation ? 'assistive' : 'clean', degradation?.kind, rng);
  const image = renderScene(scene, view);
  if (degradation !== undefined) applyDegradation(image, degradation, rng);
  const example: SynthExample = {
    width: IMAGE_SIZE, height: IMAGE_SIZE, pixels: toBytes(image), captions,
    textDetected: scene.text !== undefined, scene, view,
  };
  if (degradation !== undefined) example.degradation = degradation;
  return example;
}
