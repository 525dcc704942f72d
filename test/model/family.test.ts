// The language-model family descriptors: lookup and its errors, tokenizer choice, LoRA defaults against the targets
// of the blip2-opt-tiny LoRA goldens, prompt padding and generation ids from the config.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBlip2Config } from '../../lib/model/config.js';
import { familyOf, MODEL_FAMILIES, modelFamily } from '../../lib/model/family.js';
import { PAPER_TARGET_MODULES } from '../../lib/model/lora-config.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const optFixture = join(fixtures, 'blip2-opt-tiny');
const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** PEFT's rule: a module is targeted when its name equals an entry or ends with "." + the entry. */
const matches = (name: string, targets: readonly string[]) => targets.some((t) => name === t || name.endsWith(`.${t}`));

describe('modelFamily', () => {
  it('looks families up by text_config.model_type', () => {
    expect([modelFamily('t5').name, modelFamily('t5').isDecoderOnly, modelFamily('opt').name, modelFamily('opt').isDecoderOnly]).toEqual(['Flan-T5', false, 'OPT', true]);
    expect(Object.keys(MODEL_FAMILIES)).toEqual(['t5', 'opt']);
    expect(familyOf(parseBlip2Config(read(join(optFixture, 'model', 'config.json'))))).toBe(MODEL_FAMILIES.opt);
    expect(familyOf(parseBlip2Config(read(join(fixtures, 'blip2-tiny', 'model', 'config.json'))))).toBe(MODEL_FAMILIES.t5);
  });

  it('names the supported model types for any other value', () => {
    expect(() => modelFamily('llama')).toThrow('Unsupported text_config.model_type "llama" of type string: supported are "t5" (Flan-T5), "opt" (OPT)');
    expect(() => modelFamily(undefined)).toThrow('Unsupported text_config.model_type undefined');
    expect(() => modelFamily('constructor')).toThrow('Unsupported text_config.model_type "constructor"');
  });
});

describe('family descriptors', () => {
  it('pad prompts on the left for OPT (as its tokenizer_config says) and on the right for T5', () => {
    expect([MODEL_FAMILIES.opt.promptPaddingSide, MODEL_FAMILIES.t5.promptPaddingSide]).toEqual(['left', 'right']);
    expect(read(join(optFixture, 'model', 'tokenizer_config.json')).padding_side).toBe(MODEL_FAMILIES.opt.promptPaddingSide);
  });

  it('take the generation ids from the config: blip2-opt-2.7b stops at the newline 50118 and leads with BOS 2', () => {
    const opt = parseBlip2Config(read(join(optFixture, 'full-size', 'config.json')));
    expect(MODEL_FAMILIES.opt.generationDefaults(opt.text_config)).toEqual({ decoderStartTokenId: 2, eosTokenId: 50118, padTokenId: 1 });
    const t5 = parseBlip2Config(read(join(fixtures, 'blip2-tiny', 'model', 'config.json')));
    expect(MODEL_FAMILIES.t5.generationDefaults(t5.text_config)).toEqual({ decoderStartTokenId: 0, eosTokenId: 1, padTokenId: 0 });
    expect(() => MODEL_FAMILIES.t5.generationDefaults(opt.text_config)).toThrow('The Flan-T5 family reads text configs with model_type "t5", not "opt"');
  });

  it('keep the paper\'s LoRA targets for T5', () => {
    expect(MODEL_FAMILIES.t5.defaultLoraTargetModules).toBe(PAPER_TARGET_MODULES);
  });

  it('target for OPT exactly the language-model modules of the LoRA goldens (lora.json), and the Q-Former\'s as the T5 default does', () => {
    const golden = read(join(optFixture, 'lora.json')).targets as string[];
    const targets = MODEL_FAMILIES.opt.defaultLoraTargetModules;
    expect(golden.filter((name) => !matches(name, targets))).toEqual([]);
    // every 2-D weight of layers 0 and 1 of blip2-opt-2.7b's tensor list that the default picks: the tiny model's
    // golden targets
    const manifest = read(join(optFixture, 'full-size', 'full-size-manifest.json')) as { tensors: { name: string; shape: number[] }[] };
    const linear = manifest.tensors.filter((t) => t.shape.length === 2 && t.name.endsWith('.weight')).map((t) => t.name.slice(0, -'.weight'.length));
    const inTinyLayers = (name: string) => /^language_model\.model\.decoder\.layers\.[01]\./.test(name) || /^qformer\.encoder\.layer\.[01]\./.test(name);
    const picked = linear.filter((name) => inTinyLayers(name) && matches(name, targets));
    expect(picked.filter((n) => n.startsWith('language_model.')).sort()).toEqual(golden.filter((n) => n.startsWith('language_model.')).sort());
    // the suffix "dense" also takes the Q-Former's intermediate_query.dense, which the goldens list by name without
    expect(picked.filter((n) => n.startsWith('qformer.') && !golden.includes(n))).toEqual([
      'qformer.encoder.layer.0.intermediate_query.dense',
      'qformer.encoder.layer.1.intermediate_query.dense',
    ]);
    // neither the embeddings, the tied lm_head nor language_projection
    expect(linear.filter((n) => !/layers?\.\d+\./.test(n) && matches(n, targets))).toEqual([]);
  });

  it('load the tokenizer of their kind and refuse another', async () => {
    const opt = await MODEL_FAMILIES.opt.loadTokenizer(join(optFixture, 'model'));
    expect([opt.kind, opt.paddingSide, opt.bosTokenId]).toEqual(['byte-level-bpe', 'left', 2]);
    const t5 = await MODEL_FAMILIES.t5.loadTokenizer(join(fixtures, 'blip2-tiny', 'model'));
    expect(t5.kind).toBe('t5');
    await expect(MODEL_FAMILIES.t5.loadTokenizer(join(optFixture, 'model'))).rejects.toThrow(
      `The tokenizer in ${join(optFixture, 'model')} is a byte-level BPE (GPT-2 / OPT) tokenizer, but a BLIP-2 with Flan-T5 needs a T5 (SentencePiece unigram) one`,
    );
  });
});
