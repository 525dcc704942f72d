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
    expect(unknown.json().message).toBe('Unknown option "num_beams" in options; expected one of "prompt", "maxNewTokens", "numBeams", "doSample", "temperature", "topP", "seed"');
    expect((await post('{"numBeams":9}')).json().message).toBe('Expected integer between 1 and 8 for numBeams but received 9 of type number');
    expect((await post('{numBeams')).json()).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Expected JSON for the options query parameter but received "{numBeams"' });
    const noImage = await app.inject({ method: 'POST', url: '/api/caption', ...multipart([{ name: 'options', value: '{}' }]) });
    expect(noImage.statusCode).toBe(400);
    expect(noImage.json().message).toBe('The multipart request has no file field "image"');
    const extra = await app.inject({ method: 'POST', url: '/api/caption', ...multipart([{ name: 'path', value: '/etc/passwd' }, { name: 'image', value: pngBytes, filename: 'a.png' }]) });
    expect(extra.json().message).toBe('Unexpected multipart field "path"; send one file field "image" and optionally a field "options" (JSON)');
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
    expect((await (await fetch(`${url}/api/health`)).json()).queue.completed).toBe(20);
  });
});

describe('documents and models', () => {
  it('serves the OpenAPI 3.1 description and the page', async () => {
    const app = await server();
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(['/api/caption', '/api/health', '/']);
    expect(Object.keys(doc.components.schemas.CaptionOptions.properties)).toEqual(['prompt', 'maxNewTokens', 'numBeams', 'doSample', 'temperature', 'topP', 'seed']);
    const page = await app.inject({ url: '/' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).not.toMatch(/(src|href)="https?:/);
    expect((await app.inject({ url: '/etc/passwd' })).json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'No route GET /etc/passwd' });
  });

  it('one captioner per adapter, captions side by side; shareBase swaps adapters on one model with the same captions', async () => {
    const root = mkdtempSync(join(tmpdir(), 'blip2-serve-'));
    try {
      const adapters = [join(root, '1-lora', 'best'), join(root, '2-scst', 'best')];
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
      const expected = [[adapters[0], base!.tokenIds], [adapters[1], adapted!.tokenIds]];
      for (const shareBase of [false, true]) {
        const app = await createServer({ modelDir: TINY_MODEL, adapters, shareBase, loadOptions: { threads: 1 } });
        apps.push(app);
        for (let round = 0; round < 2; round++) {
          const res = await app.inject({ method: 'POST', url: '/api/caption', headers: { 'content-type': 'image/png' }, payload: pngBytes });
          expect(res.json().captions.map((c: { model: string; tokenIds: number[] }) => [c.model, c.tokenIds])).toEqual(expected);
        }
        expect((await app.inject({ url: '/api/health' })).json().models).toEqual(adapters);
      }
      await expect(createServer({ modelDir: TINY_MODEL, adapters, shareBase: true, limits: { concurrency: 2 } }))
        .rejects.toThrow(new TypeError('shareBase swaps adapters on one model, so it needs limits.concurrency 1'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('names adapters by their last path part unless two clash', () => {
    expect(adapterNames(['runs/a/lora', 'runs/a/scst/'])).toEqual(['lora', 'scst']);
    expect(adapterNames(['a/best', 'b/best', 'c/x'])).toEqual(['a/best', 'b/best', 'x']);
  });

  it('validates its options', async () => {
    await expect(createServer({ models: [] })).rejects.toThrow(new TypeError('Expected non-empty array of { name, captioner } for models but received an array of length 0'));
    await expect(createServer({ models: [{ name: 't', captioner }], limits: { uploadBytes: 0 } }))
      .rejects.toThrow(new TypeError('Expected integer between 1 and 9007199254740991 for uploadBytes but received 0 of type number'));
    await expect(createServer({ modelDir: TINY_MODEL, limits: { queue: 3 } as never }))
      .rejects.toThrow(new TypeError('Unknown option "queue" in limits; expected one of "uploadBytes", "maxPixels", "concurrency", "maxWaiting", "maxUploads", "maxConnections", "receiveTimeoutMs", "timeoutMs", "options"'));
  });
});
