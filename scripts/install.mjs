#!/usr/bin/env node
// Builds the native addon at install time with cmake-js, offline: Node-API headers come from the
// node-api-headers package (package.json declares binary.napi_versions). A prebuilt binary under
// prebuilds/<platform>-<arch>/ is used instead when one is shipped for this machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const prebuildDir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);

if (process.env.BLIP2_PROGRESSIVE_SKIP_BUILD === '1') {
  console.log('blip2-progressive: BLIP2_PROGRESSIVE_SKIP_BUILD=1, not building the native addon');
  process.exit(0);
}
if (existsSync(prebuildDir) && readdirSync(prebuildDir).some((f) => f.endsWith('.node')) &&
    process.env.BLIP2_PROGRESSIVE_BUILD_FROM_SOURCE !== '1') {
  console.log(`blip2-progressive: using the prebuilt addon in ${prebuildDir}`);
  process.exit(0);
}
const cmakeJs = join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
const cli = existsSync(cmakeJs) ? cmakeJs : 'cmake-js';
const args = [cli, 'compile'];
if (process.env.LIBTORCH) args.push(`--CDLIBTORCH=${process.env.LIBTORCH}`);
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error([
    '',
    'blip2-progressive: building the native addon failed.',
    'It needs CMake, a C++17 compiler and libtorch. On Debian/Ubuntu:',
    '  sudo apt-get install -y libtorch-dev libopenblas0-openmp cmake g++',
    'or point LIBTORCH at a libtorch root (pytorch.org zip, or python -c "import torch,os;print(os.path.dirname(torch.__file__))").',
    'To install only the pure-TypeScript parts (metrics, tokenizer), set BLIP2_PROGRESSIVE_SKIP_BUILD=1.',
  ].join('\n'));
  process.exit(result.status ?? 1);
}
