// eval.tokenize in a run config: "none" scores every validation on the paper's eval_utils.py protocol (no PTB step),
// "ptb" (or nothing) on pycocoevalcap's; the resolved config.json leaves the key out when it is not given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cocoEval } from '../../lib/metrics/coco-eval.js';
import { loadDataset } from '../../lib/data/readers.js';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
let data: Awaited<ReturnType<typeof writeTinyRunData>>;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-run-tokenize-'));
  data = await writeTinyRunData(root, 4);
  // references with punctuation and capitals, which PTB splits off and drops but eval_utils.py keeps on the word
  const val = JSON.parse(readFileSync(data.val.file, 'utf8')) as { annotations: { caption: string }[] };
  val.annotations.forEach((a, i) => { a.caption = i % 2 ? `${a.caption[0]!.toUpperCase()}${a.caption.slice(1)}.` : `${a.caption}, on paper!`; });
  writeFileSync(data.val.file, JSON.stringify(val));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (name: string, evalKeys: Record<string, unknown>) => ({
  model: TINY_MODEL, outDir: join(root, name), data, seed: 1, threads: 1, lora: { r: 2, alpha: 4, dropout: 0 },
  eval: { maxNewTokens: 6, metrics: ['bleu', 'cider'], ...evalKeys }, stages: [{ name: 'lora', maxSteps: 1 }],
});

describe('run config: eval.tokenize', () => {
  it('is validated by name and left out of the resolved config when not given', () => {
    expect(() => parseRunConfig(config('x', { tokenize: 'nltk' }))).toThrow('eval.tokenize');
    expect(parseRunConfig(config('x', {})).eval).not.toHaveProperty('tokenize', expect.anything());
    expect(JSON.stringify(parseRunConfig(config('x', {})).eval)).not.toContain('tokenize');
    expect(parseRunConfig(config('x', { tokenize: 'none' })).eval.tokenize).toBe('none');
  });

  it('"none" scores the validations without the PTB step, as cocoEval with tokenize "none" does', async () => {
    await runProgressive(parseRunConfig(config('none', { tokenize: 'none' })));
    const dir = join(root, 'none', 'stages', '1-lora', 'eval-1');
    const predictions = JSON.parse(readFileSync(join(dir, 'predictions.json'), 'utf8')) as { image_id: number; caption: string }[];
    const corpus = (JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { corpus: Record<string, number> }).corpus;
    const val = await loadDataset({ ...data.val, role: 'val' });
    const refs = new Map(val.samples.map((s) => [s.imageId, s.captions]));
    const preds = new Map(predictions.map((p) => [String(p.image_id), [p.caption]]));
    const none = await cocoEval(refs, preds, { metrics: ['bleu', 'cider'], tokenize: 'none' });
    const ptb = await cocoEval(refs, preds, { metrics: ['bleu', 'cider'] });
    console.log(`CIDEr none ${none.CIDEr} vs ptb ${ptb.CIDEr}; BLEU-1 none ${none.Bleu_1} vs ptb ${ptb.Bleu_1}`);
    // the references' "square," and "paper!" are other words without the PTB step, so the protocols score the
    // same captions differently (the tiny model's captions share few words with the references: BLEU-1 shows it)
    expect(none.Bleu_1).not.toBe(ptb.Bleu_1);
    expect(corpus.CIDEr).toBe(none.CIDEr);
    expect(corpus.Bleu_1).toBe(none.Bleu_1);
  }, 60_000);
});
