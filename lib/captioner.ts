/**
 * Blip2Captioner: a BLIP-2 model with its tokenizer and image processor, loaded from a local Hugging Face
 * snapshot directory or by Hugging Face repo id. The entry point for applications.
 */
import { integerInRange, invalidParameterError, knownKeys, optional } from './is.js';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';
import { BlipImageProcessor, type PixelValues, type PreprocessOptions } from './image/processor.js';
import type { ImageInput } from './image/decode.js';
import { Blip2Model, LOAD_OPTION_KEYS, type ModelLoadOptions } from './model/blip2-model.js';
import { MODEL_SOURCE_KEYS, resolveModel, sourceOptions, type ModelSourceOptions } from './hub/resolve.js';
import type { Tokenizer } from './text/encoding.js';
import { IGNORE_INDEX } from './text/labels.js';
import { readBlip2Config } from './model/config.js';
import { familyOf } from './model/family.js';
import { toRows } from './model/tensors.js';
import {
  captionImages, maxPromptTokens, padPrompts, promptRows, type Caption, type CaptionFailure, type CaptionOptions, type CaptionResult,
} from './generation/caption.js';
import { NonFiniteError } from './generation/generate.js';
import { abortSignal, throwIfAborted } from './abort.js';
import { GENERATION_LIMITS, readGenerationOptions, type GenerationOptions } from './generation/config.js';
import { ArgumentError } from './errors.js';

/** Options of {@link Blip2Captioner.fromPretrained}. */
export interface CaptionerOptions extends ModelLoadOptions, ModelSourceOptions {
  /** Receives load and download messages and warnings. Default: silent. */
  logger?: Logger;
}

/**
 * What `caption` gives per image for `numReturnSequences: N`: one {@link Caption} for 1 (or when unset), an array of N
 * captions for a literal N > 1, and either when N is only known as a `number`.
 */
export type CaptionSequences<N extends number> = N extends 1 ? Caption : number extends N ? Caption | Caption[] : Caption[];

/**
 * {@link CaptionOptions} whose `onResult` receives exactly what the call returns per image: `R` is
 * `CaptionSequences<N>`, with {@link CaptionFailure} added under `onError: 'skip'`.
 */
export type TypedCaptionOptions<N extends number, R> = Omit<CaptionOptions, 'numReturnSequences' | 'onError' | 'onResult'> & {
  /** Captions per image (see {@link CaptionSequences}). Default 1 (or the model's generation_config.json). */
  numReturnSequences?: N;
  /** Called with each image's result as soon as its batch is done (before the promise resolves). */
  onResult?: (index: number, result: R) => void;
};

/** Options of {@link Blip2Captioner.score}. */
export interface ScoreOptions {
  /** Text given to the language model before the caption (e.g. "a photo of"). Default: none, as Hugging Face. */
  prompt?: string;
  /** Image decoding/preprocessing options. */
  preprocess?: PreprocessOptions;
  /** Longest prompt in tokens; a longer one is an error (encoder memory grows with its square). Default 512. */
  maxPromptTokens?: number;
  /** Cancels the call before the model runs: it rejects with an error named 'AbortError'. */
  signal?: AbortSignal;
}

/** How well the model explains one caption for its image. */
export interface CaptionScore {
  /** Mean cross-entropy over the caption's tokens, EOS included (Hugging Face's loss for this caption alone). */
  loss: number;
  /** log p(token) for each caption token, EOS included. */
  tokenLogprobs: number[];
  /** The caption's token ids (what the log-probs refer to). */
  tokenIds: number[];
}

export class Blip2Captioner {
  /** Generation defaults: the model's token ids, then its generation_config.json. */
  private generationDefaults: GenerationOptions = {};

  /** The model directory's generation defaults (generation_config.json and token ids). */
  get generationOptions(): GenerationOptions {
    return this.generationDefaults;
  }

  private constructor(
    /** The model (weights and forward pass). */
    readonly model: Blip2Model,
    /** The tokenizer from the same directory. */
    readonly tokenizer: Tokenizer,
    /** The image processor from preprocessor_config.json. */
    readonly imageProcessor: BlipImageProcessor,
    private readonly logger: Logger,
  ) {}

  /**
   * Loads a BLIP-2 (Flan-T5 or OPT) model directory: config.json, model.safetensors (or a sharded index),
   * tokenizer.json and preprocessor_config.json. `idOrDir` may also be a Hugging Face repo id (`org/name`,
   * with `revision`), found in the Hugging Face cache or downloaded into it (`onProgress` follows the download;
   * `offline` or `HF_HUB_OFFLINE` forbid the network); an existing directory of the same spelling wins.
   */
  static async fromPretrained(idOrDir: string, options?: CaptionerOptions): Promise<Blip2Captioner> {
    const o = knownKeys('options', options, [...LOAD_OPTION_KEYS, ...MODEL_SOURCE_KEYS, 'logger']);
    const log = (o.logger as Logger | undefined) ?? silentLogger;
    const modelOptions: Record<string, unknown> = {};
    for (const key of LOAD_OPTION_KEYS) if (o[key] !== undefined) modelOptions[key] = o[key];
    const { dir } = await resolveModel(idOrDir, { ...sourceOptions(o), logger: log });
    const started = Date.now();
    const family = familyOf(await readBlip2Config(dir));
    const settled = await Promise.allSettled([
      Blip2Model.load(dir, modelOptions as ModelLoadOptions),
      family.loadTokenizer(dir),
      BlipImageProcessor.fromPretrained(dir),
    ] as const);
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      if (settled[0].status === 'fulfilled') settled[0].value.dispose(); // do not keep the weights of a half-loaded captioner
      throw failure.reason;
    }
    const [model, tokenizer, imageProcessor] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      Blip2Model, Tokenizer, BlipImageProcessor,
    ];
    const info = model.info();
    log.info(
      `loaded ${dir === idOrDir ? dir : `${idOrDir} (${dir})`}: ${info.numParameters.toLocaleString('en-US')} parameters, ${info.dtype} on ${info.device}, ` +
        `${info.threads} threads, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const captioner = new Blip2Captioner(model, tokenizer, imageProcessor, log);
    try {
      captioner.generationDefaults = { ...family.generationDefaults(model.config.text_config), ...(await readGenerationOptions(dir)) };
    } catch (err) {
      model.dispose();
      throw err;
    }
    return captioner;
  }

  /** Decodes and preprocesses images into the model's pixel values. */
  preprocess(images: readonly ImageInput[], options?: PreprocessOptions): Promise<PixelValues> {
    return this.imageProcessor.preprocess(images, options);
  }

  /**
   * Prompt ids for a batch, padded on the model's side: no prompt gives zero-length rows (T5) or BOS alone (a
   * decoder-only model, as Hugging Face's BLIP-2); more than `limit` tokens (default 512) is an error.
   */
  promptIds(prompt: string | undefined, batch: number, limit?: number): { inputIds: number[][]; attentionMask: number[][] } {
    if (prompt !== undefined && typeof prompt !== 'string') throw invalidParameterError('prompt', 'string', prompt);
    const decoderOnly = this.model.decoderOnly;
    return padPrompts(promptRows(this.tokenizer, prompt, batch, maxPromptTokens(limit), decoderOnly), this.tokenizer.padTokenId, decoderOnly ? 'left' : 'right');
  }

  /**
   * Teacher-forcing labels of captions (the targets after the prompt), −100 on padding. T5: the caption and `</s>`.
   * A decoder-only model: the caption's tokens as they continue the text (after a space when `prompted`, since the
   * prompt and the caption are one sequence), without BOS, then the EOS generation stops at (blip2-opt-2.7b:
   * 50118, a newline). `maxLength` truncates each row, its EOS kept.
   */
  labels(captions: readonly string[], options?: { maxLength?: number; prompted?: boolean }): number[][] {
    const o = knownKeys('options', options, ['maxLength', 'prompted']);
    const maxLength = optional(o.maxLength, undefined, (v) => integerInRange('maxLength', v, 1, 1 << 16));
    if (!this.model.decoderOnly) return this.tokenizer.encodeTargets(captions, maxLength === undefined ? undefined : { maxLength }).labels;
    const eos = [this.generationDefaults.eosTokenId ?? this.tokenizer.eosTokenId].flat()[0]!;
    const bos = this.tokenizer.bosTokenId;
    const rows = captions.map((caption) => {
      const ids = this.tokenizer.encode(o.prompted === true ? ` ${caption}` : caption);
      const body = bos !== undefined && ids[0] === bos ? ids.slice(1) : ids;
      return [...(maxLength === undefined ? body : body.slice(0, maxLength - 1)), eos];
    });
    const width = Math.max(...rows.map((r) => r.length));
    return rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(IGNORE_INDEX)]);
  }

  /** Teacher-forcing labels of captions, each at most as long as a generated caption may be. */
  private captionLabels(captions: readonly string[], prompted: boolean): number[][] {
    const labels = this.labels(captions, { prompted });
    labels.forEach((row, i) => {
      const length = row.indexOf(-100) === -1 ? row.length : row.indexOf(-100);
      if (length > GENERATION_LIMITS.maxNewTokens) {
        throw new ArgumentError(`Expected at most ${GENERATION_LIMITS.maxNewTokens} tokens for captions[${i}] but received ${length} tokens`, { argument: `captions[${i}]` });
      }
    });
    return labels;
  }

  /**
   * Scores captions against images (one caption per image): per caption, the mean token cross-entropy and
   * each token's log-probability under teacher forcing.
   */
  async score(images: readonly ImageInput[], captions: readonly string[], options?: ScoreOptions): Promise<CaptionScore[]> {
    const o = knownKeys('options', options, ['prompt', 'preprocess', 'maxPromptTokens', 'signal']);
    const signal = abortSignal('signal', o.signal);
    if (!Array.isArray(images) || images.length === 0) throw invalidParameterError('images', 'non-empty array of images', images);
    if (!Array.isArray(captions) || captions.length !== images.length) {
      throw invalidParameterError('captions', `array of ${images.length} strings (one per image)`, captions);
    }
    captions.forEach((c, i) => {
      if (typeof c !== 'string' || c.length === 0) throw invalidParameterError(`captions[${i}]`, 'non-empty string', c);
    });
    const prompt = this.promptIds(o.prompt as string | undefined, images.length, o.maxPromptTokens as number | undefined);
    const preprocess = o.preprocess as PreprocessOptions | undefined;
    const labels = this.captionLabels(captions, o.prompt !== undefined && o.prompt !== '');
    const pixelValues = await this.preprocess(images, signal ? { ...preprocess, signal } : preprocess);
    throwIfAborted(signal);
    const out = await this.model.forward({ pixelValues, ...prompt, labels }, ['token_logprobs']);
    throwIfAborted(signal);
    const logprobs = toRows(out.token_logprobs!.data, out.token_logprobs!.shape);
    return labels.map((row, i) => {
      const n = row.findIndex((id) => id === -100);
      const length = n === -1 ? row.length : n;
      const tokenLogprobs = logprobs[i]!.slice(0, length);
      const loss = -tokenLogprobs.reduce((a, b) => a + b, 0) / length;
      const bad = tokenLogprobs.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0) {
        throw new NonFiniteError(`Non-finite log-probability ${tokenLogprobs[bad]} for token ${bad} of captions[${i}]; the model's weights or inputs hold NaN or Inf values`);
      }
      this.logger.debug(`score ${i}: loss ${loss.toFixed(4)} over ${length} tokens`);
      return { loss, tokenLogprobs, tokenIds: row.slice(0, length) };
    });
  }

  /**
   * Generates captions (greedy by default; beam search with numBeams, sampling with doSample; every Hugging Face
   * generation option in camelCase). Images stream through preprocessing and the model in batches of
   * `batchSize`; a batch gives each image the caption it gets alone.
   *
   * @returns per image a {@link Caption} `{ text, tokenIds, score }`, or an array of numReturnSequences of them
   * (best first) when numReturnSequences > 1; with `onError: 'skip'`, a {@link CaptionFailure} `{ error }` for an
   * image that cannot be loaded (narrow with `'error' in result` or {@link isCaptionFailure}). The type follows
   * the options: `{ numReturnSequences: 3 }` gives `Caption[][]` and `onResult` a `Caption[]`, no option or
   * `numReturnSequences: 1` gives `Caption[]`, a `number` known only at run time gives `(Caption | Caption[])[]`
   * (see {@link CaptionSequences}). A model whose generation_config.json sets num_return_sequences > 1 returns
   * arrays without the option: pass it explicitly to get the array type.
   */
  caption<N extends number = 1>(
    images: readonly ImageInput[], options: TypedCaptionOptions<N, CaptionSequences<N> | CaptionFailure> & { onError: 'skip' },
  ): Promise<(CaptionSequences<N> | CaptionFailure)[]>;
  caption<N extends number = 1>(
    images: readonly ImageInput[], options?: TypedCaptionOptions<N, CaptionSequences<N>> & { onError?: 'throw' },
  ): Promise<CaptionSequences<N>[]>;
  caption(images: readonly ImageInput[], options?: CaptionOptions & { onError?: 'throw' }): Promise<(Caption | Caption[])[]>;
  caption(images: readonly ImageInput[], options?: CaptionOptions): Promise<CaptionResult[]>;
  // the typed overloads' onResult takes a narrower result than CaptionOptions' (what the call delivers for them)
  caption(images: readonly ImageInput[], options?: CaptionOptions | TypedCaptionOptions<number, never>): Promise<CaptionResult[]> {
    const parts = {
      model: this.model,
      tokenizer: this.tokenizer,
      preprocess: (batch: readonly ImageInput[], o?: PreprocessOptions) => this.preprocess(batch, o),
      generationDefaults: this.generationDefaults,
    };
    return captionImages(parts, images, options as CaptionOptions | undefined);
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}
