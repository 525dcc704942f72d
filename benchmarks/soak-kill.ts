/**
 * kill -9 soak: a small progressive run on the tiny fixture model (zero-shot, LoRA, LoRA + augmentation from LoRA's
 * best, SCST from that) is SIGKILLed again and again — at every stage boundary, right after steps (validation and
 * checkpoint writes follow a step) and at random moments — and resumed each time. At the end every stage's best and
 * final adapter_model.safetensors and the results table must be byte for byte those of an uninterrupted run.
 *
 *   npx tsx benchmarks/soak-kill.ts [--kills 30] [--seed 7]
 *
 * Prints a table of the kills and where they landed; writes benchmarks/results/soak-kill.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { machineLine, ROOT, TINY_DIR, writeResults } from './common.js';
import { tinyRunData, writeTinyRunData } from '../test/helpers/tiny-dataset.js';

const CHILD = join(ROOT, 'test/helpers/run-child.ts');
const STAGES = ['1-lora', '2-lora-aug', '3-scst'];
const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const KILLS = flag('--kills', 30);
const SEED = flag('--seed', 7);

/** mulberry32: the kill plan is reproducible; where a kill lands depends on timing as well. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface ChildEvent { event: string; stage?: number; stageName?: string; step?: number; t: number }
/** When to kill: after the given event (stage-start:k, stage-end:k, a step of stage k) plus a delay, or at a time. */
type Trigger = { on: string; delayMs: number } | { atMs: number };
interface Kill { attempt: number; trigger: string; lastEvent: string; landed: string; aliveMs: number }

function writeConfig(root: string, name: string): string {
  const file = join(root, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    model: TINY_DIR, outDir: join(root, name), seed: 5, threads: 1,
    data: tinyRunData(root),
    lora: { r: 4, alpha: 8, dropout: 0.3 },
    eval: { maxNewTokens: 4, batchSize: 4 },
    stages: [
      { name: 'lora', epochs: 3, lr: 1e-3, batchSize: 2, checkpointEverySteps: 1, evalEverySteps: 4 },
      { name: 'lora+aug', epochs: 2, lr: 1e-3, batchSize: 2, augment: true, checkpointEverySteps: 1, evalEverySteps: 3 },
      { name: 'scst', epochs: 1, lr: 1e-4, batchSize: 4, maxSteps: 3, checkpointEverySteps: 1, scst: { samples: 2, maxNewTokens: 4 } },
    ],
  }));
  return file;
}

/** Runs the child until it exits or the trigger fires (then SIGKILL); returns the events it printed and the kill. */
async function attempt(config: string, resume: boolean, trigger: Trigger | undefined): Promise<{ events: ChildEvent[]; killed: boolean; aliveMs: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, config, ...(resume ? ['--resume'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const events: ChildEvent[] = [];
  let killed = false;
  const kill = () => {
    if (killed || child.exitCode !== null) return;
    killed = true;
    child.kill('SIGKILL');
  };
  if (trigger && 'atMs' in trigger) setTimeout(kill, trigger.atMs);
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = JSON.parse(line) as ChildEvent;
    events.push(e);
    if (trigger && 'on' in trigger && trigger.on === eventKey(e)) setTimeout(kill, trigger.delayMs);
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
  if (signal === null && code !== 0) throw new Error(`run failed (exit ${code}):\n${stderr}`);
  return { events, killed: signal === 'SIGKILL', aliveMs: Date.now() - started };
}

const eventKey = (e: ChildEvent) =>
  e.event === 'step' ? `step:${e.stage}:${e.step}` : e.event === 'eval' ? `eval:${e.stageName}:${e.step}` : `${e.event}:${e.stage}`;

const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/**
 * What a write cut short leaves on disk: a checkpoint folder that `latest` does not name yet, or a temporary file
 * of an atomic write (checkpoint, best/, final/, run state and results), as "what (stage k)" labels.
 */
function markers(outDir: string): Set<string> {
  const found = new Set<string>();
  for (const [k, stage] of STAGES.entries()) {
    const dir = join(outDir, 'stages', stage);
    const checkpoint = join(dir, 'checkpoint');
    const latest = existsSync(join(checkpoint, 'latest')) ? readFileSync(join(checkpoint, 'latest'), 'utf8').trim() : '';
    for (const entry of list(checkpoint)) {
      const unnamed = /^step-/.test(entry) && entry !== latest;
      const temporary = entry.includes('.tmp-') || (/^step-/.test(entry) && list(join(checkpoint, entry)).some((f) => f.includes('.tmp-')));
      if (unnamed || temporary) found.add(`checkpoint write (stage ${k + 1}) ${entry}`);
    }
    for (const kind of ['best', 'final']) {
      for (const f of list(join(dir, kind))) if (f.includes('.tmp-')) found.add(`${kind} adapter write (stage ${k + 1}) ${f}`);
    }
  }
  for (const f of list(outDir)) if (f.includes('.tmp-')) found.add(`run state / results write ${f}`);
  return found;
}

/** Where a kill landed: inside a write (a new marker on disk), else after which event. */
function landing(outDir: string, before: Set<string>, last: ChildEvent | undefined): string {
  const fresh = [...markers(outDir)].filter((m) => !before.has(m));
  if (fresh.length > 0) return fresh[0]!.replace(/ \S+$/, '');
  if (last === undefined) return 'start-up (model load, data, zero-shot)';
  if (last.event === 'stage-start') return `stage ${last.stage! + 1} start (first step)`;
  if (last.event === 'stage-end') return `stage ${last.stage! + 1} end (next stage's start-up)`;
  if (last.event === 'step') return `after a step of stage ${last.stage! + 1} (validation / checkpoint / next step)`;
  if (last.event === 'done') return 'exit (run finished)';
  if (last.event === 'eval') return 'after a validation (best adapter / checkpoint)';
  return `after ${last.event}`;
}

function artefacts(outDir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {
    'results.json': readFileSync(join(outDir, 'results.json')), 'results.md': readFileSync(join(outDir, 'results.md')),
  };
  for (const stage of STAGES) {
    for (const kind of ['best', 'final']) out[`${stage}/${kind}`] = readFileSync(join(outDir, 'stages', stage, kind, 'adapter_model.safetensors'));
  }
  return out;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'blip2-soak-'));
  try {
    await writeTinyRunData(root, 12);
    const t0 = Date.now();
    const reference = await attempt(writeConfig(root, 'reference'), false, undefined);
    const referenceMs = Date.now() - t0;
    const timeline = reference.events;
    const steps = timeline.filter((e) => e.event === 'step').map(eventKey);
    // a stage's start, its last step (the epoch-end validation and checkpoint follow) and its end
    const lastSteps = STAGES.map((_, k) => steps.filter((key) => key.startsWith(`step:${k}:`)).at(-1)!);
    const boundaries = timeline.map(eventKey).filter((key) => /^stage-(start|end):/.test(key) || lastSteps.includes(key));
    console.log(`uninterrupted run: ${(referenceMs / 1000).toFixed(1)} s, ${steps.length} steps, boundaries ${boundaries.join(' ')}`);

    const rand = random(SEED);
    const config = writeConfig(root, 'soak');
    const order = timeline.map(eventKey);
    const kills: Kill[] = [];
    const soakStart = Date.now();
    let furthest = -1; // the furthest point of the uninterrupted timeline any attempt has reached
    let resume = false;
    for (let n = 0; ; n++) {
      // each attempt: a random moment from start-up on, or an event a little ahead on the uninterrupted timeline
      // (spaced so that the kills left cover the rest of the run; a stage boundary in reach is always taken, so every
      // boundary gets its kill; a step is followed by its validation and checkpoint write) plus 0-39 ms
      let trigger: Trigger | undefined;
      const remaining = order.slice(furthest + 1).filter((k) => !k.startsWith('done'));
      const gap = Math.max(1, Math.ceil(remaining.length / (0.8 * Math.max(1, KILLS - kills.length))));
      const next = remaining.slice(0, gap);
      if (kills.length < KILLS && next.length > 0) {
        const delayMs = Math.floor(rand() * 40);
        const boundary = next.find((k) => boundaries.includes(k));
        const boundariesAhead = remaining.filter((k) => boundaries.includes(k));
        if (boundariesAhead.length >= KILLS - kills.length) trigger = { on: boundariesAhead[0]!, delayMs }; // keep one kill for each
        else if (rand() < 0.2) trigger = { atMs: 300 + Math.floor(rand() * 2500) };
        else trigger = { on: boundary ?? next[Math.floor(rand() * next.length)]!, delayMs };
      }
      const before = markers(join(root, 'soak'));
      const result = await attempt(config, resume, trigger);
      resume = true;
      for (const e of result.events) furthest = Math.max(furthest, order.indexOf(eventKey(e)));
      if (!result.killed) {
        if (result.events.at(-1)?.event === 'done') break;
        continue;
      }
      const last = result.events.at(-1);
      kills.push({
        attempt: n + 1,
        trigger: trigger === undefined ? '' : 'on' in trigger ? `${trigger.on} +${trigger.delayMs} ms` : `at ${trigger.atMs} ms`,
        lastEvent: last ? eventKey(last) : '-',
        landed: landing(join(root, 'soak'), before, last),
        aliveMs: result.aliveMs,
      });
      const k = kills.at(-1)!;
      console.log(`kill ${String(kills.length).padStart(2)}: ${k.trigger.padEnd(22)} last event ${k.lastEvent.padEnd(14)} → ${k.landed}`);
      if (n >= KILLS * 4) throw new Error('the run does not advance between kills');
    }
    const soakMs = Date.now() - soakStart;

    const want = artefacts(join(root, 'reference'));
    const got = artefacts(join(root, 'soak'));
    const files = Object.keys(want).map((name) => ({ name, bytes: want[name]!.length, identical: want[name]!.equals(got[name]!) }));
    const byLanding = new Map<string, number>();
    for (const k of kills) byLanding.set(k.landed, (byLanding.get(k.landed) ?? 0) + 1);

    console.log(`\n${machineLine()}`);
    console.log(`\n| where the kill landed | kills |\n|---|---|`);
    for (const [where, count] of [...byLanding].sort((a, b) => b[1] - a[1])) console.log(`| ${where} | ${count} |`);
    console.log(`\n| file | bytes | identical to the uninterrupted run |\n|---|---|---|`);
    for (const f of files) console.log(`| ${f.name} | ${f.bytes} | ${f.identical ? 'yes' : 'NO'} |`);
    console.log(`\n${kills.length} kills, ${kills.length + 1} processes; uninterrupted ${(referenceMs / 1000).toFixed(1)} s, ` +
      `killed and resumed ${(soakMs / 1000).toFixed(1)} s in all`);
    writeResults('soak-kill', {
      machine: machineLine(), seed: SEED, kills: kills.length, processes: kills.length + 1,
      referenceSeconds: referenceMs / 1000, soakSeconds: soakMs / 1000,
      byLanding: Object.fromEntries(byLanding), killList: kills, files,
      identical: files.every((f) => f.identical),
    });
    if (!files.every((f) => f.identical)) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
