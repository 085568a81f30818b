#!/usr/bin/env bash
# `make bench-split-vote`: builds the node (release) and runs scripts/bench-split-vote.py, which
# kills the leader of two 3-node loopback clusters in turns, one hardened without `split-vote`
# and one hardened, under a latency fault, and prints how often a failover waited a second
# leader due. KILLS (40) and LATENCY_MS (100) pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
TARGET=${CARGO_TARGET_DIR:-target}
echo "[bench-split-vote] building nacos-raft-node (release)" >&2
$CARGO build --release -q -p nacos-raft-node
exec python3 scripts/bench-split-vote.py --bin "$TARGET/release/nacos-raft-node" \
  --kills "${KILLS:-40}" --latency-ms "${LATENCY_MS:-100}" "$@"
