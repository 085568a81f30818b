#!/usr/bin/env bash
# `make cluster` and `make live`: builds nacos-raft-node and runs a 3-node cluster on
# 127.0.0.1:8848-8850 in the foreground, data under ./nacos-data/<port>/ and logs in
# ./nacos-data/<port>.log. Prints the leader once elected (and every change after) and the URL
# that opens the page in live mode on these nodes. Ctrl-C stops everything it started.
#
#   FAST=1 make cluster            Nacos' timings divided by ten (a leader within ~2 s)
#   FAULTS=1 make cluster          allow the fault API (--faults)
#   PAGE=1 make cluster            also serve the page (scripts/trunk.sh serve --release on 127.0.0.1:8080)
#   make live                      = FAST=1 FAULTS=1 PAGE=1 make cluster
#   NACOS_RAFT_HEARTBEAT_MS=1000 make cluster   any node option through its environment variable
#   NACOS_RAFT_LOOPBACK_ONLY=false make cluster  allow connections outside 127.0.0.0/8 (on by
#                                                default here: a demo never leaves this machine)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
PORTS=(8848 8849 8850)
DATA=./nacos-data
PAGE_ADDR=127.0.0.1:8080
MEMBERS=$(printf '127.0.0.1:%s,' "${PORTS[@]}"); MEMBERS=${MEMBERS%,}
LIVE_URL="http://$PAGE_ADDR/live/#live=$MEMBERS"

say() { printf '[cluster] %s\n' "$*" >&2; }

say "building nacos-raft-node (release)"
$CARGO build --release -q -p nacos-raft-node
TARGET=${CARGO_TARGET_DIR:-target}
BIN="$TARGET/release/nacos-raft-node"
[ -x "$BIN" ] || { say "no binary at $BIN"; exit 1; }

export NACOS_RAFT_LOOPBACK_ONLY=${NACOS_RAFT_LOOPBACK_ONLY:-true}
EXTRA=()
if [ "${FAST:-0}" = 1 ]; then
  EXTRA+=(--tick-ms 50 --leader-timeout-ms 1500 --random-ms 500 --heartbeat-ms 500 --publish-timeout-ms 500)
fi
if [ "${FAULTS:-0}" = 1 ]; then
  EXTRA+=(--faults)
fi

mkdir -p "$DATA"
PIDS=()
PAGE_PGID=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$PAGE_PGID" ]; then
    # trunk and the builds it started run in their own process group.
    say "stopping the page server (process group $PAGE_PGID)"
    kill -TERM -- "-$PAGE_PGID" 2>/dev/null || true
  fi
  if [ ${#PIDS[@]} -gt 0 ]; then
    say "stopping ${PIDS[*]}"
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
  fi
  if [ -n "$PAGE_PGID" ]; then
    for _ in $(seq 50); do kill -0 -- "-$PAGE_PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$PAGE_PGID" 2>/dev/null || true
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

page_up() { curl -sf -o /dev/null --max-time 2 "http://$PAGE_ADDR/"; }
page_state=none
if [ "${PAGE:-0}" = 1 ]; then
  if page_up; then
    say "something already serves http://$PAGE_ADDR/: using it"
    page_state=up
  else
    say "serving the page: scripts/trunk.sh serve --release on $PAGE_ADDR (log $DATA/page.log; the first build takes minutes)"
    setsid bash scripts/trunk.sh serve --release --address 127.0.0.1 --port 8080 >"$DATA/page.log" 2>&1 &
    PAGE_PGID=$!
    page_state=building
  fi
fi

leader_of() {
  "$BIN" state --server "$1" 2>/dev/null | grep '"leader"' | grep -o '127\.0\.0\.1:[0-9]*' | head -1 || true
}

say "waiting for a leader (Nacos elects after 15-20 s; FAST=1 for ~2 s)"
say "try: $BIN put --server 127.0.0.1:8849 'com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo' '{\"instanceList\":[]}'"
say "     $BIN state --server 127.0.0.1:8848   |   curl -s 127.0.0.1:8848/metrics"
say "     curl -X POST '127.0.0.1:8848/nacos/v1/ns/instance?serviceName=demo&ip=127.0.0.1&port=8080&ephemeral=false'"
say "     curl '127.0.0.1:8849/nacos/v1/ns/instance/list?serviceName=demo'"
say "     curl -N 127.0.0.1:8848/nacos-raft/v1/events   (the live event stream)"
if [ "${FAULTS:-0}" = 1 ]; then
  say "     curl -X POST 127.0.0.1:8848/nacos-raft/v1/faults/crash   (…/restart, …/isolate, …/heal-all)"
fi
if [ "$page_state" = none ]; then
  say "live view: $LIVE_URL (serve the page with make demo)"
fi
current=""
while true; do
  for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[$i]}" 2>/dev/null; then
      say "node 127.0.0.1:${PORTS[$i]} exited; its log:"
      tail -n 20 "$DATA/${PORTS[$i]}.log" >&2
      exit 1
    fi
  done
  if [ "$page_state" = building ]; then
    if ! kill -0 "$PAGE_PGID" 2>/dev/null; then
      say "the page server exited; its log:"
      tail -n 20 "$DATA/page.log" >&2
      exit 1
    fi
    if page_up; then page_state=up; fi
  fi
  if [ "$page_state" = up ]; then
    echo "live: $LIVE_URL"
    page_state=shown
  fi
  l=$(leader_of "127.0.0.1:${PORTS[0]}")
  if [ -n "$l" ] && [ "$l" != "$current" ]; then
    current=$l
    echo "leader: $l"
  fi
  sleep 1
done
