// The module tree built from the real Salesforce/blip2-flan-t5-xl config lists exactly the 1289 tensors
// (3,942,446,592 parameters) of the Hugging Face model, names and shapes, without allocating any of them; the same
// for Salesforce/blip2-opt-2.7b, whose lm_head is tied to the token embeddings.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { parseBlip2Config } from '../../lib/model/config.js';
import { TINY, TINY_MODEL, TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

interface Manifest {
  num_tensors: number;
  total_parameters: number;
  keys_dropped_by_save_pretrained: string[];
  parameters: { name: string; shape: number[] }[];
}

describe('expected tensors', () => {
  it('equal the full-size manifest (blip2-flan-t5-xl)', () => {
    const manifest = JSON.parse(readFileSync(join(TINY, 'full-size', 'full-size-manifest.json'), 'utf8')) as Manifest;
    const config = parseBlip2Config(JSON.parse(readFileSync(join(TINY, 'full-size', 'config.json'), 'utf8')));
    const expected = Blip2Model.expectedTensors(config);
    const ours = new Map(expected.map((t) => [t.name, t.shape]));
    const theirs = new Map(manifest.parameters.map((p) => [p.name, p.shape]));
    const missing = [...theirs.keys()].filter((k) => !ours.has(k));
    const extra = [...ours.keys()].filter((k) => !theirs.has(k));
    const misShaped = [...theirs].filter(([k, s]) => ours.has(k) && JSON.stringify(ours.get(k)) !== JSON.stringify(s));
    expect({ missing, extra, misShaped }).toEqual({ missing: [], extra: [], misShaped: [] });
    const total = expected.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    console.log(`full size: ${expected.length} tensors, ${total.toLocaleString('en-US')} parameters`);
    expect(expected.length).toBe(1289);
    expect(total).toBe(3_942_446_592);
    expect(manifest.keys_dropped_by_save_pretrained.every((k) => !ours.has(k))).toBe(true);
  });

  it('equal the tiny checkpoint keys', () => {
    const config = parseBlip2Config(JSON.parse(readFileSync(join(TINY_MODEL, 'config.json'), 'utf8')));
    const bytes = readFileSync(join(TINY_MODEL, 'model.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
    delete header.__metadata__;
    const expected = Blip2Model.expectedTensors(config);
    expect(expected.length).toBe(129);
    expect(Object.fromEntries(expected.map((t) => [t.name, t.shape]))).toEqual(
      Object.fromEntries(Object.entries(header).map(([k, v]) => [k, v.shape])),
    );
  });

  it('equal the full-size OPT manifest (blip2-opt-2.7b), the tied lm_head aside', () => {
    const manifest = JSON.parse(readFileSync(join(TINY_OPT, 'full-size', 'full-size-manifest.json'), 'utf8')) as {
      num_tensors: number;
      tensors: { name: string; shape: number[] }[];
    };
    const config = parseBlip2Config(JSON.parse(readFileSync(join(TINY_OPT, 'full-size', 'config.json'), 'utf8')));
    const expected = Blip2Model.expectedTensors(config);
    const ours = new Map(expected.map((t) => [t.name, t.shape]));
    const theirs = new Map(manifest.tensors.map((p) => [p.name, p.shape]));
    const tied = 'language_model.lm_head.weight';
    expect(theirs.get(tied)).toEqual(ours.get('language_model.model.decoder.embed_tokens.weight'));
    theirs.delete(tied);
    const missing = [...theirs.keys()].filter((k) => !ours.has(k));
    const extra = [...ours.keys()].filter((k) => !theirs.has(k));
    const misShaped = [...theirs].filter(([k, s]) => ours.has(k) && JSON.stringify(ours.get(k)) !== JSON.stringify(s));
    expect({ missing, extra, misShaped }).toEqual({ missing: [], extra: [], misShaped: [] });
    const total = expected.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
    console.log(`full size OPT: ${expected.length} tensors, ${total.toLocaleString('en-US')} parameters`);
    expect(expected.length).toBe(manifest.num_tensors - 1);
    // the manifest's 3,873,376,256 counts the tied lm_head (50272 x 2560) a second time
    expect(total).toBe(3_873_376_256 - 50272 * 2560);
  });

  it('equal the tiny OPT checkpoint keys (which omit the tied lm_head)', () => {
    const config = parseBlip2Config(JSON.parse(readFileSync(join(TINY_OPT_MODEL, 'config.json'), 'utf8')));
    const bytes = readFileSync(join(TINY_OPT_MODEL, 'model.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { shape: number[] }>;
    delete header.__metadata__;
    const expected = Blip2Model.expectedTensors(config);
    expect(expected.length).toBe(123);
    expect(Object.fromEntries(expected.map((t) => [t.name, t.shape]))).toEqual(
      Object.fromEntries(Object.entries(header).map(([k, v]) => [k, v.shape])),
    );
  });
});
