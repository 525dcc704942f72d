// The recipe presets as data (examples/seed.json: what the paper's scripts ran; examples/paper.json: what the paper
// describes), the run-config knobs they need, and a short run of each on the built-in synthetic data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Blip2Captioner } from '../../lib/captioner.js';
import { PAPER_IMAGE_AUGMENT, parseImageAugmentSpec } from '../../lib/image/augment.js';
import { generateSynthDataset, type SynthSplitFiles } from '../../lib/synth/index.js';
import { DEFAULT_SYNONYMS, SEED_SYNONYMS } from '../../lib/text/augment.js';
import { parseRunConfig, type RunSpec } from '../../lib/train/run-config.js';
import { runProgressive } from '../../lib/train/run.js';
import { trainingLabels, trainingPrompt } from '../../lib/train/trainable.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { floatData } from '../helpers/tensors.js';
import { readSafetensorsFile } from '../../lib/io/safetensors.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const preset = (name: string) => JSON.parse(readFileSync(join(examples, `${name}.json`), 'utf8')) as Record<string, unknown>;

describe('examples/seed.json and examples/paper.json', () => {
  it('seed.json resolves to the scripts\' recipe', () => {
    const spec = parseRunConfig(preset('seed'), examples);
    expect(spec.model).toBe('Salesforce/blip2-flan-t5-xl'); // a repo id: no such folder beside the preset
    expect([spec.seed, spec.prompt, spec.promptMaxLength, spec.labelMaxLength, spec.preResize]).toEqual([42, 'caption:', 16, 40, 384]);
    expect([spec.trainable, spec.gradientCheckpointing]).toEqual(['lora', true]);
    expect(spec.train.file).toBe(join(examples, 'data/vizwiz/annotations/train.json'));
    expect(spec.lora).toEqual({ r: 16, alpha: 32, dropout: 0.05, targetModules: ['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo'], useRslora: false });
    expect(spec.stages.map((s) => s.name)).toEqual(['LoRA', 'LoRA + DA', 'LoRA + DA + SCST']);
    for (const s of spec.stages) {
      expect([s.epochs, s.lr, s.schedule, s.warmupSteps, s.batchSize, s.gradAccum, s.weightDecay, s.maxGradNorm, s.freshAdapter])
        .toEqual([5, 1e-4, 'constant', 0, 32, 2, 0.01, 0, false]);
      expect(s.earlyStopping).toEqual({ patience: 2, minDelta: 0.001 });
    }
    const [lora, da, scst] = spec.stages as [RunSpec['stages'][0], RunSpec['stages'][0], RunSpec['stages'][0]];
    expect(lora.augment).toBe(undefined);
    // the preset spells out exactly what PAPER_IMAGE_AUGMENT (and `augment: true`) means
    expect(da.augment!.image).toEqual(parseImageAugmentSpec(PAPER_IMAGE_AUGMENT));
    expect(da.augment!.image).toEqual({
      crop: { scale: [0.8, 1], ratio: [0.75, 4 / 3], size: 384 }, hflip: 0.5, rotate: 10, rotateFill: 'black', rotateInterpolation: 'nearest',
      colorJitter: { brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0 }, grayscale: 0.1,
    });
    expect(da.augment!.caption).toEqual({ synonymProb: 0.2, shuffleProb: 0.2, synonyms: SEED_SYNONYMS });
    expect(scst.augment).toBe(undefined);
    expect(scst.scst).toMatchObject({
      samples: 1, sampling: 'multinomial', topP: 0.9, temperature: 1, topK: 0, baseline: 'greedy', ceWeight: 0.3, rlWeight: 0.7,
      maxNewTokens: 40, reward: 'batch',
    });
  });

  it('paper.json differs from seed.json only where the paper and the scripts differ', () => {
    const seed = parseRunConfig(preset('seed'), examples);
    const paper = parseRunConfig(preset('paper'), examples);
    expect(paper.lora.targetModules).toEqual(['q', 'k', 'v', 'o', 'wi_0', 'wi_1', 'wo', 'query', 'key', 'value', 'dense']);
    expect(paper.stages[1]!.augment!.caption!.synonyms).toBe(DEFAULT_SYNONYMS);
    expect(paper.stages[2]!.scst!.reward).toBe('corpus');
    const same = (s: RunSpec) => JSON.parse(JSON.stringify({
      ...s, outDir: '', lora: { ...s.lora, targetModules: [] },
      stages: s.stages.map((st) => ({ ...st, augment: st.augment && { ...st.augment, caption: {} }, scst: st.scst && { ...st.scst, reward: '' } })),
    })) as unknown;
    expect(same(paper)).toEqual(same(seed));
  });
});

describe('run-config knobs of the recipe', () => {
  const base = { model: TINY_MODEL, data: { train: { file: 't.json' }, val: { file: 'v.json' } }, stages: [{}] };

  it('validates each one, naming it', () => {
    expect(() => parseRunConfig({ ...base, promptMaxLength: 16 })).toThrow('Expected no value without a prompt for promptMaxLength but received 16 of type number');
    expect(() => parseRunConfig({ ...base, prompt: 'caption:', promptMaxLength: 0 })).toThrow('Expected integer between 1 and 512 for promptMaxLength but received 0 of type number');
    expect(() => parseRunConfig({ ...base, labelMaxLength: 1 })).toThrow('Expected integer between 2 and 4096 for labelMaxLength but received 1 of type number');
    expect(() => parseRunConfig({ ...base, preResize: 38.4 })).toThrow('Expected integer between 1 and 32768 for preResize but received 38.4 of type number');
    expect(() => parseRunConfig({ ...base, gradientCheckpointing: 'yes' })).toThrow('Expected boolean for gradientCheckpointing but received "yes" of type string');
    expect(() => parseRunConfig({ ...base, trainable: 'some' })).toThrow('Expected "lora", "all" or { lastBlocks, lmHead } for trainable but received "some" of type string');
    expect(() => parseRunConfig({ ...base, trainable: { lastBlocks: 0 } })).toThrow('Expected integer between 1 and 1024 for trainable.lastBlocks but received 0 of type number');
    expect(() => parseRunConfig({ ...base, trainable: { lastBlocks: 2, lmHead: 1 } })).toThrow('Expected boolean for trainable.lmHead but received 1 of type number');
    expect(parseRunConfig({ ...base, trainable: { lastBlocks: 2 } }).trainable).toEqual({ lastBlocks: 2, lmHead: false });
    expect(() => parseRunConfig({ ...base, trainable: 'all', stages: [{ name: 'a' }, { name: 'b', freshAdapter: true }] })).toThrow(
      'Stage "b" asks for a fresh adapter, but trainable "all" trains model weights (no adapters)',
    );
    expect(() => parseRunConfig({ ...base, trainable: { lastBlocks: 1 }, stages: [{ name: 'a' }, { name: 'b', freshAdapter: true }] })).toThrow(
      'Stage "b" asks for a fresh adapter, but trainable {"lastBlocks":1,"lmHead":false} trains model weights (no adapters)',
    );
    expect(() => parseRunConfig({ ...base, stages: [{ augment: { caption: { synonyms: 'paper' } } }] })).toThrow(
      'Expected one of "default", "seed" for synonyms but received "paper" of type string',
    );
  });

  it('leaves them out of the resolved config when not given, so older run folders still resume', () => {
    const spec = parseRunConfig(base);
    for (const key of ['trainable', 'gradientCheckpointing', 'promptMaxLength', 'labelMaxLength', 'preResize']) {
      expect(Object.hasOwn(spec, key)).toBe(false);
    }
  });

  it('pads the prompt to 16 tokens with mask 0 (same loss as unpadded) and truncates labels to 40 tokens', async () => {
    const captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
    try {
      const spec = parseRunConfig({ ...base, prompt: 'caption:', promptMaxLength: 16, labelMaxLength: 40 });
      const padded = trainingPrompt(captioner, spec, 2);
      const plain = captioner.promptIds('caption:', 2);
      const n = plain.inputIds[0]!.length;
      expect(padded.inputIds[0]!.length).toBe(16);
      expect(padded.inputIds[0]!.slice(0, n)).toEqual(plain.inputIds[0]);
      expect(padded.inputIds[0]!.slice(n)).toEqual(Array(16 - n).fill(0));
      expect(padded.attentionMask[1]).toEqual([...Array(n).fill(1), ...Array(16 - n).fill(0)]);
      const long = Array(30).fill('a red square beside a blue ring').join(' and ');
      const labels = trainingLabels(captioner, spec, ['a red square', long]);
      expect(labels[1]!.length).toBe(40);
      expect(labels[1]![39]).toBe(1); // </s> kept
      expect(labels[0]!.filter((id) => id === -100).length).toBe(40 - trainingLabels(captioner, { ...spec, labelMaxLength: undefined }, ['a red square'])[0]!.length);
      const pixelValues = await captioner.preprocess([join(TINY_MODEL, '..', 'images', 'img0_rgb_64x48.png'), join(TINY_MODEL, '..', 'images', 'img2_gray_50x50.png')]);
      const lossOf = async (prompt: typeof plain) => floatData((await captioner.model.forward({ pixelValues, ...prompt, labels }, ['loss'])).loss, 'loss')[0]!;
      const [a, b] = [await lossOf(padded), await lossOf(plain)];
      console.log(`loss with the prompt padded to 16 (mask 0) ${a}, unpadded ${b}: difference ${Math.abs(a - b)}`);
      expect(Math.abs(a - b)).toBeLessThan(1e-5);
    } finally {
      captioner.dispose();
    }
  });
});

describe('a short run of each preset on the built-in synthetic data', () => {
  let root: string;
  let train: SynthSplitFiles;
  let val: SynthSplitFiles;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'blip2-presets-'));
    const data = await generateSynthDataset({ outDir: join(root, 'data'), seed: 0, clean: { train: 0, val: 0 }, assistive: { train: 8, val: 4 }, workers: 0 });
    train = data.splits.find((s) => s.domain === 'assistive' && s.split === 'train')!;
    val = data.splits.find((s) => s.domain === 'assistive' && s.split === 'val')!;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /**
   * The preset at tiny scale: the tiny model, the synthetic splits, one or two steps per stage; every recipe setting
   * kept.
   */
  function shrink(json: Record<string, unknown>, outDir: string): Record<string, unknown> {
    return {
      ...json, model: TINY_MODEL, outDir, threads: 1,
      data: { train: { file: train.annotations, imageRoot: train.imageRoot, format: 'vizwiz' }, val: { file: val.annotations, imageRoot: val.imageRoot, format: 'vizwiz' } },
      eval: { ...(json.eval as object), batchSize: 4, maxNewTokens: 8 },
      stages: (json.stages as Record<string, unknown>[]).map((s) => ({ ...s, epochs: 1, batchSize: 2, maxSteps: s.scst ? 1 : 2 })),
    };
  }

  for (const name of ['seed', 'paper']) {
    it(`${name}.json runs every stage`, async () => {
      const outDir = join(root, `run-${name}`);
      const spec = parseRunConfig(shrink(preset(name), outDir));
      const summary = await runProgressive(spec);
      expect(summary.rows.map((r) => r.stage)).toEqual(['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST']);
      const log = readFileSync(join(outDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { stage: string; step: number; lr: number });
      expect(log.map((l) => `${l.stage}:${l.step}`)).toEqual(['LoRA:1', 'LoRA:2', 'LoRA + DA:1', 'LoRA + DA:2', 'LoRA + DA + SCST:1']);
      expect(log.every((l) => l.lr === 1e-4)).toBe(true); // no scheduler
      const adapter = JSON.parse(readFileSync(join(outDir, 'stages', '1-lora', 'best', 'adapter_config.json'), 'utf8')) as { target_modules: string[] };
      expect(adapter.target_modules).toEqual((preset(name).lora as { targetModules: string[] }).targetModules);
      for (const stage of readdirSync(join(outDir, 'stages'))) expect(existsSync(join(outDir, 'stages', stage, 'final', 'adapter_model.safetensors'))).toBe(true);
    }, 60_000);
  }

  it('`train --config` runs the seed preset (shrunk, written to a file) and prints the table', () => {
    const configFile = join(root, 'seed-tiny.json');
    writeFileSync(configFile, JSON.stringify(shrink(preset('seed'), join(root, 'run-cli'))));
    const cli = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));
    const child = spawnSync(process.execPath, ['--import', 'tsx', cli, 'train', '--config', configFile, '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr.split('\n').filter((l) => /error/i.test(l))).toEqual([]);
    expect(child.status).toBe(0);
    const rows = JSON.parse(child.stdout) as { stage: string }[];
    expect(rows.map((r) => r.stage)).toEqual(['zero-shot', 'LoRA', 'LoRA + DA', 'LoRA + DA + SCST']);
  }, 60_000);

  it('setFullTraining with prefixes that select nothing is an error', async () => {
    const captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
    try {
      await expect(captioner.model.setFullTraining(true, { only: ['language_model.decoder.block.9.'] })).rejects.toThrow(
        'no parameter name starts with any of the given prefixes');
      await expect(captioner.model.setFullTraining(true, { only: [''] })).rejects.toThrow('Expected array of non-empty parameter-name prefixes for only');
    } finally {
      captioner.dispose();
    }
  });

  it('trainable { lastBlocks: 1, lmHead: true } trains only the last T5 encoder and decoder blocks and the LM head', async () => {
    const outDir = join(root, 'run-last');
    const json = shrink(preset('seed'), outDir);
    const stages = (json.stages as Record<string, unknown>[]).slice(0, 1).map((s) => ({ ...s, maxSteps: 2, lr: 1e-2 }));
    await runProgressive(parseRunConfig({ ...json, trainable: { lastBlocks: 1, lmHead: true }, zeroShot: false, stages }));
    const base = (await readSafetensorsFile(join(TINY_MODEL, 'model.safetensors'))).tensors;
    const trained = (await readSafetensorsFile(join(outDir, 'stages', '1-lora', 'best', 'model.safetensors'))).tensors;
    // the tiny model's T5 has 2 encoder and 2 decoder blocks: block 1 of each, and the untied lm_head
    const selected = (name: string) => /^language_model\.(encoder|decoder)\.block\.1\./.test(name) || name.startsWith('language_model.lm_head.');
    const changed: string[] = [];
    for (const [name, tensor] of base) {
      const after = trained.get(name)!.data as Float32Array;
      if ((tensor.data as Float32Array).some((x, i) => x !== after[i])) changed.push(name);
    }
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.filter((n) => !selected(n))).toEqual([]);
    // every selected matrix moved (layer norms and biases may not all get a gradient at lr 1e-2 in 2 steps, so the
    // check is on the weights that every token passes through)
    const selectedWeights = [...base.keys()].filter((n) => selected(n) && /(wi_0|wi_1|wo|lm_head)\.weight$/.test(n));
    expect(selectedWeights.length).toBe(7);
    expect(selectedWeights.filter((n) => !changed.includes(n))).toEqual([]);
  }, 60_000);

  it('trainable "all" trains every parameter and hands the best weights to the next stage', async () => {
    const outDir = join(root, 'run-all');
    const json = shrink(preset('seed'), outDir);
    const stages = (json.stages as Record<string, unknown>[]).slice(0, 2).map((s) => ({ ...s, maxSteps: 1 }));
    const summary = await runProgressive(parseRunConfig({ ...json, trainable: 'all', zeroShot: false, stages }));
    expect(summary.rows.map((r) => r.stage)).toEqual(['LoRA', 'LoRA + DA']);
    for (const stage of ['1-lora', '2-lora-da']) {
      expect(readdirSync(join(outDir, 'stages', stage, 'best'))).toEqual(['model.safetensors']);
    }
  }, 60_000);
});
