#!/usr/bin/env node
// The package's install step. It never fails the app's install: first the addon that is already there (a prebuilt
// binary under prebuilds/<platform>-<arch>/, or an earlier source build) is loaded in a child process; when none
// loads, the addon is built from source with cmake-js if a toolchain and libtorch are present; when that is
// impossible or fails, one warning with the fix is printed and the script exits 0 (the first native call throws
// the same fix; metrics, tokenizer and image code work without the addon).
//
// BLIP2_PROGRESSIVE_BUILD_FROM_SOURCE=1, LIBTORCH or Torch_DIR ask for a source build; a failed build is then an
//   error (exit 1), since it was asked for.
// BLIP2_PROGRESSIVE_SKIP_BUILD=1 does nothing at all.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APT_BUILD, explainLoadFailure, probeAddon, torchConfig } from './addon-status.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (message) => console.log(`blip2-progressive: ${message}`);
const warn = (message) => console.error(`\nblip2-progressive: WARNING\n${message}\n`);

/** Whether `command --version` runs. */
function runs(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}


/** What a source build lacks here: cmake, a C++ compiler, libtorch's CMake package. */
function missingForSourceBuild() {
  const missing = [];
  if (!runs('cmake')) missing.push('cmake');
  const compilers = [process.env.CXX, 'c++', 'g++', 'clang++'].filter(Boolean);
  if (!compilers.some(runs)) missing.push('a C++17 compiler');
  if (!torchConfig()) missing.push('libtorch (no TorchConfig.cmake; set LIBTORCH or Torch_DIR, or install libtorch-dev)');
  return missing;
}

/** cmake-js's command-line script, wherever npm put the package (hoisted to the app or nested here). */
function cmakeJsCli() {
  const require = createRequire(join(root, 'package.json'));
  const manifest = require.resolve('cmake-js/package.json');
  const { bin } = require('cmake-js/package.json');
  return join(dirname(manifest), typeof bin === 'string' ? bin : bin['cmake-js']);
}

function main() {
  if (process.env.BLIP2_PROGRESSIVE_SKIP_BUILD === '1') {
    say('BLIP2_PROGRESSIVE_SKIP_BUILD=1, leaving the native addon alone');
    return 0;
  }
  const asked = process.env.BLIP2_PROGRESSIVE_BUILD_FROM_SOURCE === '1' || Boolean(process.env.LIBTORCH) || Boolean(process.env.Torch_DIR);
  const giveUp = (message) => {
    warn(message);
    return asked ? 1 : 0;
  };
  let failure;
  if (!asked) {
    const probe = probeAddon(root);
    if (probe.ok) {
      say(`using the ${probe.kind} native addon ${probe.file}`);
      return 0;
    }
    failure = probe;
  }
  const missing = missingForSourceBuild();
  if (missing.length > 0) {
    const why = failure ? `${explainLoadFailure(root, failure)}\n` : '';
    return giveUp(`${why}A source build is not possible here: missing ${missing.join(', ')}. Install them (${APT_BUILD}), then run npm rebuild blip2-progressive.`);
  }
  say(`building the native addon from source${failure ? ` (${failure.reason})` : ''}`);
  const args = [cmakeJsCli(), 'compile'];
  if (process.env.LIBTORCH) args.push(`--CDLIBTORCH=${process.env.LIBTORCH}`);
  const build = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    return giveUp(`The source build failed (cmake-js exit ${build.status ?? build.signal}; its output is above). ` +
      `It needs CMake >= 3.18, a C++17 compiler and libtorch 1.13 or 2.x (${APT_BUILD}, or LIBTORCH=/path/to/libtorch).`);
  }
  const built = probeAddon(root);
  if (!built.ok) return giveUp(explainLoadFailure(root, built));
  say(`built ${built.file}`);
  return 0;
}

process.exitCode = main();
