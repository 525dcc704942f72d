// `blip2-progressive serve` on the tiny model: it listens on loopback, answers, and stops when told.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createNetServer } from 'node:net';
import { Command } from 'commander';
import { register } from '../../lib/cli/serve.js';
import { UsageError } from '../../lib/cli/usage.js';
import type { Logger } from '../../lib/logger.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';
import { postHead, rawConnect, within } from '../helpers/raw-http.js';

function recordingLogger(lines: string[]): Logger {
  return { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`) };
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
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: 0 }, r));
    const { port } = blocker.address() as { port: number };
    try {
      const program = new Command('blip2-progressive').exitOverride();
      register(program, async () => {}, recordingLogger([]));
      await expect(program.parseAsync(['serve', '--model', '/nonexistent/blip2-model', '--port', String(port)], { from: 'user' }))
        .rejects.toThrow(`Port ${port} on 127.0.0.1 is already in use; stop the other server or choose another port (0 picks a free one)`);
    } finally {
      blocker.close();
    }
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
