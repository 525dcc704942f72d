// config.json resolution follows transformers 4.44's config classes (defaults, derived values, overrides).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { totalmem } from 'node:os';
import { estimateParameters, MAX_PARAMETERS, parseBlip2Config, type Blip2Config, type T5TextConfig } from '../../lib/model/config.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The T5 text config of a parsed config (these tests give T5 configs). */
function t5Text(config: Blip2Config): T5TextConfig {
  if (config.text_config.model_type !== 't5') throw new Error(`expected a T5 text config, got ${config.text_config.model_type}`);
  return config.text_config;
}

describe('parseBlip2Config', () => {
  it('fills the tiny diff config exactly as the fully expanded one written by transformers', () => {
    const resolved = parseBlip2Config(read(join(TINY_MODEL, 'config.json')));
    const full = read(join(TINY, 'model-config-full.json'));
    for (const section of ['vision_config', 'qformer_config', 'text_config'] as const) {
      for (const [key, value] of Object.entries(resolved[section])) {
        if (key === 'num_channels') continue; // transformers hard-codes 3 input channels
        expect([section, key, full[section][key]]).toEqual([section, key, value]);
      }
    }
    expect(resolved.num_query_tokens).toBe(full.num_query_tokens);
  });

  it('resolves the full-size blip2-flan-t5-xl config', () => {
    const c = parseBlip2Config(read(join(TINY, 'full-size', 'config.json')));
    expect(c.vision_config).toMatchObject({ hidden_size: 1408, num_hidden_layers: 39, patch_size: 14, qkv_bias: true });
    expect(c.qformer_config).toMatchObject({ hidden_size: 768, encoder_hidden_size: 1408, cross_attention_frequency: 2 });
    expect(c.text_config).toMatchObject({
      d_model: 2048, d_kv: 64, num_heads: 32, num_layers: 24, num_decoder_layers: 24,
      is_gated_act: true, dense_act_fn: 'gelu_new', tie_word_embeddings: false, vocab_size: 32128,
    });
  });

  it('derives the gated activation from feed_forward_proj when the keys are absent', () => {
    const c = t5Text(parseBlip2Config({ model_type: 'blip-2', text_config: { model_type: 't5', feed_forward_proj: 'gated-gelu' } }));
    expect([c.is_gated_act, c.dense_act_fn]).toEqual([true, 'gelu_new']);
    const r = t5Text(parseBlip2Config({ model_type: 'blip-2', text_config: { model_type: 't5' } }));
    expect([r.model_type, r.is_gated_act, r.dense_act_fn, r.tie_word_embeddings]).toEqual(['t5', false, 'relu', true]);
    expect(r.num_decoder_layers).toBe(r.num_layers);
  });

  it('forces the Q-Former encoder width to the vision width, as Blip2Config does', () => {
    const c = parseBlip2Config({
      model_type: 'blip-2', vision_config: { hidden_size: 64, num_attention_heads: 4 }, qformer_config: { encoder_hidden_size: 999 },
      text_config: { model_type: 't5' },
    });
    expect(c.qformer_config.encoder_hidden_size).toBe(64);
  });

  it('rejects what it cannot run with a message naming the key', () => {
    expect(() => parseBlip2Config({ model_type: 'blip-2', text_config: { model_type: 'llama' } })).toThrow(
      'Unsupported text_config.model_type "llama" of type string in config: supported are "t5", "opt" (Flan-T5 and OPT language models)',
    );
    expect(() => parseBlip2Config({ model_type: 'blip-2', text_config: { model_type: 't5', feed_forward_proj: 'fancy-gelu' } })).toThrow(
      'Expected "gated-{ACT_FN}" or "{ACT_FN}" for text_config.feed_forward_proj in config but received "fancy-gelu" of type string',
    );
    expect(() => parseBlip2Config({ model_type: 'blip-2', vision_config: { hidden_act: 'mish' }, text_config: { model_type: 't5' } })).toThrow(
      'for vision_config.hidden_act in config but received "mish" of type string',
    );
    expect(() => parseBlip2Config({ model_type: 'blip-2', vision_config: { hidden_size: 30, num_attention_heads: 4 }, text_config: { model_type: 't5' } })).toThrow(
      'vision_config.hidden_size (30) must be divisible by num_attention_heads (4) in config',
    );
    expect(() => parseBlip2Config([1])).toThrow('Expected a JSON object in config but received an array of length 1');
  });
});

describe('config size bounds (reliability)', () => {
  const tiny = () => read(join(TINY_MODEL, 'config.json'));

  it('refuses absurd sizes by key before anything is listed or allocated', () => {
    const raw = tiny();
    raw.vision_config.num_hidden_layers = 1e9;
    expect(() => parseBlip2Config(raw, 'config.json')).toThrow(
      'Expected integer between 0 and 1024 for vision_config.num_hidden_layers in config.json but received 1000000000 of type number');
    const wide = tiny();
    wide.text_config.vocab_size = 2 ** 31;
    expect(() => parseBlip2Config(wide)).toThrow(
      'Expected integer between 1 and 1048576 for text_config.vocab_size in config but received 2147483648 of type number');
    const ids = tiny();
    ids.text_config.eos_token_id = 4128;
    expect(() => parseBlip2Config(ids)).toThrow('Expected integer between 0 and 4127 for text_config.eos_token_id in config but received 4128');
    // every size within its bound, the product not
    const big = tiny();
    Object.assign(big.text_config, { vocab_size: 1 << 20, d_model: 65536 });
    expect(() => parseBlip2Config(big, 'config.json')).toThrow(
      'config.json describes a model of 1.38e+11 parameters, more than the 1e+11 this library accepts');
  });

  it('counts parameters arithmetically, equal to the sum over the expected tensor list', () => {
    const base = tiny();
    const variants = [
      base,
      { model_type: 'blip-2', text_config: { model_type: 't5' } },
      read(join(TINY, 'full-size', 'config.json')),
      { ...base, vision_config: { ...base.vision_config, qkv_bias: false } },
      { ...base, qformer_config: { ...base.qformer_config, cross_attention_frequency: 3, num_hidden_layers: 4 } },
      { ...base, text_config: { ...base.text_config, tie_word_embeddings: true, feed_forward_proj: 'relu', is_gated_act: false, dense_act_fn: 'relu' } },
      { ...base, text_config: { ...base.text_config, num_decoder_layers: 3, d_kv: 5 } },
    ];
    const counts = variants.map((raw) => {
      const c = parseBlip2Config(raw);
      const listed = Blip2Model.expectedTensors(c).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
      return [estimateParameters(c), listed];
    });
    counts.forEach(([estimate, listed]) => expect(estimate).toBe(listed));
    expect(counts[0]![0]).toBe(360576);
  });

  // a machine with more than 400 GB would need a config beyond the parameter cap to exceed its memory
  it.skipIf(totalmem() / 4 > MAX_PARAMETERS)('refuses a model whose parameters exceed the machine memory before allocating', async () => {
    const raw = tiny();
    // vocab × d_model × 2 (embeddings + untied lm_head), sized so that even bfloat16-mixed (embeddings in 4 bytes,
    // lm_head in 2: 6 bytes per pair) just exceeds this machine's memory
    const dModel = Math.ceil(totalmem() / 6 / (1 << 20) / 8) * 8;
    Object.assign(raw.text_config, { vocab_size: 1 << 20, d_model: dModel, tie_word_embeddings: false });
    const config = parseBlip2Config(raw);
    const parameters = estimateParameters(config);
    await expect(Blip2Model.random(config, { threads: 1 })).rejects.toThrow(
      `The model needs ${(parameters * 4 / 1e9).toFixed(1)} GB for its ${parameters.toLocaleString('en-US')} float32 parameters, more than this machine's`);
    // bfloat16-mixed stores the Linear weights (nn.Linear modules of HF's BLIP-2, by name) in 2 bytes, the rest in 4
    const linear = /(^|\.)(qkv|projection|fc1|fc2|query|key|value|dense|language_projection|q|k|v|o|wi|wi_0|wi_1|wo|q_proj|k_proj|v_proj|out_proj|lm_head)\.(weight|bias)$/;
    const bytes = Blip2Model.expectedTensors(config).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1) * (linear.test(t.name) ? 2 : 4), 0);
    expect(bytes).toBeGreaterThan(totalmem());
    await expect(Blip2Model.random(config, { threads: 1, dtype: 'bfloat16-mixed' })).rejects.toThrow(
      `The model needs ${(bytes / 1e9).toFixed(1)} GB for its ${parameters.toLocaleString('en-US')} bfloat16-mixed parameters, more than this machine's`);
  });

  it('refuses float16 on the CPU before loading (libtorch has no float16 CPU convolution)', async () => {
    await expect(Blip2Model.load(TINY_MODEL, { dtype: 'float16' })).rejects.toThrow(
      "Expected 'float32' or 'bfloat16' on device 'cpu' (libtorch has no float16 CPU kernels for this model; use bfloat16 for half the memory, " +
        "or float16 with device 'cuda') for dtype but received \"float16\" of type string");
  });
});
