/**
 * `blip2-progressive caption`: captions for images, files, folders or glob patterns, with every Hugging Face
 * generation option that matters for captioning (greedy, beam search, sampling). Paths, ids and options are all
 * checked before the model loads.
 *
 *   blip2-progressive caption photos --num-beams 5 --max-new-tokens 30 --out preds.json
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { Caption } from '../generation/caption.js';
import { readJsonFile } from '../io/json.js';
import { readGenerationOptions, resolveGenerationConfig, type GenerationOptions } from '../generation/config.js';
import { generationFlag, generationOptionsOn, type GenerationOptionSpec } from '../generation/options.js';
import { streamLogger } from '../logger.js';
import type { Id } from '../metrics/loaders.js';
import { expandImageArgs, IMAGE_EXTENSIONS } from './image-inputs.js';
import { addModelFlags, checkAdapterFlag, loadCaptioner, modelFromFlags, type ModelFlags } from './model-flags.js';
import { ProgressBar, type ProgressStream } from './progress.js';
import { imageIds, writeResultsFile, type ResultEntry } from './results-file.js';
import { recordOptions, runShards, shardsOf } from './shards.js';
import { checkOutputFile, parseIntegerFlag, parseNumberFlag, UsageError } from './usage.js';

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
  out?: string;
  refs?: string;
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

/** The generation options `caption` has flags for. */
const GENERATION_FLAGS = generationOptionsOn('cli').map((o) => o.name);

/** The generation options given on the command line (unset flags are left to the model's defaults). */
export function generationFromFlags(flags: CaptionFlags): GenerationOptions {
  const out: Record<string, unknown> = {};
  for (const key of GENERATION_FLAGS) if ((flags as Record<string, unknown>)[key] !== undefined) out[key] = (flags as Record<string, unknown>)[key];
  return out as GenerationOptions;
}

/**
 * A generation option's flag: `--num-beams <n>` parsed within the option's range, `--length-penalty <x>`, or a switch
 * (`--do-sample`). A `--no-…` flag takes a value too (commander would read it as a negation).
 */
export function generationOptionFlag(spec: GenerationOptionSpec): Option {
  const flag = generationFlag(spec.name);
  if (spec.kind !== 'integer' && spec.kind !== 'number') return new Option(flag, spec.cliHelp);
  const [min, max] = spec.range!;
  const option = flag.startsWith('--no-')
    ? new ValueOption(`${flag} <n>`, spec.cliHelp ?? '', spec.name)
    : new Option(`${flag} ${spec.kind === 'integer' ? '<n>' : '<x>'}`, spec.cliHelp);
  return option.argParser(spec.kind === 'integer' ? parseIntegerFlag(flag, min, max) : parseNumberFlag(flag, min, max));
}

/**
 * Checks the generation flags against the model's defaults (generation_config.json) before it loads; an error speaks
 * of flags, not of API options.
 */
export function checkGenerationFlags(defaults: GenerationOptions, generation: GenerationOptions): void {
  const sequences = generation.numReturnSequences;
  if (sequences !== undefined && sequences > 1) {
    const beams = generation.numBeams ?? defaults.numBeams ?? 1;
    const sampling = generation.doSample ?? defaults.doSample ?? false;
    if (beams === 1 && !sampling) {
      throw new UsageError(`--num-return-sequences ${sequences} needs beam search (--num-beams ${sequences} or more) or sampling (--do-sample): ` +
        'greedy search gives one caption per image');
    }
    if (beams > 1 && sequences > beams) {
      throw new UsageError(`--num-return-sequences ${sequences} is more than --num-beams ${beams}: beam search gives at most num-beams captions per image`);
    }
  }
  try {
    resolveGenerationConfig(defaults, generation);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const names = new RegExp(`\\b(${GENERATION_FLAGS.join('|')})\\b`, 'g');
    throw new UsageError(err.message.replace(names, generationFlag));
  }
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

/** What `caption` runs on, worked out from its arguments and flags before the model loads. */
interface CaptionJob {
  images: string[];
  /** With --out: each image's id in the results file. */
  ids: Id[] | undefined;
  generation: GenerationOptions;
}

/** Expands and checks the image arguments, --out and --refs, and the generation flags on their own. */
async function prepareJob(args: string[], flags: CaptionFlags): Promise<CaptionJob> {
  const images = await expandImageArgs(args);
  await checkAdapterFlag(flags.adapter);
  const generation = generationFromFlags(flags);
  if (flags.refs !== undefined && flags.out === undefined) throw new UsageError('--refs maps image file names to the ids of --out; give --out <file> too');
  if (flags.out === undefined) return { images, ids: undefined, generation };
  if ((flags.numReturnSequences ?? 1) > 1) {
    throw new UsageError(`--out writes a COCO results file, one caption per image; it cannot take --num-return-sequences ${flags.numReturnSequences}`);
  }
  await checkOutputFile('--out', flags.out);
  return { images, ids: await imageIds(images, flags.refs), generation };
}

/**
 * `--nproc n`: contiguous shards in n processes, their stdout in input order; with --out each shard writes its own
 * results file, merged here in order (what the shards did write is kept even when one failed).
 */
async function captionInShards(job: CaptionJob, flags: CaptionFlags, typed: (omit: readonly string[]) => string[], stdout: NodeJS.WritableStream): Promise<void> {
  const shards = shardsOf(job.images, flags.nproc!);
  const dir = flags.out === undefined ? undefined : await mkdtemp(join(tmpdir(), 'blip2-caption-shards-'));
  try {
    const files = shards.map((_, k) => (dir === undefined ? undefined : join(dir, `shard-${k + 1}.json`)));
    const args = shards.map((shard, k) => [...(files[k] === undefined ? [] : ['--out', files[k]!]), '--', ...shard]);
    const codes = await runShards('caption', args, typed(['--nproc', '--out']), stdout);
    if (flags.out !== undefined) {
      const parts = await Promise.all(files.map((f) => readJsonFile(f!, 'shard results').then((v) => v as ResultEntry[], () => [])));
      await writeResultsFile(flags.out, parts.flat());
    }
    const failed = codes.filter((c) => c !== 0).length;
    if (failed > 0) throw new Error(`${failed} of ${codes.length} shards failed or could not caption some images (their messages are above)`);
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Adds the `caption` command to the program. `stderr` gets the progress bar and the log lines; a result line on
 * `stdout` clears the bar first and draws it again after, so that on one terminal the two never share a line.
 */
export function register(
  program: Command, stdout: NodeJS.WritableStream = process.stdout, stderr: ProgressStream & NodeJS.WritableStream = process.stderr,
): void {
  const command = program
    .command('caption')
    .description('generate captions for images, folders or glob patterns (greedy, beam search or sampling, as Hugging Face generate)')
    .argument('<images...>', `image files, folders (their ${IMAGE_EXTENSIONS.join(' ')} files, sorted by name; not subfolders) or quoted glob patterns ('photos/**/*.jpg')`)
    .option('--adapter <dir>', 'a LoRA adapter directory (PEFT layout, e.g. a training run\'s stages/<k>-<name>/best), or a finished run\'s folder (its final stage\'s best)')
    .option('--prompt <text>', 'text before the caption (default: none, as Hugging Face)');
  for (const spec of generationOptionsOn('cli')) command.addOption(generationOptionFlag(spec));
  command
    .option('--batch-size <n>', 'images per model batch (default 8)', parseIntegerFlag('--batch-size', 1, 4096))
    .option('--json', 'print one JSON object per image: {"image", "captions": [{"text", "tokenIds", "score"}]} (eval --preds reads these lines)')
    .option('--out <file>', 'also write a COCO results file [{"image_id", "caption"}] for eval --preds and pycocotools; ids from --refs, else the digits in each file name')
    .option('--refs <file>', 'with --out: take image ids from these COCO or VizWiz annotations (images[].file_name → id), matched by file name')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .option('--nproc <n>', 'caption in n processes, each with its own model copy and cores / n threads, on contiguous shards of the images; output stays in input order', parseIntegerFlag('--nproc', 1, 256))
    .addHelpText('after', `
Output: one line per caption, "<image>\\t<score>\\t<text>"; score is the beam-search sequence score (HF
sequences_scores) or the mean token log-prob for greedy search and sampling. An image path holding a tab, a line
break or another control character (or starting with ") is written as a JSON string. Every path, --out and --refs
id and generation flag is checked before the model loads (a missing file or a bad combination: exit 2). An image
that cannot be decoded does not stop the others: they are captioned, then the failures are listed on stderr and the
exit code is 1 (with --json, such an image's line is {"image", "error"}; --out leaves it out).

--out ids: with --refs, each image's file name is looked up in the annotations' images[].file_name; without it, the
last number in the file name is the id (VizWiz_val_00000123.jpg → 123, COCO_val2014_000000391895.jpg → 391895).
A name without a number, or two images with one id, is an error before the model loads.

Examples:
  $ blip2-progressive caption dog.jpg                       # the built-in default model (npx blip2-progressive bench)
  $ blip2-progressive caption photos --model Salesforce/blip2-flan-t5-xl --num-beams 5 --json
  $ blip2-progressive caption photos --adapter runs/vizwiz   # a finished training run: its final stage's best adapter
  $ blip2-progressive caption 'photos/**/*.png' --model ./m --max-new-tokens 30 --batch-size 8
  $ blip2-progressive caption val --refs annotations/val.json --out preds.json && \\
    blip2-progressive eval --refs annotations/val.json --preds preds.json
  $ blip2-progressive caption cat.png --model ./m --do-sample --top-p 0.9 --num-return-sequences 3 --seed 1
  $ blip2-progressive caption photos --model ./m --nproc 2 --json   # two processes, one shard of the images each
With --nproc, each shard is captioned as its own call: greedy and beam search give the same captions as one process;
sampling draws from a different random stream per shard.`);
  const typed = recordOptions(addModelFlags(command));
  command.action(async (args: string[], flags: CaptionFlags) => {
    const job = await prepareJob(args, flags);
    const { dir, options } = await modelFromFlags(flags, stderr);
    checkGenerationFlags(await readGenerationOptions(dir), job.generation);
    if ((flags.nproc ?? 1) > 1 && job.images.length > 1) return captionInShards(job, flags, typed, stdout);
    const { images, ids, generation } = job;
    const captioner = await loadCaptioner(dir, options, flags.adapter, streamLogger(stderr));
    const showProgress = flags.progress === true || (stderr.isTTY === true && images.length > 1);
    const bar = showProgress ? new ProgressBar(stderr, images.length, 'caption', 'img') : undefined;
    const print = (line: string) => {
      bar?.clear();
      stdout.write(line);
      bar?.redraw();
    };
    const failures = new Map<number, Error>();
    const results: ResultEntry[] = [];
    try {
      await captioner.caption(images, {
        ...generation,
        ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
        ...(flags.batchSize === undefined ? {} : { batchSize: flags.batchSize }),
        onError: 'skip',
        onResult: (i, result) => {
          if (!('error' in result)) {
            print(formatLine(images[i]!, result, flags.json === true));
            if (ids !== undefined) results.push({ image_id: ids[i]!, caption: (Array.isArray(result) ? result[0]! : result).text });
          } else {
            failures.set(i, result.error);
            if (flags.json === true) print(`${JSON.stringify({ image: images[i]!, error: result.error.message })}\n`);
          }
        },
        onProgress: (done) => bar?.update(done),
      });
    } finally {
      captioner.dispose();
    }
    if (flags.out !== undefined) await writeResultsFile(flags.out, results);
    if (failures.size > 0) throw failuresError(images, failures);
  });
}
