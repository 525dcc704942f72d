/**
 * LoRA settings and their PEFT file form (adapter_config.json), so adapters move between this library and
 * Python PEFT in both directions.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, invalidParameterError, isPlainObject, optional, positiveNumber } from '../is.js';
import { booleanKey, integerKey, numberKey, readTable, type ConfigTable } from '../config-table.js';
import { readRunFolder, RUN_CONFIG_FILE, RUN_STATE_FILE } from '../io/run-layout.js';
import type { NativeLoraConfig } from '../native.js';
import { ConfigError, FileError } from '../errors.js';
import { readJsonFile } from '../io/json.js';

/**
 * The paper's targets: T5 q, k, v, o, wi_0, wi_1, wo (encoder, decoder self- and cross-attention) and the
 * Q-Former's query, key, value and attention/FFN output `dense` layers. PEFT suffix semantics.
 */
export const PAPER_TARGET_MODULES: readonly string[] = ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo', 'query', 'key', 'value', 'dense'];

/**
 * The same recipe for an OPT language model: its attention projections q_proj, k_proj, v_proj, out_proj and FFN
 * fc1, fc2, with the Q-Former's query, key, value and `dense` layers. PEFT suffix semantics.
 */
export const OPT_TARGET_MODULES: readonly string[] = ['q_proj', 'k_proj', 'v_proj', 'out_proj', 'fc1', 'fc2', 'query', 'key', 'value', 'dense'];

/** Options of {@link Blip2Model.addLora}. */
export interface LoraOptions {
  /** Rank. Default 16 (the paper). */
  r?: number;
  /** Scaling numerator: updates are scaled by alpha / r. Default 32 (the paper). */
  alpha?: number;
  /** Dropout on the adapter input while training. Default 0.05 (the paper). */
  dropout?: number;
  /**
   * Which Linear layers get adapters: a list (a module matches an entry if its name equals it or ends with
   * "." + entry, as PEFT) or one regular expression matched against the whole module name.
   * Default: the model family's ({@link PAPER_TARGET_MODULES} for Flan-T5, {@link OPT_TARGET_MODULES} for OPT).
   */
  targetModules?: readonly string[] | string;
  /** Rank-stabilised scaling alpha / sqrt(r). Default false. */
  useRslora?: boolean;
  /** Seeds the initialisation (A Kaiming-uniform, B zeros). Default: the current generator state. */
  seed?: number;
}

/** A fully resolved LoRA configuration. */
export interface ResolvedLoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  /** Undefined: the model family's default, filled in when the adapters are attached ({@link withTargetModules}). */
  targetModules?: string[] | string;
  useRslora: boolean;
  seed?: number;
}

/** A resolved configuration whose target modules are known. */
export type TargetedLoraConfig = ResolvedLoraConfig & { targetModules: string[] | string };

/** `config` with the family's `defaults` as its target modules when it names none. */
export function withTargetModules(config: ResolvedLoraConfig, defaults: readonly string[]): TargetedLoraConfig {
  return { ...config, targetModules: config.targetModules ?? [...defaults] };
}

/** The module list or expression of `targetModules`, checked (undefined: the family's default). */
function targetModules(value: unknown, name: string): string[] | string | undefined {
  if (value === undefined) return undefined;
  const targets = value;
  if (typeof targets === 'string') {
    if (targets.length === 0) throw invalidParameterError(name, 'non-empty regular expression or list of module names', targets);
    try {
      new RegExp(targets);
    } catch {
      throw invalidParameterError(name, 'valid regular expression', targets);
    }
    return targets;
  }
  if (Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string' && t.length > 0)) return [...targets];
  throw invalidParameterError(name, 'non-empty array of module names or a regular expression string', targets);
}

/** The keys of {@link LoraOptions} (a run config's `lora`): readers and the reference's documentation. */
export const LORA_KEYS = {
  r: integerKey(1, 65536, 16, 'Rank (the paper: 16).'),
  alpha: {
    type: 'number > 0', default: '32', doc: 'Scaling numerator: updates are scaled by alpha / r (the paper: 32).',
    read: (value: unknown, name: string) => optional(value, 32, (v) => positiveNumber(name, v)),
  },
  dropout: numberKey(0, 0.99, 0.05, 'Dropout on the adapter input while training (the paper: 0.05).'),
  targetModules: {
    type: 'array of module names, or a regular expression string',
    default: `the model family's: ${PAPER_TARGET_MODULES.join(', ')} (\`PAPER_TARGET_MODULES\`) for Flan-T5, ${OPT_TARGET_MODULES.join(', ')} (\`OPT_TARGET_MODULES\`) for OPT`,
    doc: 'Which Linear layers get adapters: a module matches a name if it equals it or ends with "." + it (as PEFT), or matches the whole expression.',
    read: targetModules,
  },
  useRslora: booleanKey(false, 'Rank-stabilised scaling alpha / sqrt(r).'),
  seed: integerKey(0, Number.MAX_SAFE_INTEGER, undefined, 'Seeds the initialisation (A Kaiming-uniform, B zeros). Not used by a run: each stage seeds its fresh adapter with its own seed.', 'the generator\'s state'),
} satisfies ConfigTable;

/**
 * Validates LoRA options and applies the paper's defaults. Errors name a key as `prefix + key` and unknown keys as
 * being in `where` (a run config passes `lora` and `lora.`).
 */
export function resolveLoraOptions(options: unknown, where = 'lora options', prefix = ''): ResolvedLoraConfig {
  const { seed, ...resolved } = readTable(LORA_KEYS, options, where, prefix);
  return seed === undefined ? resolved : { ...resolved, seed };
}

/** The native form of a resolved config. */
export function nativeLoraConfig(c: TargetedLoraConfig): NativeLoraConfig {
  const out: NativeLoraConfig = { r: c.r, alpha: c.alpha, dropout: c.dropout, useRslora: c.useRslora };
  if (typeof c.targetModules === 'string') out.targetRegex = c.targetModules;
  else out.targets = c.targetModules;
  if (c.seed !== undefined) out.seed = c.seed;
  return out;
}

/** PEFT's adapter_config.json for a config (LoRA, bias "none"). */
export function peftAdapterConfig(c: TargetedLoraConfig, baseModel: string | null): Record<string, unknown> {
  return {
    peft_type: 'LORA',
    task_type: null,
    base_model_name_or_path: baseModel,
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: c.dropout,
    target_modules: c.targetModules,
    bias: 'none',
    fan_in_fan_out: false,
    use_rslora: c.useRslora,
    use_dora: false,
    init_lora_weights: true,
    inference_mode: true,
    modules_to_save: null,
    layers_to_transform: null,
    layers_pattern: null,
    rank_pattern: {},
    alpha_pattern: {},
    revision: null,
  };
}

/**
 * Reads and validates `<dir>/adapter_config.json` (written by PEFT or by this library).
 * @throws FileError for a missing file or one that is not JSON; ConfigError for an adapter this library cannot load.
 */
export async function readPeftAdapterConfig(dir: string): Promise<ResolvedLoraConfig> {
  const file = join(dir, 'adapter_config.json');
  const json = await readJsonFile(file, 'adapter config', { missingHint: 'an adapter directory holds adapter_config.json and adapter_model.safetensors' });
  return parsePeftAdapterConfig(json, file);
}

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * The adapter folder that `dir` names: `dir` itself when it holds adapter_config.json, else, for the folder of a
 * finished progressive run (`train`'s outDir), its final stage's best adapter (`stages/<k>-<name>/best`). Every
 * loader of adapters goes through it, so `caption`, `eval` and `serve` take a run folder for `--adapter`.
 * @throws FileError (`path`: `dir`) saying what was looked for, or why the run folder has no final adapter
 *   (unfinished, or trained every parameter).
 */
export async function resolveAdapterDirectory(dir: string): Promise<string> {
  const config = join(dir, 'adapter_config.json');
  if (await exists(config)) return dir;
  const run = await readRunFolder(dir);
  if (!run) {
    throw new FileError(
      `No adapter_config.json in ${JSON.stringify(dir)}; looked for ${JSON.stringify(config)} (an adapter folder: adapter_config.json and ` +
      `adapter_model.safetensors) and for ${JSON.stringify(join(dir, RUN_CONFIG_FILE))} with ${JSON.stringify(join(dir, RUN_STATE_FILE))} ` +
      '(a training run folder, whose final stage\'s best adapter would be loaded)',
      { path: dir },
    );
  }
  const last = run.stages.at(-1)!;
  if (run.trainable === 'weights') {
    throw new FileError(`${JSON.stringify(dir)} is a training run that trained model weights (trainable "all" or { lastBlocks }): its stages saved every weight (${join(last.bestDir, 'model.safetensors')}), not an adapter`, { path: dir });
  }
  if (!last.finished) {
    const done = run.stages.filter((s) => s.finished);
    throw new FileError(
      `${JSON.stringify(dir)} is a training run whose final stage "${last.name}" has not finished, so it has no final adapter yet; ` +
      `finish it with train --config <its config> --resume${done.length ? `, or load a finished stage's best adapter: ${done.map((s) => s.bestDir).join(', ')}` : ''}`,
      { path: dir },
    );
  }
  if (!(await exists(join(last.bestDir, 'adapter_config.json')))) {
    throw new FileError(`${JSON.stringify(dir)} is a finished training run, but its final best adapter ${JSON.stringify(last.bestDir)} is missing`, { path: last.bestDir });
  }
  return last.bestDir;
}

/** Validates a parsed adapter_config.json; features this library does not implement are errors. */
export function parsePeftAdapterConfig(json: unknown, source = 'adapter_config.json'): ResolvedLoraConfig {
  if (!isPlainObject(json)) throw new ConfigError(`Expected a JSON object in ${source} but received ${describe(json)}`, { file: source });
  const fail = (what: string) => new ConfigError(`Unsupported adapter in ${source}: ${what}`, { file: source });
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') throw fail(`peft_type ${describe(json.peft_type)} (only LORA)`);
  if (json.bias !== undefined && json.bias !== 'none') throw fail(`bias ${describe(json.bias)} (only "none")`);
  if (json.use_dora === true) throw fail('use_dora (DoRA is not implemented)');
  if (json.fan_in_fan_out === true) throw fail('fan_in_fan_out (only for Conv1D models)');
  for (const key of ['rank_pattern', 'alpha_pattern'] as const) {
    const v = json[key];
    if (v !== undefined && v !== null && !(isPlainObject(v) && Object.keys(v).length === 0)) throw fail(`${key} (per-module ranks)`);
  }
  for (const key of ['modules_to_save', 'layers_to_transform'] as const) {
    const v = json[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) throw fail(`${key}`);
  }
  try {
    return resolveLoraOptions({
      r: json.r,
      alpha: json.lora_alpha,
      dropout: json.lora_dropout ?? 0,
      targetModules: json.target_modules,
      useRslora: json.use_rslora ?? false,
    });
  } catch (err) {
    throw new ConfigError(`Invalid ${source}: ${(err as Error).message}`, { file: source, cause: err });
  }
}
