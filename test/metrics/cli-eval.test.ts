import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../lib/cli/eval.js';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  return { stream, text: () => text };
}

async function runEval(args: string[]) {
  const out = capture();
  const err = capture();
  const program = new Command('blip2-progressive').exitOverride();
  register(program, { stdout: out.stream, stderr: err.stream });
  await program.parseAsync(['eval', ...args], { from: 'user' });
  return { stdout: out.text(), stderr: err.text() };
}

const dir = mkdtempSync(join(tmpdir(), 'cli-eval-'));
const refsFile = join(dir, 'refs.json');
const predsFile = join(dir, 'preds.json');
// scorer_edge_cases.json "three_images_mixed" suite, raw-caption form (the tokenizer leaves it unchanged).
writeFileSync(refsFile, JSON.stringify({ annotations: [
  { image_id: 1, caption: 'a dog runs on grass' }, { image_id: 1, caption: 'a brown dog runs' }, { image_id: 1, caption: 'dog running' },
  { image_id: 2, caption: 'a cat sleeps on a sofa' }, { image_id: 2, caption: 'a grey cat sleeping' },
  { image_id: 3, caption: 'two people ride bikes down a road' }, { image_id: 3, caption: 'people riding bicycles' },
  { image_id: 3, caption: 'a couple on bicycles on the road' }] }));
writeFileSync(predsFile, JSON.stringify([{ image_id: 1, caption: 'a dog runs on the grass' }, { image_id: 2, caption: 'a dog sleeps on a sofa' },
  { image_id: 3, caption: 'two people riding bikes' }]));

describe('blip2-progressive eval', () => {
  it('--json prints pycocoevalcap keys with the golden scores of three_images_mixed', async () => {
    const { stdout } = await runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu,rouge,cider', '--json']);
    expect(JSON.parse(stdout)).toEqual({
      Bleu_1: 0.8749999999453126, Bleu_2: 0.7337993856541887, Bleu_3: 0.599429657403106, Bleu_4: 0.4980657277217546,
      ROUGE_L: 0.8186830133395019, CIDEr: 2.3421053457803627, tokenize: 'ptb', images: 3,
    });
  });

  it('prints a table; SPICE is asked for only with its jar, so nothing warns', async () => {
    const { stdout, stderr } = await runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu']);
    expect(stdout).toBe('| metric | score |\n|---|---|\n| Bleu_1 | 0.8750 |\n| Bleu_2 | 0.7338 |\n| Bleu_3 | 0.5994 |\n' +
      '| Bleu_4 | 0.4981 |\n\n3 images\n');
    expect(stderr).toBe('');
    await expect(runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu,spice'])).rejects.toThrow(
      '--metrics spice needs --spice-jar <spice-1.0.jar> (the official SPICE 1.0 jar, run with Java 8); leave spice out of --metrics to score without it');
  });

  it('usage errors', async () => {
    await expect(runEval(['--refs', refsFile])).rejects.toThrow('eval needs --refs <file> and --preds <file>');
    await expect(runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu,cidr'])).rejects.toThrow(
      '--metrics expects a comma-separated list of bleu, meteor, rouge, cider, spice but received "bleu,cidr"');
    await expect(runEval(['--refs', refsFile, '--preds', predsFile, '--meteor-input', 'ptb'])).rejects.toThrow(
      '--meteor-input expects raw or tokenized but received "ptb"');
  });
});
