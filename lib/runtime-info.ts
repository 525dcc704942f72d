/**
 * What this installation runs on: the addon file (prebuilt or built from source) and whether it loads, libtorch's
 * version and path, the BLAS library and thread counts, the CPU features that decide speed, CUDA, and where models
 * and the built-in default live. `blip2-progressive doctor` prints it. Never throws: a part that cannot be read is
 * reported as such.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { addonLocation, native, packageRoot } from './native.js';
import { readJsonFileSync } from './io/json.js';
import { readBuildInfo, type PrebuildInfo } from '../scripts/addon-status.mjs';
import { hubCacheDir } from './hub/env.js';
import { benchHome, defaultModelDir } from './hub/default-model.js';

/** The CPU flags (as /proc/cpuinfo names them) that decide which kernels libtorch, oneDNN and OpenBLAS use. */
export const SPEED_CPU_FLAGS = ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_bf16', 'amx_int8'] as const;
export type SpeedCpuFlag = (typeof SPEED_CPU_FLAGS)[number];

export interface RuntimeInfo {
  package: { version: string; root: string };
  node: { version: string; napi: string; platform: string };
  addon: {
    /** The .node file that is (or would be) loaded; undefined when there is none for this machine. */
    file?: string;
    kind?: 'prebuilt' | 'source';
    loaded: boolean;
    /** Why it did not load, with the fix. */
    error?: string;
    /** For a prebuilt addon: the libtorch it was built against (build-info.json). */
    builtAgainst?: PrebuildInfo;
  };
  /** Present when the addon loaded. */
  libtorch?: {
    version: string;
    /** The libtorch_cpu library mapped into this process. */
    library?: string;
    intraOpThreads: number;
    parallelInfo: string;
  };
  /** The BLAS library mapped into this process (after libtorch loaded), resolved through symlinks. */
  blas?: { library: string };
  cpu: { model: string; cores: number; flags: Record<SpeedCpuFlag, boolean> };
  cuda: { available: boolean; devices: number };
  paths: {
    /** huggingface_hub's cache, shared with Python. */
    hubCache: string;
    /** The built-in benchmark's data, models and runs. */
    home: string;
    /** The built-in default model, once `blip2-progressive bench` has made it. */
    defaultModel?: string;
  };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The real path of the first mapped library whose file name matches `pattern` (Linux; undefined elsewhere). */
function mappedLibrary(pattern: RegExp): string | undefined {
  const line = readText('/proc/self/maps').split('\n').find((l) => pattern.test(l.slice(l.lastIndexOf('/') + 1)));
  const path = line?.slice(line.indexOf('/'));
  if (!path) return undefined;
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * This machine's CPU: model, cores and the {@link SPEED_CPU_FLAGS} it has (all false where /proc/cpuinfo is missing).
 */
export function cpuInfo(): RuntimeInfo['cpu'] {
  const text = readText('/proc/cpuinfo');
  const flags = new Set((/^flags\s*:(.*)$/m.exec(text)?.[1] ?? '').trim().split(/\s+/));
  return {
    model: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    flags: Object.fromEntries(SPEED_CPU_FLAGS.map((f) => [f, flags.has(f)])) as Record<SpeedCpuFlag, boolean>,
  };
}

/** The package's version from its package.json; `unknown` when it cannot be read. */
function packageVersion(root: string): string {
  try {
    return (readJsonFileSync(join(root, 'package.json'), 'package file') as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Gathers {@link RuntimeInfo}; loads the addon (and so libtorch) if it can. */
export async function runtimeInfo(): Promise<RuntimeInfo> {
  const root = packageRoot();
  const location = addonLocation();
  const info: RuntimeInfo = {
    package: { version: packageVersion(root), root },
    node: { version: process.version, napi: process.versions.napi ?? 'unknown', platform: `${process.platform}-${process.arch}` },
    addon: { loaded: false, ...location },
    cpu: cpuInfo(),
    cuda: { available: false, devices: 0 },
    paths: { hubCache: hubCacheDir(), home: benchHome() },
  };
  if (location?.kind === 'prebuilt') info.addon.builtAgainst = readBuildInfo(location.file);
  try {
    const addon = native().runtimeInfo();
    info.addon.loaded = true;
    info.libtorch = { version: addon.libtorch, intraOpThreads: addon.threads, parallelInfo: addon.parallelInfo };
    const library = mappedLibrary(/^libtorch_cpu\.so/);
    if (library) info.libtorch.library = library;
    info.cuda = { available: addon.cuda, devices: addon.cudaDevices };
    const blas = mappedLibrary(/^lib(open)?blas|^libblis|^libmkl_rt/);
    if (blas) info.blas = { library: blas };
  } catch (err) {
    info.addon.error = (err as Error).message;
  }
  const model = await defaultModelDir();
  if (model) info.paths.defaultModel = model;
  return info;
}
