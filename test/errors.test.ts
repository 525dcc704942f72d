// The error vocabulary: one class per kind, each with its stable code, thrown by the library's own validators and
// readers with messages that name the argument, the file or the key.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError, ConfigError, ERROR_CODES, FileError, NativeError } from '../lib/errors.js';
import * as api from '../lib/index.js';
import { integerInRange, knownKeys } from '../lib/is.js';
import { ConfigError as ModelConfigError, parseBlip2Config, readBlip2Config } from '../lib/model/config.js';
import { readRunConfig, RunConfigError } from '../lib/train/run-config.js';
import { UsageError } from '../lib/cli/usage.js';
import { withCallerStack } from '../lib/native.js';
import { TINY_MODEL } from './helpers/paths.js';

/** What `promise` rejects with (undefined when it resolves, which the caller's expectations then fail on). */
async function rejection<E>(promise: Promise<unknown>): Promise<E> {
  return promise.then(() => undefined, (error: unknown) => error) as Promise<E>;
}

/** What `fn` throws (fails the test if it returns). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('error codes', () => {
  it('one stable code per kind', () => {
    expect(ERROR_CODES).toEqual({
      argument: 'BLIP2_INVALID_ARGUMENT', file: 'BLIP2_BAD_FILE', config: 'BLIP2_BAD_CONFIG', native: 'BLIP2_NATIVE_FAILURE',
    });
    expect(new ArgumentError('m').code).toBe('BLIP2_INVALID_ARGUMENT');
    expect(new FileError('m', { path: '/p' }).code).toBe('BLIP2_BAD_FILE');
    expect(new ConfigError('m').code).toBe('BLIP2_BAD_CONFIG');
    expect(new NativeError('m', { operation: 'Blip2Model.forward' }).code).toBe('BLIP2_NATIVE_FAILURE');
  });

  it('the public API exports the classes, and older names are the same classes', () => {
    expect(api.ArgumentError).toBe(ArgumentError);
    expect(api.FileError).toBe(FileError);
    expect(api.ConfigError).toBe(ConfigError);
    expect(api.NativeError).toBe(NativeError);
    expect(ModelConfigError).toBe(ConfigError);
    expect(api.RunConfigError).toBe(RunConfigError);
  });
});

describe('ArgumentError', () => {
  it('is what the validators throw: a TypeError named "TypeError" that names the argument', () => {
    const error = thrown(() => integerInRange('numBeams', 0, 1, 64));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.name).toBe('TypeError');
    expect(error.message).toBe('Expected integer between 1 and 64 for numBeams but received 0 of type number');
    expect((error as ArgumentError).argument).toBe('numBeams');
    expect((error as ArgumentError).code).toBe('BLIP2_INVALID_ARGUMENT');
  });

  it('an unknown option names the options object and the keys it takes', () => {
    const error = thrown(() => knownKeys('queue options', { size: 1 }, ['concurrency', 'maxWaiting']));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toBe('Unknown option "size" in queue options; expected one of "concurrency", "maxWaiting"');
    expect((error as ArgumentError).argument).toBe('queue options');
  });

  it("UsageError is the command line's ArgumentError", () => {
    const error = new UsageError('--num-beams expects an integer between 1 and 64 but received "x"');
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.name).toBe('UsageError');
    expect(error.code).toBe('BLIP2_INVALID_ARGUMENT');
  });
});

describe('ConfigError', () => {
  it('a bad value in config.json names the key and the file', () => {
    const config = JSON.parse(readFileSync(join(TINY_MODEL, 'config.json'), 'utf8'));
    config.text_config.num_heads = 2.5;
    const error = thrown(() => parseBlip2Config(config, '/m/config.json'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).not.toBeInstanceOf(TypeError);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe('Expected integer between 1 and 1024 for text_config.num_heads in /m/config.json but received 2.5 of type number');
    expect((error as ConfigError).code).toBe('BLIP2_BAD_CONFIG');
  });

  it('a run config: RunConfigError is a ConfigError naming the file and the key path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blip2-errors-'));
    try {
      const file = join(dir, 'run.json');
      writeFileSync(file, JSON.stringify({ model: TINY_MODEL, data: { train: { file: 't.json' }, val: { file: 'v.json' } }, stages: [{ lr: -1 }] }));
      // the README's run config reference: `lr` is a number 0–10
      const error = await rejection<RunConfigError>(readRunConfig(file));
      expect(error).toBeInstanceOf(RunConfigError);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.code).toBe('BLIP2_BAD_CONFIG');
      expect(error.file).toBe(file);
      expect(error.message).toBe(`Invalid run config ${file}: Expected number between 0 and 10 for stages[0].lr but received -1 of type number`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('FileError', () => {
  it('a model directory that does not exist, and a bad config.json, name the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blip2-errors-'));
    try {
      const nowhere = join(dir, 'nowhere');
      const missing = await rejection<FileError>(readBlip2Config(nowhere));
      expect(missing).toBeInstanceOf(FileError);
      expect(missing.path).toBe(nowhere);
      expect(missing.message).toBe(`Model directory ${JSON.stringify(nowhere)} does not exist; pass a local Hugging Face snapshot directory`);
      writeFileSync(join(dir, 'config.json'), '{"model_type": "blip-2"\n "num_query_tokens": 32}');
      const bad = await rejection<FileError>(readBlip2Config(dir));
      expect(bad).toBeInstanceOf(FileError);
      expect(bad.code).toBe('BLIP2_BAD_FILE');
      expect(bad.path).toBe(join(dir, 'config.json'));
      expect(bad.message).toBe(`Cannot parse model config ${join(dir, 'config.json')}: invalid JSON at line 2, column 2: unexpected "\\""`);
      const config = JSON.parse(readFileSync(join(TINY_MODEL, 'config.json'), 'utf8'));
      config.qformer_config.num_attention_heads = 0;
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      const wrong = await rejection<ConfigError>(readBlip2Config(dir));
      expect(wrong).toBeInstanceOf(ConfigError);
      expect(wrong.file).toBe(join(dir, 'config.json'));
      expect(wrong.message).toContain(`qformer_config.num_attention_heads in ${join(dir, 'config.json')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('NativeError', () => {
  it("an addon call's failure: the addon's message, the operation named, the caller's stack, the original as cause", async () => {
    const cause = new Error('Invalid safetensors file /m/model.safetensors: file is 5 bytes, shorter than the 8-byte header length');
    const error = await rejection<NativeError>(withCallerStack(Promise.reject(cause), 'Blip2Model.load'));
    expect(error).toBeInstanceOf(NativeError);
    expect(error.code).toBe('BLIP2_NATIVE_FAILURE');
    expect(error.operation).toBe('Blip2Model.load');
    expect(error.message).toBe(cause.message);
    expect(error.cause).toBe(cause);
    expect(error.stack!.split('\n')[0]).toBe(`NativeError: ${cause.message}`);
    expect(error.stack).toContain('errors.test.ts');
  });

  it("a TypeError from the addon's argument readers stays a bad argument", async () => {
    const bad = new TypeError('Expected token id between 0 and 4127 for inputIds[0][0] but received 4128 of type number');
    const error = await rejection<Error>(withCallerStack(Promise.reject(bad), 'Blip2Model.forward'));
    expect(error).toBe(bad);
    expect(error.stack).toContain('errors.test.ts');
  });

  it('names the operation and keeps the cause', () => {
    const cause = new Error('CUDA out of memory');
    const error = new NativeError('CUDA out of memory', { operation: 'Blip2Model.forward', cause });
    expect(error.name).toBe('NativeError');
    expect(error.operation).toBe('Blip2Model.forward');
    expect(error.cause).toBe(cause);
    expect(error).not.toBeInstanceOf(TypeError);
  });
});
