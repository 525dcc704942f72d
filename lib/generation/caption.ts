/**
 * Captioning many images: batches stream through preprocessing (the next batch is decoded while the model
 * generates the current one) and {@link generate}; the ids are decoded to text. Used by Blip2Captioner.caption.
 */
import { integerInRange, invalidParameterError, knownKeys } from '../is.js';
import type { ImageInput } from '../image/decode.js';
import type { PixelValues, PreprocessOptions } from '../image/processor.js';
import type { T5Tokenizer } from '../text/tokenizer.js';
import { GENERATION_KEYS, resolveGenerationConfig, type GenerationOptions } from './config.js';
import { generate, trimmedSequence } from './generate.js';
import type { DecodingModel, TokenEvent } from './types.js';

/** Options of `Blip2Captioner.caption`: generation settings plus these. */
export interface CaptionOptions extends GenerationOptions {
  /**
   * Text before the caption: one prompt for every image or one per image (prompts of different lengths are
   * right-padded with attention mask 0). Default: none, as Hugging Face (zero-length prompt rows).
   */
  prompt?: string | readonly string[];
  /** Images per model batch. Default 8. */
  batchSize?: number;
  /** Image decoding/preprocessing options. */
  preprocess?: PreprocessOptions;
  /** Called after each batch with the number of images done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each image's result as soon as its batch is done (before the promise resolves). */
  onResult?: (index: number, result: Caption | Caption[]) => void;
  /** Streams every generated token (greedy search and sampling), with the index of its image. */
  onToken?: (event: TokenEvent & { image: number }) => void;
}

/** One generated caption. */
export interface Caption {
  /** Decoded text (special tokens skipped). */
  text: string;
  /** The sequence as Hugging Face returns it: decoder start token first, EOS included, no trailing padding. */
  tokenIds: number[];
  /** Beam search: HF's sequences_score; greedy and sampling: the mean token log-prob under the model. */
  score: number;
}

/** What captioning needs from a captioner. */
export interface CaptionParts {
  model: DecodingModel;
  tokenizer: T5Tokenizer;
  preprocess(images: readonly ImageInput[], options?: PreprocessOptions): Promise<PixelValues>;
  /** Defaults under the call's options (the model's generation_config.json and token ids). */
  generationDefaults: GenerationOptions;
}

export const CAPTION_KEYS = [...GENERATION_KEYS, 'prompt', 'batchSize', 'preprocess', 'onProgress', 'onResult', 'onToken'] as const;

function promptRows(tokenizer: T5Tokenizer, prompt: CaptionOptions['prompt'], images: number): (number[] | undefined)[] {
  if (prompt === undefined) return new Array(images).fill(undefined);
  if (typeof prompt === 'string') {
    const ids = tokenizer.encode(prompt);
    return new Array(images).fill(ids);
  }
  if (!Array.isArray(prompt) || prompt.length !== images) {
    throw invalidParameterError('prompt', `string or array of ${images} strings (one per image)`, prompt);
  }
  return prompt.map((p, i) => {
    if (typeof p !== 'string') throw invalidParameterError(`prompt[${i}]`, 'string', p);
    return tokenizer.encode(p);
  });
}

/** Right-pads prompt rows with pad/mask 0 to the batch's longest (no prompt: zero-length rows). */
function padPrompts(rows: (number[] | undefined)[], pad: number): { inputIds: number[][]; attentionMask: number[][] } {
  const width = Math.max(0, ...rows.map((r) => r?.length ?? 0));
  return {
    inputIds: rows.map((r = []) => [...r, ...new Array<number>(width - r.length).fill(pad)]),
    attentionMask: rows.map((r = []) => [...r.map(() => 1), ...new Array<number>(width - r.length).fill(0)]),
  };
}

/**
 * Captions images in batches (with a seed, batch k samples with seed + k). Returns one {@link Caption} per image, or an array of numReturnSequences
 * captions per image (best first for beam search) when numReturnSequences > 1.
 */
export async function captionImages(
  parts: CaptionParts, images: readonly ImageInput[], options?: CaptionOptions,
): Promise<(Caption | Caption[])[]> {
  const { prompt, batchSize, preprocess, onProgress, onResult, onToken, ...generation } = knownKeys('options', options, CAPTION_KEYS) as CaptionOptions;
  if (!Array.isArray(images) || images.length === 0) throw invalidParameterError('images', 'non-empty array of images', images);
  const size = batchSize === undefined ? 8 : integerInRange('batchSize', batchSize, 1, 4096);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidParameterError('onProgress', 'function', onProgress);
  if (onResult !== undefined && typeof onResult !== 'function') throw invalidParameterError('onResult', 'function', onResult);
  const perImage = resolveGenerationConfig(parts.generationDefaults, generation).numReturnSequences;
  const prompts = promptRows(parts.tokenizer, prompt, images.length);
  const pad = parts.tokenizer.padTokenId;
  const results: (Caption | Caption[])[] = [];
  const starts = Array.from({ length: Math.ceil(images.length / size) }, (_, i) => i * size);
  const load = (start: number) => parts.preprocess(images.slice(start, start + size), preprocess);
  let pending = load(0);
  for (const [k, start] of starts.entries()) {
    const pixelValues = await pending;
    if (k + 1 < starts.length) {
      pending = load(starts[k + 1]!);
      pending.catch(() => {});
    }
    const batchPrompts = padPrompts(prompts.slice(start, start + size), pad);
    // batch k samples with seed + k, so batches do not repeat one random stream
    const seed = generation.seed === undefined ? undefined : (generation.seed + k) % 2 ** 53;
    const out = await generate(parts.model, { pixelValues, ...batchPrompts }, { ...generation, seed }, {
      decodableVocabSize: parts.tokenizer.vocabSize,
      defaults: parts.generationDefaults,
      ...(onToken ? { onToken: (e: TokenEvent) => onToken({ ...e, image: start + Math.floor(e.row / perImage) }) } : {}),
    });
    for (let i = 0; i * perImage < out.sequences.length; i++) {
      const captions = Array.from({ length: perImage }, (_, j) => {
        const row = i * perImage + j;
        const tokenIds = trimmedSequence(out, row);
        return { text: parts.tokenizer.decode(tokenIds, { skipSpecialTokens: true }), tokenIds, score: out.sequencesScores[row]! };
      });
      const result = perImage === 1 ? captions[0]! : captions;
      results.push(result);
      onResult?.(results.length - 1, result);
    }
    onProgress?.(Math.min(start + size, images.length), images.length);
  }
  return results;
}
