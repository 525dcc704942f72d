import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cocoEval } from '../../lib/metrics/coco-eval.js';
import { meteorJar } from '../../lib/metrics/jars.js';
import { referencesFromJson, predictionsFromJson, loadReferences, loadPredictions } from '../../lib/metrics/loaders.js';
import type { Logger } from '../../lib/logger.js';
import { fakeJava, fakeSpiceJava } from '../helpers/fake-java.js';

const refs = { 1: ['a dog runs on the grass', 'a brown dog is running'], 2: ['a cat sleeps on a sofa', 'a grey cat sleeping'] };

describe('cocoEval bad input', () => {
  it('prediction for an image without references', async () => {
    await expect(cocoEval(refs, { 1: 'a dog', 3: 'a bird' })).rejects.toThrow(
      'Predictions for 1 image(s) without references ("3"); pycocoevalcap refuses these too ("Results do not correspond to current coco set")');
  });
  it('empty reference list', async () => {
    await expect(cocoEval({ 1: [] }, { 1: 'a dog' })).rejects.toThrow(
      'Expected at least one reference caption for refs of image "1" but received an array of length 0');
  });
  it('non-string captions', async () => {
    await expect(cocoEval({ 1: ['a', 2] } as never, { 1: 'a dog' })).rejects.toThrow(
      'Expected string for refs[1] of image "1" but received 2 of type number');
    await expect(cocoEval(refs, { 1: null } as never)).rejects.toThrow(
      'Expected string or array of strings for preds of image "1" but received null');
  });
  it('two predictions for one image', async () => {
    await expect(cocoEval(refs, { 1: ['a dog', 'a cat'] })).rejects.toThrow(
      'Expected exactly one caption (pycocoevalcap asserts one hypothesis per image) for preds of image "1" but received an array of length 2');
  });
  it('no predictions', async () => {
    await expect(cocoEval(refs, {})).rejects.toThrow('Expected at least one prediction for preds but received an object of type Object');
  });
  it('unknown option and bad metric names', async () => {
    await expect(cocoEval(refs, { 1: 'a' }, { metric: ['bleu'] } as never)).rejects.toThrow(
      'Unknown option "metric" in options; expected one of "metrics", "tokenize", "meteorInput", "meteorJar", "spiceJar", "javaPath", "logger"');
    await expect(cocoEval(refs, { 1: 'a' }, { metrics: ['bleu', 'cidr'] } as never)).rejects.toThrow(
      'Expected one of "bleu", "meteor", "rouge", "cider", "spice" for metrics[1] but received "cidr" of type string');
    await expect(cocoEval(refs, { 1: 'a' }, { meteorInput: 'ptb' } as never)).rejects.toThrow(
      'Expected one of "raw", "tokenized" for meteorInput but received "ptb" of type string');
  });
  it('every reference empty after tokenization: CIDEr-D raises like pycocoevalcap', async () => {
    await expect(cocoEval({ 1: ['.'], 2: ['!'] }, { 1: 'a dog', 2: 'a cat' }, { metrics: ['cider'] })).rejects.toThrow(
      'CIDEr-D needs at least one non-empty reference: every reference is empty (pycocoevalcap raises "ValueError: max() arg is an empty sequence" here)');
  });
});

describe('cocoEval documented behaviour equal to pycocoevalcap', () => {
  it('empty candidate scores 0 (BLEU, ROUGE-L) and images without prediction are ignored with a warning', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m) };
    const r = await cocoEval({ ...refs, 9: ['unused'] }, { 1: '', 2: 'a cat sleeps' }, { metrics: ['bleu', 'rouge'], logger });
    expect(r.perImage.map((p) => p.image_id)).toEqual(['1', '2']);
    expect([r.perImage[0]!.Bleu_1, r.perImage[0]!.ROUGE_L]).toEqual([0, 0]);
    // by hand: 'a cat sleeps' has 3 of 3 unigrams right and the closest reference length is 4 (pycocoevalcap's tiny
    // 1e-15 and small 1e-9 kept), so BLEU-1 = precision · exp(1 - 4/3); ROUGE-L: best precision 3/3 (LCS 3 with the
    // first reference), best recall 3/6, F with beta 1.2 = (1 + 1.44)·1·0.5 / (0.5 + 1.44·1)
    const precision = (3 + 1e-15) / (3 + 1e-9);
    expect(r.perImage[1]!.Bleu_1).toBeCloseTo(precision * Math.exp(1 - (4 + 1e-9) / (3 + 1e-15)), 12);
    expect(r.perImage[1]!.ROUGE_L).toBeCloseTo((2.44 * 0.5) / (0.5 + 1.44), 12);
    expect(warnings).toEqual(['1 image(s) have references but no prediction; they are not evaluated']);
    expect(r.notComputed).toBeUndefined();
  });
  it('numeric and string ids match by string form; evaluation follows reference order', async () => {
    const r = await cocoEval(new Map<number, string[]>([[2, refs[2]], [1, refs[1]]]), { 1: 'a dog', 2: 'a cat' }, { metrics: ['rouge'] });
    expect(r.perImage.map((p) => p.image_id)).toEqual(['2', '1']);
  });
});

describe('loaders', () => {
  it('COCO annotations keep the images order', () => {
    const m = referencesFromJson({ images: [{ id: 5 }, { id: 3 }], annotations: [
      { image_id: 3, id: 1, caption: 'b' }, { image_id: 5, id: 2, caption: 'a' }, { image_id: 3, id: 3, caption: 'c' }] });
    expect([...m.entries()]).toEqual([[5, ['a']], [3, ['b', 'c']]]);
  });
  it('VizWiz-Captions drops rejected and precanned captions', () => {
    const m = referencesFromJson({
      images: [{ id: 1, file_name: 'VizWiz_val_00000001.jpg' }],
      annotations: [
        { image_id: 1, caption: 'ok one', is_rejected: false, is_precanned: false, text_detected: true },
        { image_id: 1, caption: 'Quality issues are too severe to recognize visual content.', is_rejected: false, is_precanned: true, text_detected: false },
        { image_id: 1, caption: 'spam', is_rejected: true, is_precanned: false, text_detected: false },
        { image_id: 1, caption: 'ok two', is_rejected: false, is_precanned: false, text_detected: false },
      ],
    });
    expect([...m.entries()]).toEqual([[1, ['ok one', 'ok two']]]);
  });
  it("the paper's processed json", () => {
    const m = referencesFromJson([{ image: 'VizWiz_val_00000001.jpg', image_id: 1, captions: ['x', 'y'] }, { image: 'b.jpg', image_id: 2, captions: ['z'] }]);
    expect([...m.entries()]).toEqual([[1, ['x', 'y']], [2, ['z']]]);
  });
  it('COCO result files and id maps as predictions', () => {
    expect([...predictionsFromJson([{ image_id: 4, caption: 'a dog' }]).entries()]).toEqual([[4, ['a dog']]]);
    expect([...predictionsFromJson({ 4: 'a dog' }).entries()]).toEqual([['4', ['a dog']]]);
  });
  it('malformed files name the file and the field', () => {
    expect(() => referencesFromJson({ annotations: [{ image_id: 1, caption: 3 }] }, 'refs.json')).toThrow(
      'Expected a string caption at [0] in refs.json but received 3 of type number');
    expect(() => referencesFromJson(42, 'refs.json')).toThrow(
      'Expected COCO annotations, VizWiz-Captions annotations or a processed caption list in refs.json but received 42 of type number');
    expect(() => predictionsFromJson([{ caption: 'x' }], 'p.json')).toThrow(
      'Expected a number or string image_id at [0] in p.json but received undefined');
  });
  it('reads files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loaders-'));
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ annotations: [{ image_id: 1, caption: 'a' }] }));
    writeFileSync(join(dir, 'p.json'), JSON.stringify([{ image_id: 1, caption: 'b' }]));
    writeFileSync(join(dir, 'bad.json'), '{');
    expect([...(await loadReferences(join(dir, 'r.json'))).entries()]).toEqual([[1, ['a']]]);
    expect([...(await loadPredictions(join(dir, 'p.json'))).entries()]).toEqual([[1, ['b']]]);
    await expect(loadReferences(join(dir, 'bad.json'))).rejects.toThrow(
      `Cannot parse reference file ${join(dir, 'bad.json')}: invalid JSON at line 1, column 2: unexpected end of file`);
  });
});

describe('jar bridges (fake java)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fakejava-'));
  const log = join(dir, 'meteor-log.txt');
  // Answers SCORE with "<refs> <hyp words>" and EVAL with one score per image (hyp words / 10)
  // and the sum as corpus score, logging argv and every input line.
  const meteorJava = fakeJava(dir, 'java-meteor', `
const fs = require('fs');
fs.writeFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(' ') + '\\n');
const rl = require('readline').createInterface({ input: process.stdin });
rl.on('line', (line) => {
  fs.appendFileSync(${JSON.stringify(log)}, line + '\\n');
  const parts = line.split(' ||| ');
  if (parts[0] === 'SCORE') {
    process.stdout.write((parts.length - 2) + ' ' + parts[parts.length - 1].split(' ').length + '\\n');
  } else if (parts[0] === 'EVAL') {
    let total = 0;
    for (const s of parts.slice(1)) { const v = Number(s.split(' ')[1]) / 10; total += v; process.stdout.write(v + '\\n'); }
    process.stdout.write(total + '\\n');
  }
});`);
  const spiceJava = fakeSpiceJava(dir, 'java-spice');
  const failing = fakeJava(dir, 'java-fail', `process.stderr.write('Exception in thread main: boom'); process.exit(1);`);

  it('METEOR 1.5 protocol: SCORE lines per image, then EVAL; tokenized input', async () => {
    const r = await cocoEval({ 1: ['A dog runs.', 'A brown dog.'], 2: ['A cat.'] }, { 1: 'A dog  |||  runs!', 2: 'The cat' },
      { metrics: ['meteor'], meteorJar: '/opt/meteor-1.5.jar', javaPath: meteorJava });
    expect(readFileSync(log, 'utf8')).toBe(
      '-Xmx2G -jar /opt/meteor-1.5.jar - - -stdio -l en -norm\n' +
      // The PTB tokenizer splits "|||" into "| | |", so pycocoevalcap's "|||" removal rarely fires.
      'SCORE ||| a dog runs ||| a brown dog ||| a dog | | | runs\n' +
      'SCORE ||| a cat ||| the cat\n' +
      'EVAL ||| 2 6 ||| 1 2\n');
    expect(r.perImage.map((p) => p.METEOR)).toEqual([0.6, 0.2]);
    expect(r.METEOR).toBe(0.6 + 0.2);
    expect(r.meteorVariant).toBe('meteor-1.5-jar');
  });

  it('METEOR 1.5 hypothesis clean-up: "|||" removed, then double spaces collapsed once', async () => {
    const r = await meteorJar('/opt/meteor-1.5.jar', [['r one', 'r two']], ['a ||| b  c'], { javaPath: meteorJava });
    expect(readFileSync(log, 'utf8').split('\n')[1]).toBe('SCORE ||| r one ||| r two ||| a b c');
    expect(r).toEqual({ score: 0.3, perImage: [0.3] });
  });

  it('SPICE protocol: json in, json out, mean of All.f', async () => {
    const r = await cocoEval({ 1: ['A dog runs.'], 2: ['A cat.'] }, { 1: 'a dog runs', 2: 'a cat' },
      { metrics: ['spice'], spiceJar: '/opt/spice-1.0.jar', javaPath: spiceJava });
    expect(r.perImage.map((p) => p.SPICE)).toEqual([0.3, 0.2]);
    expect(r.SPICE).toBe(0.25);
    expect(r.notComputed).toBeUndefined();
  });

  it('jar failures are errors with the jar output', async () => {
    await expect(cocoEval(refs, { 1: 'a dog', 2: 'a cat' }, { metrics: ['spice'], spiceJar: 'x.jar', javaPath: failing }))
      .rejects.toThrow('SPICE jar failed (exit code 1): Exception in thread main: boom');
    await expect(cocoEval(refs, { 1: 'a dog', 2: 'a cat' }, { metrics: ['meteor'], meteorJar: 'x.jar', javaPath: failing }))
      .rejects.toThrow('METEOR jar exited before answering (exit code 1): Exception in thread main: boom');
    await expect(cocoEval(refs, { 1: 'a dog', 2: 'a cat' }, { metrics: ['spice'], spiceJar: 'x.jar', javaPath: join(dir, 'missing-java') }))
      .rejects.toThrow(`Could not start ${JSON.stringify(join(dir, 'missing-java'))} (set javaPath to a Java 8+ executable): spawn ${join(dir, 'missing-java')} ENOENT`);
  });
});
