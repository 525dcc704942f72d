/**
 * `blip2-progressive eval`: scores predicted captions against references with the
 * pycocoevalcap-identical metrics of `blip2-progressive/metrics`.
 *
 *   blip2-progressive eval --refs captions_val2014.json --preds results.json [--json]
 *
 * or, with --model, captions a dataset itself (optionally with an adapter and under a corruption) and scores that:
 *
 *   blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3
 */
import { Option, type Command } from 'commander';
import { streamLogger } from '../logger.js';
import { cocoEval, METRIC_NAMES, TOKENIZE_MODES, type CocoEvalResult, type MetricName, type TokenizeMode } from '../metrics/coco-eval.js';
import { loadPredictions, loadReferences } from '../metrics/loaders.js';
import { UsageError, parseIntegerFlag } from './usage.js';
import { addModelFlags } from './model-flags.js';
import { recordOptions } from './shards.js';
import { evaluateWithModel, parseCorruptFlag, parseSplitFlag, type ModelEvalFlags } from './eval-model.js';

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
}

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

const KEYS = ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'SPICE'] as const;

/** The corpus scores as one object with pycocoevalcap's keys (what `--json` prints). */
export function evalJson(result: CocoEvalResult): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if (result[k] !== undefined) out[k] = result[k];
  if (result.notComputed !== undefined) out.notComputed = result.notComputed;
  if (result.meteorVariant !== undefined) out.meteorVariant = result.meteorVariant;
  out.tokenize = result.tokenize;
  out.images = result.perImage.length;
  return out;
}

/** The corpus scores as a Markdown table (4 decimals; `--json` has full precision). */
export function evalTable(result: CocoEvalResult): string {
  const rows = ['| metric | score |', '|---|---|'];
  for (const k of KEYS) {
    const v = result[k];
    if (v !== undefined) rows.push(`| ${k}${k === 'METEOR' && result.meteorVariant ? ` (${result.meteorVariant})` : ''} | ${v.toFixed(4)} |`);
    else if (result.notComputed?.includes(k)) rows.push(`| ${k} | not computed (needs --${k.toLowerCase()}-jar) |`);
  }
  rows.push(`\n${result.perImage.length} images${result.tokenize === 'none' ? ', captions not PTB-tokenized (--tokenize none)' : ''}`);
  return `${rows.join('\n')}\n`;
}

/** Adds the `eval` command to the program. */
export function register(program: Command, io: EvalIO = { stdout: process.stdout, stderr: process.stderr }): void {
  const command = program
    .command('eval')
    .description('score predicted captions against references (pycocoevalcap-identical BLEU, METEOR, ROUGE-L, CIDEr-D; SPICE via its jar)')
    .option('--refs <file>', 'references: COCO annotations, VizWiz-Captions annotations or the processed [{image_id, captions}] json')
    .option('--preds <file>', 'predictions: COCO result file [{image_id, caption}] or the paper\'s [{id, caption}] (ids may be image file names)')
    .option('--metrics <list>', `comma-separated metrics (${METRIC_NAMES.join(',')})`, parseMetricsFlag)
    .option('--tokenize <mode>', 'ptb: pycocoevalcap (PTB tokenizer); none: the paper\'s eval_utils.py (raw captions lower-cased, '
      + 'split on whitespace by the scorers; only images with both a prediction and references)', parseTokenize, 'ptb')
    .option('--meteor-input <kind>', 'built-in METEOR (NLTK) on raw or tokenized captions', parseMeteorInput, 'raw')
    .option('--spice-jar <path>', 'official spice-1.0.jar (SPICE is not computed without it)')
    .option('--meteor-jar <path>', 'official meteor-1.5.jar (replaces the built-in NLTK METEOR)')
    .option('--java <path>', 'java executable for the jars', 'java')
    .option('--json', 'print one JSON object with pycocoevalcap keys')
    .option('--adapter <dir>', 'with --model: a LoRA adapter directory (PEFT layout)')
    .option('--data <file>', 'with --model: the dataset to caption (VizWiz, COCO, Karpathy, processed json or JSONL)')
    .option('--image-root <dir>', 'with --model: where the dataset\'s images are (default: next to --data)')
    .option('--split <name>', 'with --model and a Karpathy --data file: the split to score (train, val, test, restval, all; default test)', parseSplitFlag)
    .option('--corrupt <kind:severity>', 'with --model: corrupt every image first, e.g. blur:3 (noise, blur, motion, dark, jpeg, defocus; 1-5)', parseCorruptFlag)
    .option('--max-images <n>', 'with --model: only the first N images', parseIntegerFlag('--max-images', 1, 1e9))
    .option('--num-beams <n>', 'with --model: beam search width', parseIntegerFlag('--num-beams', 1, 64))
    .option('--max-new-tokens <n>', 'with --model: longest caption (default 24)', parseIntegerFlag('--max-new-tokens', 1, 1024))
    .option('--prompt <text>', 'with --model: text before the caption')
    .option('--batch-size <n>', 'with --model: images per batch', parseIntegerFlag('--batch-size', 1, 4096))
    .option('--preds-out <file>', 'with --model: also write the predictions (COCO result format)')
    .option('--progress', 'with --model: draw a progress bar even when stderr is not a terminal')
    .option('--nproc <n>', 'with --model: caption in n processes (one model copy, cores / n threads each), each on a contiguous shard of the images; scored on all of them', parseIntegerFlag('--nproc', 1, 256))
    .addOption(new Option('--shard <k/n>', 'internal: the shard a --nproc process captions').hideHelp())
    .addHelpText('after', `
Examples:
  $ blip2-progressive eval --refs captions_val2014.json --preds results.json --json
  $ blip2-progressive eval --refs val.json --preds preds.json --tokenize none     # the paper's table protocol
  $ blip2-progressive eval --model ./blip2 --adapter runs/x/stages/3-scst/best --data val.json --corrupt blur:3`);
  const typed = recordOptions(addModelFlags(command));
  command.action(async (flags: EvalFlags) => {
      if (flags.model !== undefined) {
        if (flags.refs !== undefined || flags.preds !== undefined) throw new UsageError('use either --model with --data, or --refs with --preds');
        if (flags.tokenize === 'none') throw new UsageError('--tokenize none applies to --refs with --preds; --model evaluation scores with the PTB protocol');
        const { scores } = await evaluateWithModel(flags, streamLogger(io.stderr), io.stderr, typed);
        io.stdout.write(flags.json ? `${JSON.stringify(evalJson(scores))}\n` : evalTable(scores));
        return;
      }
      if (flags.refs === undefined || flags.preds === undefined) {
        throw new UsageError('eval needs --refs <file> and --preds <file> (or --model <dir> --data <file>)');
      }
      const [refs, preds] = await Promise.all([loadReferences(flags.refs), loadPredictions(flags.preds)]);
      const result = await cocoEval(refs, preds, {
        ...(flags.metrics !== undefined ? { metrics: flags.metrics } : {}),
        tokenize: flags.tokenize ?? 'ptb',
        meteorInput: flags.meteorInput ?? 'raw',
        ...(flags.spiceJar !== undefined ? { spiceJar: flags.spiceJar } : {}),
        ...(flags.meteorJar !== undefined ? { meteorJar: flags.meteorJar } : {}),
        javaPath: flags.java ?? 'java',
        logger: streamLogger(io.stderr),
      });
      io.stdout.write(flags.json ? `${JSON.stringify(evalJson(result))}\n` : evalTable(result));
    });
}
