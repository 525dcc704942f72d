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

/** The two splits. */
export const SPLITS = ['train', 'val'] as const;
export type Split = (typeof SPLITS)[number];

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

/** The seed of one example's random stream. */
export function exampleSeed(seed: number, domain: Domain, split: Split, index: number): number {
  return mixSeed(seed, domain === 'clean' ? 1 : 2, split === 'train' ? 1 : 2, index);
}

/** Generates one example deterministically from its coordinates. */
export function synthesizeExample(seed: number, domain: Domain, split: Split, index: number): SynthExample {
  const rng = new SynthRandom(exampleSeed(seed, domain, split, index));
  const scene = sampleScene(rng);
  const view = domain === 'assistive' ? sampleAssistiveView(rng) : IDENTITY_VIEW;
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
