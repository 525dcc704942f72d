#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Ubuntu machine for blip2-progressive: the system packages the native addon
# needs (libtorch, OpenBLAS, CMake, a C++ compiler), then `npm ci`, which builds the addon and the TypeScript.
# Idempotent: installs only what is missing. Runs as root, or with sudo when available.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the report test renders report.html headless (playwright-core drives Debian's browser)
# libgloo-dev: gloo's headers, which c10d's ProcessGroupGloo.hpp includes (data-parallel training)
packages=(libtorch-dev libopenblas0-openmp libgloo-dev cmake g++ python3 chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# package.json's engines: ^20.19.0 || >=22.12.0
if ! command -v node >/dev/null 2>&1 || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1)'; then
  echo "bootstrap: Node.js ^20.19 or >= 22.12 is required (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "  Install it from your distribution or https://nodejs.org, then rerun this script." >&2
  exit 1
fi

# npm ci builds the addon (scripts/install.mjs -> cmake-js, offline) and compiles TypeScript to dist/.
npm ci --no-audit --no-fund
echo "bootstrap: ready ($(node -e "import('./dist/native.js').then(m => { const i = m.native().runtimeInfo(); console.log('libtorch ' + i.libtorch + (i.cuda ? ', CUDA' : ', CPU')) })"))"
