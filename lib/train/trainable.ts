/**
 * What a run's stages train and feed the model, beside the loop itself: adapters or every parameter
 * (`trainable`), where a stage's weights start and how its best and final weights are saved, and the training
 * inputs of the scripts' recipe (the prompt padded to a fixed length, captions truncated).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Blip2Captioner } from '../captioner.js';
import type { Blip2Model } from '../model/blip2-model.js';
import { trainsWeights, type RunSpec, type Trainable } from './run-config.js';
import type { Blip2Config } from '../model/config.js';

/** The file that holds every weight of a stage trained with `trainable: 'all'`. */
export const FULL_WEIGHTS_FILE = 'model.safetensors';

/**
 * Puts the model in the run's training mode before a stage: every parameter trainable for `'all'`, the T5 blocks
 * and head of `{ lastBlocks, lmHead }` (once; it stays on across stages), adapters otherwise (added or loaded by
 * {@link startStageWeights}).
 */
export async function prepareTrainable(model: Blip2Model, spec: RunSpec): Promise<void> {
  if (!trainsWeights(spec.trainable) || model.fullTraining) return;
  const only = trainablePrefixes(model.config, spec.trainable!);
  await model.setFullTraining(true, only ? { only } : undefined);
}

/**
 * The weight-name prefixes a `trainable` setting trains (undefined: every parameter). `{ lastBlocks: n }`: the
 * last n blocks of the T5 encoder and of the T5 decoder (the scripts select blocks by their index in either
 * stack), or of OPT's decoder layers; `lmHead` adds the LM head (the token embedding when the head is tied to it).
 */
export function trainablePrefixes(config: Blip2Config, trainable: Trainable): string[] | undefined {
  if (trainable === 'all') return undefined;
  if (trainable === 'lora') return [];
  const t = config.text_config;
  const last = (stack: string, layers: number) =>
    Array.from({ length: Math.min(trainable.lastBlocks, layers) }, (_, i) => `${stack}.${layers - 1 - i}.`);
  if (t.model_type === 'opt') {
    const prefixes = last('language_model.model.decoder.layers', t.num_hidden_layers);
    if (trainable.lmHead) prefixes.push(t.tie_word_embeddings ? 'language_model.model.decoder.embed_tokens.' : 'language_model.lm_head.');
    return prefixes;
  }
  const prefixes = [...last('language_model.encoder.block', t.num_layers), ...last('language_model.decoder.block', t.num_decoder_layers ?? t.num_layers)];
  if (trainable.lmHead) prefixes.push(t.tie_word_embeddings ? 'language_model.shared.' : 'language_model.lm_head.');
  return prefixes;
}

/**
 * The weights a stage starts from when it has no checkpoint: with adapters, a fresh adapter (seeded), the given
 * earlier stage's best adapter or an `init` adapter folder; with `'all'`, the earlier stage's best weights, or the
 * model as loaded for the first stage. Returns the line to log.
 */
export async function startStageWeights(
  model: Blip2Model, spec: RunSpec, stageName: string, from: { name: string; bestDir: string } | { init: string } | undefined, seed: number,
): Promise<string> {
  if (from !== undefined && 'init' in from) {
    await model.loadAdapter(from.init, { seed });
    return `${stageName}: starting from the adapter in ${from.init}`;
  }
  if (trainsWeights(spec.trainable)) {
    const what = spec.trainable === 'all' ? 'every parameter' : `the language model's ${JSON.stringify(spec.trainable)}`;
    if (from === undefined) return `${stageName}: training ${what} of the loaded model`;
    await model.loadWeights(join(from.bestDir, FULL_WEIGHTS_FILE));
    return `${stageName}: training ${what}, from ${from.name}'s best weights`;
  }
  if (from === undefined) {
    const summary = await model.addLora({
      r: spec.lora.r, alpha: spec.lora.alpha, dropout: spec.lora.dropout, targetModules: spec.lora.targetModules,
      useRslora: spec.lora.useRslora, seed,
    });
    return `${stageName}: fresh LoRA on ${summary.modules} modules, ${summary.trainableParameters.toLocaleString('en-US')} trainable of ` +
      `${summary.totalParameters.toLocaleString('en-US')} parameters`;
  }
  await model.loadAdapter(from.bestDir, { seed });
  return `${stageName}: starting from ${from.name}'s best adapter`;
}

/** Saves what the stage trains into `dir`: the adapter (PEFT layout), or every weight as {@link FULL_WEIGHTS_FILE}. */
export async function saveTrained(model: Blip2Model, dir: string): Promise<void> {
  if (!model.fullTraining) return model.saveAdapter(dir);
  await mkdir(dir, { recursive: true });
  await model.save(join(dir, FULL_WEIGHTS_FILE));
}

/**
 * The prompt of a training batch: `promptMaxLength` pads it to that many tokens (truncating longer ones, `</s>`
 * kept) with attention mask 0 on the padding, as the scripts' `processor(padding="max_length", max_length=16)`.
 */
export function trainingPrompt(captioner: Blip2Captioner, spec: RunSpec, batch: number): { inputIds: number[][]; attentionMask: number[][] } {
  if (spec.prompt === undefined || spec.promptMaxLength === undefined) return captioner.promptIds(spec.prompt, batch);
  const { inputIds, attentionMask } = captioner.tokenizer.encodeBatch([spec.prompt], { padding: 'max_length', maxLength: spec.promptMaxLength });
  return {
    inputIds: Array.from({ length: batch }, () => [...inputIds[0]!]),
    attentionMask: Array.from({ length: batch }, () => [...attentionMask[0]!]),
  };
}

/**
 * Training labels ({@link Blip2Captioner.labels}): −100 on padding, truncated to `labelMaxLength` tokens (EOS kept)
 * when set.
 */
export function trainingLabels(captioner: Blip2Captioner, spec: RunSpec, captions: readonly string[]): number[][] {
  const prompted = spec.prompt !== undefined && spec.prompt !== '';
  return captioner.labels(captions, spec.labelMaxLength === undefined ? { prompted } : { maxLength: spec.labelMaxLength, prompted });
}
