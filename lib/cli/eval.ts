/**
 * `blip2-progressive eval`: scores predicted captions against references with the
 * pycocoevalcap-identical metrics of `blip2-progressive/metrics`.
 *
 *   blip2-progressive eval --refs captions_val2014.json --preds results.json [--json]
 *
 * or, with --data, captions a dataset itself (--model, else the built-in default model; optionally with an adapter
 * and under a corruption) and scores that:
 *
 *   blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
 *
 * Flags, files and jars are checked before any model loads or any caption is scored.
 */
import { Option, type Command } from 'commander';
import { writeFileAtomic } from '../io/atomic.js';
import { streamLogger } from '../logger.js';
import { cocoEval, TOKENIZE_MODES, type CocoEvalResult, type TokenizeMode } from '../metrics/coco-eval.js';
import { DEFAULT_METRICS, METRIC_NAMES, METRIC_RESULTS, defaultMetrics, metricSpec, needsJar, type MetricJar, type MetricName } from '../metrics/registry.js';
import { generationOption } from '../generation/options.js';
import { javaProblem } from '../metrics/jars.js';
import { loadPredictions, loadReferences } from '../metrics/loaders.js';
import { UsageError, checkInputFile, checkOutputFile, parseIntegerFlag } from './usage.js';
import { addModelFlags } from './model-flags.js';
import { recordOptions } from './shards.js';
import {
  EVAL_MAX_NEW_TOKENS, evaluateWithModel, parseCorruptFlag, parseSplitFlag, type ModelEvalFlags, type ScoringOptions,
} from './eval-model.js';

/** Where the command writes; tests pass their own streams. */
export interface EvalIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

interface EvalFlags extends ModelEvalFlags {
  refs?: string;
  preds?: string;
  metrics?: MetricName[];
  tokenize?: TokenizeMode;
  meteorInput?: 'raw' | 'tokenized';
  spiceJar?: string;
  meteorJar?: string;
  java?: string;
  json?: boolean;
  perImage?: string;
}

/** The metrics without --metrics: all but SPICE, which runs only when asked for (--metrics spice, or --spice-jar). */
export const DEFAULT_EVAL_METRICS: readonly MetricName[] = DEFAULT_METRICS;

/** Parses `--metrics bleu,rouge` into metric names, rejecting unknown ones. */
export function parseMetricsFlag(value: string): MetricName[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0);
  const bad = names.filter((n) => !(METRIC_NAMES as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new UsageError(`--metrics expects a comma-separated list of ${METRIC_NAMES.join(', ')} but received ${JSON.stringify(value)}`);
  }
  return [...new Set(names)] as MetricName[];
}

function parseTokenize(value: string): TokenizeMode {
  if (!(TOKENIZE_MODES as readonly string[]).includes(value)) {
    throw new UsageError(`--tokenize expects ${TOKENIZE_MODES.join(' or ')} but received ${JSON.stringify(value)}`);
  }
  return value as TokenizeMode;
}

function parseMeteorInput(value: string): 'raw' | 'tokenized' {
  if (value !== 'raw' && value !== 'tokenized') {
    throw new UsageError(`--meteor-input expects raw or tokenized but received ${JSON.stringify(value)}`);
  }
  return value;
}

/** The corpus scores as one object with pycocoevalcap's keys (what `--json` prints). */
export function evalJson(result: CocoEvalResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key } of METRIC_RESULTS) if (result[key] !== undefined) out[key] = result[key];
  if (result.notComputed !== undefined) out.notComputed = result.notComputed;
  if (result.meteorVariant !== undefined) out.meteorVariant = result.meteorVariant;
  out.tokenize = result.tokenize;
  out.images = result.perImage.length;
  return out;
}

/** The corpus scores as a Markdown table (4 decimals; `--json` has full precision). */
export function evalTable(result: CocoEvalResult): string {
  const rows = ['| metric | score |', '|---|---|'];
  for (const { key: k, metric } of METRIC_RESULTS) {
    const v = result[k];
    if (v !== undefined) rows.push(`| ${k}${metric === 'meteor' && result.meteorVariant ? ` (${result.meteorVariant})` : ''} | ${v.toFixed(4)} |`);
    else if (result.notComputed?.includes(k)) rows.push(`| ${k} | not computed (needs ${metricSpec(metric).jar?.flag}) |`);
  }
  rows.push(`\n${result.perImage.length} images${result.tokenize === 'none' ? ', captions not PTB-tokenized (--tokenize none)' : ''}`);
  return `${rows.join('\n')}\n`;
}

/** Whether `java -version` runs; a usage error naming --java otherwise (before hours of captioning, not after). */
async function checkJava(java: string): Promise<void> {
  const problem = await javaProblem(java);
  if (problem !== undefined) throw new UsageError(`--java: cannot run ${JSON.stringify(java)} (${problem}); the jars need Java 8 or newer: install it or pass --java <path>`);
}

/** The scoring options from the flags, every file and the java executable checked first. */
export async function scoringFromFlags(flags: EvalFlags): Promise<ScoringOptions> {
  const metrics = flags.metrics ?? defaultMetrics(flags);
  const jarOnly = metrics.find((name) => needsJar(name) && flags[metricSpec(name).jar!.option] === undefined);
  if (jarOnly !== undefined) {
    const jar = metricSpec(jarOnly).jar!;
    throw new UsageError(`--metrics ${jarOnly} needs ${jar.flag} <${jar.file}> (${jar.about}); leave ${jarOnly} out of --metrics to score without it`);
  }
  const jars: Partial<Record<MetricJar['option'], string>> = {};
  for (const jar of metrics.map((name) => metricSpec(name).jar)) {
    const path = jar === undefined ? undefined : flags[jar.option];
    if (path === undefined) continue;
    await checkInputFile(jar!.flag, path, 'jar file');
    jars[jar!.option] = path;
  }
  if (Object.keys(jars).length > 0) await checkJava(flags.java ?? 'java');
  return {
    metrics,
    tokenize: flags.tokenize ?? 'ptb',
    meteorInput: flags.meteorInput ?? 'raw',
    ...jars,
    javaPath: flags.java ?? 'java',
  };
}

/** A scorer's error in the command's terms: flags, not API option names. */
function inFlagTerms(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const flags: Record<string, string> = { javaPath: '--java' };
  for (const name of METRIC_NAMES) {
    const jar = metricSpec(name).jar;
    if (jar !== undefined) flags[jar.option] = jar.flag;
  }
  err.message = err.message.replace(new RegExp(`\\b(${Object.keys(flags).join('|')})\\b`, 'g'), (name) => flags[name]!);
  return err;
}

/** Checks, before any work, the files the flags name: inputs exist, outputs can be made. */
async function checkFiles(flags: EvalFlags): Promise<void> {
  for (const [flag, path] of [['--refs', flags.refs], ['--preds', flags.preds], ['--data', flags.data]] as const) {
    if (path !== undefined) await checkInputFile(flag, path);
  }
  for (const [flag, path] of [['--preds-out', flags.predsOut], ['--per-image', flags.perImage]] as const) {
    if (path !== undefined) await checkOutputFile(flag, path);
  }
}

/** Scores `--preds` against `--refs`. */
async function scoreFiles(flags: EvalFlags & { refs: string; preds: string }, scoring: ScoringOptions, io: EvalIO): Promise<CocoEvalResult> {
  const [refs, preds] = await Promise.all([loadReferences(flags.refs), loadPredictions(flags.preds)]);
  return cocoEval(refs, preds, { ...scoring, logger: streamLogger(io.stderr) });
}

/** Adds the `eval` command to the program. */
export function register(program: Command, io: EvalIO = { stdout: process.stdout, stderr: process.stderr }): void {
  const command = program
    .command('eval')
    .description('score captions against references (pycocoevalcap-identical BLEU, METEOR, ROUGE-L, CIDEr-D; SPICE via its jar): ' +
      'a predictions file (--refs, --preds), or a model captioning a dataset (--data)')
    .option('--refs <file>', 'references: COCO annotations, VizWiz-Captions annotations or the processed [{image_id, captions}] json')
    .option('--preds <file>', 'predictions: a COCO results file [{image_id, caption}] (caption --out), the paper\'s [{id, caption}] (ids may be image file names), ' +
      'or caption --json output (JSON lines {"image", "captions"}, matched to --refs by file name)')
    .option('--metrics <list>', `comma-separated metrics (${METRIC_NAMES.join(',')}; default ${DEFAULT_EVAL_METRICS.join(',')}, and spice with --spice-jar)`, parseMetricsFlag)
    .option('--tokenize <mode>', 'ptb: pycocoevalcap (PTB tokenizer); none: the paper\'s eval_utils.py (raw captions lower-cased, '
      + 'split on whitespace by the scorers; only images with both a prediction and references)', parseTokenize, 'ptb')
    .option('--meteor-input <kind>', 'built-in METEOR (NLTK) on raw or tokenized captions', parseMeteorInput, 'raw')
    .option('--spice-jar <path>', 'official spice-1.0.jar: SPICE is scored with it (needs Java 8; --metrics spice without it is an error)')
    .option('--meteor-jar <path>', 'official meteor-1.5.jar (replaces the built-in NLTK METEOR)')
    .option('--java <path>', 'java executable for the jars', 'java')
    .option('--json', 'print one JSON object with pycocoevalcap keys')
    .option('--per-image <file>', 'also write every image\'s scores, [{"image_id", "Bleu_1", ..., "CIDEr"}] in evaluation order (pycocoevalcap\'s evalImgs)')
    .option('--data <file>', 'caption this dataset and score it (VizWiz, COCO, Karpathy, processed json or JSONL), with --model or the built-in default model')
    .option('--adapter <dir>', 'with --data: a LoRA adapter directory (PEFT layout), or a finished run\'s folder (its final stage\'s best)')
    .option('--image-root <dir>', 'with --data: where the dataset\'s images are (default: next to --data)')
    .option('--split <name>', 'with a Karpathy --data file: the split to score (train, val, test, restval, all; default test)', parseSplitFlag)
    .option('--corrupt <kind:severity>', 'with --data: corrupt every image first, e.g. blur:3 (noise, blur, motion, dark, jpeg, defocus; 1-5)', parseCorruptFlag)
    .option('--max-images <n>', 'with --data: only the first N images', parseIntegerFlag('--max-images', 1, 1e9))
    .option('--num-beams <n>', 'with --data: beam search width', parseIntegerFlag('--num-beams', ...generationOption('numBeams').range!))
    .option('--max-new-tokens <n>', `with --data: longest caption (default ${EVAL_MAX_NEW_TOKENS} for every model: a run config's eval.maxNewTokens default, so ` +
      'an adapter scores as in its run\'s validation; caption follows the model\'s generation_config.json instead, so pass the same --max-new-tokens to both to compare)',
    parseIntegerFlag('--max-new-tokens', ...generationOption('maxNewTokens').range!))
    .option('--prompt <text>', 'with --data: text before the caption')
    .option('--batch-size <n>', 'with --data: images per batch', parseIntegerFlag('--batch-size', 1, 4096))
    .option('--preds-out <file>', 'with --data: also write the predictions (a COCO results file; integer image ids where the dataset\'s are)')
    .option('--progress', 'with --data: draw a progress bar even when stderr is not a terminal')
    .option('--nproc <n>', 'with --data: caption in n processes (one model copy, cores / n threads each), each on a contiguous shard of the images; scored on all of them', parseIntegerFlag('--nproc', 1, 256))
    .addOption(new Option('--shard <k/n>', 'internal: the shard a --nproc process captions').hideHelp())
    .addHelpText('after', `
Examples:
  $ blip2-progressive eval --refs captions_val2014.json --preds results.json --json
  $ blip2-progressive eval --refs val.json --preds preds.json --tokenize none     # the paper's table protocol
  $ blip2-progressive caption val --json > val.jsonl && blip2-progressive eval --refs val.json --preds val.jsonl
  $ blip2-progressive eval --data val.json --per-image scores.json                # the built-in default model
  $ blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
  $ blip2-progressive eval --refs val.json --preds preds.json --metrics bleu,cider,spice --spice-jar spice-1.0.jar`);
  const typed = recordOptions(addModelFlags(command));
  command.action(async (flags: EvalFlags) => {
    const withModel = flags.model !== undefined || flags.data !== undefined;
    if (withModel && (flags.refs !== undefined || flags.preds !== undefined)) {
      throw new UsageError('use either --data (with --model, or the built-in default model), or --refs with --preds');
    }
    if (withModel && flags.tokenize === 'none') throw new UsageError('--tokenize none applies to --refs with --preds; --data evaluation scores with the PTB protocol');
    if (!withModel && (flags.refs === undefined || flags.preds === undefined)) {
      throw new UsageError('eval needs --refs <file> and --preds <file> (or --data <file>, captioned with --model or the built-in default model)');
    }
    await checkFiles(flags);
    const scoring = await scoringFromFlags(flags);
    let result: CocoEvalResult;
    try {
      result = withModel
        ? (await evaluateWithModel(flags, scoring, streamLogger(io.stderr), io.stderr, typed)).scores
        : await scoreFiles(flags as EvalFlags & { refs: string; preds: string }, scoring, io);
    } catch (err) {
      throw inFlagTerms(err);
    }
    if (flags.perImage !== undefined) await writeFileAtomic(flags.perImage, `${JSON.stringify(result.perImage, null, 2)}\n`);
    io.stdout.write(flags.json ? `${JSON.stringify(evalJson(result))}\n` : evalTable(result));
  });
}
