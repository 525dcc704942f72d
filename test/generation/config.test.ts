// GenerationConfig: HF defaults, generation_config.json layering, validation messages.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../lib/model/config.js';
import { FileError } from '../../lib/errors.js';
import {
  GENERATION_KEYS,
  GENERATION_LIMITS,
  generationOptionsFromJson,
  maxDecoderLength,
  readGenerationOptions,
  resolveGenerationConfig,
} from '../../lib/generation/config.js';
import { TINY_MODEL } from '../helpers/paths.js';

describe('resolveGenerationConfig', () => {
  it("starts from Hugging Face's defaults", () => {
    const c = resolveGenerationConfig();
    expect([c.maxLength, c.maxNewTokens, c.numBeams, c.topK, c.topP, c.temperature, c.lengthPenalty]).toEqual([20, undefined, 1, 50, 1, 1, 1]);
    expect([c.earlyStopping, c.doSample, c.decoderStartTokenId, c.padTokenId, c.eosTokenId]).toEqual([false, false, 0, 0, [1]]);
    expect(maxDecoderLength(c)).toBe(20);
    expect(maxDecoderLength(resolveGenerationConfig({ maxNewTokens: 12 }))).toBe(13);
  });

  it("layers the model's generation_config.json under the call options", async () => {
    const defaults = await readGenerationOptions(TINY_MODEL);
    expect(defaults).toEqual({ decoderStartTokenId: 0, eosTokenId: 1, padTokenId: 0 });
    const c = resolveGenerationConfig(generationOptionsFromJson({ num_beams: 4, max_new_tokens: 30, eos_token_id: [1, 2], top_k: null }), { numBeams: 2 });
    expect([c.numBeams, c.maxNewTokens, c.eosTokenId, c.topK]).toEqual([2, 30, [1, 2], 50]);
    await expect(readGenerationOptions('/nonexistent-dir')).resolves.toEqual({});
    expect(() => generationOptionsFromJson({ num_beam_groups: 2 })).toThrow(
      'generation_config.json sets num_beam_groups = 2, which this library does not implement; remove it or set it to 1');
    expect(generationOptionsFromJson({ num_beam_groups: 1, forced_bos_token_id: null, transformers_version: '4.44.0' })).toEqual({});
  });

  it('rejects bad values with the one error format', () => {
    expect(() => resolveGenerationConfig({ numBeams: 0 })).toThrow('Expected integer between 1 and 64 for numBeams but received 0 of type number');
    expect(() => resolveGenerationConfig({ numBeams: 3, numReturnSequences: 4 })).toThrow(
      'Expected integer between 1 and 3 for numReturnSequences but received 4 of type number');
    expect(() => resolveGenerationConfig({ numReturnSequences: 2 })).toThrow(
      'Expected integer between 1 and 1 (greedy search returns one sequence; set numBeams or doSample) for numReturnSequences but received 2 of type number');
    expect(() => resolveGenerationConfig({ earlyStopping: 'sometimes' as never })).toThrow(
      'Expected true, false or "never" for earlyStopping but received "sometimes" of type string');
    expect(() => resolveGenerationConfig({ temperature: 0 })).toThrow('Expected number between 0.01 and 10 for temperature but received 0 of type number');
    expect(() => resolveGenerationConfig({ topP: 1.5 })).toThrow('Expected number between 0 and 1 for topP but received 1.5 of type number');
    expect(() => resolveGenerationConfig({ badWordsIds: [[2], []] })).toThrow(
      'Expected non-empty array of token ids for badWordsIds[1] but received an array of length 0');
    expect(() => resolveGenerationConfig({ doSample: true, numReturnSequences: 65 })).toThrow(
      'Expected integer between 1 and 64 for numReturnSequences but received 65 of type number');
  });

  it('bounds sampling extremes and lengths (1e300 overflows fp32 logits, 1e-300 flattens them)', () => {
    expect(() => resolveGenerationConfig({ doSample: true, temperature: 1e300 })).toThrow(
      'Expected number between 0.01 and 10 for temperature but received 1e+300 of type number');
    expect(() => resolveGenerationConfig({ doSample: true, temperature: 1e-300 })).toThrow(
      'Expected number between 0.01 and 10 for temperature but received 1e-300 of type number');
    expect(() => resolveGenerationConfig({ repetitionPenalty: 1e-300 })).toThrow(
      'Expected number between 0.000001 and 1000000 for repetitionPenalty but received 1e-300 of type number');
    expect(() => resolveGenerationConfig({ maxNewTokens: GENERATION_LIMITS.maxNewTokens + 1 })).toThrow(
      'Expected integer between 1 and 1024 for maxNewTokens but received 1025 of type number');
    expect(() => resolveGenerationConfig({ maxLength: 1e6 })).toThrow('Expected integer between 2 and 1025 for maxLength but received 1000000 of type number');
    expect(() => resolveGenerationConfig({ numBeams: 3, lengthPenalty: -1e6 })).toThrow(
      'Expected number between -10 and 10 for lengthPenalty but received -1000000 of type number');
    expect(resolveGenerationConfig({ doSample: true, temperature: 0.01, maxNewTokens: 1024 }).temperature).toBe(0.01);
  });

  it('names generation_config.json in its errors, with its own key names, and is not a TypeError (CLI exit 1, not 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'genconfig-'));
    const file = join(dir, 'generation_config.json');
    writeFileSync(file, JSON.stringify({ top_k: -1 }));
    const err = await readGenerationOptions(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`Invalid ${file}: Expected integer between 0 and 2147483647 for top_k but received -1 of type number`);
    writeFileSync(file, '{"top_k": ');
    const parse = await readGenerationOptions(dir).catch((e: Error) => e);
    expect(parse).toBeInstanceOf(FileError);
    expect((parse as Error).message).toBe(`Cannot parse generation config ${file}: invalid JSON at line 1, column 11: unexpected end of file`);
    writeFileSync(file, JSON.stringify({ num_beam_groups: 2 }));
    await expect(readGenerationOptions(dir)).rejects.toThrow(`${file} sets num_beam_groups = 2`);
  });

  it('rejects unknown keys', () => {
    expect(() => resolveGenerationConfig({ maxTokens: 5 } as never)).toThrow(
      `Unknown option "maxTokens" in options; expected one of ${GENERATION_KEYS.map((k) => JSON.stringify(k)).join(', ')}`);
  });
});
