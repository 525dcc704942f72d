/**
 * Captioning many images: batches stream through preprocessing (the next batch is decoded while the model
 * generates the current one) and {@link generate}; the ids are decoded to text. Used by Blip2Captioner.caption.
 */
import { abortSignal, throwIfAborted } from '../abort.js';
import { integerInRange, invalidParameterError, knownKeys, oneOf, optional } from '../is.js';
import { ImageLoadError, type ImageInput } from '../image/decode.js';
import type { PixelValues, PreprocessOptions } from '../image/processor.js';
import type { Tokenizer } from '../text/encoding.js';
import { GENERATION_KEYS, resolveGenerationConfig, type GenerationOptions } from './config.js';
import { generate, trimmedSequence } from './generate.js';
import type { DecodingModel, TokenEvent } from './types.js';
import { ArgumentError } from '../errors.js';

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
  onResult?: (index: number, result: CaptionResult) => void;
  /** Streams every generated token (greedy search and sampling), with the index of its image. */
  onToken?: (event: TokenEvent & { image: number }) => void;
  /**
   * An image that cannot be loaded (an ImageLoadError): 'throw' (default) rejects the call; 'skip' puts a
   * {@link CaptionFailure} in its place and captions the others.
   */
  onError?: 'throw' | 'skip';
  /** Longest prompt in tokens; a longer one is an error (encoder memory grows with its square). Default 512. */
  maxPromptTokens?: number;
  /** Cancels the call between batches and decoder steps: it rejects with an error named 'AbortError'. */
  signal?: AbortSignal;
}

/** The place of an image that could not be captioned (`onError: 'skip'`). */
export interface CaptionFailure {
  /** Why, usually an ImageLoadError naming the image. */
  error: Error;
}

/** One image's result: a caption, numReturnSequences captions, or (with `onError: 'skip'`) a failure. */
export type CaptionResult = Caption | Caption[] | CaptionFailure;

/** Whether a result is a {@link CaptionFailure} (`'error' in result` narrows the same way). */
export function isCaptionFailure(result: CaptionResult): result is CaptionFailure {
  return !Array.isArray(result) && 'error' in result;
}

/** The default {@link CaptionOptions.maxPromptTokens}. */
export const DEFAULT_MAX_PROMPT_TOKENS = 512;

/** One generated caption. */
export interface Caption {
  /** Decoded text (special tokens skipped; a decoder-only model's trimmed of surrounding white space). */
  text: string;
  /**
   * The sequence as Hugging Face returns it: the start token first (T5's decoder start, a decoder-only model's BOS),
   * EOS included, no trailing padding.
   */
  tokenIds: number[];
  /** Beam search: HF's sequences_score; greedy and sampling: the mean token log-prob under the model. */
  score: number;
}

/** What captioning needs from a captioner. */
export interface CaptionParts {
  model: DecodingModel;
  tokenizer: Tokenizer;
  preprocess(images: readonly ImageInput[], options?: PreprocessOptions): Promise<PixelValues>;
  /** Defaults under the call's options (the model's generation_config.json and token ids). */
  generationDefaults: GenerationOptions;
}

export const CAPTION_KEYS = [
  ...GENERATION_KEYS, 'prompt', 'batchSize', 'preprocess', 'onProgress', 'onResult', 'onToken', 'onError', 'maxPromptTokens', 'signal',
] as const;

/** Validates a maxPromptTokens option (undefined: the default). */
export function maxPromptTokens(value: unknown): number {
  return optional(value, DEFAULT_MAX_PROMPT_TOKENS, (v) => integerInRange('maxPromptTokens', v, 1, 1 << 16));
}

/** A prompt's token ids, or an error naming the prompt when it has more than `limit` tokens. */
export function encodePrompt(tokenizer: Tokenizer, name: string, prompt: string, limit: number): number[] {
  const ids = tokenizer.encode(prompt);
  if (ids.length > limit) {
    throw new ArgumentError(`Expected at most ${limit} tokens for ${name} but received ${ids.length} tokens (maxPromptTokens sets the limit)`, { argument: name });
  }
  return ids;
}

/**
 * Each image's prompt ids: one prompt for every image, one per image, or none (`undefined` rows); a prompt of more
 * than `limit` tokens is an error naming it.
 */
export function promptRows(
  tokenizer: Tokenizer, prompt: CaptionOptions['prompt'], images: number, limit: number, decoderOnly = false,
): (number[] | undefined)[] {
  // no prompt: T5's encoder reads the queries alone; a decoder-only model starts from BOS (HF's BLIP-2 uses
  // input_ids = [[bos_token_id]] when none are given), which the tokenizer adds to the empty text
  if (prompt === undefined) return new Array(images).fill(decoderOnly ? encodePrompt(tokenizer, 'prompt', '', limit) : undefined);
  if (typeof prompt === 'string') {
    const ids = encodePrompt(tokenizer, 'prompt', prompt, limit);
    return new Array(images).fill(ids);
  }
  if (!Array.isArray(prompt) || prompt.length !== images) {
    throw invalidParameterError('prompt', `string or array of ${images} strings (one per image)`, prompt);
  }
  return prompt.map((p, i) => {
    if (typeof p !== 'string') throw invalidParameterError(`prompt[${i}]`, 'string', p);
    return encodePrompt(tokenizer, `prompt[${i}]`, p, limit);
  });
}

/**
 * Preprocesses one batch. With `skip`, a batch that fails is retried image by image: the images that load are
 * stacked (`kept` lists their positions in the batch), the ImageLoadErrors are returned by position.
 */
async function loadBatch(
  parts: CaptionParts, batch: readonly ImageInput[], options: PreprocessOptions | undefined, skip: boolean,
): Promise<{ pixelValues: PixelValues | undefined; kept: number[]; failures: Map<number, Error> }> {
  try {
    return { pixelValues: await parts.preprocess(batch, options), kept: batch.map((_, i) => i), failures: new Map() };
  } catch (err) {
    if (!skip || !(err instanceof ImageLoadError)) throw err;
  }
  const settled = await Promise.allSettled(batch.map((image) => parts.preprocess([image], options)));
  const failures = new Map<number, Error>();
  const loaded: PixelValues[] = [];
  const kept: number[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') {
      loaded.push(s.value);
      kept.push(i);
    } else if (s.reason instanceof ImageLoadError) {
      failures.set(i, s.reason);
    } else {
      throw s.reason;
    }
  });
  if (loaded.length === 0) return { pixelValues: undefined, kept, failures };
  const [, ...rest] = loaded[0]!.shape;
  const data = new Float32Array(loaded.reduce((n, p) => n + p.data.length, 0));
  loaded.reduce((offset, p) => (data.set(p.data, offset), offset + p.data.length), 0);
  return { pixelValues: { data, shape: [loaded.length, ...rest] }, kept, failures };
}

/**
 * Pads prompt rows with pad/mask 0 to the batch's longest (no prompt: zero-length rows): on the right for T5, on the
 * left for a decoder-only model, whose generation continues from each row's last column.
 */
export function padPrompts(
  rows: (number[] | undefined)[], pad: number, side: 'left' | 'right' = 'right',
): { inputIds: number[][]; attentionMask: number[][] } {
  const width = Math.max(0, ...rows.map((r) => r?.length ?? 0));
  const fill = (n: number, value: number) => new Array<number>(n).fill(value);
  return {
    inputIds: rows.map((r = []) => (side === 'left' ? [...fill(width - r.length, pad), ...r] : [...r, ...fill(width - r.length, pad)])),
    attentionMask: rows.map((r = []) => {
      const ones = fill(r.length, 1);
      return side === 'left' ? [...fill(width - r.length, 0), ...ones] : [...ones, ...fill(width - r.length, 0)];
    }),
  };
}

/**
 * Captions images in batches (with a seed, batch k samples with seed + k). Returns one {@link Caption} per image, or an
 * array of numReturnSequences
 * captions per image (best first for beam search) when numReturnSequences > 1; with `onError: 'skip'` an image that
 * cannot be loaded gets a {@link CaptionFailure}.
 */
export async function captionImages(parts: CaptionParts, images: readonly ImageInput[], options?: CaptionOptions): Promise<CaptionResult[]> {
  const {
    prompt, batchSize, preprocess, onProgress, onResult, onToken, onError, maxPromptTokens: limit, signal: signalOption, ...generation
  } = knownKeys('options', options, CAPTION_KEYS) as CaptionOptions;
  if (!Array.isArray(images) || images.length === 0) throw invalidParameterError('images', 'non-empty array of images', images);
  const size = optional(batchSize, 8, (v) => integerInRange('batchSize', v, 1, 4096));
  if (onProgress !== undefined && typeof onProgress !== 'function') throw invalidParameterError('onProgress', 'function', onProgress);
  if (onResult !== undefined && typeof onResult !== 'function') throw invalidParameterError('onResult', 'function', onResult);
  const skip = optional(onError, 'throw', (v) => oneOf('onError', v, ['throw', 'skip'] as const)) === 'skip';
  const signal = abortSignal('signal', signalOption);
  const perImage = resolveGenerationConfig(parts.generationDefaults, generation).numReturnSequences;
  const decoderOnly = parts.model.decoderOnly === true;
  const prompts = promptRows(parts.tokenizer, prompt, images.length, maxPromptTokens(limit), decoderOnly);
  throwIfAborted(signal);
  const pad = parts.tokenizer.padTokenId;
  const results: CaptionResult[] = [];
  const deliver = (result: CaptionResult) => {
    results.push(result);
    onResult?.(results.length - 1, result);
  };
  const starts = Array.from({ length: Math.ceil(images.length / size) }, (_, i) => i * size);
  const preprocessOptions = signal ? { ...preprocess, signal } : preprocess;
  const load = (start: number) => loadBatch(parts, images.slice(start, start + size), preprocessOptions, skip);
  let pending = load(0);
  for (const [k, start] of starts.entries()) {
    const { pixelValues, kept, failures } = await pending;
    throwIfAborted(signal);
    if (k + 1 < starts.length) {
      pending = load(starts[k + 1]!);
      pending.catch(() => {});
    }
    const captions = pixelValues === undefined ? [] : await captionBatch(parts, pixelValues, {
      prompts: padPrompts(kept.map((i) => prompts[start + i]), pad, decoderOnly ? 'left' : 'right'),
      // batch k samples with seed + k, so batches do not repeat one random stream
      generation: { ...generation, seed: generation.seed === undefined ? undefined : (generation.seed + k) % 2 ** 53 },
      perImage,
      signal,
      ...(onToken ? { onToken: (e: TokenEvent) => onToken({ ...e, image: start + kept[Math.floor(e.row / perImage)]! }) } : {}),
    });
    const batchLength = Math.min(size, images.length - start);
    for (let i = 0, next = 0; i < batchLength; i++) {
      const failure = failures.get(i);
      deliver(failure ? { error: failure } : captions[next++]!);
    }
    onProgress?.(Math.min(start + size, images.length), images.length);
  }
  return results;
}

/**
 * Generates the captions of one preprocessed batch, one result per image (`perImage` captions each, an array when
 * more than one): the step every captioning loop shares (captionImages, a dataset's evaluation).
 */
export async function captionBatch(
  parts: CaptionParts,
  pixelValues: PixelValues,
  o: {
    prompts: { inputIds: number[][]; attentionMask: number[][] };
    generation: GenerationOptions;
    perImage: number;
    signal: AbortSignal | undefined;
    onToken?: (e: TokenEvent) => void;
  },
): Promise<(Caption | Caption[])[]> {
  const out = await generate(parts.model, { pixelValues, ...o.prompts }, o.generation, {
    decodableVocabSize: parts.tokenizer.vocabSize,
    defaults: parts.generationDefaults,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onToken ? { onToken: o.onToken } : {}),
  });
  const results: (Caption | Caption[])[] = [];
  for (let i = 0; i * o.perImage < out.sequences.length; i++) {
    const captions = Array.from({ length: o.perImage }, (_, j) => {
      const row = i * o.perImage + j;
      const tokenIds = trimmedSequence(out, row);
      const text = parts.tokenizer.decode(tokenIds, { skipSpecialTokens: true });
      // a decoder-only model's text continues the prompt: a leading space, and OPT's EOS (50118) is a newline
      return { text: parts.model.decoderOnly === true ? text.trim() : text, tokenIds, score: out.sequencesScores[row]! };
    });
    results.push(o.perImage === 1 ? captions[0]! : captions);
  }
  return results;
}
