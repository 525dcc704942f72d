// Bad model directories and misuse give clear errors, never a crash.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY_MODEL } from '../helpers/paths.js';
import { floatData } from '../helpers/tensors.js';
import { rawTensors, safetensorsBytes, writeSafetensors } from '../helpers/safetensors-writer.js';

let root: string;
let original: Uint8Array;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'blip2-errors-'));
  original = readFileSync(join(TINY_MODEL, 'model.safetensors'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The header safetensorsBytes writes for `tensors` (contiguous, in order), to be edited. */
function safetensorsHeader(tensors: Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>) {
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  return header;
}

let counter = 0;
/** A copy of the tiny model directory whose model.safetensors is replaced by `weights` (when given). */
function modelDir(weights?: Uint8Array, config?: string): string {
  const dir = join(root, `m${counter++}`);
  cpSync(TINY_MODEL, dir, { recursive: true });
  if (weights) writeFileSync(join(dir, 'model.safetensors'), weights);
  if (config !== undefined) writeFileSync(join(dir, 'config.json'), config);
  return dir;
}

describe('loading errors', () => {
  it('missing directory', async () => {
    const dir = join(root, 'nope');
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Model directory ${JSON.stringify(dir)} does not exist; pass a local Hugging Face snapshot directory`,
    );
  });

  it('a file instead of a directory', async () => {
    const file = join(TINY_MODEL, 'config.json');
    await expect(Blip2Model.load(file)).rejects.toThrow(`Model path ${JSON.stringify(file)} is not a directory`);
  });

  it('missing config.json', async () => {
    const dir = join(root, 'empty');
    mkdirSync(dir);
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Cannot read model config ${join(dir, 'config.json')}: no such file; a BLIP-2 model directory needs config.json and model.safetensors`,
    );
  });

  it('malformed config.json', async () => {
    const dir = modelDir(undefined, '{"model_type": "blip-2",');
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Cannot parse model config ${join(dir, 'config.json')}: invalid JSON at line 1, column 25: unexpected end of file`);
  });

  it('unknown model_type', async () => {
    const dir = modelDir(undefined, JSON.stringify({ model_type: 'llava' }));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Unsupported model_type "llava" of type string in ${join(dir, 'config.json')}: expected "blip-2"`,
    );
  });

  it('a config value of the wrong type', async () => {
    const config = JSON.parse(readFileSync(join(TINY_MODEL, 'config.json'), 'utf8'));
    config.text_config.num_heads = 2.5;
    const dir = modelDir(undefined, JSON.stringify(config));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Expected integer between 1 and 1024 for text_config.num_heads in ${join(dir, 'config.json')} but received 2.5 of type number`,
    );
  });

  it('no weights file', async () => {
    const dir = modelDir();
    rmSync(join(dir, 'model.safetensors'));
    await expect(Blip2Model.load(dir)).rejects.toThrow(`No model.safetensors or model.safetensors.index.json in ${dir}`);
  });

  it('truncated safetensors', async () => {
    const dir = modelDir(original.subarray(0, original.length - 1000));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      /^Invalid safetensors file .*model\.safetensors: tensor "[^"]+" data_offsets \[\d+, \d+\] run past the end of the data \(\d+ bytes\); the file is truncated$/,
    );
  });

  it('file shorter than the header length field', async () => {
    const dir = modelDir(original.subarray(0, 5));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Invalid safetensors file ${join(dir, 'model.safetensors')}: file is 5 bytes, shorter than the 8-byte header length`,
    );
  });

  it('header length past the end of the file', async () => {
    const bytes = Uint8Array.from(original.subarray(0, 64));
    const dir = modelDir(bytes);
    await expect(Blip2Model.load(dir)).rejects.toThrow(/header length \d+ runs past the end of the file \(64 bytes\)/);
  });

  it('header offsets past the end of the data', async () => {
    const tensors = rawTensors(original);
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, t] of tensors) {
      header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
      offset += t.bytes.length;
    }
    const last = [...tensors.keys()].at(-1)!;
    (header[last] as { data_offsets: number[] }).data_offsets = [offset - 4, offset + 4096];
    const dir = modelDir(safetensorsBytes(tensors, JSON.stringify(header)));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `tensor "${last}" data_offsets [${offset - 4}, ${offset + 4096}] run past the end of the data (${offset} bytes)`,
    );
  });

  it('tensors whose bytes overlap', async () => {
    const tensors = rawTensors(original);
    const header = safetensorsHeader(tensors);
    const [a, b] = ['query_tokens', 'language_projection.bias'];
    const [begin, end] = header[a]!.data_offsets as [number, number];
    header[b]!.data_offsets = [begin + 4, begin + 4 + tensors.get(b)!.bytes.length];
    const dir = modelDir(safetensorsBytes(tensors, JSON.stringify(header)));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `tensors "${a}" [${begin}, ${end}] and "${b}" [${begin + 4}, ${begin + 4 + tensors.get(b)!.bytes.length}] overlap`);
  });

  it('a shape whose byte size overflows 64 bits (2^96 elements would wrap to 0 bytes)', async () => {
    const tensors = rawTensors(original);
    const header = safetensorsHeader(tensors);
    header.query_tokens!.shape = [2 ** 32, 2 ** 32, 2 ** 32];
    header.query_tokens!.data_offsets = [0, 0];
    const dir = modelDir(safetensorsBytes(tensors, JSON.stringify(header)));
    await expect(Blip2Model.load(dir)).rejects.toThrow('tensor "query_tokens" has a shape whose byte size overflows 64 bits');
  });

  it('header not JSON', async () => {
    const dir = modelDir(safetensorsBytes(rawTensors(original), '{"query_tokens": {"dtype": "F32", '));
    await expect(Blip2Model.load(dir)).rejects.toThrow(/header is not JSON \(invalid JSON at byte \d+: /);
  });

  it('wrong dtype string', async () => {
    const tensors = rawTensors(original);
    tensors.get('query_tokens')!.dtype = 'F33';
    const dir = modelDir(safetensorsBytes(tensors));
    await expect(Blip2Model.load(dir)).rejects.toThrow('tensor "query_tokens" has unknown dtype "F33"');
  });

  it('missing tensor', async () => {
    const tensors = rawTensors(original);
    tensors.delete('qformer.layernorm.weight');
    const dir = modelDir(safetensorsBytes(tensors));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      'Checkpoint does not match the model config:\n  missing tensors (1):\n    qformer.layernorm.weight',
    );
  });

  it('extra tensor', async () => {
    const tensors = rawTensors(original);
    tensors.set('qformer.embeddings.word_embeddings.weight', { dtype: 'F32', shape: [2, 2], bytes: new Uint8Array(16) });
    const dir = modelDir(safetensorsBytes(tensors));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      'Checkpoint does not match the model config:\n  unexpected tensors (1):\n    qformer.embeddings.word_embeddings.weight',
    );
  });

  it('mis-shaped tensor', async () => {
    const tensors = rawTensors(original);
    tensors.set('query_tokens', { dtype: 'F32', shape: [1, 5, 32], bytes: new Uint8Array(5 * 32 * 4) });
    const dir = modelDir(safetensorsBytes(tensors));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Checkpoint does not match the model config:\n  mis-shaped tensors (1):\n    query_tokens has shape [1, 5, 32] in ${join(dir, 'model.safetensors')} but the config expects [1, 6, 32]`,
    );
  });

  it('accepts the tied embed_tokens keys that some checkpoints keep', async () => {
    const tensors = rawTensors(original);
    const shared = tensors.get('language_model.shared.weight')!;
    tensors.set('language_model.encoder.embed_tokens.weight', shared);
    tensors.set('language_model.decoder.embed_tokens.weight', shared);
    const model = await Blip2Model.load(modelDir(safetensorsBytes(tensors)));
    expect(model.info().numTensors).toBe(129);
    model.dispose();
  });

  it('bad options name the option', async () => {
    await expect(Blip2Model.load(TINY_MODEL, { dtype: 'float64' as never })).rejects.toThrow(
      'Expected one of "float32", "bfloat16", "float16", "bfloat16-mixed", "int8", "auto" for dtype but received "float64" of type string',
    );
    await expect(Blip2Model.load(TINY_MODEL, { threads: 0 })).rejects.toThrow(
      'Expected integer between 1 and 1024 for threads but received 0 of type number',
    );
    await expect(Blip2Model.load(TINY_MODEL, { device: 'tpu' })).rejects.toThrow(
      `Expected 'cpu', 'cuda' or 'cuda:N' for device but received "tpu" of type string`,
    );
    await expect(Blip2Model.load(TINY_MODEL, { thread: 2 } as never)).rejects.toThrow(
      'Unknown option "thread" in options; expected one of "device", "dtype", "threads", "revision", "cacheDir", "offline", "onProgress", "signal"',
    );
  });
});

describe('sharded checkpoints', () => {
  it('load from model.safetensors.index.json and give the same outputs', async () => {
    const tensors = rawTensors(original);
    const names = [...tensors.keys()];
    const half = Math.ceil(names.length / 2);
    const shards = [names.slice(0, half), names.slice(half)];
    const dir = modelDir();
    rmSync(join(dir, 'model.safetensors'));
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensors(join(dir, file), new Map(shard.map((n) => [n, tensors.get(n)!])));
      for (const n of shard) weightMap[n] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    const sharded = await Blip2Model.load(dir);
    const single = await Blip2Model.load(TINY_MODEL);
    const inputs = {
      pixelValues: { data: new Float32Array(3 * 32 * 32).fill(0.25), shape: [1, 3, 32, 32] },
      inputIds: [[18, 31, 7, 1]],
      labels: [[3, 164, 46, 1]],
    };
    const a = await sharded.forward(inputs, ['logits']);
    const b = await single.forward(inputs, ['logits']);
    expect(Array.from(floatData(a.logits, 'logits'))).toEqual(Array.from(floatData(b.logits, 'logits')));
    sharded.dispose();
    single.dispose();
  });

  it('a weight_map entry that is not in its shard is an error', async () => {
    const dir = modelDir();
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { query_tokens: 'model.safetensors', ghost: 'model.safetensors' } }));
    await expect(Blip2Model.load(dir)).rejects.toThrow(
      `Invalid checkpoint index ${join(dir, 'model.safetensors.index.json')}: "ghost" is not in model.safetensors`,
    );
  });
});

describe('model handle', () => {
  it('use after dispose is an error, dispose twice is harmless', async () => {
    const model = await Blip2Model.load(TINY_MODEL);
    model.dispose();
    model.dispose();
    expect(model.disposed).toBe(true);
    expect(() => model.info()).toThrow('Model has been disposed; load it again to use it');
    await expect(
      model.forward({ pixelValues: { data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] }, inputIds: [[1]], labels: [[1]] }, ['logits']),
    ).rejects.toThrow('Model has been disposed; load it again to use it');
  });

  it('dispose while a forward is in flight lets that call finish', async () => {
    const model = await Blip2Model.load(TINY_MODEL);
    const pending = model.forward(
      { pixelValues: { data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] }, inputIds: [[1]], labels: [[5, 1]] },
      ['loss'],
    );
    model.dispose();
    const out = await pending;
    expect(Number.isFinite(Number(out.loss!.data[0]))).toBe(true);
  });

  it('bad forward inputs name the argument', async () => {
    const model = await Blip2Model.load(TINY_MODEL);
    const pixels = { data: new Float32Array(3 * 32 * 32), shape: [1, 3, 32, 32] };
    await expect(model.forward({ pixelValues: { data: new Float32Array(10), shape: [1, 3, 32, 32] }, inputIds: [[1]] }, ['logits'])).rejects.toThrow(
      'Expected {data: Float32Array, shape: [B, 3, 32, 32]} for pixelValues but received an object of type Object',
    );
    await expect(model.forward({ pixelValues: pixels, inputIds: [[1, 2], [3]] }, ['loss'])).rejects.toThrow(
      'Expected array of 2 integers (rows must have equal length) for inputIds[1] but received an array of length 1',
    );
    await expect(model.forward({ pixelValues: pixels, inputIds: [[4128]], labels: [[1]] }, ['loss'])).rejects.toThrow(
      'Expected token id between 0 and 4127 for inputIds[0][0] but received 4128 of type number',
    );
    await expect(model.forward({ pixelValues: pixels, inputIds: [[1]] }, ['loss'])).rejects.toThrow(
      'Expected label rows when asking for loss or token_logprobs for inputs.labels but received undefined',
    );
    await expect(model.forward({ pixelValues: pixels, inputIds: [[1]] }, ['hidden' as never])).rejects.toThrow(
      'Expected one of "vision_last_hidden_state"',
    );
    model.dispose();
  });
});
