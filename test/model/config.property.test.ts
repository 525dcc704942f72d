// Property tests of the config.json parser (fast-check, fixed seeds): any JSON gives a config whose every size is
// within CONFIG_LIMITS and whose parameter count is within MAX_PARAMETERS, or a ConfigError; never another error.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_LIMITS, ConfigError, estimateParameters, MAX_PARAMETERS, parseBlip2Config, type Blip2Config } from '../../lib/model/config.js';
import { TINY_MODEL } from '../helpers/paths.js';

const OPT_TINY_MODEL = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'blip2-opt-tiny', 'model');

const TINY = JSON.parse(readFileSync(join(TINY_MODEL, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const OPT_TINY = JSON.parse(readFileSync(join(OPT_TINY_MODEL, 'config.json'), 'utf8')) as Record<string, Record<string, unknown>>;

function check(raw: unknown): 'ok' | 'invalid' {
  let config: Blip2Config;
  try {
    config = parseBlip2Config(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return 'invalid';
  }
  const { vision_config: v, qformer_config: q, text_config: t } = config;
  const textWidths = t.model_type === 't5' ? [t.d_model, t.d_kv] : [t.hidden_size, t.word_embed_proj_dim];
  for (const width of [v.hidden_size, q.hidden_size, ...textWidths]) expect(width).toBeLessThanOrEqual(CONFIG_LIMITS.width);
  const textLayers = t.model_type === 't5' ? [t.num_layers, t.num_decoder_layers] : [t.num_hidden_layers];
  for (const layers of [v.num_hidden_layers, q.num_hidden_layers, ...textLayers]) {
    expect(layers).toBeLessThanOrEqual(CONFIG_LIMITS.layers);
  }
  expect(t.vocab_size).toBeLessThanOrEqual(CONFIG_LIMITS.vocab);
  const ids = t.model_type === 't5' ? [t.eos_token_id, t.pad_token_id, t.decoder_start_token_id] : [t.eos_token_id, t.pad_token_id, t.bos_token_id];
  expect(Math.max(...ids)).toBeLessThan(t.vocab_size);
  if (t.model_type === 'opt') {
    expect(t.hidden_size % t.num_attention_heads).toBe(0);
    expect(t.max_position_embeddings).toBeLessThanOrEqual(CONFIG_LIMITS.positions);
  }
  expect(estimateParameters(config)).toBeLessThanOrEqual(MAX_PARAMETERS);
  return 'ok';
}

/** Values a broken or hostile config might hold. */
const value = fc.oneof(
  fc.integer({ min: -2, max: 64 }), fc.constantFrom(0, 1, 1e9, 2 ** 31, 2 ** 53, 1e300, -1, 0.5, NaN, Infinity),
  fc.double(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.nat(), { maxLength: 2 }), fc.object({ maxDepth: 1 }),
);

/** Mutations of a config: a key of one of its sections, or a top-level key, set to one of {@link value}. */
function mutationsOf(config: Record<string, Record<string, unknown>>) {
  const keys: Record<string, string[]> = Object.fromEntries(
    ['vision_config', 'qformer_config', 'text_config'].map((s) => [s, Object.keys(config[s]!)]),
  );
  return fc.oneof(
    fc.record({ section: fc.constantFrom(...Object.keys(keys)) }).chain(({ section }) =>
      fc.record({ section: fc.constant(section), key: fc.constantFrom(...keys[section]!), value })),
    fc.record({ section: fc.constant(''), key: fc.constantFrom('num_query_tokens', 'model_type', 'vision_config', 'text_config'), value }),
  );
}

describe('parseBlip2Config properties', () => {
  it.each([['T5', TINY, 20261202], ['OPT', OPT_TINY, 20261203]] as const)('mutated tiny %s configs: bounded sizes or a ConfigError', (_name, tiny, seed) => {
    let ok = 0;
    fc.assert(fc.property(fc.array(mutationsOf(tiny), { minLength: 1, maxLength: 4 }), (mutations) => {
      const raw = structuredClone(tiny) as Record<string, unknown>;
      for (const { section, key, value: v } of mutations) {
        const target = section === '' ? raw : raw[section];
        if (typeof target === 'object' && target !== null) (target as Record<string, unknown>)[key] = v;
      }
      if (check(raw) === 'ok') ok++;
    }), { numRuns: 2000, seed });
    expect(ok).toBeGreaterThan(50);
  });

  it('arbitrary JSON values: a ConfigError, never a crash', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 3 }), (json) => {
      check(json);
      if (typeof json === 'object' && json !== null && !Array.isArray(json)) check({ ...json, model_type: 'blip-2' });
    }), { numRuns: 1000, seed: 5 });
  });

  it('every size at its bound at once is refused by the parameter cap', () => {
    const raw = structuredClone(TINY);
    Object.assign(raw.vision_config!, { hidden_size: CONFIG_LIMITS.width, num_hidden_layers: CONFIG_LIMITS.layers });
    Object.assign(raw.text_config!, { vocab_size: CONFIG_LIMITS.vocab, d_model: CONFIG_LIMITS.width, num_layers: CONFIG_LIMITS.layers });
    expect(check(raw)).toBe('invalid');
    const opt = structuredClone(OPT_TINY);
    Object.assign(opt.text_config!, { vocab_size: CONFIG_LIMITS.vocab, hidden_size: CONFIG_LIMITS.width, num_hidden_layers: CONFIG_LIMITS.layers, ffn_dim: CONFIG_LIMITS.feedForward });
    expect(check(opt)).toBe('invalid');
  });
});
