/**
 * Soak of the demo server under careless and hostile loopback clients, on the tiny fixture model (captions computed
 * for real). The server runs in a child process whose RSS is sampled every 100 ms. Two phases, each bounded in time:
 *
 * - **mixed**: 50 clients loop for `--seconds`: 35 polite ones (small PNG and 3 MB PNG alternately; on 503 they wait
 *   as Retry-After says), 5 slow uploaders (64 bytes every 500 ms, who must get 408 at the receive deadline), 5 that
 *   hang up halfway through their upload and 5 that hang up while their caption waits or runs.
 * - **flood**: `--flood` connections at once, each sending a 3 MB PNG.
 * - **held open**: `--flood` connections at once, each sending 1 MiB of a 3 MB upload and then nothing for 8 s (the
 *   issue's "500 open uploads → 2.2 GB").
 *
 * Every answer must be 200 or an expected refusal (503 busy, 408 late body, 504 late caption), or a connection closed
 * by the server (beyond the connection bound, or after an early refusal) or by the client itself (the server logs
 * 499). Anything else counts as unexpected. After each phase the server must be idle (nothing running, waiting or
 * uploading) and its log must hold no stack trace.
 *
 *   npx tsx benchmarks/serve-soak.ts [--seconds 30] [--clients 50] [--flood 500] [--receive-timeout 5]
 *
 * The receive deadline is shortened (default 30 s) so that slow uploaders meet it within the run. Prints a table;
 * writes benchmarks/results/serve-soak.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { machineLine, ROOT, TINY_DIR, writeResults } from './common.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' }, clients: { type: 'string', default: '50' }, flood: { type: 'string', default: '500' },
    'receive-timeout': { type: 'string', default: '5' }, 'child-server': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const FLOOD = Number(args.flood);
const RECEIVE_TIMEOUT_MS = Math.round(Number(args['receive-timeout']) * 1000);
/** No request may take longer than this on the client side (a bound on the script, not a server limit). */
const CLIENT_CAP_MS = 60_000;
const CAPTION_PATH = `/api/caption?options=${encodeURIComponent(JSON.stringify({ maxNewTokens: 12 }))}`;

interface ServerReport { type: 'rss'; rss: number; heapUsed: number }
interface ServerReady { type: 'ready'; port: number; rss: number; limits: Record<string, unknown> }
interface ServerLog { type: 'log'; lines: number; stacks: number; byStatus: Record<string, number> }

/** The child: loads the tiny model, serves it on 127.0.0.1, reports its RSS, counts its log lines. */
async function serverChild(): Promise<void> {
  const { startServer } = await import('../lib/serve/server.js');
  const { Blip2Captioner } = await import('../lib/captioner.js');
  const send = (m: ServerReport | ServerReady | ServerLog) => process.send!(m);
  const log: ServerLog = { type: 'log', lines: 0, stacks: 0, byStatus: {} };
  const record = (line: string) => {
    log.lines++;
    if (/\n\s+at /.test(line)) log.stacks++;
    const status = / → (\d{3}):/.exec(line)?.[1] ?? (line.includes('connections already open') ? 'dropped' : 'other');
    log.byStatus[status] = (log.byStatus[status] ?? 0) + 1;
  };
  const captioner = await Blip2Captioner.fromPretrained(TINY_DIR, { threads: 1 });
  const logger = { debug() {}, info: record, warn: record };
  const { app } = await startServer({
    models: [{ name: 'tiny', captioner }], port: 0, logger, limits: { receiveTimeoutMs: RECEIVE_TIMEOUT_MS, timeoutMs: 20_000 },
  });
  const { port } = app.server.address() as { port: number };
  const png = readFileSync(join(ROOT, 'test/fixtures/blip2-tiny/images/img0_rgb_64x48.png'));
  await app.inject({ method: 'POST', url: CAPTION_PATH, headers: { host: '127.0.0.1' }, payload: png });
  const { resolveLimits } = await import('../lib/serve/limits.js');
  send({ type: 'ready', port, rss: process.memoryUsage().rss, limits: { ...resolveLimits({ receiveTimeoutMs: RECEIVE_TIMEOUT_MS, timeoutMs: 20_000 }) } });
  const sampler = setInterval(() => send({ type: 'rss', rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }), 100);
  process.on('message', (m: { type: string }) => {
    if (m.type === 'log') send({ ...log, byStatus: { ...log.byStatus } });
  });
  process.once('disconnect', () => {
    clearInterval(sampler);
    void app.close().then(() => captioner.dispose());
  });
}

/** What one request came to. */
type Result = '200' | '503' | '408' | '504' | 'closed by server' | 'abandoned' | `unexpected ${string}`;

interface Plan {
  body: Buffer;
  /** Bytes per tick and tick length for a slow upload; whole body at once otherwise. */
  trickle?: { bytes: number; everyMs: number };
  /** Send only this many body bytes, then hang up after `hangUpAfterMs` (default 50). */
  hangUpAfterBytes?: number;
  /** Hang up this long after the body (or its first `hangUpAfterBytes`) was sent, if no answer came by then. */
  hangUpAfterMs?: number;
}

function parseStatus(text: string): { status: number; retryAfter: number } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = text.slice(0, end);
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  if (Buffer.byteLength(text.slice(end + 4), 'latin1') < length) return undefined;
  return { status: Number(head.split(' ')[1]), retryAfter: Number(/\r\nretry-after:\s*(\d+)/i.exec(head)?.[1] ?? 1) };
}

/** One POST over its own loopback connection, following `plan`. */
function request(port: number, plan: Plan): Promise<{ result: Result; retryAfter: number }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: Result, retryAfter = 1) => {
      if (done) return;
      done = true;
      timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
      socket.destroy();
      resolve({ result, retryAfter });
    };
    timers.push(setTimeout(() => finish('unexpected client cap reached'), CLIENT_CAP_MS));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const parsed = parseStatus(text);
      if (!parsed) return;
      const known = ['200', '503', '408', '504'].includes(String(parsed.status));
      finish(known ? (String(parsed.status) as Result) : `unexpected ${parsed.status}`, parsed.retryAfter);
    });
    socket.on('error', () => {});
    socket.on('close', () => finish('closed by server'));
    socket.once('connect', () => {
      const { body } = plan;
      socket.write(`POST ${CAPTION_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/png\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      const sent = plan.hangUpAfterBytes ?? body.length;
      if (plan.trickle) {
        let offset = 0;
        const { bytes, everyMs } = plan.trickle;
        timers.push(setInterval(() => {
          if (offset < body.length && !socket.destroyed) socket.write(body.subarray(offset, (offset += bytes)));
        }, everyMs));
        return;
      }
      socket.write(body.subarray(0, sent));
      const hangUpMs = plan.hangUpAfterMs ?? (plan.hangUpAfterBytes === undefined ? undefined : 50);
      if (hangUpMs !== undefined) timers.push(setTimeout(() => finish('abandoned'), hangUpMs));
    });
  });
}

interface Phase {
  phase: string;
  clients: number;
  seconds: number;
  results: Record<string, number>;
  unexpected: number;
  rssBaseMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
  /** Server RSS and JS heap in MiB, one sample a second. */
  samples: { s: number; rssMiB: number; heapMiB: number }[];
  /** The server's queue and upload counters after the phase. */
  after: { running: number; waiting: number; uploads: number; abandoned: number; rejected: number; timedOut: number };
}

/** Client roles of the mixed phase, by index: 35 polite of 50, then 5 of each careless kind. */
function mixedPlan(i: number, small: Buffer, large: Buffer, random: () => number): { role: string; plan: Plan } {
  const slot = i % 10;
  if (slot === 7) return { role: 'slow upload', plan: { body: large, trickle: { bytes: 64, everyMs: 500 } } };
  if (slot === 8) return { role: 'hang up mid-upload', plan: { body: large, hangUpAfterBytes: Math.floor(large.length / 2) } };
  if (slot === 9) return { role: 'hang up while queued', plan: { body: small, hangUpAfterMs: Math.floor(random() * 400) } };
  return { role: 'polite', plan: { body: i % 2 === 0 ? small : large } };
}

async function health(port: number): Promise<Phase['after']> {
  const res = await fetch(`http://127.0.0.1:${port}/api/health`);
  const h = (await res.json()) as { uploads: number; queue: Phase['after'] };
  return { running: h.queue.running, waiting: h.queue.waiting, uploads: h.uploads, abandoned: h.queue.abandoned, rejected: h.queue.rejected, timedOut: h.queue.timedOut };
}

/** Waits (at most 20 s) until the server has nothing running, waiting or uploading. */
async function settled(port: number): Promise<Phase['after']> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const h = await health(port);
    if ((h.running === 0 && h.waiting === 0 && h.uploads === 0) || performance.now() > deadline) return h;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  // read now: the addon file may be rebuilt while the soak runs
  const machineName = machineLine();
  const small = readFileSync(join(ROOT, 'test/fixtures/blip2-tiny/images/img0_rgb_64x48.png'));
  const large = await sharp({ create: { width: 1000, height: 1000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child-server', '--receive-timeout', String(RECEIVE_TIMEOUT_MS / 1000)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let rss = 0;
  let heap = 0;
  let peak = 0;
  const ready = new Promise<ServerReady>((resolve, reject) => {
    child.on('message', (m: ServerReport | ServerReady | ServerLog) => {
      if (m.type === 'ready') resolve(m);
      if (m.type === 'rss') heap = m.heapUsed;
      if (m.type === 'rss' || m.type === 'ready') { rss = m.rss; peak = Math.max(peak, m.rss); }
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
  });
  const { port, limits } = await ready;
  const mib = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const phases: Phase[] = [];
  const roles: Record<string, Record<string, number>> = {};

  const runPhase = async (phase: string, clients: number, loop: (i: number, count: (role: string, r: Result) => void, deadline: number) => Promise<void>, seconds: number) => {
    const results: Record<string, number> = {};
    const rssBase = rss;
    peak = rss;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    const samples: Phase['samples'] = [];
    const sampler = setInterval(() => samples.push({ s: Math.round((performance.now() - started) / 1000), rssMiB: mib(rss), heapMiB: mib(heap) }), 1000);
    const progress = setInterval(() => {
      const total = Object.values(results).reduce((a, b) => a + b, 0);
      process.stderr.write(`${phase}: ${((performance.now() - started) / 1000).toFixed(0)}/${seconds} s, ${total} answers, server RSS ${mib(rss)} MiB (peak ${mib(peak)})\n`);
    }, 5000);
    const count = (role: string, r: Result) => {
      results[r] = (results[r] ?? 0) + 1;
      (roles[`${phase}: ${role}`] ??= {})[r] = ((roles[`${phase}: ${role}`] ??= {})[r] ?? 0) + 1;
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => loop(i, count, deadline)));
    clearInterval(progress);
    const after = await settled(port);
    clearInterval(sampler);
    const unexpected = Object.entries(results).filter(([r]) => r.startsWith('unexpected')).reduce((a, [, n]) => a + n, 0);
    phases.push({ phase, clients, seconds: (performance.now() - started) / 1000, results, unexpected, rssBaseMiB: mib(rssBase), rssPeakMiB: mib(peak), rssEndMiB: mib(rss), samples, after });
  };

  await runPhase('mixed', CLIENTS, async (i, count, deadline) => {
    const { role, plan } = mixedPlan(i, small, large, random);
    while (performance.now() < deadline) {
      const { result, retryAfter } = await request(port, plan);
      count(role, result);
      if (result === '503') await new Promise((r) => setTimeout(r, Math.min(retryAfter * 1000, Math.max(0, deadline - performance.now()))));
    }
  }, SECONDS);
  await runPhase('flood', FLOOD, async (_i, count) => {
    count('flood', (await request(port, { body: large })).result);
  }, 0);
  // the issue's case: uploads opened at once and left incomplete (1 MiB of 3 MB sent), held for 8 s
  await runPhase('held open', FLOOD, async (_i, count) => {
    count('held open', (await request(port, { body: large, hangUpAfterBytes: 1 << 20, hangUpAfterMs: 8000 })).result);
  }, 0);

  child.send({ type: 'log' });
  const log = await new Promise<ServerLog>((resolve) => child.on('message', (m: ServerLog) => { if (m.type === 'log') resolve(m); }));
  child.disconnect();

  const columns = ['200', '503', '408', '504', 'closed by server', 'abandoned'];
  const lines = [
    `| phase | clients | seconds | ${columns.join(' | ')} | unexpected | server RSS before → peak → end MiB | after: running / waiting / uploads |`,
    `|---|---:|---:|${columns.map(() => '---:|').join('')}---:|---:|---|`,
    ...phases.map((p) => `| ${p.phase} | ${p.clients} | ${p.seconds.toFixed(1)} | ${columns.map((c) => p.results[c] ?? 0).join(' | ')} | ${p.unexpected} | ${p.rssBaseMiB} → ${p.rssPeakMiB} → ${p.rssEndMiB} | ${p.after.running} / ${p.after.waiting} / ${p.after.uploads} |`),
  ];
  const roleLines = Object.entries(roles).map(([role, r]) => `  ${role}: ${Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const machine = `${machineName}, load average ${loadavg()[0]!.toFixed(1)}`;
  console.log(`serve-soak: tiny model, ${CLIENTS} clients for ${SECONDS} s, then ${FLOOD} uploads at once; limits ${JSON.stringify(limits)}; ${machine}\n`);
  console.log(lines.join('\n'));
  console.log(`\nby role:\n${roleLines.join('\n')}`);
  console.log(`\nserver log: ${log.lines} lines (${Object.entries(log.byStatus).map(([k, n]) => `${k} ${n}`).join(', ')}), ${log.stacks} stack traces`);
  writeResults('serve-soak', { machine, model: 'test/fixtures/blip2-tiny/model', clients: CLIENTS, seconds: SECONDS, flood: FLOOD, limits, phases, roles, log });
  const bad = phases.filter((p) => p.unexpected > 0 || p.after.running + p.after.waiting + p.after.uploads > 0).length + (log.stacks > 0 ? 1 : 0);
  if (bad > 0) {
    console.error('serve-soak: unexpected answers, work left behind or stack traces logged (see above)');
    process.exitCode = 1;
  }
}

if (args['child-server']) {
  serverChild().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
