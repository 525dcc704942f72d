// The metric table is the one list of metric names and result keys: cocoEval, eval's --json and table, the results
// Markdown, scoringFromFlags and a run config's eval.metrics all follow it.
import { describe, expect, it } from 'vitest';
import { cocoEval } from '../../lib/metrics/coco-eval.js';
import { DEFAULT_METRICS, METRICS, METRIC_NAMES, METRIC_RESULTS, defaultMetrics, needsJar } from '../../lib/metrics/registry.js';
import { evalJson, evalTable, parseMetricsFlag, scoringFromFlags } from '../../lib/cli/eval.js';
import { resultsMarkdown } from '../../lib/train/results.js';
import { EVAL_KEYS } from '../../lib/train/run-config.js';
import { readTable } from '../../lib/config-table.js';

const refs = new Map([[1, ['a dog runs on the grass', 'a brown dog running']], [2, ['a cat sleeps on a sofa', 'a cat lying down']]]);
const preds = new Map([[1, ['a dog running on grass']], [2, ['a cat on a sofa']]]);

describe('metric registry', () => {
  it('lists the five pycocoevalcap metric families with their result keys in pycocoevalcap order', () => {
    expect(METRIC_NAMES).toEqual(['bleu', 'meteor', 'rouge', 'cider', 'spice']);
    expect(METRIC_RESULTS.map((r) => r.key)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'METEOR', 'ROUGE_L', 'CIDEr', 'SPICE']);
    expect(METRIC_RESULTS.map((r) => r.label)).toEqual(['B-1', 'B-2', 'B-3', 'B-4', 'METEOR', 'ROUGE-L', 'CIDEr', 'SPICE']);
  });

  it('defaults to every metric but SPICE, which joins when its jar is named', () => {
    expect(DEFAULT_METRICS).toEqual(['bleu', 'meteor', 'rouge', 'cider']);
    expect(defaultMetrics({})).toEqual(['bleu', 'meteor', 'rouge', 'cider']);
    expect(defaultMetrics({ spiceJar: 'spice-1.0.jar' })).toEqual(['bleu', 'meteor', 'rouge', 'cider', 'spice']);
    expect(defaultMetrics({ meteorJar: 'meteor-1.5.jar' })).toEqual(['bleu', 'meteor', 'rouge', 'cider']);
    expect(METRIC_NAMES.filter(needsJar)).toEqual(['spice']);
  });

  it('names exactly the keys cocoEval computes: every metric without a jar scored, the jar-only ones not computed', async () => {
    const result = await cocoEval(refs, preds, { metrics: [...METRIC_NAMES] });
    const computed = METRIC_RESULTS.filter((r) => result[r.key] !== undefined).map((r) => r.key);
    expect(computed).toEqual(METRIC_RESULTS.filter((r) => !needsJar(r.metric)).map((r) => r.key));
    expect(result.notComputed).toEqual(METRIC_RESULTS.filter((r) => needsJar(r.metric)).map((r) => r.key));
    const scoreKeys = Object.keys(result.perImage[0]!).filter((k) => k !== 'image_id');
    expect(scoreKeys.sort()).toEqual([...computed].sort());
    expect(Object.keys(evalJson(result))).toEqual([...computed, 'notComputed', 'meteorVariant', 'tokenize', 'images']);
    expect(evalTable(result).split('\n')[9]).toBe('| SPICE | not computed (needs --spice-jar) |');
  });

  it('gives each metric one selector that --metrics accepts', () => {
    expect(parseMetricsFlag(METRICS.map((m) => m.name.toUpperCase()).join(','))).toEqual(METRIC_NAMES);
    expect(() => parseMetricsFlag('bleu,spider')).toThrow('--metrics expects a comma-separated list of bleu, meteor, rouge, cider, spice but received "bleu,spider"');
  });

  it('a jar-only metric without its jar is a usage error naming the flag', async () => {
    await expect(scoringFromFlags({ metrics: ['cider', 'spice'] })).rejects.toThrow(
      '--metrics spice needs --spice-jar <spice-1.0.jar> (the official SPICE 1.0 jar, run with Java 8); leave spice out of --metrics to score without it');
    await expect(scoringFromFlags({})).resolves.toEqual({ metrics: ['bleu', 'meteor', 'rouge', 'cider'], tokenize: 'ptb', meteorInput: 'raw', javaPath: 'java' });
  });

  it('labels the columns of the results table', () => {
    const md = resultsMarkdown([{ stage: 'zero-shot', scores: { Bleu_1: 0.5, Bleu_2: 0.25, Bleu_3: 0.125, Bleu_4: 0.0625, METEOR: 0.2, ROUGE_L: 0.4, CIDEr: 1.5, SPICE: 0.1 } }]);
    expect(md).toBe('| model | B-1 | B-2 | B-3 | B-4 | METEOR | ROUGE-L | CIDEr | SPICE |\n|---|---|---|---|---|---|---|---|---|\n'
      + '| zero-shot | 0.5000 | 0.2500 | 0.1250 | 0.0625 | 0.2000 | 0.4000 | 1.5000 | 0.1000 |\n');
  });

  it('is the list a run config\'s eval.metrics takes', () => {
    expect(EVAL_KEYS.metrics.type).toBe('array of "bleu", "meteor", "rouge", "cider", "spice"');
    expect(EVAL_KEYS.metrics.default).toBe('["bleu", "meteor", "rouge", "cider"], and "spice" with `spiceJar`');
    expect(() => readTable(EVAL_KEYS, { metrics: ['bleu', 'rouge'] }, 'eval', 'eval.', { base: '/' })).toThrow(
      'Expected array of bleu, meteor, rouge, cider, spice that includes cider for eval.metrics but received an array of length 2');
  });
});
