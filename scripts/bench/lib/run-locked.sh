#!/usr/bin/env bash
# Builds keepvip and runs one benchmark (scripts/bench/NAME.ts) under the bench lock, so that
# no two benchmarks on this machine measure at the same time. Usage: run-locked.sh NAME [flags]
set -euo pipefail
cd "$(dirname "$0")/../../.."
name="$1"
shift
source scripts/toolchain.sh
# The daemons run with the image's V8 settings (daemonset/Dockerfile, ENTRYPOINT) unless
# KEEPVIP_NODE_FLAGS says otherwise (set it empty for Node's own defaults).
export KEEPVIP_NODE_FLAGS="${KEEPVIP_NODE_FLAGS---max-semi-space-size=1 --no-opt}"
pnpm exec tsc -b >&2
echo "waiting for /tmp/keepvip-bench.lock" >&2
exec flock /tmp/keepvip-bench.lock node "scripts/bench/$name.ts" "$@"
