#!/usr/bin/env bash
# `make cluster`: builds nacos-raft-node and runs a 3-node cluster on 127.0.0.1:8848-8850 in the
# foreground, data under ./nacos-data/<port>/ and logs in ./nacos-data/<port>.log. Prints the
# leader once elected (and every change after). Ctrl-C stops all three.
#
#   FAST=1 make cluster            Nacos' timings divided by ten (a leader within ~2 s)
#   NACOS_RAFT_HEARTBEAT_MS=1000 make cluster   any node option through its environment variable
#   NACOS_RAFT_LOOPBACK_ONLY=false make cluster  allow connections outside 127.0.0.0/8 (on by
#                                                default here: a demo never leaves this machine)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
PORTS=(8848 8849 8850)
DATA=./nacos-data
MEMBERS=$(printf '127.0.0.1:%s,' "${PORTS[@]}"); MEMBERS=${MEMBERS%,}

say() { printf '[cluster] %s\n' "$*" >&2; }

say "building nacos-raft-node (release)"
$CARGO build --release -q -p nacos-raft-node
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/nacos-raft-node"
[ -x "$BIN" ] || { say "no binary at $BIN"; exit 1; }

export NACOS_RAFT_LOOPBACK_ONLY=${NACOS_RAFT_LOOPBACK_ONLY:-true}
EXTRA=()
if [ "${FAST:-0}" = 1 ]; then
  EXTRA=(--tick-ms 50 --leader-timeout-ms 1500 --random-ms 500 --heartbeat-ms 500 --publish-timeout-ms 500)
fi

mkdir -p "$DATA"
PIDS=()
stop() {
  trap - INT TERM EXIT
  if [ ${#PIDS[@]} -gt 0 ]; then
    say "stopping ${PIDS[*]}"
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT TERM
trap stop EXIT

for p in "${PORTS[@]}"; do
  "$BIN" --addr "127.0.0.1:$p" --members "$MEMBERS" --data-dir "$DATA/$p" "${EXTRA[@]}" \
    2>>"$DATA/$p.log" &
  PIDS+=($!)
  say "node 127.0.0.1:$p: pid $!, data $DATA/$p, log $DATA/$p.log"
done

leader_of() {
  "$BIN" state --server "$1" 2>/dev/null | grep '"leader"' | grep -o '127\.0\.0\.1:[0-9]*' | head -1 || true
}

say "waiting for a leader (Nacos elects after 15-20 s; FAST=1 for ~2 s)"
say "try: $BIN put --server 127.0.0.1:8849 'com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo' '{\"instanceList\":[]}'"
say "     $BIN state --server 127.0.0.1:8848   |   curl -s 127.0.0.1:8848/metrics"
say "     curl -X POST '127.0.0.1:8848/nacos/v1/ns/instance?serviceName=demo&ip=127.0.0.1&port=8080&ephemeral=false'"
say "     curl '127.0.0.1:8849/nacos/v1/ns/instance/list?serviceName=demo'"
current=""
while true; do
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      say "node 127.0.0.1:${PORTS[$i]} exited; its log:"
      tail -n 20 "$DATA/${PORTS[$i]}.log" >&2
      exit 1
    fi
  done
  l=$(leader_of "127.0.0.1:${PORTS[0]}")
  if [ -n "$l" ] && [ "$l" != "$current" ]; then
    current=$l
    echo "leader: $l"
  fi
  sleep 1
done
