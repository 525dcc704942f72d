#!/usr/bin/env node
// `npm run prebuild`: makes the prebuilt addon that ships inside the npm tarball, in prebuildify's layout
// (prebuilds/<platform>-<arch>/node.napi.glibc.node, loaded by node-gyp-build), built with cmake-js against the
// system libtorch (Debian 12's libtorch 1.13 for linux-x64). prebuildify itself drives node-gyp, which cannot
// find_package(Torch); cmake-js can, and node-gyp-build only cares about the file layout.
//
// Next to the binary, build-info.json records what it was built against, so a load failure can name the runtime
// packages. The binary is stripped of debug symbols; with the same sources, compiler and libtorch it is the same
// bytes (no timestamps are compiled in, and the linker's build id is a hash of the contents).
//   --clean  configure and compile from nothing (a separate build folder, build-prebuild/)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_INFO, platformTag } from './addon-status.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const clean = process.argv.includes('--clean');
const buildDir = join(root, clean ? 'build-prebuild' : 'build');

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})\n${result.stderr ?? ''}`);
  }
  return result.stdout ?? '';
}

if (process.env.LIBTORCH || process.env.Torch_DIR) {
  throw new Error('npm run prebuild builds against the system libtorch only (the one the runtime packages install); unset LIBTORCH and Torch_DIR');
}
if (clean) rmSync(buildDir, { recursive: true, force: true });
const cmakeJsManifest = createRequire(join(root, 'package.json')).resolve('cmake-js/package.json');
const cmakeJs = join(dirname(cmakeJsManifest), 'bin', 'cmake-js');
run(process.execPath, [cmakeJs, 'compile', '--out', buildDir], { stdio: 'inherit' });

const cache = readFileSync(join(buildDir, 'CMakeCache.txt'), 'utf8');
const torchDir = /^Torch_DIR:PATH=(.*)$/m.exec(cache)?.[1];
const compiler = /^CMAKE_CXX_COMPILER:(?:FILEPATH|STRING)=(.*)$/m.exec(cache)?.[1];
if (!torchDir?.startsWith('/usr/')) throw new Error(`the build used libtorch from ${torchDir}, not the system's: run with --clean`);
const torchVersion = /set\(PACKAGE_VERSION "([^"]+)"\)/.exec(readFileSync(join(torchDir, 'TorchConfigVersion.cmake'), 'utf8'))?.[1];
const debianVersion = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'libtorch1.13'], { encoding: 'utf8' }).stdout || undefined;

const target = join(root, 'prebuilds', platformTag());
rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
const binary = join(target, 'node.napi.glibc.node');
copyFileSync(join(buildDir, 'Release', 'blip2_progressive.node'), binary);
run('strip', ['--strip-debug', binary]);

const needed = run('readelf', ['-d', binary]).split('\n').map((line) => /\(NEEDED\).*\[(.*)\]/.exec(line)?.[1]).filter(Boolean);
const info = {
  libtorch: debianVersion?.replace(/[+-].*$/, '') ?? torchVersion,
  runtime: debianVersion ? `Debian 12 package libtorch1.13 ${debianVersion}` : `libtorch ${torchVersion} from ${torchDir}`,
  runtimePackages: ['libtorch1.13', 'libopenblas0-openmp'],
  torchDir,
  napiVersion: 8,
  compiler: run(compiler ?? 'c++', ['--version']).split('\n')[0],
  needed,
};
writeFileSync(join(target, BUILD_INFO), `${JSON.stringify(info, null, 2)}\n`);
const files = readdirSync(target);
console.log(`prebuild: ${target}: ${files.join(', ')} (libtorch ${info.libtorch})`);
