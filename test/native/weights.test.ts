// Random weights (Blip2Model.random) follow their rule and their seed; loadWeights replaces every parameter in
// place with a weight file's tensors and refuses a file that does not match the config.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { readBlip2Config, type Blip2Config } from '../../lib/model/config.js';
import { readSafetensorsFile, type SafetensorsFile } from '../../lib/io/safetensors.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { rawTensors, writeSafetensors } from '../helpers/safetensors-writer.js';

let dir: string;
let config: Blip2Config;
let counter = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'blip2-weights-'));
  config = await readBlip2Config(TINY_MODEL);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The model's parameters as written by save(). */
async function saved(model: Blip2Model): Promise<SafetensorsFile> {
  const path = join(dir, `w${counter++}.safetensors`);
  await model.save(path);
  return readSafetensorsFile(path);
}

async function randomWeights(seed: number): Promise<SafetensorsFile> {
  const model = await Blip2Model.random(config, { seed, threads: 1 });
  try {
    return await saved(model);
  } finally {
    model.dispose();
  }
}

const values = (file: SafetensorsFile) => [...file.tensors].map(([name, t]) => [name, Array.from(t.data as Float32Array)]);

describe('random weights', () => {
  it('normal(0, 0.02) matrices, ones for norm weights, zeros for the other vectors', async () => {
    const file = await randomWeights(7);
    expect(file.tensors.size).toBe(Blip2Model.expectedTensors(config).length);
    let sum = 0;
    let squares = 0;
    let n = 0;
    for (const [name, t] of file.tensors) {
      const data = t.data as Float32Array;
      if (t.shape.length === 1) {
        // layer_norm, final_layer_norm, layernorm, post_layernorm, LayerNorm
        const isNormWeight = /norm/i.test(name) && name.endsWith('.weight');
        expect(new Set(data), name).toEqual(new Set([isNormWeight ? 1 : 0]));
      } else {
        for (const v of data) {
          sum += v;
          squares += v * v;
          n += 1;
        }
      }
    }
    const mean = sum / n;
    const std = Math.sqrt(squares / n - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.001);
    expect(Math.abs(std - 0.02)).toBeLessThan(0.0005);
  });

  it('the same seed gives the same weights, another seed other ones', async () => {
    const a = values(await randomWeights(7));
    expect(values(await randomWeights(7))).toEqual(a);
    expect(values(await randomWeights(8))).not.toEqual(a);
  });
});

describe('loadWeights', () => {
  it("replaces every parameter of a random model with the file's tensors", async () => {
    const reference = await Blip2Model.load(TINY_MODEL, { threads: 1 });
    const model = await Blip2Model.random(config, { seed: 3, threads: 1 });
    try {
      const expected = values(await saved(reference));
      expect(values(await saved(model))).not.toEqual(expected);
      await model.loadWeights(join(TINY_MODEL, 'model.safetensors'));
      expect(values(await saved(model))).toEqual(expected);
    } finally {
      reference.dispose();
      model.dispose();
    }
  });

  it('refuses a file without one of the tensors, naming it, and leaves the weights as they were', async () => {
    const tensors = rawTensors(readFileSync(join(TINY_MODEL, 'model.safetensors')));
    tensors.delete('query_tokens');
    const path = join(dir, 'missing.safetensors');
    writeSafetensors(path, tensors);
    const model = await Blip2Model.random(config, { seed: 3, threads: 1 });
    try {
      const before = values(await saved(model));
      await expect(model.loadWeights(path)).rejects.toThrow('missing tensors (1):\n    query_tokens');
      expect(values(await saved(model))).toEqual(before);
    } finally {
      model.dispose();
    }
  });
});
