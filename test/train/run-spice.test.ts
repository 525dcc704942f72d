// SPICE inside `train`'s validations: eval.spiceJar (and eval.javaPath) in the run config, validated when the config
// is read (the jar) and when the run starts (Java, before the model loads), and passed to every validation's scoring.
// No SPICE jar or Java here: a Node script speaks the jar's protocol (test/helpers/fake-java.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ptbTokenize } from '../../lib/metrics/ptb.js';
import { parseRunConfig, RunConfigError } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { fakeSpiceJava } from '../helpers/fake-java.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
let data: Awaited<ReturnType<typeof writeTinyRunData>>;
let jar: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-run-spice-'));
  data = await writeTinyRunData(root, 4);
  jar = join(root, 'spice-1.0.jar');
  writeFileSync(jar, 'not a real jar: the fake java reads only the arguments');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (evalKeys: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: TINY_MODEL, outDir: join(root, 'unused'), data, stages: [{ name: 'lora' }], eval: evalKeys, ...extra,
});

describe('run config: eval.spiceJar and eval.javaPath', () => {
  it('"spice" in eval.metrics without eval.spiceJar is a config error naming the key and the fix', () => {
    expect(() => parseRunConfig(config({ metrics: ['cider', 'spice'] }))).toThrow(new RunConfigError(
      'eval.metrics includes "spice", which needs eval.spiceJar: give the path of the official spice-1.0.jar (run with Java 8), or leave "spice" out of eval.metrics'));
  });

  it('the jar must be a file, checked when the config is read', () => {
    const missing = join(root, 'nowhere', 'spice-1.0.jar');
    expect(() => parseRunConfig(config({ spiceJar: missing }))).toThrow(new RunConfigError(
      `eval.spiceJar: no such file: ${missing} (the official spice-1.0.jar, for "spice" in eval.metrics)`));
    expect(() => parseRunConfig(config({ spiceJar: root }))).toThrow(new RunConfigError(
      `eval.spiceJar: not a file: ${root} (the official spice-1.0.jar, for "spice" in eval.metrics)`));
  });

  it('a jar adds SPICE to the default metrics; paths resolve against the config folder, a bare java name stays a command', () => {
    const spec = parseRunConfig(config({ spiceJar: 'spice-1.0.jar', javaPath: 'jdk/bin/java' }), root);
    expect(spec.eval).toEqual({
      maxNewTokens: 24, numBeams: 1, batchSize: 16, maxImages: 0, metrics: ['bleu', 'meteor', 'rouge', 'cider', 'spice'],
      spiceJar: jar, javaPath: join(root, 'jdk/bin/java'),
    });
    expect(parseRunConfig(config({ spiceJar: jar, javaPath: 'java8' })).eval.javaPath).toBe('java8');
  });

  it('metrics given without "spice": the jar is not used (nor checked), and the resolved config does not name it', () => {
    const spec = parseRunConfig(config({ metrics: ['bleu', 'cider'], spiceJar: join(root, 'nowhere.jar'), javaPath: 'java8' }));
    expect(spec.eval).toEqual({ maxNewTokens: 24, numBeams: 1, batchSize: 16, maxImages: 0, metrics: ['bleu', 'cider'] });
    expect(JSON.stringify(parseRunConfig(config({})).eval)).toBe('{"maxNewTokens":24,"numBeams":1,"batchSize":16,"maxImages":0,"metrics":["bleu","meteor","rouge","cider"]}');
  });

  it('a Java that does not run fails the run before the model loads, naming eval.javaPath', async () => {
    const java = join(root, 'no-java');
    // the model folder does not exist either: the Java check has to come first to be the error
    const spec = parseRunConfig(config({ spiceJar: jar, javaPath: java }, { model: join(root, 'no-model'), outDir: join(root, 'run-no-java') }));
    await expect(runProgressive(spec)).rejects.toThrow(new RunConfigError(
      `eval.javaPath: cannot run ${JSON.stringify(java)} (spawn ${java} ENOENT); the SPICE jar (eval.spiceJar) needs Java 8 or newer: install it or set eval.javaPath`));
  });
});

describe('train with a SPICE jar', () => {
  it('scores SPICE in every validation, with the jar\'s protocol, and puts it in the table', async () => {
    const log = join(root, 'spice-calls.jsonl');
    const java = fakeSpiceJava(root, 'java-spice', log);
    const outDir = join(root, 'run');
    const summary = await runProgressive(parseRunConfig({
      model: TINY_MODEL, outDir, seed: 1, threads: 1, data,
      lora: { r: 2, alpha: 4, dropout: 0 },
      eval: { maxNewTokens: 4, batchSize: 4, metrics: ['bleu', 'cider', 'spice'], spiceJar: jar, javaPath: java },
      stages: [{ name: 'lora', epochs: 1, batchSize: 2, lr: 1e-3, schedule: 'constant', evalEverySteps: 1 }],
    }));

    // zero-shot, then one validation after each of the stage's 2 steps (4 images, batches of 2; the second is the
    // epoch's end)
    const evalDirs = ['zero-shot', ...readdirSync(join(outDir, 'stages', '1-lora')).filter((d) => d.startsWith('eval-')).sort().map((d) => join('stages', '1-lora', d))];
    expect(evalDirs).toEqual(['zero-shot', 'stages/1-lora/eval-1', 'stages/1-lora/eval-2']);
    const calls = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { jar: string; images: { image_id: string; test: string }[] });
    expect(calls.length).toBe(evalDirs.length);
    const valIds = ['100', '101', '102', '103'];
    calls.forEach((call, k) => {
      expect(call.jar).toBe(jar);
      expect(call.images.map((i) => String(i.image_id))).toEqual(valIds);
      const { corpus, perImage } = JSON.parse(readFileSync(join(outDir, evalDirs[k]!, 'metrics.json'), 'utf8')) as {
        corpus: Record<string, number>; perImage: { SPICE: number }[];
      };
      // the fake jar's rule, applied to what it was given: All.f = words / 10, the corpus score their mean
      const expected = call.images.map((i) => i.test.split(' ').length / 10);
      expect(perImage.map((p) => p.SPICE)).toEqual(expected);
      expect(corpus.SPICE).toBeCloseTo(expected.reduce((a, b) => a + b, 0) / expected.length, 15);
      // the jar gets the captions as pycocoevalcap passes them: PTB-tokenized, lower-cased
      const predictions = JSON.parse(readFileSync(join(outDir, evalDirs[k]!, 'predictions.json'), 'utf8')) as { caption: string }[];
      expect(call.images.map((i) => i.test)).toEqual(ptbTokenize(predictions.map((p) => p.caption)));
    });
    expect(summary.markdown.split('\n')[0]).toBe('| model | B-1 | B-2 | B-3 | B-4 | CIDEr | SPICE |');
    for (const row of summary.rows) expect(typeof row.scores.SPICE).toBe('number');
  });
});
