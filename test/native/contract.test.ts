// The contract between TypeScript and the addon: TypeScript's name lists equal the names the addon accepts, and
// the addon takes fully resolved structs (TypeScript owns every default): a missing field is an error naming it.
import { describe, expect, it } from 'vitest';
import { FORWARD_OUTPUTS, LOAD_DTYPES, native } from '../../lib/native.js';
import { DTYPES } from '../../lib/model/blip2-model.js';
import { ACTIVATIONS, readBlip2Config, type Blip2Config } from '../../lib/model/config.js';
import { resolveAdamW } from '../../lib/model/adamw.js';
import { TINY_MODEL, TINY_OPT_MODEL } from '../helpers/paths.js';

const sorted = (names: readonly string[]) => [...names].sort();

describe('name lists', () => {
  it('forward outputs: FORWARD_OUTPUTS is what the addon computes', () => {
    expect(sorted(FORWARD_OUTPUTS)).toEqual(sorted(native().names().forwardOutputs));
    expect(FORWARD_OUTPUTS).toHaveLength(11);
  });

  it('activations: the config parser accepts what the addon implements', () => {
    expect(sorted(ACTIVATIONS)).toEqual(sorted(native().names().activations));
  });

  it("dtypes: the addon loads LOAD_DTYPES; the dtype option adds 'auto', resolved in TypeScript", () => {
    expect(sorted(LOAD_DTYPES)).toEqual(sorted(native().names().dtypes));
    expect(sorted(DTYPES)).toEqual(sorted([...native().names().dtypes, 'auto']));
  });
});

describe('config', () => {
  /**
   * The fields of the resolved config that only TypeScript reads: feed_forward_proj becomes is_gated_act and
   * dense_act_fn.
   */
  const typescriptOnly = new Set(['model_type', 'text_config.feed_forward_proj']);

  it.each([
    ['T5', TINY_MODEL, 36],
    ['OPT', TINY_OPT_MODEL, 36],
  ])('every field the addon reads is required (%s): a missing one is a TypeError naming it', async (_family, dir, count) => {
    const config = await readBlip2Config(dir);
    const paths: string[] = [];
    for (const [key, value] of Object.entries(config)) {
      if (typeof value === 'object') paths.push(...Object.keys(value as object).map((field) => `${key}.${field}`));
      else paths.push(key);
    }
    const required = paths.filter((path) => !typescriptOnly.has(path));
    expect(required).toHaveLength(count);
    for (const path of required) {
      const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
      const [section, field] = path.split('.') as [string, string | undefined];
      if (field === undefined) delete copy[section];
      else delete copy[section]![field];
      expect(() => native().expectedTensors(copy as unknown as Blip2Config), path).toThrow(new TypeError(`Missing config.${path}`));
    }
    expect(native().expectedTensors(config).length).toBeGreaterThan(0);
  });

  it('an unknown text model_type is a TypeError naming the two the addon implements', async () => {
    const config = structuredClone(await readBlip2Config(TINY_MODEL)) as unknown as { text_config: { model_type: string } };
    config.text_config.model_type = 'llama';
    expect(() => native().expectedTensors(config as unknown as Blip2Config)).toThrow(
      new TypeError('config.text_config.model_type must be "t5" or "opt" but is "llama"'));
  });
});

describe('AdamW options', () => {
  it('every hyper-parameter is required (resolveAdamW owns the defaults): a missing one is a TypeError naming it', async () => {
    const model = await native().randomModel(await readBlip2Config(TINY_MODEL), { dtype: 'float32', device: 'cpu', threads: 1 });
    try {
      await model.setFullTraining(true);
      const options = resolveAdamW({ lr: 0 });
      expect(options).toEqual({ lr: 0, maxGradNorm: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
      for (const key of Object.keys(options)) {
        const partial: Record<string, number> = { ...options };
        delete partial[key];
        expect(() => model.optimizerStep(partial as unknown as typeof options), key).toThrow(new TypeError(`Missing options.${key}`));
      }
      expect(await model.optimizerStep(options)).toEqual({ gradNorm: 0, step: 1 });
    } finally {
      model.dispose();
    }
  });
});
