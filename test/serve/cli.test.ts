// `blip2-progressive serve` on the tiny model: it listens on loopback, answers, and stops when told.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer as createNetServer, type Server } from 'node:net';
import { Command } from 'commander';
import { parseAdapterFlag, register } from '../../lib/cli/serve.js';
import { UsageError } from '../../lib/cli/usage.js';
import type { Logger } from '../../lib/logger.js';
import { Blip2Model } from '../../lib/model/blip2-model.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { postHead, rawConnect, within } from '../helpers/raw-http.js';

function recordingLogger(lines: string[]): Logger {
  return { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`) };
}

/** A port another server holds (closed by the caller). */
async function busyPort(): Promise<{ port: number; blocker: Server }> {
  const blocker = createNetServer();
  await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r));
  return { port: (blocker.address() as { port: number }).port, blocker };
}

let root: string;
let stageAdapter: string;
let otherAdapter: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'blip2-serve-cli-'));
  stageAdapter = join(root, 'runs', 'x', 'stages', '1-lora', 'best');
  otherAdapter = join(root, 'zero');
  const model = await Blip2Model.load(TINY_MODEL, { threads: 1 });
  await model.addLora({ r: 2, alpha: 4 });
  await model.saveAdapter(stageAdapter);
  await model.saveAdapter(otherAdapter);
  model.dispose();
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs `serve` with these arguments; rejects with what the command threw. */
async function serve(args: string[], whileServing: (url: string) => Promise<void> = async () => {}, lines: string[] = []): Promise<void> {
  const program = new Command('blip2-progressive').exitOverride();
  register(program, whileServing, recordingLogger(lines));
  await program.parseAsync(['serve', ...args], { from: 'user' });
}

describe('blip2-progressive serve', () => {
  it('serves on 127.0.0.1 with the flags\' limits, then closes', async () => {
    const lines: string[] = [];
    let seen: { url: string; health: unknown; status: number; message: string } | undefined;
    const program = new Command('blip2-progressive').exitOverride();
    register(program, async (url) => {
      const health = await (await fetch(`${url}api/health`)).json();
      const res = await fetch(`${url}api/caption`, { method: 'POST', body: readFileSync(join(TINY, 'images', 'img0_rgb_64x48.png')) });
      seen = { url, health, status: res.status, message: ((await res.json()) as { message: string }).message };
    }, recordingLogger(lines));
    await program.parseAsync(['serve', '--model', TINY_MODEL, '--port', '0', '--threads', '1', '--max-upload-mb', '0.0003', '--queue', '3'], { from: 'user' });
    expect(seen!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(seen!.health).toEqual({
      status: 'ok', models: ['model'], queue: { running: 0, waiting: 0, concurrency: 1, maxWaiting: 3, completed: 0, timedOut: 0, rejected: 0, abandoned: 0 }, uploads: 0,
    });
    // 0.0003 MiB = 315 bytes < the 368-byte PNG
    expect([seen!.status, seen!.message]).toEqual([413, 'The upload is larger than the limit of 315 bytes']);
    expect(lines.at(-1)).toBe(`serving ${seen!.url} (API: ${seen!.url}api/caption, ${seen!.url}openapi.json); Ctrl-C stops`);
    await expect(fetch(seen!.url)).rejects.toThrow('fetch failed');
  });

  it('--allowed-host replaces the Host names; --receive-timeout cuts a slow body; --max-uploads and --max-connections reach the limits', async () => {
    let seen: { dropped: number; statuses: number[]; slow: { status: number; message: string }; described: string } | undefined;
    const program = new Command('blip2-progressive').exitOverride();
    register(program, async (url) => {
      const port = Number(new URL(url).port);
      const get = async (host: string, path: string) => {
        const c = await rawConnect(port);
        c.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        return within(2000, `GET ${path}`, c.response);
      };
      const statuses = [(await get(`127.0.0.1:${port}`, '/api/health')).status, (await get(`demo.test:${port}`, '/api/health')).status];
      const doc = JSON.parse((await get('demo.test', '/openapi.json')).body) as { paths: Record<string, { post?: { responses: Record<string, { description: string }> } }> };
      const slow = await rawConnect(port);
      slow.socket.write(`${postHead(port, 368, 'demo.test')}x`);
      const res = await within(3000, '408', slow.response);
      slow.socket.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const many = await Promise.all(Array.from({ length: 10 }, () => rawConnect(port)));
      let dropped = 0;
      for (const c of many) void c.closed.then(() => dropped++);
      // the extra one is closed at once; the others would be at the 300 ms receive deadline
      await new Promise((r) => setTimeout(r, 150));
      many.forEach((c) => c.socket.destroy());
      seen = { dropped, statuses, slow: { status: res.status, message: (JSON.parse(res.body) as { message: string }).message }, described: doc.paths['/api/caption']!.post!.responses['503']!.description };
    }, recordingLogger([]));
    await program.parseAsync([
      'serve', '--model', TINY_MODEL, '--port', '0', '--threads', '1', '--allowed-host', 'demo.test', '--receive-timeout', '0.3', '--max-uploads', '5', '--max-connections', '9',
    ], { from: 'user' });
    expect(seen).toEqual({
      dropped: 1, statuses: [403, 200], slow: { status: 408, message: 'The request was not received within 300 ms' },
      described: 'Queue full (8 waiting) or 5 uploads in progress; answered before the body is read',
    });
  });

  it('reports a busy port before looking for the model', async () => {
    const { port, blocker } = await busyPort();
    try {
      await expect(serve(['--model', '/nonexistent/blip2-model', '--port', String(port)]))
        .rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use; stop the other server or pass another --port (--port 0 picks a free one)`);
    } finally {
      blocker.close();
    }
  });

  it('a busy port ends the command with exit code 1 and one error line, without loading a model', async () => {
    const { port, blocker } = await busyPort();
    try {
      const started = performance.now();
      const run = spawnSync(process.execPath, ['--import', 'tsx', resolve('lib/cli/main.ts'), 'serve', '--model', TINY_MODEL, '--port', String(port)], { encoding: 'utf8', timeout: 60_000 });
      const seconds = (performance.now() - started) / 1000;
      expect(run.stderr).toBe(`error: Port ${port} on 127.0.0.1 is already in use; stop the other server or pass another --port (--port 0 picks a free one)\n`);
      expect(run.status).toBe(1);
      console.log(`busy port reported in ${seconds.toFixed(1)} s (Node and tsx start-up included)`);
    } finally {
      blocker.close();
    }
  }, 90_000);

  it('--adapter name=dir and --with-base: the base model first, then the adapters under their names (stage folder by default)', async () => {
    let seen: { models: unknown; captions: unknown } | undefined;
    const lines: string[] = [];
    await serve(['--model', TINY_MODEL, '--port', '0', '--threads', '1', '--with-base', '--share-base', '--adapter', `zero=${otherAdapter}`, '--adapter', stageAdapter], async (url) => {
      const health = await (await fetch(`${url}api/health`)).json() as { models: string[] };
      const res = await fetch(`${url}api/caption`, { method: 'POST', body: readFileSync(join(TINY, 'images', 'img3_rgba_30x60.png')) });
      seen = { models: health.models, captions: ((await res.json()) as { captions: { model: string }[] }).captions.map((c) => c.model) };
    }, lines);
    expect(seen).toEqual({ models: ['model', 'zero', '1-lora'], captions: ['model', 'zero', '1-lora'] });
    const adapterLines = lines.filter((l) => l.startsWith('adapter '));
    expect(adapterLines.map((l) => l.replace(/: \d+ LoRA modules,/, ': N LoRA modules,')))
      .toEqual([`adapter ${otherAdapter}: N LoRA modules, served as "zero"`, `adapter ${stageAdapter}: N LoRA modules, served as "1-lora"`]);
  });

  it('adapter mistakes are usage errors, named before the port, the model or the weights are touched', async () => {
    const { port, blocker } = await busyPort();
    const missing = ['--model', '/nonexistent/blip2-model', '--port', String(port)];
    try {
      await expect(serve([...missing, '--adapter', `a=${otherAdapter}`, '--adapter', `a=${stageAdapter}`]))
        .rejects.toThrow(new UsageError('--adapter: two adapters are shown as "a"; name them apart with --adapter <name>=<dir>'));
      await expect(serve([...missing, '--adapter', stageAdapter, '--adapter', stageAdapter]))
        .rejects.toThrow(new UsageError(`--adapter: two adapters are shown as ${JSON.stringify(stageAdapter)}; name them apart with --adapter <name>=<dir>`));
      await expect(serve([...missing, '--adapter', join(root, 'nope')]))
        .rejects.toThrow(new UsageError(`--adapter ${join(root, 'nope')}: no such directory; pass a LoRA adapter directory (adapter_config.json and adapter_model.safetensors)`));
      await expect(serve([...missing, '--adapter', '=x'])).rejects.toThrow(new UsageError('--adapter expects <dir> or <name>=<dir> but received "=x"'));
      // a folder that is neither an adapter nor a finished run (here: the runs folder above one)
      const runs = join(root, 'runs');
      await expect(serve([...missing, '--adapter', `r=${runs}`])).rejects.toThrow(new UsageError(`--adapter ${runs}: No adapter_config.json in ${JSON.stringify(runs)}; ` +
        `looked for ${JSON.stringify(join(runs, 'adapter_config.json'))} (an adapter folder: adapter_config.json and adapter_model.safetensors) and for ` +
        `${JSON.stringify(join(runs, 'config.json'))} with ${JSON.stringify(join(runs, 'run-state.json'))} (a training run folder, whose final stage's best adapter would be loaded)`));
    } finally {
      blocker.close();
    }
    // the base model's name is known once --model is resolved, still before loading
    await expect(serve(['--model', TINY_MODEL, '--port', '0', '--with-base', '--adapter', `model=${otherAdapter}`]))
      .rejects.toThrow(new UsageError('--with-base: the base model is shown as "model", like an adapter; give that adapter another name with --adapter <name>=<dir>'));
  });

  it('reads name=dir only when the = comes before any path separator', () => {
    expect(parseAdapterFlag('lora=runs/x/stages/1-lora/best')).toEqual({ name: 'lora', dir: 'runs/x/stages/1-lora/best' });
    expect(parseAdapterFlag('my adapter =a=b')).toEqual({ name: 'my adapter', dir: 'a=b' });
    expect(parseAdapterFlag('runs/lr=1e-4/best')).toBe('runs/lr=1e-4/best');
    expect(parseAdapterFlag('./lr=1e-4')).toBe('./lr=1e-4');
    expect(parseAdapterFlag('runs/x')).toBe('runs/x');
    expect(() => parseAdapterFlag('lora=')).toThrow(new UsageError('--adapter expects <dir> or <name>=<dir> but received "lora="'));
  });

  it('names a bad flag and its expected form', async () => {
    const program = new Command('blip2-progressive').exitOverride();
    register(program, async () => {}, recordingLogger([]));
    await expect(program.parseAsync(['serve', '--port', '70000'], { from: 'user' }))
      .rejects.toThrow(new UsageError('--port expects an integer between 0 and 65535 but received "70000"'));
    await expect(program.parseAsync(['serve', '--timeout', '0'], { from: 'user' }))
      .rejects.toThrow(new UsageError('--timeout expects a number between 0.001 and 86400 but received "0"'));
  });
});
