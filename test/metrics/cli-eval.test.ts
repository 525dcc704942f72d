import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from '../../lib/cli/eval.js';
import { edgeCaseScores, scorerEdgeCase } from '../helpers/goldens.js';

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
// scorer_edge_cases.json "three_images_mixed": its captions are already PTB-tokenized, so the tokenizer leaves them
// unchanged
const suite = scorerEdgeCase('three_images_mixed');
const ids = Object.keys(suite.gts);
writeFileSync(refsFile, JSON.stringify({
  annotations: ids.flatMap((id) => suite.gts[id]!.map((caption) => ({ image_id: Number(id), caption }))),
}));
writeFileSync(predsFile, JSON.stringify(ids.map((id) => ({ image_id: Number(id), caption: suite.res[id]![0] }))));

describe('blip2-progressive eval', () => {
  it('--json prints pycocoevalcap keys with the golden scores of three_images_mixed', async () => {
    const { stdout } = await runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu,rouge,cider', '--json']);
    expect(JSON.parse(stdout)).toEqual({ ...edgeCaseScores(suite), tokenize: 'ptb', images: 3 });
  });

  it('prints a table; SPICE is asked for only with its jar, so nothing warns', async () => {
    const { stdout, stderr } = await runEval(['--refs', refsFile, '--preds', predsFile, '--metrics', 'bleu']);
    const rows = suite.Bleu.map((score, n) => `| Bleu_${n + 1} | ${score.toFixed(4)} |\n`).join('');
    expect(stdout).toBe(`| metric | score |\n|---|---|\n${rows}\n3 images\n`);
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
