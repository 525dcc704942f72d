/** Shared helpers of the benchmark scripts: child-process isolation, RSS, medians, the base-size model. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir, cpus, availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Blip2Model } from '../lib/model/blip2-model.js';
import { parseBlip2Config, type Blip2Config } from '../lib/model/config.js';
import { native } from '../lib/native.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const TINY_DIR = join(ROOT, 'test/fixtures/blip2-tiny/model');
export const BASE_CONFIG_PATH = join(ROOT, 'test/fixtures/base-size/config.json');

/** VmHWM (peak) or VmRSS (current) of this process in MiB. */
export function rssMiB(field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The base-size config (ViT-B/16-sized vision, 12-layer Q-Former, T5-base-sized LM). */
export function baseConfig(): Blip2Config {
  return parseBlip2Config(JSON.parse(readFileSync(BASE_CONFIG_PATH, 'utf8')), BASE_CONFIG_PATH);
}

/** Writes a base-size model directory with random weights into a new temporary directory. */
export async function writeBaseModel(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'blip2-base-'));
  const model = await Blip2Model.random(baseConfig(), { seed: 0 });
  await model.save(join(dir, 'model.safetensors'));
  model.dispose();
  writeFileSync(join(dir, 'config.json'), readFileSync(BASE_CONFIG_PATH));
  return dir;
}

/** Re-runs the calling script in a fresh process with `--child ...args` and parses its last stdout line. */
export function runChild(script: string, args: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [...process.execArgv, script, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** One line describing the machine and libtorch. */
export function machineLine(): string {
  return `libtorch ${native().runtimeInfo().libtorch}, ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.version}`;
}

/** Writes benchmarks/results/<name>.json. */
export function writeResults(name: string, data: unknown): void {
  mkdirSync(join(BENCH_DIR, 'results'), { recursive: true });
  writeFileSync(join(BENCH_DIR, 'results', `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
}

/** The benchmarks' batch: deterministic pixels, a 4-token prompt and `tokens` label tokens per row. */
export function syntheticBatch(config: Blip2Config, batch: number, tokens = 20) {
  const size = config.vision_config.image_size;
  const pixels = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.001);
  return {
    pixelValues: { data: pixels, shape: [batch, 3, size, size] },
    inputIds: Array.from({ length: batch }, () => [18, 31, 7, 1]),
    labels: Array.from({ length: batch }, (_, b) => Array.from({ length: tokens }, (_, t) => ((b * 31 + t * 7) % 4000) + 2)),
  };
}
