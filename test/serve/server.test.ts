// The HTTP API on the tiny fixture model: captions equal the library's, and every limit answers with its status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Blip2Captioner } from '../../lib/captioner.js';
import { adapterNames, createServer, type CreateServerOptions } from '../../lib/serve/server.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { rawTensors, writeSafetensors } from '../helpers/safetensors-writer.js';

const PNG = join(TINY, 'images', 'img0_rgb_64x48.png');
const JPEG = join(TINY, 'images', 'img1_rgb_40x72.jpg');
const pngBytes = readFileSync(PNG);
const jpegBytes = readFileSync(JPEG);

let captioner: Blip2Captioner;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  captioner = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
}, 60_000);
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  captioner?.dispose();
});

async function server(options: Partial<CreateServerOptions> = {}): Promise<FastifyInstance> {
  const app = await createServer({ models: [{ name: 'tiny', captioner }], ...options });
  apps.push(app);
  return app;
}

/** A multipart/form-data body with the given parts (files have a filename and a content type). */
function multipart(parts: { name: string; value: Buffer | string; filename?: string; type?: string }[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----blip2test7f3a';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disposition = `Content-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\n${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`), Buffer.from(p.value), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => { resolve = r; });
  return { promise, resolve };
}

/** A gate for `beforeCaption`: each caption job signals that it started, then waits until the test opens the gate. */
function gate() {
  const open = deferred();
  const started: (() => void)[] = [];
  const waitStarted: Promise<void>[] = [];
  for (let i = 0; i < 8; i++) {
    const d = deferred();
    started.push(d.resolve);
    waitStarted.push(d.promise);
  }
  let n = 0;
  return {
    hook: async () => { started[n++]?.(); await open.promise; },
    started: (i: number) => waitStarted[i]!,
    open: open.resolve,
  };
}

describe('POST /api/caption', () => {
  it('raw bytes with options in the query: the caption equals the library\'s', async () => {
    const app = await server();
    const [expected] = await captioner.caption([PNG], { maxNewTokens: 8, numBeams: 2 });
    const res = await app.inject({
      method: 'POST', url: `/api/caption?options=${encodeURIComponent('{"maxNewTokens":8,"numBeams":2}')}`,
      headers: { 'content-type': 'image/png' }, payload: pngBytes,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.captions).toEqual([{ model: 'tiny', text: expected!.text, tokenIds: expected!.tokenIds, score: expected!.score }]);
    expect(Object.keys(body.timings)).toEqual(['preprocessMs', 'generateMs', 'totalMs']);
    expect(body.timings.totalMs).toBeGreaterThanOrEqual(body.timings.generateMs);
    console.log(`caption: ${JSON.stringify(expected!.text)}, ${body.timings.totalMs} ms`);
  });

  it('multipart with an options field; the Content-Type and file name are not trusted', async () => {
    const app = await server();
    const [expected] = await captioner.caption([JPEG], { maxNewTokens: 6, prompt: 'a photo of' });
    const form = multipart([
      { name: 'options', value: '{"maxNewTokens":6,"prompt":"a photo of"}' },
      { name: 'image', value: jpegBytes, filename: 'notes.txt', type: 'text/plain' },
    ]);
    const res = await app.inject({ method: 'POST', url: '/api/caption', ...form });
    expect(res.statusCode).toBe(200);
    expect(res.json().captions[0].tokenIds).toEqual(expected!.tokenIds);
    // raw JPEG bytes labelled as something else, options in the header
    const raw = await app.inject({
      method: 'POST', url: '/api/caption', payload: jpegBytes,
      headers: { 'content-type': 'application/octet-stream', 'x-caption-options': '{"maxNewTokens":6,"prompt":"a photo of"}' },
    });
    expect(raw.json().captions[0].text).toBe(expected!.text);
  });

  it('oversize upload → 413 (raw body and multipart)', async () => {
    const app = await server({ limits: { uploadBytes: 300 } });
    expect(pngBytes.length).toBe(368);
    const message = 'The upload is larger than the limit of 300 bytes';
    const raw = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
    expect(raw.statusCode).toBe(413);
    expect(raw.json()).toEqual({ statusCode: 413, error: 'Payload Too Large', message });
    const form = await app.inject({ method: 'POST', url: '/api/caption', ...multipart([{ name: 'image', value: pngBytes, filename: 'a.png', type: 'image/png' }]) });
    expect(form.statusCode).toBe(413);
    expect(form.json().message).toBe(message);
  });

  it('image over the pixel limit → 413 naming its size', async () => {
    const app = await server({ limits: { maxPixels: 1000 } });
    const res = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toBe('The image cannot be used: 64x48 = 3072 pixels exceeds limitInputPixels 1000');
  });

  it('not an image → 415 with a clear message; SVG → 415; truncated image → 422', async () => {
    const app = await server();
    const text = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: 'GIF? no, plain text' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({
      statusCode: 415, error: 'Unsupported Media Type',
      message: 'The upload is not an image: its first bytes match no supported format (the file name and Content-Type are not trusted); send JPEG, PNG, GIF, WebP, TIFF or AVIF',
    });
    const svg = await app.inject({
      method: 'POST', url: '/api/caption',
      ...multipart([{ name: 'image', value: '<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', filename: 'a.png', type: 'image/png' }]),
    });
    expect(svg.statusCode).toBe(415);
    expect(svg.json().message).toBe('SVG and other XML uploads are refused (they can reference external resources); send JPEG, PNG, GIF, WebP, TIFF or AVIF');
    const json = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'application/json' }, payload: '{"image":"/etc/passwd"}' });
    expect(json.statusCode).toBe(415);
    const truncated = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/jpeg' }, payload: jpegBytes.subarray(0, 200) });
    expect(truncated.statusCode).toBe(422);
    expect(truncated.json().message).toBe('The image cannot be used: corrupt image header');
  });

  it('bad options → 400 naming the option; bad multipart fields → 400', async () => {
    const app = await server();
    const post = (options: string) => app.inject({
      method: 'POST', url: `/api/caption?options=${encodeURIComponent(options)}`, headers: { 'content-type': 'image/png' }, payload: pngBytes,
    });
    const unknown = await post('{"num_beams":2}');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toBe('Unknown option "num_beams" in options; expected one of "prompt", "maxNewTokens", "minNewTokens", "numBeams", ' +
      '"numReturnSequences", "lengthPenalty", "noRepeatNgramSize", "doSample", "temperature", "topP", "seed"');
    expect((await post('{"numBeams":9}')).json().message).toBe('Expected integer between 1 and 8 for numBeams but received 9 of type number');
    const bad = await post('{"minNewTokens":65}');
    expect([bad.statusCode, bad.json().message]).toEqual([400, 'Expected integer between 0 and 64 for minNewTokens but received 65 of type number']);
    expect((await post('{"lengthPenalty":"long"}')).json().message).toBe('Expected number between -10 and 10 for lengthPenalty but received "long" of type string');
    expect((await post('{"noRepeatNgramSize":-2}')).json().message).toBe('Expected integer between 0 and 64 for noRepeatNgramSize but received -2 of type number');
    expect((await post('{"numReturnSequences":2}')).json().message)
      .toBe('Expected integer between 1 and 1 (greedy search returns one sequence; set numBeams or doSample) for numReturnSequences but received 2 of type number');
    expect((await post('{"numBeams":2,"numReturnSequences":3}')).json().message).toBe('Expected integer between 1 and 2 for numReturnSequences but received 3 of type number');
    expect((await post('{numBeams')).json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Expected JSON for the options query parameter but received "{numBeams"' });
    const noImage = await app.inject({ method: 'POST', url: '/api/caption', ...multipart([{ name: 'options', value: '{}' }]) });
    expect(noImage.statusCode).toBe(400);
    expect(noImage.json().message).toBe('The multipart request has no file field "image"');
    const extra = await app.inject({ method: 'POST', url: '/api/caption', ...multipart([{ name: 'path', value: '/etc/passwd' }, { name: 'image', value: pngBytes, filename: 'a.png' }]) });
    expect(extra.json().message).toBe('Unexpected multipart field "path"; send one file field "image" and optionally a field "options" (JSON)');
  });
});

describe('generation options through the API', () => {
  it('minNewTokens, lengthPenalty and noRepeatNgramSize reach the model: the captions equal the library\'s with them', async () => {
    const app = await server();
    const post = (options: object) => app.inject({
      method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/jpeg', 'x-caption-options': JSON.stringify(options) }, payload: jpegBytes,
    });
    const [plain] = await captioner.caption([JPEG], { maxNewTokens: 30 });
    // the tiny model's greedy caption of this image ends after 9 tokens; 12 before EOS is then a visible change
    expect(plain!.tokenIds.length).toBe(1 + 9);
    const cases = [
      { maxNewTokens: 30, minNewTokens: 12 },
      { maxNewTokens: 30, minNewTokens: 12, noRepeatNgramSize: 2 },
      { maxNewTokens: 30, minNewTokens: 12, numBeams: 3, lengthPenalty: -2 },
      { maxNewTokens: 30, minNewTokens: 12, numBeams: 3, lengthPenalty: 2 },
    ];
    const seen: number[][] = [];
    for (const options of cases) {
      const [expected] = await captioner.caption([JPEG], options);
      const res = await post(options);
      expect(res.statusCode).toBe(200);
      const [caption] = res.json().captions;
      expect(caption).toEqual({ model: 'tiny', text: expected!.text, tokenIds: expected!.tokenIds, score: expected!.score });
      // start token + at least 12 new tokens
      expect(caption.tokenIds.length).toBeGreaterThanOrEqual(13);
      seen.push(caption.tokenIds);
    }
    // no bigram twice when asked (the decoder start token counts, as in HF)
    const ids = seen[1]!;
    const bigrams = ids.slice(1).map((id, i) => `${ids[i]} ${id}`);
    expect(new Set(bigrams).size).toBe(bigrams.length);
    const repeats = (t: number[]) => t.length - 1 - new Set(t.slice(1).map((id, i) => `${t[i]} ${id}`)).size;
    expect(repeats(seen[0]!)).toBeGreaterThan(0);
    // the length penalty changes which beam wins
    expect(seen[2]).not.toEqual(seen[3]);
  });

  it('numReturnSequences: one caption per model holding every sequence, best first, as the library returns them', async () => {
    const app = await server();
    const [expected] = await captioner.caption([PNG], { maxNewTokens: 8, numBeams: 3, numReturnSequences: 3 }) as unknown as [{ text: string; tokenIds: number[]; score: number }[]];
    expect(expected).toHaveLength(3);
    const res = await app.inject({
      method: 'POST', url: '/api/caption', ...multipart([{ name: 'options', value: '{"maxNewTokens":8,"numBeams":3,"numReturnSequences":3}' }, { name: 'image', value: pngBytes, filename: 'a.png' }]),
    });
    expect(res.statusCode).toBe(200);
    const sequences = expected.map(({ text, tokenIds, score }) => ({ text, tokenIds, score }));
    expect(res.json().captions).toEqual([{ model: 'tiny', ...sequences[0]!, sequences }]);
    // beam scores come best first
    expect(sequences.map((s) => s.score)).toEqual([...sequences.map((s) => s.score)].sort((a, b) => b - a));
    // sampling: as many as asked, seeded like the library
    const [sampled] = await captioner.caption([PNG], { maxNewTokens: 8, doSample: true, seed: 4, numReturnSequences: 2 }) as unknown as [{ tokenIds: number[] }[]];
    const raw = await app.inject({
      method: 'POST', url: '/api/caption', payload: pngBytes,
      headers: { 'content-type': 'image/png', 'x-caption-options': '{"maxNewTokens":8,"doSample":true,"seed":4,"numReturnSequences":2}' },
    });
    expect(raw.json().captions[0].sequences.map((s: { tokenIds: number[] }) => s.tokenIds)).toEqual(sampled.map((s) => s.tokenIds));
  });
});

describe('queue, deadline and health', () => {
  it('queue full → 503 with Retry-After', async () => {
    const g = gate();
    const app = await server({ limits: { maxWaiting: 1 }, beforeCaption: g.hook });
    const post = () => app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
    const running = post();
    await g.started(0);
    const waiting = post();
    await new Promise((r) => setImmediate(r));
    const refused = await post();
    expect(refused.statusCode).toBe(503);
    // 2 requests ahead x the initial 1 s estimate
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.json().message).toBe('The server is busy: 1 requests are already waiting; retry in about 2 s');
    g.open();
    expect((await running).statusCode).toBe(200);
    expect((await waiting).statusCode).toBe(200);
  });

  it('a caption past its deadline → 504', async () => {
    const g = gate();
    const app = await server({ limits: { timeoutMs: 50 }, beforeCaption: g.hook });
    const res = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
    expect(res.statusCode).toBe(504);
    expect(res.json().message).toBe('The request took longer than 50 ms (still captioning)');
    g.open();
  });

  it('health answers on a real socket while a caption is in flight; 20 concurrent requests are all answered', async () => {
    const g = gate();
    const app = await server({ limits: { maxWaiting: 32 }, beforeCaption: g.hook });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const post = () => fetch(`${url}/api/caption?options=${encodeURIComponent('{"maxNewTokens":5}')}`, {
      method: 'POST', body: pngBytes, headers: { 'content-type': 'image/png' },
    });
    const inFlight = Array.from({ length: 20 }, post);
    await g.started(0);
    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok', models: ['tiny'],
      queue: { running: 1, waiting: 19, concurrency: 1, maxWaiting: 32, completed: 0, timedOut: 0, rejected: 0, abandoned: 0 }, uploads: 0,
    });
    g.open();
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual(new Array(20).fill(200));
    const [expected] = await captioner.caption([PNG], { maxNewTokens: 5 });
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ captions: { text: string; tokenIds: number[] }[] }>));
    expect(new Set(bodies.map((b) => JSON.stringify(b.captions[0]!.tokenIds)))).toEqual(new Set([JSON.stringify(expected!.tokenIds)]));
    expect(((await (await fetch(`${url}/api/health`)).json()) as { queue: { completed: number } }).queue.completed).toBe(20);
  });
});

describe('documents and models', () => {
  it('serves the OpenAPI 3.1 description and the page', async () => {
    const app = await server();
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/api/caption', '/api/health', '/']);
    const properties = doc.components.schemas.CaptionOptions.properties;
    expect(Object.keys(properties)).toEqual([
      'prompt', 'maxNewTokens', 'minNewTokens', 'numBeams', 'numReturnSequences', 'lengthPenalty', 'noRepeatNgramSize', 'doSample', 'temperature', 'topP', 'seed',
    ]);
    // the server's limits (64 tokens, 8 beams by default) and the library's length penalty range
    expect([properties.minNewTokens, properties.numReturnSequences, properties.noRepeatNgramSize].map((p: { minimum: number; maximum: number }) => [p.minimum, p.maximum]))
      .toEqual([[0, 64], [1, 8], [0, 64]]);
    expect([properties.lengthPenalty.minimum, properties.lengthPenalty.maximum]).toEqual([-10, 10]);
    expect(doc.components.schemas.Caption.properties.sequences.items).toEqual({ $ref: '#/components/schemas/Sequence' });
    const page = await app.inject({ url: '/' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    expect((await app.inject({ url: '/etc/passwd' })).json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'No route GET /etc/passwd' });
  });

  it('one captioner per adapter, captions side by side, named by stage or as given; withBase adds the base model first; shareBase swaps on one model with the same captions', async () => {
    const root = mkdtempSync(join(tmpdir(), 'blip2-serve-'));
    try {
      const adapters = [join(root, 'runs', 'x', 'stages', '1-lora', 'best'), join(root, 'runs', 'x', 'stages', '2-scst', 'best')];
      for (const dir of adapters) {
        const c = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
        await c.model.addLora({ r: 2, alpha: 4 });
        await c.model.saveAdapter(dir);
        c.dispose();
      }
      // stage 1 keeps PEFT's zero-initialised B (the base model's captions); stage 2 gets B = 0.5 sin(k)
      const file = join(adapters[1]!, 'adapter_model.safetensors');
      const tensors = rawTensors(readFileSync(file));
      let k = 0;
      for (const [name, t] of tensors) {
        if (!name.includes('lora_B')) continue;
        const values = Float32Array.from({ length: t.bytes.length / 4 }, () => 0.5 * Math.sin(++k));
        tensors.set(name, { ...t, bytes: new Uint8Array(values.buffer) });
      }
      writeSafetensors(file, tensors);
      const reference = await Blip2Captioner.fromPretrained(TINY_MODEL, { threads: 1 });
      await reference.model.loadAdapter(adapters[1]!);
      const [adapted] = await reference.caption([PNG]);
      reference.dispose();
      const [base] = await captioner.caption([PNG]);
      expect(adapted!.tokenIds).not.toEqual(base!.tokenIds);
      const configs: { options: Partial<CreateServerOptions>; expected: [string, number[]][] }[] = [
        { options: { adapters, shareBase: false }, expected: [['1-lora', base!.tokenIds], ['2-scst', adapted!.tokenIds]] },
        {
          options: { adapters: [{ name: 'zero', dir: adapters[0]! }, adapters[1]!], withBase: true, shareBase: false },
          expected: [['model', base!.tokenIds], ['zero', base!.tokenIds], ['2-scst', adapted!.tokenIds]],
        },
        // the second round captions with the base model right after the changing adapter: the swap removes it
        { options: { adapters, withBase: true, shareBase: true }, expected: [['model', base!.tokenIds], ['1-lora', base!.tokenIds], ['2-scst', adapted!.tokenIds]] },
      ];
      for (const { options, expected } of configs) {
        const app = await createServer({ modelDir: TINY_MODEL, loadOptions: { threads: 1 }, ...options });
        apps.push(app);
        for (let round = 0; round < 2; round++) {
          const res = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
          expect(res.json().captions.map((c: { model: string; tokenIds: number[] }) => [c.model, c.tokenIds])).toEqual(expected);
        }
        expect((await app.inject({ url: '/api/health' })).json().models).toEqual(expected.map(([name]) => name));
      }
      await expect(createServer({ modelDir: TINY_MODEL, adapters, shareBase: true, limits: { concurrency: 2 } }))
        .rejects.toThrow(new TypeError('shareBase swaps adapters on one model, so it needs limits.concurrency 1'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names adapters by their stage or run folder, with as many parent folders as tell them apart', () => {
    expect(adapterNames(['runs/a/lora', 'runs/a/scst/'])).toEqual(['lora', 'scst']);
    expect(adapterNames(['runs/x/stages/1-lora/best', 'runs/x/stages/3-scst/best', 'runs/mine'])).toEqual(['1-lora', '3-scst', 'mine']);
    expect(adapterNames(['runs/a/stages/1-lora/best', 'runs/b/stages/1-lora/best', 'c/x'])).toEqual(['a/1-lora', 'b/1-lora', 'x']);
    expect(adapterNames(['a/best', 'b/final', 'best'])).toEqual(['a', 'b', 'best']);
    expect(adapterNames(['runs\\win\\stages\\2-da\\best'])).toEqual(['2-da']);
    // nothing tells these apart: the paths as given
    expect(adapterNames(['x/1-lora/best', 'x/1-lora/final', './x/1-lora/best'])).toEqual(['x/1-lora/best', 'x/1-lora/final', './x/1-lora/best']);
  });

  it('refuses two models of one name before loading anything', async () => {
    const missing = '/nonexistent/blip2-model';
    await expect(createServer({ modelDir: missing, adapters: [{ name: 'a', dir: 'x' }, { name: 'a', dir: 'y' }] }))
      .rejects.toThrow(new TypeError('Two models are named "a"; give each adapter its own name ({ name, dir } in adapters)'));
    await expect(createServer({ modelDir: missing, adapters: ['runs/x/best', 'runs/x/best'] }))
      .rejects.toThrow(new TypeError('Two models are named "runs/x/best"; give each adapter its own name ({ name, dir } in adapters)'));
    await expect(createServer({ modelDir: missing, withBase: true, adapters: [{ name: 'blip2-model', dir: 'x' }] }))
      .rejects.toThrow(new TypeError('Two models are named "blip2-model"; give each adapter its own name ({ name, dir } in adapters)'));
    await expect(createServer({ modelDir: missing, adapters: [{ name: '', dir: 'x' }] }))
      .rejects.toThrow(new TypeError('Expected non-empty string for adapters[0].name but received "" of type string'));
    await expect(createServer({ models: [{ name: 't', captioner }, { name: 't', captioner }] }))
      .rejects.toThrow(new TypeError('Two models are named "t"; give each its own name'));
  });

  it('validates its options', async () => {
    await expect(createServer({ models: [] })).rejects.toThrow(new TypeError('Expected non-empty array of { name, captioner } for models but received an array of length 0'));
    await expect(createServer({ models: [{ name: 't', captioner }], limits: { uploadBytes: 0 } }))
      .rejects.toThrow(new TypeError('Expected integer between 1 and 9007199254740991 for uploadBytes but received 0 of type number'));
    await expect(createServer({ modelDir: TINY_MODEL, limits: { queue: 3 } as never }))
      .rejects.toThrow(new TypeError('Unknown option "queue" in limits; expected one of "uploadBytes", "maxPixels", "concurrency", "maxWaiting", "maxUploads", "maxConnections", "receiveTimeoutMs", "timeoutMs", "options"'));
  });
});
