/**
 * `blip2-progressive eval`: scores predicted captions against references with the
 * pycocoevalcap-identical metrics of `blip2-progressive/metrics`.
 *
 *   blip2-progressive eval --refs captions_val2014.json --preds results.json [--json]
 *
 * Today it reads a reference file and a prediction file (refs/preds mode); model-based evaluation
 * (`--model/--data`) is meant to join as a second mode that produces the predictions itself.
 */
import type { Command } from 'commander';
import { streamLogger } from '../logger.js';
import { cocoEval, METRIC_NAMES, type CocoEvalResult, type MetricName } from '../metrics/coco-eval.js';
import { loadPredictions, loadReferences } from '../metrics/loaders.js';
import { UsageError } from './usage.js';

/** Where the command writes; tests pass their own streams. */
export interface EvalIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

interface EvalFlags {
  refs?: string;
  preds?: string;
  metrics?: MetricName[];
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
  rows.push(`\n${result.perImage.length} images`);
  return `${rows.join('\n')}\n`;
}

/** Adds the `eval` command to the program. */
export function register(program: Command, io: EvalIO = { stdout: process.stdout, stderr: process.stderr }): void {
  program
    .command('eval')
    .description('score predicted captions against references (pycocoevalcap-identical BLEU, METEOR, ROUGE-L, CIDEr-D; SPICE via its jar)')
    .option('--refs <file>', 'references: COCO annotations, VizWiz-Captions annotations or the processed [{image_id, captions}] json')
    .option('--preds <file>', 'predictions: COCO result file [{image_id, caption}]')
    .option('--metrics <list>', `comma-separated metrics (${METRIC_NAMES.join(',')})`, parseMetricsFlag)
    .option('--meteor-input <kind>', 'built-in METEOR (NLTK) on raw or tokenized captions', parseMeteorInput, 'raw')
    .option('--spice-jar <path>', 'official spice-1.0.jar (SPICE is not computed without it)')
    .option('--meteor-jar <path>', 'official meteor-1.5.jar (replaces the built-in NLTK METEOR)')
    .option('--java <path>', 'java executable for the jars', 'java')
    .option('--json', 'print one JSON object with pycocoevalcap keys')
    .action(async (flags: EvalFlags) => {
      if (flags.refs === undefined || flags.preds === undefined) {
        throw new UsageError('eval needs --refs <file> and --preds <file>');
      }
      const [refs, preds] = await Promise.all([loadReferences(flags.refs), loadPredictions(flags.preds)]);
      const result = await cocoEval(refs, preds, {
        ...(flags.metrics !== undefined ? { metrics: flags.metrics } : {}),
        meteorInput: flags.meteorInput ?? 'raw',
        ...(flags.spiceJar !== undefined ? { spiceJar: flags.spiceJar } : {}),
        ...(flags.meteorJar !== undefined ? { meteorJar: flags.meteorJar } : {}),
        javaPath: flags.java ?? 'java',
        logger: streamLogger(io.stderr),
      });
      io.stdout.write(flags.json ? `${JSON.stringify(evalJson(result))}\n` : evalTable(result));
    });
}
