// `blip2-progressive doctor` / runtimeInfo(): the addon, libtorch, BLAS, threads, CPU features, CUDA and the cache
// locations, each checked against what the test reads independently (the process's mapped libraries, /proc/cpuinfo,
// the environment).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../lib/cli/doctor.js';
import { runtimeInfo, SPEED_CPU_FLAGS, type RuntimeInfo } from '../../lib/runtime-info.js';

async function doctor(args: string[]): Promise<string> {
  let text = '';
  const stream = new PassThrough();
  stream.on('data', (c: Buffer) => { text += c.toString(); });
  const program = new Command('blip2-progressive').exitOverride();
  register(program, stream);
  await program.parseAsync(['doctor', ...args], { from: 'user' });
  return text;
}

afterEach(() => vi.unstubAllEnvs());

describe('doctor', () => {
  it('reports the loaded addon, libtorch, BLAS and the CPU flags /proc/cpuinfo lists', async () => {
    vi.stubEnv('HF_HUB_CACHE', '/tmp/doctor-hub');
    vi.stubEnv('BLIP2_PROGRESSIVE_HOME', '/tmp/doctor-home');
    const info = JSON.parse(await doctor(['--json'])) as RuntimeInfo;
    expect(info.addon.loaded).toBe(true);
    expect(info.addon.file).toMatch(/(build\/Release\/blip2_progressive|prebuilds\/linux-x64\/node\.napi\.glibc)\.node$/);
    expect(info.libtorch!.version).toMatch(/^(1\.13|2)\.\d+/);
    const maps = readFileSync('/proc/self/maps', 'utf8');
    expect(maps).toContain(info.libtorch!.library!.replace(/\.so.*$/, ''));
    expect(info.blas?.library).toMatch(/blas/);
    const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))![1]!.trim().split(/\s+/));
    for (const flag of SPEED_CPU_FLAGS) expect(info.cpu.flags[flag], flag).toBe(flags.has(flag));
    expect(info.cuda).toEqual({ available: false, devices: 0 });
    expect(info.paths.hubCache).toBe('/tmp/doctor-hub');
    expect(info.paths.home).toBe('/tmp/doctor-home');
    expect(info.node.version).toBe(process.version);
  });

  it('prints one aligned line per item', async () => {
    const text = await doctor([]);
    const names = text.trimEnd().split('\n').map((line) => line.split(/\s{2,}/)[0]);
    expect(names).toEqual(['package', 'node', 'addon', 'addon loads', 'libtorch', 'threads', 'blas', 'parallel', 'cpu', 'cpu features', 'cuda', 'hub cache', 'home', 'default model']);
    expect(text).toMatch(/^addon loads {2,}yes$/m);
  });

  it('the cache locations follow HF_HOME and XDG_CACHE_HOME when nothing more specific is set', async () => {
    vi.stubEnv('HF_HUB_CACHE', '');
    vi.stubEnv('HF_HOME', '/srv/hf');
    vi.stubEnv('BLIP2_PROGRESSIVE_HOME', '');
    vi.stubEnv('XDG_CACHE_HOME', '/srv/cache');
    const info = await runtimeInfo();
    expect(info.paths.hubCache).toBe(join('/srv/hf', 'hub'));
    expect(info.paths.home).toBe(join('/srv/cache', 'blip2-progressive'));
  });
});
