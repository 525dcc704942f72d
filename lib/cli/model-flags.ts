/** Flags shared by the commands that load a model: --model, --device, --dtype, --threads. */
import type { Command } from 'commander';
import { DTYPES, type Dtype, type ModelLoadOptions } from '../model/blip2-model.js';
import { parseIntegerFlag, UsageError } from './usage.js';
import { defaultModelDir } from '../synth/default-model.js';
import { Blip2Captioner } from '../captioner.js';
import type { Logger } from '../logger.js';

export interface ModelFlags {
  model?: string;
  device?: string;
  dtype?: Dtype;
  threads?: number;
}

function parseDtype(value: string): Dtype {
  if (!(DTYPES as readonly string[]).includes(value)) {
    throw new UsageError(`--dtype expects one of ${DTYPES.join(', ')} but received ${JSON.stringify(value)}`);
  }
  return value as Dtype;
}

function parseDevice(value: string): string {
  if (!/^(cpu|cuda(:\d+)?)$/.test(value)) throw new UsageError(`--device expects cpu, cuda or cuda:N but received ${JSON.stringify(value)}`);
  return value;
}

/** Adds the model flags to a command. */
export function addModelFlags(command: Command): Command {
  return command
    .option('--model <dir>', 'BLIP-2 model directory (a local Hugging Face snapshot: config.json, model.safetensors, tokenizer.json, preprocessor_config.json)')
    .option('--device <device>', 'cpu, cuda or cuda:N', parseDevice)
    .option('--dtype <dtype>', `parameter dtype: ${DTYPES.join(', ')}`, parseDtype)
    .option('--threads <n>', 'intra-op threads (default: all cores)', parseIntegerFlag('--threads', 1, 1024));
}

/** The model directory (--model, else the built-in default model) and load options from the flags. */
export async function modelFromFlags(flags: ModelFlags): Promise<{ dir: string; options: ModelLoadOptions }> {
  const dir = flags.model ?? (await defaultModelDir());
  if (!dir) {
    throw new UsageError(
      '--model <dir> is required until the built-in default model exists: point it at a local BLIP-2 (Flan-T5) snapshot directory, ' +
        'or run `npm start` (blip2-progressive bench) once to pretrain the default',
    );
  }
  const options: ModelLoadOptions = {};
  if (flags.device !== undefined) options.device = flags.device;
  if (flags.dtype !== undefined) options.dtype = flags.dtype;
  if (flags.threads !== undefined) options.threads = flags.threads;
  return { dir, options };
}

/**
 * Loads the captioner of `dir` and, when given, an adapter directory on top; the weights are freed again if the
 * adapter cannot be loaded.
 */
export async function loadCaptioner(
  dir: string, options: ModelLoadOptions, adapter: string | undefined, logger: Logger,
): Promise<Blip2Captioner> {
  const captioner = await Blip2Captioner.fromPretrained(dir, { ...options, logger });
  if (adapter === undefined) return captioner;
  try {
    const summary = await captioner.model.loadAdapter(adapter);
    logger.info(`adapter ${adapter}: ${summary.modules} LoRA modules`);
    return captioner;
  } catch (err) {
    captioner.dispose();
    throw err;
  }
}
