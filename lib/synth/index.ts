/**
 * The built-in synthetic VizWiz-like captioning dataset and the tiny BLIP-2 it trains.
 *
 * Scenes of 1–3 shapes (circle, square, triangle, star, cross, ring; 8 colours; 3 sizes; centred,
 * left-right, above-below or a row of three) on plain, gradient, striped or checked backgrounds, some with
 * a printed word (drawn with a built-in 5×7 bitmap font, on a large shape or a label card), rendered in
 * pure TypeScript with 4×4 supersampling at 64×64. Two domains:
 *
 * - **clean**: the scene as laid out, well lit and centred, with plain captions;
 * - **assistive** (VizWiz-like): a rotated (±20°), shifted (±13 px), zoomed (0.85–1.2) view with one of
 *   blur, low light, sensor noise or glare, and captions that name the degradation, say "box" for
 *   "square" and "beside" for "next to", and give sizes only for single objects.
 *
 * Each image has 5 distinct captions from a paraphrase grammar whose words are short for the project's
 * 4000-piece T5 tokenizer. {@link generateSynthDataset} writes VizWiz-Captions annotation files and PNGs
 * per domain and split, deterministically by seed, skipping work when an identical dataset exists.
 *
 * @example
 * ```ts
 * const { splits } = await generateSynthDataset({ outDir: 'data/synth', seed: 0 });
 * const test = splits.find((s) => s.domain === 'assistive' && s.split === 'test')!;
 * const dataset = await loadDataset({ file: test.annotations, imageRoot: test.imageRoot, format: 'vizwiz' });
 * ```
 */
export {
  CAPTIONS_PER_IMAGE, DEGRADATION_WORDS, DOMAINS, describeScene, fixArticles, sampleCaptions, type Domain,
} from './captions.js';
export {
  DEFAULT_SYNTH_SIZES, MAX_SPLIT_SIZE, SYNTH_VERSION, generateSynthDataset, synthSplitFiles,
  type SplitSizes, type SynthDatasetOptions, type SynthDatasetResult, type SynthManifest, type SynthParameters,
  type SynthProgress, type SynthSplitFiles,
} from './dataset.js';
export {
  DEGRADATIONS, DEGRADATION_RANGES, addGaussianNoise, addGlare, applyDegradation, darken, gaussianBlur, gaussianKernel,
  sampleAssistiveView, sampleDegradation, type Degradation, type DegradationKind,
} from './degrade.js';
export { IDENTITY_VIEW, IMAGE_SIZE, SUPERSAMPLE, renderScene, renderSceneFull, toBytes, type FloatImage, type View } from './draw.js';
export { FONT_CHARACTERS, GLYPH_HEIGHT, GLYPH_WIDTH, glyph, textWidthCells, wordBitmap } from './font.js';
export {
  SYNTH_MAX_NEW_TOKENS, SYNTH_PROMPT, SYNTH_SUPPRESSED_TOKENS, SYNTH_TOKENIZER_SIZE, SYNTH_VOCAB_SIZE,
  synthGenerationConfig, synthModelConfig, synthPreprocessorConfig,
} from './model-config.js';
export { SynthRandom, mixSeed } from './random.js';
export { SPLITS, TRAINING_SPLITS, TRAIN_VIEWS, exampleSeed, synthesizeExample, type Split, type SynthExample, type TrainViews } from './sample.js';
export {
  COLOURS, COLOUR_RGB, LABEL_COLOURS, SHAPES, SIZES, WORDS, sampleScene,
  type Background, type Colour, type Layout, type Scene, type SceneLabel, type SceneObject, type SceneText, type Shape, type Size,
} from './scene.js';
export { synthFileName, type SynthRecord } from './task.js';
