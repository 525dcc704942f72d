/**
 * LoRA settings and their PEFT file form (adapter_config.json), so adapters move between this library and
 * Python PEFT in both directions.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, integerInRange, invalidParameterError, isPlainObject, knownKeys, numberInRange, positiveNumber } from '../is.js';
import type { NativeLoraConfig } from '../native.js';

/**
 * The paper's targets: T5 q, k, v, o, wi_0, wi_1, wo (encoder, decoder self- and cross-attention) and the
 * Q-Former's query, key, value and attention/FFN output `dense` layers. PEFT suffix semantics.
 */
export const PAPER_TARGET_MODULES: readonly string[] = ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo', 'query', 'key', 'value', 'dense'];

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
   * Default {@link PAPER_TARGET_MODULES}.
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
  targetModules: string[] | string;
  useRslora: boolean;
  seed?: number;
}

/** Validates LoRA options and applies the paper's defaults. */
export function resolveLoraOptions(options: unknown): ResolvedLoraConfig {
  const o = knownKeys('lora options', options, ['r', 'alpha', 'dropout', 'targetModules', 'useRslora', 'seed']);
  const targets = o.targetModules ?? PAPER_TARGET_MODULES;
  let targetModules: string[] | string;
  if (typeof targets === 'string') {
    if (targets.length === 0) throw invalidParameterError('targetModules', 'non-empty regular expression or list of module names', targets);
    try {
      new RegExp(targets);
    } catch {
      throw invalidParameterError('targetModules', 'valid regular expression', targets);
    }
    targetModules = targets;
  } else if (Array.isArray(targets) && targets.length > 0 && targets.every((t) => typeof t === 'string' && t.length > 0)) {
    targetModules = [...targets];
  } else {
    throw invalidParameterError('targetModules', 'non-empty array of module names or a regular expression string', targets);
  }
  const resolved: ResolvedLoraConfig = {
    r: o.r === undefined ? 16 : integerInRange('r', o.r, 1, 65536),
    alpha: o.alpha === undefined ? 32 : positiveNumber('alpha', o.alpha),
    dropout: o.dropout === undefined ? 0.05 : numberInRange('dropout', o.dropout, 0, 0.99),
    targetModules,
    useRslora: o.useRslora === undefined ? false : o.useRslora === true ? true : o.useRslora === false ? false : (() => {
      throw invalidParameterError('useRslora', 'boolean', o.useRslora);
    })(),
  };
  if (o.seed !== undefined) resolved.seed = integerInRange('seed', o.seed, 0, Number.MAX_SAFE_INTEGER);
  return resolved;
}

/** The native form of a resolved config. */
export function nativeLoraConfig(c: ResolvedLoraConfig): NativeLoraConfig {
  const out: NativeLoraConfig = { r: c.r, alpha: c.alpha, dropout: c.dropout, useRslora: c.useRslora };
  if (typeof c.targetModules === 'string') out.targetRegex = c.targetModules;
  else out.targets = c.targetModules;
  if (c.seed !== undefined) out.seed = c.seed;
  return out;
}

/** PEFT's adapter_config.json for a config (LoRA, bias "none"). */
export function peftAdapterConfig(c: ResolvedLoraConfig, baseModel: string | null): Record<string, unknown> {
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

/** Reads and validates `<dir>/adapter_config.json` (written by PEFT or by this library). */
export async function readPeftAdapterConfig(dir: string): Promise<ResolvedLoraConfig> {
  const file = join(dir, 'adapter_config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Error(`No adapter_config.json in ${JSON.stringify(dir)}; an adapter directory holds adapter_config.json and adapter_model.safetensors`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`Malformed JSON in ${file}: ${(err as Error).message}`);
  }
  return parsePeftAdapterConfig(json, file);
}

/** Validates a parsed adapter_config.json; features this library does not implement are errors. */
export function parsePeftAdapterConfig(json: unknown, source = 'adapter_config.json'): ResolvedLoraConfig {
  if (!isPlainObject(json)) throw new Error(`Expected a JSON object in ${source} but received ${describe(json)}`);
  const fail = (what: string) => new Error(`Unsupported adapter in ${source}: ${what}`);
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
    throw new Error(`Invalid ${source}: ${(err as Error).message}`);
  }
}
