// The demo server with an OPT model beside a Flan-T5 one: one request captions with both, and the OPT caption is
// Hugging Face's generate() result (../fixtures/blip2-opt-tiny/generation.json, main/greedy).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Blip2Captioner } from '../../lib/captioner.js';
import { createServer } from '../../lib/serve/server.js';
import { TINY_MODEL, TINY_OPT, TINY_OPT_MODEL } from '../helpers/paths.js';

const PNG = join(TINY_OPT, 'images', 'img0_rgb_64x48.png');
let t5: Blip2Captioner;
let opt: Blip2Captioner;
let app: FastifyInstance;

beforeAll(async () => {
  [t5, opt] = await Promise.all([
    Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 }), Blip2Captioner.fromPretrained(TINY_OPT_MODEL, { threads: 1 }),
  ]);
  app = await createServer({ models: [{ name: 'flan-t5', captioner: t5 }, { name: 'opt', captioner: opt }] });
}, 60_000);
afterAll(async () => {
  await app?.close();
  t5?.dispose();
  opt?.dispose();
});

describe('POST /api/caption with an OPT model', () => {
  it('captions with both families; the OPT caption is HF generate()\'s', async () => {
    const golden = JSON.parse(readFileSync(join(TINY_OPT, 'generation.json'), 'utf8')) as {
      cases: Record<string, { sequences: number[][]; texts: string[] }>;
    };
    const [expectedT5] = await t5.caption([PNG], { maxNewTokens: 12, prompt: 'a photo of' });
    const res = await app.inject({
      method: 'POST', url: `/api/caption?options=${encodeURIComponent('{"maxNewTokens":12,"prompt":"a photo of"}')}`,
      headers: { 'content-type': 'image/png' }, payload: readFileSync(PNG),
    });
    expect(res.statusCode).toBe(200);
    const captions = res.json().captions as { model: string; text: string; tokenIds: number[] }[];
    expect(captions.map((c) => c.model)).toEqual(['flan-t5', 'opt']);
    expect(captions[0]!.tokenIds).toEqual(expectedT5!.tokenIds);
    expect(captions[1]!.tokenIds).toEqual(golden.cases['main/greedy']!.sequences[0]);
    expect(captions[1]!.text).toBe(golden.cases['main/greedy']!.texts[0]!.trim());
  });
});
