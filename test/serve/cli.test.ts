// `blip2-progressive serve` on the tiny model: it listens on loopback, answers, and stops when told.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { register } from '../../lib/cli/serve.js';
import { UsageError } from '../../lib/cli/usage.js';
import type { Logger } from '../../lib/logger.js';
import { TINY, TINY_MODEL } from '../helpers/paths.js';

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

  it('names a bad flag and its expected form', async () => {
    const program = new Command('blip2-progressive').exitOverride();
    register(program, async () => {}, recordingLogger([]));
    await expect(program.parseAsync(['serve', '--port', '70000'], { from: 'user' }))
      .rejects.toThrow(new UsageError('--port expects an integer between 0 and 65535 but received "70000"'));
    await expect(program.parseAsync(['serve', '--timeout', '0'], { from: 'user' }))
      .rejects.toThrow(new UsageError('--timeout expects a number between 0.001 and 86400 but received "0"'));
  });
});
