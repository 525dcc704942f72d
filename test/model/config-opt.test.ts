// text_config with an OPT language model: OPTConfig's defaults, validation naming the key, and the parameter count
// against the tensor lists transformers 4.44 wrote for blip2-opt-tiny and Salesforce/blip2-opt-2.7b.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateParameters, parseBlip2Config, type Blip2Config, type OptTextConfig } from '../../lib/model/config.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'blip2-opt-tiny');
const read = (path: string) => JSON.parse(readFileSync(join(fixture, path), 'utf8'));
const tinyRaw = () => read('model/config.json') as { text_config: Record<string, unknown> } & Record<string, unknown>;

function optText(config: Blip2Config): OptTextConfig {
  if (config.text_config.model_type !== 'opt') throw new Error(`expected an OPT text config, got ${config.text_config.model_type}`);
  return config.text_config;
}

describe('OPT text_config', () => {
  it('resolves the tiny config to exactly the fields the native side reads', () => {
    expect(parseBlip2Config(tinyRaw()).text_config).toStrictEqual({
      model_type: 'opt',
      vocab_size: 1024,
      hidden_size: 32,
      num_hidden_layers: 2,
      ffn_dim: 64,
      num_attention_heads: 4,
      max_position_embeddings: 64,
      do_layer_norm_before: true,
      word_embed_proj_dim: 32,
      activation_function: 'relu',
      enable_bias: true,
      layer_norm_elementwise_affine: true,
      remove_final_layer_norm: false,
      tie_word_embeddings: true,
      pad_token_id: 1,
      bos_token_id: 2,
      eos_token_id: 2,
    });
  });

  it('takes OPTConfig\'s defaults, and "opt" when text_config names no model_type (as Blip2Config does)', () => {
    const c = optText(parseBlip2Config({ model_type: 'blip-2' }));
    expect(c).toStrictEqual({
      model_type: 'opt', vocab_size: 50272, hidden_size: 768, num_hidden_layers: 12, ffn_dim: 3072, num_attention_heads: 12,
      max_position_embeddings: 2048, do_layer_norm_before: true, word_embed_proj_dim: 768, activation_function: 'relu', enable_bias: true,
      layer_norm_elementwise_affine: true, remove_final_layer_norm: false, tie_word_embeddings: true, pad_token_id: 1, bos_token_id: 2, eos_token_id: 2,
    });
    // word_embed_proj_dim follows hidden_size when absent or null
    expect(optText(parseBlip2Config({ model_type: 'blip-2', text_config: { hidden_size: 64, num_attention_heads: 4, word_embed_proj_dim: null } })).word_embed_proj_dim).toBe(64);
    const set = optText(parseBlip2Config({ model_type: 'blip-2', text_config: { model_type: 'opt', _remove_final_layer_norm: true, do_layer_norm_before: false } }));
    expect([set.remove_final_layer_norm, set.do_layer_norm_before]).toEqual([true, false]);
  });

  it('resolves the blip2-opt-2.7b config, whose eos is the newline 50118', () => {
    const c = optText(parseBlip2Config(read('full-size/config.json')));
    expect(c).toMatchObject({ hidden_size: 2560, num_hidden_layers: 32, num_attention_heads: 32, ffn_dim: 10240, vocab_size: 50272, eos_token_id: 50118, bos_token_id: 2, pad_token_id: 1 });
  });

  it('rejects wrong values with a message naming the key', () => {
    const withText = (text: Record<string, unknown>) => ({ model_type: 'blip-2', text_config: { model_type: 'opt', ...text } });
    expect(() => parseBlip2Config(withText({ hidden_size: 30, num_attention_heads: 4 }))).toThrow('text_config.hidden_size (30) must be divisible by num_attention_heads (4) in config');
    expect(() => parseBlip2Config(withText({ vocab_size: 1024, eos_token_id: 1024 }))).toThrow(
      'Expected integer between 0 and 1023 for text_config.eos_token_id in config but received 1024 of type number');
    expect(() => parseBlip2Config(withText({ activation_function: 'mish' }))).toThrow('for text_config.activation_function in config but received "mish" of type string');
    expect(() => parseBlip2Config(withText({ _remove_final_layer_norm: 'yes' }))).toThrow('Expected boolean for text_config._remove_final_layer_norm in config but received "yes" of type string');
    expect(() => parseBlip2Config(withText({ max_position_embeddings: 0 }))).toThrow('Expected integer between 1 and 1048576 for text_config.max_position_embeddings in config');
    expect(() => parseBlip2Config(withText({ num_hidden_layers: 0 }))).toThrow('Expected integer between 1 and 1024 for text_config.num_hidden_layers in config');
  });
});

describe('estimateParameters for OPT', () => {
  it('equals the tensor list transformers wrote for Salesforce/blip2-opt-2.7b, the tied lm_head counted once', () => {
    const manifest = read('full-size/full-size-manifest.json') as { num_parameters_unique: number; tensors: { name: string; shape: number[] }[] };
    const size = (t: { shape: number[] }) => t.shape.reduce((a, b) => a * b, 1);
    const all = manifest.tensors.reduce((n, t) => n + size(t), 0);
    // The manifest's num_parameters_unique is the sum over all 1,248 state_dict tensors, so it counts
    // language_model.lm_head.weight, which is embed_tokens' own tensor (tied), a second time.
    expect([manifest.tensors.length, all, manifest.num_parameters_unique]).toEqual([1248, 3_873_376_256, 3_873_376_256]);
    const lmHead = manifest.tensors.find((t) => t.name === 'language_model.lm_head.weight')!;
    const embedTokens = manifest.tensors.find((t) => t.name === 'language_model.model.decoder.embed_tokens.weight')!;
    expect(lmHead.shape).toEqual(embedTokens.shape);
    const unique = all - size(lmHead);
    expect(unique).toBe(3_744_679_936);
    expect(estimateParameters(parseBlip2Config(read('full-size/config.json')))).toBe(unique);
  });

  it('equals the tiny model\'s parameter count (summary.json)', () => {
    expect(read('summary.json').parameters).toBe(102_848);
    expect(estimateParameters(parseBlip2Config(tinyRaw()))).toBe(102_848);
  });

  it('follows each structural switch of OPTConfig (counts worked by hand from the tiny model: hidden 32, FFN 64, 2 layers, vocab 1024)', () => {
    const count = (text: Record<string, unknown>) => {
      const raw = tinyRaw();
      return estimateParameters(parseBlip2Config({ ...raw, text_config: { ...raw.text_config, ...text } }));
    };
    // embed_tokens 1024×16 instead of 1024×32 (−16,384), project_in 16×32 and project_out 32×16 without bias (+1,024)
    expect(count({ word_embed_proj_dim: 16 })).toBe(102_848 - 16_384 + 1_024);
    // an untied lm_head: 32 → 1024 without bias
    expect(count({ tie_word_embeddings: false })).toBe(102_848 + 32_768);
    // no final_layer_norm (weight + bias of 32), with _remove_final_layer_norm or post-LN
    expect(count({ _remove_final_layer_norm: true })).toBe(102_848 - 64);
    expect(count({ do_layer_norm_before: false })).toBe(102_848 - 64);
    // no biases: per layer q/k/v/out 4×32, fc1 64, fc2 32
    expect(count({ enable_bias: false })).toBe(102_848 - 2 * (4 * 32 + 64 + 32));
    // layer norms without weight and bias: two per layer and the final one, 64 each
    expect(count({ layer_norm_elementwise_affine: false })).toBe(102_848 - 5 * 64);
    // two more position rows per extra position: (64 + 2) → (100 + 2) rows of 32
    expect(count({ max_position_embeddings: 100 })).toBe(102_848 + 36 * 32);
  });
});
