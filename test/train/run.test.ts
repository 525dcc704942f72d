// The progressive run end to end on the tiny fixture model and a small on-disk dataset: every stage runs for a
// few steps, checkpoints, produces the table; a kill -9 in the middle resumes and finishes.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { PAPER_IMAGE_AUGMENT, parseImageAugmentSpec } from '../../lib/image/augment.js';
import { PAPER_CAPTION_AUGMENT, parseCaptionAugmentSpec } from '../../lib/text/augment.js';
import { runProgressive } from '../../lib/train/run.js';
import { CiderDScorer } from '../../lib/metrics/cider.js';
import type { ScstStepResult } from '../../lib/train/scst.js';
import { T5Tokenizer } from '../../lib/text/tokenizer.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

// every SCST step's sampled captions, to recompute the logged reward from them
const scstSteps = vi.hoisted(() => [] as { imageIds: readonly string[]; samples: number; result: ScstStepResult }[]);
vi.mock('../../lib/train/scst.js', async (importOriginal) => {
  const scst = await importOriginal<typeof import('../../lib/train/scst.js')>();
  return {
    ...scst,
    scstBackward: async (...args: Parameters<typeof scst.scstBackward>) => {
      const result = await scst.scstBackward(...args);
      scstSteps.push({ imageIds: args[2].imageIds, samples: args[4].samples, result });
      return result;
    },
  };
});

/** CIDEr-D rewards as the paper defines them: each caption against all of its image's training references. */
function trainingCiderD(imageIds: readonly string[], captions: readonly string[]): number[] {
  const { annotations } = JSON.parse(readFileSync(join(root, 'train.json'), 'utf8')) as { annotations: { image_id: number; caption: string }[] };
  const refs: Record<string, string[]> = {};
  for (const a of annotations) (refs[String(a.image_id)] ??= []).push(a.caption);
  return Array.from(new CiderDScorer(refs).score([...imageIds], [...captions]));
}

let root: string;
/**
 * SCST samples only the words that tell training images apart (pieces in some images' references, not all: the
 * colours), each a word of its own, so that CIDEr-D rewards are not all zero: every other token but EOS is suppressed,
 * and a piece that does not start a word may not follow another colour piece.
 */
let scstGeneration: { suppressTokens: number[]; badWordsIds: number[][] };
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-run-'));
  await writeTinyRunData(root);
  const tokenizer = await T5Tokenizer.fromPretrained(TINY_MODEL);
  const { annotations } = JSON.parse(readFileSync(join(root, 'train.json'), 'utf8')) as { annotations: { image_id: number; caption: string }[] };
  const tokensOf = new Map<number, Set<number>>();
  for (const a of annotations) tokenizer.encode(a.caption).forEach((id) => tokensOf.set(a.image_id, (tokensOf.get(a.image_id) ?? new Set()).add(id)));
  const images = [...tokensOf.values()];
  const distinctive = [...new Set(images.flatMap((t) => [...t]))].filter((id) => !images.every((t) => t.has(id)));
  const inWord = distinctive.filter((id) => !tokenizer.idToToken(id).startsWith('▁'));
  scstGeneration = {
    suppressTokens: Array.from({ length: tokenizer.vocabSize }, (_, id) => id).filter((id) => id !== 1 && !distinctive.includes(id)),
    badWordsIds: distinctive.filter((id) => tokenizer.idToToken(id) !== '▁').flatMap((before) => inWord.map((id) => [before, id])),
  };
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function config(outDir: string, extra: Record<string, unknown> = {}) {
  return {
    model: TINY_MODEL,
    outDir,
    seed: 3,
    threads: 1,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0.05 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [
      { name: 'lora', epochs: 1, lr: 1e-3, batchSize: 4 },
      { name: 'lora+aug', epochs: 1, lr: 1e-3, batchSize: 4, augment: true, freshAdapter: true },
      { name: 'scst', epochs: 1, lr: 1e-4, batchSize: 4, maxSteps: 1, scst: { samples: 2, maxNewTokens: 4, generation: scstGeneration } },
    ],
    ...extra,
  };
}

describe('runProgressive', () => {
  it('runs every stage, keeps the best adapters, and writes the table', async () => {
    const outDir = join(root, 'run');
    const summary = await runProgressive(parseRunConfig(config(outDir)));
    expect(summary.rows.map((r) => r.stage)).toEqual(['zero-shot', 'lora', 'lora+aug', 'scst']);
    for (const row of summary.rows) expect(Object.keys(row.scores).sort()).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'CIDEr', 'METEOR', 'ROUGE_L']);
    const md = readFileSync(join(outDir, 'results.md'), 'utf8');
    expect(md.split('\n')[0]).toBe('| model | B-1 | B-2 | B-3 | B-4 | METEOR | ROUGE-L | CIDEr |');
    expect(md.split('\n').length).toBe(7);
    const log = readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.map((l) => `${l.stage}:${l.step}`)).toEqual(['lora:1', 'lora:2', 'lora+aug:1', 'lora+aug:2', 'scst:1']);
    // the logged reward is the CIDEr-D of the captions sampled in that step (4 images × 2 samples)
    expect(scstSteps.length).toBe(1);
    const { imageIds, samples, result } = scstSteps[0]!;
    expect([imageIds.length, samples, result.captions.length]).toEqual([4, 2, 8]);
    const rewards = trainingCiderD(imageIds.flatMap((id) => [id, id]), result.captions);
    const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
    console.log(`scst: captions ${JSON.stringify(result.captions)}; CIDEr-D ${rewards.map((r) => r.toFixed(3)).join(', ')}`);
    expect(rewards.some((r) => r > 0)).toBe(true); // else the comparison below could not tell rewards apart
    expect(Math.abs(log[4].scst.reward.mean - mean)).toBeLessThan(1e-12);
    expect(log[4].scst.reward.min).toBe(Math.min(...rewards));
    expect(log[4].scst.reward.max).toBe(Math.max(...rewards));
    // greedy baseline: advantage = reward - baseline, so the means differ by the baseline's mean
    expect(Math.abs(log[4].scst.advantage.mean - (log[4].scst.reward.mean - log[4].scst.baseline.mean))).toBeLessThan(1e-12);
    for (const stage of ['1-lora', '2-lora-aug', '3-scst']) {
      expect(readdirSync(join(outDir, 'stages', stage, 'best')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
      expect(existsSync(join(outDir, 'stages', stage, 'checkpoint'))).toBe(false);
      const predictions = JSON.parse(readFileSync(join(outDir, 'stages', stage, 'eval-1', 'predictions.json'), 'utf8')) as { image_id: unknown }[];
      expect(predictions.length).toBe(4);
      // VizWiz ids are JSON numbers: the results file keeps them numbers (pycocotools rejects string ids)
      expect(predictions.every((p) => Number.isInteger(p.image_id))).toBe(true);
    }
    await expect(runProgressive(parseRunConfig(config(outDir)))).rejects.toThrow(`${outDir} already holds a run; resume it (--resume) or choose another outDir`);
    writeFileSync(join(outDir, 'run.lock'), `${process.ppid}\n`); // a live process holds the directory
    await expect(runProgressive(parseRunConfig(config(outDir)), { resume: true })).rejects.toThrow(
      `${outDir} is in use by another training process (pid ${process.ppid}); wait for it or stop it first`,
    );
    writeFileSync(join(outDir, 'run.lock'), '999999999\n'); // a stale lock from a killed process
    const resumed = await runProgressive(parseRunConfig(config(outDir)), { resume: true });
    expect(resumed.rows).toEqual(summary.rows);
    expect([summary.alreadyFinished, resumed.alreadyFinished]).toEqual([false, true]);
    expect(resumed.bestAdapter).toBe(join(outDir, 'stages', '3-scst', 'best'));
  });

  it('validates the config, naming the bad key', () => {
    expect(() => parseRunConfig({ ...config('x'), stages: [{ name: 'a', epoch: 1 }] })).toThrow('Unknown option "epoch" in stages[0]');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ name: 'a' }, { name: 'a' }] })).toThrow('Stage names must be unique; "a" appears twice');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ scst: { samples: 0 } }] })).toThrow('Expected integer between 1 and 64 for stages[0].scst.samples but received 0 of type number');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ name: 'a' }, { name: 'b', from: 'c' }] })).toThrow('Stage "b" starts from "c", which is not an earlier stage');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ augment: { captions: {} } }] })).toThrow('Unknown option "captions" in stages[0].augment');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ augment: 'yes' }] })).toThrow('stages[0].augment');
    expect(() => parseRunConfig({ ...config('x'), stages: [{ augment: { caption: { synonymProb: 2 } } }] })).toThrow('synonymProb');
  });

  it('augment: true is the paper\'s settings; an object replaces either half or turns it off', () => {
    const stages = parseRunConfig({
      ...config('x'),
      stages: [
        { name: 'paper', augment: true },
        { name: 'own words', augment: { caption: { synonymProb: 0.5, synonyms: { dim: ['dark'] } } } },
        { name: 'images only', augment: { caption: false } },
        { name: 'none', augment: { image: false, caption: false } },
        { name: 'degradations', augment: { image: false, caption: false, matchCorruptions: [{ word: 'dark', kind: 'dark', severities: [1, 2], p: 0.5 }] } },
        { name: 'scst', augment: true, scst: {} },
        { name: 'rows', augment: { image: { hflip: 0.5, rotate: 10, rotateFill: 'edge' }, caption: false, flipListWords: ['red', 'blue'] } },
      ],
    }).stages;
    expect(stages[0]!.augment).toEqual({ image: parseImageAugmentSpec(PAPER_IMAGE_AUGMENT), caption: parseCaptionAugmentSpec(PAPER_CAPTION_AUGMENT) });
    expect(stages[1]!.augment!.image).toEqual(parseImageAugmentSpec(PAPER_IMAGE_AUGMENT));
    expect(stages[1]!.augment!.caption).toEqual({ synonymProb: 0.5, shuffleProb: 0, synonyms: { dim: ['dark'] } });
    expect(stages[2]!.augment).toEqual({ image: parseImageAugmentSpec(PAPER_IMAGE_AUGMENT), caption: undefined });
    expect(stages[3]!.augment).toBeUndefined();
    expect(stages[4]!.augment).toEqual({ image: undefined, caption: undefined, matchCorruptions: [{ word: 'dark', kind: 'low_light', severities: [1, 2], p: 0.5 }] });
    expect(stages[5]!.augment).toBeUndefined(); // never during SCST
    expect(stages[6]!.augment).toEqual({
      image: parseImageAugmentSpec({ hflip: 0.5, rotate: 10, rotateFill: 'edge' }), caption: undefined, flipListWords: ['red', 'blue'],
    });
    expect(() => parseRunConfig({ ...config('x'), stages: [{ augment: { flipListWords: 'red' } }] })).toThrow(
      'Expected array of words, e.g. ["red", "blue"] for flipListWords but received "red"',
    );
  });

  it('fresh-adapter stages with the same seed start alike and see the same batches (paired rows)', async () => {
    const outDir = join(root, 'paired');
    const stage = { epochs: 1, lr: 1e-3, batchSize: 4, freshAdapter: true };
    const summary = await runProgressive(parseRunConfig(config(outDir, {
      zeroShot: false,
      stages: [{ name: 'a', ...stage, seed: 11 }, { name: 'b', ...stage, seed: 11 }, { name: 'c', ...stage, seed: 12 }],
    })));
    const log = readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const losses = (name: string) => log.filter((l) => l.stage === name).map((l) => l.loss as number);
    console.log(`paired stages: losses a ${losses('a').join(', ')}; b ${losses('b').join(', ')}; c ${losses('c').join(', ')}`);
    expect(losses('b')).toEqual(losses('a'));
    expect(losses('c')).not.toEqual(losses('a'));
    expect(summary.rows[1]!.scores).toEqual(summary.rows[0]!.scores);
    expect(() => parseRunConfig({ ...config('x'), stages: [{ seed: -1 }] })).toThrow('stages[0].seed');
  });

  it('resumes after kill -9', async () => {
    const outDir = join(root, 'killed');
    const cfgFile = join(root, 'killed.json');
    writeFileSync(cfgFile, JSON.stringify(config(outDir, {
      zeroShot: false,
      stages: [{ name: 'lora', epochs: 6, lr: 1e-3, batchSize: 2, checkpointEverySteps: 1 }],
    })));
    const cli = resolve('lib/cli/main.ts');
    // one process (node --import tsx), so that SIGKILL stops the training itself and not a wrapper
    const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', '--config', cfgFile], { stdio: 'ignore' });
    const latest = join(outDir, 'stages', '1-lora', 'checkpoint', 'latest');
    const savedStep = () => (existsSync(latest) ? Number(/step-(\d+)/.exec(readFileSync(latest, 'utf8'))?.[1] ?? 0) : 0);
    const started = Date.now();
    while (savedStep() < 3) {
      if (Date.now() - started > 90_000) throw new Error('no checkpoint within 90 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const stepAtKill = savedStep();
    expect(stepAtKill).toBeGreaterThanOrEqual(3);
    expect(stepAtKill).toBeLessThan(24);
    const summary = await runProgressive(parseRunConfig(JSON.parse(readFileSync(cfgFile, 'utf8'))), { resume: true });
    expect(summary.rows.map((r) => r.stage)).toEqual(['lora']);
    const steps = readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step as number);
    console.log(`kill -9 at step ${stepAtKill}; resumed and finished at step ${steps.at(-1)} of 24`);
    expect(steps).toEqual(Array.from({ length: 24 }, (_, i) => i + 1)); // no step logged twice
  });
});
