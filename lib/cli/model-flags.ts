/**
 * Flags shared by the commands that load a model: --model, --revision, --cache-dir, --offline, --device, --dtype,
 * --threads.
 */
import type { Command } from 'commander';
import { DTYPES, SMALL_MODEL_PARAMETERS, type DtypeOption, type ModelLoadOptions } from '../model/blip2-model.js';
import { parseIntegerFlag, UsageError } from './usage.js';
import { defaultModelDir } from '../hub/default-model.js';
import { Blip2Captioner } from '../captioner.js';
import { streamLogger, type Logger } from '../logger.js';
import { resolveModel } from '../hub/resolve.js';
import { resolveAdapterDirectory } from '../model/lora-config.js';
import { downloadProgressBar } from './download.js';
import type { ProgressStream } from './progress.js';

export interface ModelFlags {
  model?: string;
  device?: string;
  dtype?: DtypeOption;
  /**
   * `--threads`; when absent, the model's default (`defaultThreads`: 1 below {@link SMALL_MODEL_PARAMETERS}
   * parameters, else `os.availableParallelism()`). `--nproc N` passes cores / N to each of its processes instead.
   */
  threads?: number;
  revision?: string;
  cacheDir?: string;
  offline?: boolean;
  /** The command's own `--progress` (bars even when stderr is not a terminal), when it has one. */
  progress?: boolean;
}

function parseDtype(value: string): DtypeOption {
  if (!(DTYPES as readonly string[]).includes(value)) {
    throw new UsageError(`--dtype expects one of ${DTYPES.join(', ')} but received ${JSON.stringify(value)}`);
  }
  return value as DtypeOption;
}

function parseDevice(value: string): string {
  if (!/^(cpu|cuda(:\d+)?)$/.test(value)) throw new UsageError(`--device expects cpu, cuda or cuda:N but received ${JSON.stringify(value)}`);
  return value;
}

/** What `--model` says about the default, in every command's help. */
export const DEFAULT_MODEL_HELP = 'default: the built-in default model, the tiny BLIP-2 that `npx blip2-progressive bench` (`npm start` in a checkout) ' +
  'pretrains; `--model default` names it too (`./default` for a folder of that name)';

/** Adds the model flags to a command. */
export function addModelFlags(command: Command): Command {
  return command
    .option('--model <dir|org/name>', 'BLIP-2 model: a local directory (a Hugging Face snapshot: config.json, model.safetensors, tokenizer.json, ' +
      'preprocessor_config.json) or a Hugging Face repo id, taken from the Hugging Face cache or downloaded into it; an existing directory wins ' +
      `(${DEFAULT_MODEL_HELP})`)
    .option('--revision <rev>', 'with a repo id: branch, tag or commit hash (default main)')
    .option('--cache-dir <dir>', 'with a repo id: the Hugging Face hub cache (default $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('--offline', 'with a repo id: use the Hugging Face cache only, as HF_HUB_OFFLINE=1')
    .option('--device <device>', 'cpu, cuda or cuda:N', parseDevice)
    .option('--dtype <dtype>', `parameter dtype: ${DTYPES.join(', ')} (bfloat16-mixed: bf16 matmul weights, the rest fp32; ` +
      'int8: int8 Linear weights, the rest fp32, CPU inference only; auto: bfloat16-mixed on CPUs with AVX512-BF16, else float32; ' +
      'default float32)', parseDtype)
    .option('--threads <n>', `intra-op threads (default: 1 for models under ${SMALL_MODEL_PARAMETERS / 1e6}M parameters, such as the built-in ` +
      'default model, where a second thread only adds overhead; otherwise every core)', parseIntegerFlag('--threads', 1, 1024));
}

/**
 * The model `--model` names: a directory or repo id as given, or the built-in default model when it is absent or
 * `default` (as a run config's `"model": "default"`; `./default` names a folder of that name); a usage error with
 * the fix when there is no default yet.
 */
export async function modelArgument(model: string | undefined): Promise<string> {
  if (model !== undefined && model !== 'default') return model;
  const dir = await defaultModelDir();
  if (dir === undefined) {
    throw new UsageError(
      `${model === undefined ? '--model <dir> is required' : '--model default names nothing'} until the built-in default model exists: ` +
        'point --model at a local BLIP-2 (Flan-T5) snapshot directory or a Hugging Face repo id (org/name), ' +
        'or run `npx blip2-progressive bench` (`npm start` in a checkout) once to pretrain the default',
    );
  }
  return dir;
}

/**
 * The model directory (--model, else the built-in default model) and load options from the flags. A repo id is
 * resolved here, so that callers get a directory: downloads log to `stderr` and draw a progress bar there on a
 * terminal (or with the command's --progress).
 */
export async function modelFromFlags(
  flags: ModelFlags, stderr: ProgressStream & NodeJS.WritableStream = process.stderr,
): Promise<{ dir: string; options: ModelLoadOptions }> {
  const model = await modelArgument(flags.model);
  const onProgress = downloadProgressBar(stderr, flags.progress === true);
  const logger = streamLogger(stderr);
  const { dir, source } = await resolveModel(model, {
    ...(flags.revision === undefined ? {} : { revision: flags.revision }),
    ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }),
    ...(flags.offline === true ? { offline: true } : {}),
    ...(onProgress ? { onProgress } : {}),
    logger,
  });
  if (source === 'directory' && flags.revision !== undefined) logger.warn(`--revision applies to a repo id; ${model} is a directory, loaded as it is`);
  if (flags.dtype === 'float16' && (flags.device ?? 'cpu') === 'cpu') {
    throw new UsageError('--dtype float16 needs --device cuda: libtorch has no float16 CPU kernels for this model; use --dtype bfloat16 on the CPU');
  }
  if (flags.dtype === 'int8' && (flags.device ?? 'cpu') !== 'cpu') {
    throw new UsageError(`--dtype int8 runs on the CPU only; drop --device ${flags.device} or use --dtype float32 there`);
  }
  const options: ModelLoadOptions = {};
  if (flags.device !== undefined) options.device = flags.device;
  if (flags.dtype !== undefined) options.dtype = flags.dtype;
  if (flags.threads !== undefined) options.threads = flags.threads;
  return { dir, options };
}

/**
 * Checks `--adapter` (an adapter folder, or a finished run's folder) before any model loads: a usage error otherwise.
 */
export async function checkAdapterFlag(adapter: string | undefined): Promise<void> {
  if (adapter === undefined) return;
  try {
    await resolveAdapterDirectory(adapter);
  } catch (err) {
    throw new UsageError(`--adapter: ${(err as Error).message}`);
  }
}

/**
 * Loads the captioner of `dir` and, when given, an adapter directory on top (checked before the model loads); the
 * weights are freed again if the adapter cannot be loaded.
 */
export async function loadCaptioner(
  dir: string, options: ModelLoadOptions, adapter: string | undefined, logger: Logger,
): Promise<Blip2Captioner> {
  await checkAdapterFlag(adapter);
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
