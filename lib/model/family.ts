/**
 * The language-model families BLIP-2 comes with, one descriptor each: what differs between Flan-T5 (encoder-decoder)
 * and OPT (decoder-only) for the code above the model — which tokenizer, which LoRA targets, where prompts are
 * padded and which token ids generation starts, stops and pads with. Chosen by `text_config.model_type`.
 */
import { ConfigError } from '../errors.js';
import { describe } from '../is.js';
import type { PaddingSide, Tokenizer, TokenizerKind } from '../text/encoding.js';
import { loadTokenizer, TOKENIZER_KIND_NAMES } from '../text/load.js';
import { TEXT_MODEL_TYPES, type Blip2Config, type TextConfig, type TextModelType } from './config.js';
import { OPT_TARGET_MODULES, PAPER_TARGET_MODULES } from './lora-config.js';

/** The token ids a family's generation uses, read from the text config (generation options of the same names). */
export interface GenerationDefaults {
  /**
   * The first token of every returned sequence: T5's `decoder_start_token_id` (its decoder's first input), or a
   * decoder-only model's BOS (OPT: `</s>`, 2), which Hugging Face's BLIP-2 prepends without feeding it.
   */
  decoderStartTokenId: number;
  /** Generation stops at this id (blip2-opt-2.7b: 50118, a newline; Flan-T5: 1). */
  eosTokenId: number;
  /** Finished rows and padded prompts are filled with this id. */
  padTokenId: number;
}

/** What one language-model family needs from the code above the model. */
export interface ModelFamily {
  /** The `text_config.model_type` it stands for. */
  readonly modelType: TextModelType;
  /** Its name in messages and tables. */
  readonly name: string;
  /** True for a decoder-only model (the prompt and the caption are one sequence), false for an encoder-decoder. */
  readonly isDecoderOnly: boolean;
  /** The tokenizer its checkpoints ship. */
  readonly tokenizerKind: TokenizerKind;
  /** Loads the tokenizer of a model directory, refusing one of another kind. */
  loadTokenizer(modelDir: string): Promise<Tokenizer>;
  /** The LoRA targets of the progressive recipe (PEFT suffixes, the Q-Former's included). */
  readonly defaultLoraTargetModules: readonly string[];
  /**
   * Where a batch of prompts is padded: left for a decoder-only model (generation continues from the last column),
   * right for T5 (the encoder reads the mask).
   */
  readonly promptPaddingSide: PaddingSide;
  /** The token ids generation uses, from the text config; throws for a config of another family. */
  generationDefaults(text: TextConfig): GenerationDefaults;
}

/** A text config of the family's type, or a ConfigError naming both families. */
function expectType<T extends TextModelType>(text: TextConfig, modelType: T, name: string): Extract<TextConfig, { model_type: T }> {
  if (text.model_type !== modelType) {
    throw new ConfigError(`The ${name} family reads text configs with model_type "${modelType}", not ${describe(text.model_type)}`);
  }
  return text as Extract<TextConfig, { model_type: T }>;
}

function family(descriptor: Omit<ModelFamily, 'loadTokenizer'>): ModelFamily {
  return Object.freeze({
    ...descriptor,
    async loadTokenizer(modelDir: string): Promise<Tokenizer> {
      const tokenizer = await loadTokenizer(modelDir);
      if (tokenizer.kind !== descriptor.tokenizerKind) {
        throw new ConfigError(
          `The tokenizer in ${modelDir} is a ${TOKENIZER_KIND_NAMES[tokenizer.kind]} tokenizer, but a BLIP-2 with ${descriptor.name} needs a ` +
            `${TOKENIZER_KIND_NAMES[descriptor.tokenizerKind]} one; copy the tokenizer files of the checkpoint the weights came from`,
        );
      }
      return tokenizer;
    },
  });
}

/** The descriptor of each family, by `text_config.model_type`. */
export const MODEL_FAMILIES: Readonly<Record<TextModelType, ModelFamily>> = Object.freeze({
  t5: family({
    modelType: 't5',
    name: 'Flan-T5',
    isDecoderOnly: false,
    tokenizerKind: 't5',
    defaultLoraTargetModules: PAPER_TARGET_MODULES,
    promptPaddingSide: 'right',
    generationDefaults(text) {
      const t = expectType(text, 't5', 'Flan-T5');
      return { decoderStartTokenId: t.decoder_start_token_id, eosTokenId: t.eos_token_id, padTokenId: t.pad_token_id };
    },
  }),
  opt: family({
    modelType: 'opt',
    name: 'OPT',
    isDecoderOnly: true,
    tokenizerKind: 'byte-level-bpe',
    defaultLoraTargetModules: OPT_TARGET_MODULES,
    promptPaddingSide: 'left',
    generationDefaults(text) {
      const t = expectType(text, 'opt', 'OPT');
      return { decoderStartTokenId: t.bos_token_id, eosTokenId: t.eos_token_id, padTokenId: t.pad_token_id };
    },
  }),
});

/**
 * The family of a `text_config.model_type`.
 * @throws ConfigError naming the supported model types for any other value.
 */
export function modelFamily(modelType: unknown): ModelFamily {
  if (typeof modelType === 'string' && (TEXT_MODEL_TYPES as readonly string[]).includes(modelType)) return MODEL_FAMILIES[modelType as TextModelType];
  throw new ConfigError(
    `Unsupported text_config.model_type ${describe(modelType)}: supported are ${TEXT_MODEL_TYPES.map((t) => `"${t}" (${MODEL_FAMILIES[t].name})`).join(', ')}`,
  );
}

/** The family of a resolved config's language model. */
export function familyOf(config: Blip2Config): ModelFamily {
  return modelFamily(config.text_config.model_type);
}
