// The progressive run on BLIP-2 with an OPT language model (../fixtures/blip2-opt-tiny): zero-shot, LoRA, LoRA with
// augmentation and SCST run unchanged above the model, the adapters land on the family's default targets, and the
// teacher-forcing targets are the caption as it continues the prompt's text, then EOS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Captioner } from '../../lib/captioner.js';
import { OPT_TARGET_MODULES } from '../../lib/model/lora-config.js';
import { parseRunConfig } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { trainablePrefixes } from '../../lib/train/trainable.js';
import { TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';
import { tinyRunData, writeTinyRunData } from '../helpers/tiny-dataset.js';

let root: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-opt-run-'));
  await writeTinyRunData(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('OPT training', () => {
  it('labels: the caption tokens that follow the prompt in the joined text, then EOS', async () => {
    const captioner = await Blip2Captioner.fromPretrained(TINY_OPT_MODEL, { threads: 1 });
    try {
      // tokenizer-cases.json: "a photo of a cat sitting on a wooden table" is [2, 68, 441, 428, 292, 323, 494, 396,
      // 292, 417, 435]
      const cases = JSON.parse(readFileSync(join(TINY_OPT, 'tokenizer-cases.json'), 'utf8')) as { cases: { text: string; ids: number[] }[] };
      const joined = cases.cases.find((c) => c.text === 'a photo of a cat sitting on a wooden table')!.ids;
      expect(captioner.labels(['a cat sitting on a wooden table', 'a cat'], { prompted: true })).toEqual([
        [...joined.slice(4), 2],
        [...joined.slice(4, 6), 2, -100, -100, -100, -100, -100],
      ]);
      // maxLength keeps EOS
      expect(captioner.labels(['a cat sitting on a wooden table'], { prompted: true, maxLength: 3 })).toEqual([[...joined.slice(4, 6), 2]]);
      // without a prompt the caption starts the text after BOS (no leading space)
      const bare = cases.cases.find((c) => c.text === 'a photo of')!.ids;
      expect(captioner.labels(['a photo of'])).toEqual([[...bare.slice(1), 2]]);
    } finally {
      captioner.dispose();
    }
  });

  it('trainable { lastBlocks, lmHead } names OPT decoder layers and the tied embedding', async () => {
    const config = (await import('../../lib/model/config.js')).parseBlip2Config(
      JSON.parse(readFileSync(join(TINY_OPT_MODEL, 'config.json'), 'utf8')));
    expect(trainablePrefixes(config, { lastBlocks: 1, lmHead: true })).toEqual([
      'language_model.model.decoder.layers.1.', 'language_model.model.decoder.embed_tokens.',
    ]);
  });

  it('runs zero-shot, LoRA, LoRA + DA and SCST, with adapters on the OPT targets', async () => {
    const outDir = join(root, 'run');
    const json = {
      model: TINY_OPT_MODEL,
      outDir,
      seed: 3,
      threads: 1,
      prompt: 'a photo of',
      data: tinyRunData(root),
      lora: { r: 4, alpha: 8, dropout: 0.05 },
      eval: { maxNewTokens: 4, batchSize: 4 },
      stages: [
        { name: 'lora', epochs: 1, lr: 1e-3, batchSize: 4 },
        { name: 'lora+aug', epochs: 1, lr: 1e-3, batchSize: 4, augment: true },
        { name: 'scst', epochs: 1, lr: 1e-4, batchSize: 4, maxSteps: 1, scst: { samples: 2, maxNewTokens: 4 } },
      ],
    };
    const summary = await runProgressive(parseRunConfig(json));
    expect(summary.rows.map((r) => r.stage)).toEqual(['zero-shot', 'lora', 'lora+aug', 'scst']);
    for (const row of summary.rows) expect(Number.isFinite(row.scores.CIDEr)).toBe(true);
    const log = readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; loss: number; scst?: unknown });
    expect(log.map((l) => l.stage)).toEqual(['lora', 'lora', 'lora+aug', 'lora+aug', 'scst']);
    expect(log.every((l) => Number.isFinite(l.loss))).toBe(true);
    expect(log[4]!.scst).toBeDefined();
    const adapter = JSON.parse(readFileSync(join(outDir, 'stages', '1-lora', 'best', 'adapter_config.json'), 'utf8')) as { target_modules: string[] };
    expect(adapter.target_modules).toEqual([...OPT_TARGET_MODULES]);
    expect(readdirSync(join(outDir, 'stages', '3-scst', 'best')).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    // the run folder records the family's targets, so a config that spells them out resumes the same run
    const recorded = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')) as { lora: { targetModules: string[] } };
    expect(recorded.lora.targetModules).toEqual([...OPT_TARGET_MODULES]);
    const resumed = await runProgressive(parseRunConfig({ ...json, lora: { ...json.lora, targetModules: [...OPT_TARGET_MODULES] } }), { resume: true });
    expect(resumed.alreadyFinished).toBe(true);
  });
});
