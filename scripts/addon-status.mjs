// Where the native addon is, whether it loads, and what to do when it does not. Shared by the install script
// (which runs before the TypeScript is compiled, so this is plain JavaScript) and lib/native.ts, so that the
// warning printed at install time and the error thrown at the first native call give the same fix.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, sep } from 'node:path';

/** The system packages the prebuilt linux-x64 addon needs at run time (Debian 12). */
export const APT_RUNTIME = 'sudo apt-get install -y libtorch1.13 libopenblas0-openmp';
/** What a source build needs (Debian/Ubuntu). */
export const APT_BUILD = 'sudo apt-get install -y libtorch-dev libopenblas0-openmp cmake g++';
/** The file a prebuilt addon's libtorch is recorded in, next to the binary. */
export const BUILD_INFO = 'build-info.json';

/** `linux-x64`: the prebuilds/ folder of this machine. */
export function platformTag() {
  return `${process.platform}-${process.arch}`;
}

/**
 * The addon node-gyp-build would load from the package at `root` (build/Release first, then prebuilds/), without
 * loading it: `{ file, kind: 'source' | 'prebuilt' }`, or undefined when there is none for this machine.
 */
export function locateAddon(root) {
  const load = createRequire(join(root, 'package.json'))('node-gyp-build');
  let file;
  try {
    file = load.resolve(root);
  } catch {
    return undefined;
  }
  return { file, kind: file.split(sep).includes('prebuilds') ? 'prebuilt' : 'source' };
}

/** What a prebuilt addon records about the libtorch it was built against, or undefined. */
export function readBuildInfo(addonFile) {
  const path = join(dirname(addonFile), BUILD_INFO);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Loads the addon in a child process (a failed or crashing load must not take the caller with it):
 * `{ ok: true, file, kind }` or `{ ok: false, file?, kind?, reason }`.
 */
export function probeAddon(root) {
  const location = locateAddon(root);
  if (!location) return { ok: false, reason: 'no native build was found' };
  const child = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).runtimeInfo()', location.file], {
    encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' },
  });
  if (child.status === 0) return { ok: true, ...location };
  const lines = `${child.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const reason = lines.find((l) => /^Error:/.test(l))?.replace(/^Error:\s*/, '') ?? (child.signal ? `killed by ${child.signal}` : `exit ${child.status}`);
  return { ok: false, ...location, reason };
}

/**
 * One message for an addon that cannot be used: what was looked for, why it failed, and the command that fixes
 * it. `failure` is `{ reason, file?, kind? }` (probeAddon's result or a load error).
 */
export function explainLoadFailure(root, failure) {
  const where = `${platformTag()}, Node ${process.version}`;
  const rebuild = 'LIBTORCH=/path/to/libtorch npm rebuild blip2-progressive';
  const { reason, file, kind } = failure;
  if (!file) {
    const prebuilt = existsSync(join(root, 'prebuilds', platformTag()));
    return `blip2-progressive: no native addon for ${where}: ${prebuilt ? 'none loadable' : 'no prebuilt binary ships for this platform'} ` +
      `and none was built from source. Build it: ${APT_BUILD} && npm rebuild blip2-progressive ` +
      `(another libtorch: ${rebuild}). Metrics, tokenizer and image code work without it.`;
  }
  if (kind === 'prebuilt') {
    const info = readBuildInfo(file);
    const built = info ? `libtorch ${info.libtorch} (${info.runtime})` : 'Debian 12\'s libtorch 1.13';
    const mismatch = /undefined symbol|version .* not found/.test(reason);
    return `blip2-progressive: the prebuilt addon ${basename(dirname(file))}/${basename(file)} was built against ${built} and ` +
      `${mismatch ? 'the libtorch found at run time is a different one' : 'cannot load it'}: ${reason}. ` +
      (mismatch ? '' : `Install the runtime: ${APT_RUNTIME}. `) +
      `Or build against your own libtorch: ${rebuild} (needs cmake and a C++17 compiler; ${APT_BUILD} for the system one).`;
  }
  return `blip2-progressive: cannot load the addon built from source (${file}) on ${where}: ${reason}. ` +
    `If libtorch was moved, removed or upgraded, rebuild: npm rebuild blip2-progressive (${rebuild} for a non-system libtorch).`;
}

/**
 * The TorchConfig.cmake a source build would use (LIBTORCH, Torch_DIR, CMAKE_PREFIX_PATH, the system), or undefined.
 */
export function torchConfig() {
  const candidates = [];
  if (process.env.LIBTORCH) candidates.push(join(process.env.LIBTORCH, 'share', 'cmake', 'Torch'));
  if (process.env.Torch_DIR) candidates.push(process.env.Torch_DIR);
  for (const prefix of (process.env.CMAKE_PREFIX_PATH ?? '').split(delimiter).filter(Boolean)) {
    candidates.push(join(prefix, 'share', 'cmake', 'Torch'), join(prefix, 'lib', 'cmake', 'Torch'));
  }
  const multiarch = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  candidates.push(`/usr/lib/${multiarch}/cmake/Torch`, '/usr/lib/cmake/Torch', '/usr/share/cmake/Torch', '/usr/local/share/cmake/Torch');
  return candidates.map((dir) => join(dir, 'TorchConfig.cmake')).find((file) => existsSync(file));
}
