/**
 * `blip2-progressive caption`: captions for images, with every Hugging Face generation option that matters for
 * captioning (greedy, beam search, sampling).
 *
 *   blip2-progressive caption photo.jpg --model ./blip2-flan-t5-xl --num-beams 5 --max-new-tokens 30 --json
 */
import { Command, Option } from 'commander';
import type { Caption } from '../generation/caption.js';
import { GENERATION_LIMITS, readGenerationOptions, resolveGenerationConfig, type GenerationOptions } from '../generation/config.js';
import { streamLogger } from '../logger.js';
import { addModelFlags, loadCaptioner, modelFromFlags, type ModelFlags } from './model-flags.js';
import { ProgressBar } from './progress.js';
import { recordOptions, runShards, shardsOf } from './shards.js';
import { parseIntegerFlag, parseNumberFlag, UsageError } from './usage.js';

interface CaptionFlags extends ModelFlags {
  adapter?: string;
  prompt?: string;
  maxNewTokens?: number;
  minNewTokens?: number;
  numBeams?: number;
  numReturnSequences?: number;
  lengthPenalty?: number;
  earlyStopping?: boolean;
  noRepeatNgramSize?: number;
  repetitionPenalty?: number;
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  batchSize?: number;
  json?: boolean;
  progress?: boolean;
  nproc?: number;
}

/** `--no-repeat-ngram-size` is a value flag, not commander's `--no-*` negation of `--repeat-ngram-size`. */
class ValueOption extends Option {
  constructor(flags: string, description: string, private readonly attribute: string) {
    super(flags, description);
    this.negate = false;
  }

  override attributeName(): string {
    return this.attribute;
  }
}

const GENERATION_FLAGS = [
  'maxNewTokens', 'minNewTokens', 'numBeams', 'numReturnSequences', 'lengthPenalty', 'earlyStopping', 'noRepeatNgramSize',
  'repetitionPenalty', 'doSample', 'temperature', 'topK', 'topP', 'seed',
] as const;

/** The generation options given on the command line (unset flags are left to the model's defaults). */
export function generationFromFlags(flags: CaptionFlags): GenerationOptions {
  const out: Record<string, unknown> = {};
  for (const key of GENERATION_FLAGS) if (flags[key] !== undefined) out[key] = flags[key];
  return out as GenerationOptions;
}

/**
 * An image path as the first field of a plain-text line: as given, or as a JSON string when it holds a tab, a line
 * break or another control character, or starts with a double quote (so every line still splits into 3 fields).
 */
export function imageField(image: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f\u2028\u2029]|^"/.test(image) ? JSON.stringify(image) : image;
}

function formatLine(image: string, result: Caption | Caption[], json: boolean): string {
  const captions = Array.isArray(result) ? result : [result];
  if (json) return `${JSON.stringify({ image, captions })}\n`;
  return captions.map((c) => `${imageField(image)}\t${c.score.toFixed(4)}\t${c.text}\n`).join('');
}

/** The error of a run in which some images could not be captioned (exit code 1, after the others' lines). */
function failuresError(images: readonly string[], failures: Map<number, Error>): Error {
  const list = [...failures].map(([i, err]) => `  ${imageField(images[i]!)}: ${err.message}`).join('\n');
  return new Error(`${failures.size} of ${images.length} images could not be captioned:\n${list}`);
}

/** Adds the `caption` command to the program. */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  const command = program
    .command('caption')
    .description('generate captions for images (greedy, beam search or sampling, as Hugging Face generate)')
    .argument('<images...>', 'image files')
    .option('--adapter <dir>', 'a LoRA adapter directory (PEFT layout, e.g. a training run\'s stages/<k>-<name>/best)')
    .option('--prompt <text>', 'text before the caption (default: none, as Hugging Face)')
    .option('--max-new-tokens <n>', 'tokens to generate at most (default: the model\'s max_length 20 incl. the start token)', parseIntegerFlag('--max-new-tokens', 1, GENERATION_LIMITS.maxNewTokens))
    .option('--min-new-tokens <n>', 'no EOS before this many tokens', parseIntegerFlag('--min-new-tokens', 0, GENERATION_LIMITS.maxNewTokens))
    .option('--num-beams <n>', 'beam search width (1: greedy)', parseIntegerFlag('--num-beams', 1, 64))
    .option('--num-return-sequences <n>', 'captions per image (≤ num-beams, or with --do-sample)', parseIntegerFlag('--num-return-sequences', 1, 64))
    .option('--length-penalty <x>', 'beam score = sum log-prob / length^x (default 1)', parseNumberFlag('--length-penalty', ...GENERATION_LIMITS.lengthPenalty))
    .option('--early-stopping', 'stop beam search as soon as num-beams captions are finished')
    .addOption(new ValueOption('--no-repeat-ngram-size <n>', 'forbid repeating any n-gram of this size', 'noRepeatNgramSize')
      .argParser(parseIntegerFlag('--no-repeat-ngram-size', 0, 1 << 20)))
    .option('--repetition-penalty <x>', 'penalty for tokens already generated (1: none)', parseNumberFlag('--repetition-penalty', ...GENERATION_LIMITS.repetitionPenalty))
    .option('--do-sample', 'sample instead of taking the most likely token')
    .option('--temperature <x>', 'sampling temperature', parseNumberFlag('--temperature', ...GENERATION_LIMITS.temperature))
    .option('--top-k <n>', 'sample among the k most likely tokens (0: all; default 50)', parseIntegerFlag('--top-k', 0, 2 ** 31 - 1))
    .option('--top-p <x>', 'nucleus sampling probability mass', parseNumberFlag('--top-p', 0, 1))
    .option('--seed <n>', 'sampling seed (reproducible runs)', parseIntegerFlag('--seed', 0, Number.MAX_SAFE_INTEGER))
    .option('--batch-size <n>', 'images per model batch (default 8)', parseIntegerFlag('--batch-size', 1, 4096))
    .option('--json', 'print one JSON object per image: {"image", "captions": [{"text", "tokenIds", "score"}]}')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .option('--nproc <n>', 'caption in n processes, each with its own model copy and cores / n threads, on contiguous shards of the images; output stays in input order', parseIntegerFlag('--nproc', 1, 256))
    .addHelpText('after', `
Output: one line per caption, "<image>\\t<score>\\t<text>"; score is the beam-search sequence score (HF
sequences_scores) or the mean token log-prob for greedy search and sampling. An image path holding a tab, a line
break or another control character (or starting with ") is written as a JSON string. An image that cannot be
loaded does not stop the others: they are captioned, then the failures are listed on stderr and the exit code is 1
(with --json, such an image's line is {"image", "error"}).

Examples:
  $ blip2-progressive caption dog.jpg --model ./blip2-flan-t5-xl
  $ blip2-progressive caption *.jpg --model ./m --num-beams 5 --max-new-tokens 30 --batch-size 8 --json
  $ blip2-progressive caption cat.png --model ./m --do-sample --top-p 0.9 --num-return-sequences 3 --seed 1
  $ blip2-progressive caption photos/*.jpg --model ./m --nproc 2 --json   # two processes, one shard of the images each
With --nproc, each shard is captioned as its own call: greedy and beam search give the same captions as one process;
sampling draws from a different random stream per shard.`);
  const typed = recordOptions(addModelFlags(command));
  command.action(async (images: string[], flags: CaptionFlags) => {
    const { dir, options } = await modelFromFlags(flags);
    const generation = generationFromFlags(flags);
    try {
      resolveGenerationConfig(await readGenerationOptions(dir), generation);
    } catch (err) {
      if (err instanceof TypeError) throw new UsageError(err.message);
      throw err;
    }
    if ((flags.nproc ?? 1) > 1 && images.length > 1) {
      const shards = shardsOf(images, flags.nproc!).map((shard) => ['--', ...shard]);
      const codes = await runShards('caption', shards, typed(['--nproc']), stdout);
      const failed = codes.filter((c) => c !== 0).length;
      if (failed > 0) throw new Error(`${failed} of ${codes.length} shards failed or could not caption some images (their messages are above)`);
      return;
    }
    const captioner = await loadCaptioner(dir, options, flags.adapter, streamLogger(process.stderr));
    const showProgress = flags.progress === true || (process.stderr.isTTY === true && images.length > 1);
    const bar = showProgress ? new ProgressBar(process.stderr, images.length, 'caption', 'img') : undefined;
    const failures = new Map<number, Error>();
    try {
      await captioner.caption(images, {
        ...generation,
        ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
        ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
        onError: 'skip',
        onResult: (i, result) => {
          if (!('error' in result)) stdout.write(formatLine(images[i]!, result, flags.json === true));
          else {
            failures.set(i, result.error);
            if (flags.json === true) stdout.write(`${JSON.stringify({ image: images[i]!, error: result.error.message })}\n`);
          }
        },
        onProgress: (done) => bar?.update(done),
      });
    } finally {
      captioner.dispose();
    }
    if (failures.size > 0) throw failuresError(images, failures);
  });
}
