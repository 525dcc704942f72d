/**
 * Load on the demo server: N concurrent clients POST an image to /api/caption on loopback (raw bytes, greedy,
 * 20 new tokens) for a bounded time or request count; latency percentiles and throughput per client count,
 * against the library called directly in the same run (the server's overhead), plus the latency of
 * /api/health polled during the load (the event loop stays free while the model works) and an overload row
 * (more clients than queue slots: the excess is answered 503 at once, and clients wait as Retry-After says).
 * Clients and server share this machine's cores, so "vs library" includes the clients' own cost.
 *
 *   npx tsx benchmarks/serve-load.ts [--model <dir>] [--clients 1,4,16] [--seconds 8] [--max-requests 400]
 *     [--threads N]
 *
 * Default model: the tiny fixture model (captions are computed for real; the tiny model makes the HTTP, queue
 * and decoding overheads visible). Writes benchmarks/results/serve-load.json.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Blip2Captioner } from '../lib/captioner.js';
import { startServer } from '../lib/serve/server.js';
import { machineLine, ROOT, TINY_DIR, writeResults } from './common.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' }, clients: { type: 'string', default: '1,4,16' }, seconds: { type: 'string', default: '8' },
    'max-requests': { type: 'string', default: '400' }, threads: { type: 'string' },
  },
});
const modelDir = args.model ?? TINY_DIR;
const clientCounts = args.clients!.split(',').map(Number);
const seconds = Number(args.seconds);
const maxRequests = Number(args['max-requests']);
const threads = args.threads === undefined ? undefined : Number(args.threads);
const IMAGE = join(ROOT, 'test/fixtures/blip2-tiny/images/img0_rgb_64x48.png');
const OPTIONS = { maxNewTokens: 20 };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

interface Row {
  scenario: string;
  clients: number;
  queue: number;
  requests: number;
  ok: number;
  rejected503: number;
  otherErrors: number;
  seconds: number;
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  healthP50: number;
  healthMax: number;
  vsLibrary: number;
}

/** Drives `clients` loops against the server until the time or request budget is spent. */
async function drive(url: string, clients: number, body: Buffer): Promise<{ latencies: number[]; statuses: number[]; seconds: number; health: number[] }> {
  const latencies: number[] = [];
  const statuses: number[] = [];
  const health: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let issued = 0;
  const target = `${url}api/caption?options=${encodeURIComponent(JSON.stringify(OPTIONS))}`;
  const started = performance.now();
  let running = true;
  const poller = (async () => {
    while (running) {
      const t = performance.now();
      await (await fetch(`${url}api/health`)).json();
      health.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline && issued < maxRequests) {
      issued++;
      const t = performance.now();
      const res = await fetch(target, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': 'image/png' } });
      await res.arrayBuffer();
      statuses.push(res.status);
      if (res.status === 200) latencies.push(performance.now() - t);
      else if (res.status === 503) {
        // a polite client waits as long as Retry-After says (but not past the end of the run)
        const wait = Number(res.headers.get('retry-after') ?? '1') * 1000;
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, deadline - performance.now()))));
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  running = false;
  await poller;
  return { latencies, statuses, seconds: elapsed, health };
}

async function main(): Promise<void> {
  const body = readFileSync(IMAGE);
  const captioner = await Blip2Captioner.fromPretrained(modelDir, threads === undefined ? {} : { threads });
  // Baseline: the library alone, one caption at a time (what the server's queue does), same image bytes.
  await captioner.caption([body], OPTIONS);
  const direct: number[] = [];
  const directDeadline = performance.now() + Math.min(seconds, 5) * 1000;
  while (performance.now() < directDeadline && direct.length < maxRequests) {
    const t = performance.now();
    await captioner.caption([body], OPTIONS);
    direct.push(performance.now() - t);
  }
  direct.sort((a, b) => a - b);
  const libraryPerSecond = direct.length / (direct.reduce((a, b) => a + b, 0) / 1000);
  const rows: Row[] = [];
  const scenarios = [
    ...clientCounts.map((c) => ({ scenario: 'queue fits all', clients: c, queue: c })),
    { scenario: 'overload', clients: 32, queue: 8 },
  ];
  for (const s of scenarios) {
    const { app, url } = await startServer({ models: [{ name: 'model', captioner }], port: 0, limits: { maxWaiting: s.queue, timeoutMs: 120_000 } });
    try {
      const r = await drive(url, s.clients, body);
      r.latencies.sort((a, b) => a - b);
      r.health.sort((a, b) => a - b);
      const ok = r.statuses.filter((x) => x === 200).length;
      const throughput = ok / r.seconds;
      rows.push({
        ...s, requests: r.statuses.length, ok, rejected503: r.statuses.filter((x) => x === 503).length,
        otherErrors: r.statuses.filter((x) => x !== 200 && x !== 503).length, seconds: r.seconds, throughput,
        p50: percentile(r.latencies, 50), p90: percentile(r.latencies, 90), p99: percentile(r.latencies, 99),
        healthP50: percentile(r.health, 50), healthMax: r.health.at(-1) ?? NaN, vsLibrary: throughput / libraryPerSecond,
      });
    } finally {
      await app.close();
    }
  }
  captioner.dispose();

  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const lines = [
    `Library alone: ${direct.length} captions, median ${f(percentile(direct, 50))} ms, ${f(libraryPerSecond)} captions/s.`,
    '',
    '| scenario | clients | queue | requests | 200 | 503 | other | captions/s | vs library | p50 ms | p90 ms | p99 ms | health p50 / max ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.scenario} | ${r.clients} | ${r.queue} | ${r.requests} | ${r.ok} | ${r.rejected503} | ${r.otherErrors} | ${f(r.throughput)} | ${f(r.vsLibrary, 2)}× | ${f(r.p50)} | ${f(r.p90)} | ${f(r.p99)} | ${f(r.healthP50, 2)} / ${f(r.healthMax, 1)} |`),
  ];
  const machine = `${machineLine()}, load average ${loadavg()[0]!.toFixed(1)}`;
  console.log(`serve-load: ${modelDir}, greedy ${OPTIONS.maxNewTokens} new tokens, ${seconds} s or ${maxRequests} requests per row; ${machine}\n`);
  console.log(lines.join('\n'));
  writeResults('serve-load', {
    machine, model: modelDir.startsWith(ROOT) ? modelDir.slice(ROOT.length + 1) : modelDir, options: OPTIONS, seconds, maxRequests,
    library: { captions: direct.length, medianMs: percentile(direct, 50), perSecond: libraryPerSecond }, rows,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
