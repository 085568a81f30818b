#!/usr/bin/env bash
# A quick probe of one node build under write load: 3 nodes of BIN on loopback with the fast
# timings and RULES (default hardened), wrk writing new keys to the leader for SECS seconds over
# CONNS connections (the Lua client of `make bench-vs-etcd`), then each node's beat counters and
# the CPU time each node used (utime + stime, in clock ticks). Not a benchmark of record: run it
# alternated with a baseline binary to compare CPU per write.
#
#   scripts/beat-probe.sh BIN [CONNS=8] [SECS=15] [RULES=hardened]
set -euo pipefail
BIN=${1:?usage: scripts/beat-probe.sh BIN [CONNS] [SECS] [RULES]}
C=${2:-8}
S=${3:-15}
RULES=${4:-hardened}
HERE=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "beat-probe: wrk is missing (make bench-vs-etcd installs it)" >&2; exit 1; }
# A mass deletion slows file creation on ext4 without a journal for up to 6 minutes
# (native/src/testkit/settle.rs): wait for a removal under way (the mark holds its process id)
# and for the last one to age (SETTLE_SECS, default 370), and mark ours.
MARK=${TMPDIR:-/tmp}/nacos-raft-bench-deleted
while [ "${SETTLE_SECS:-370}" != 0 ] && [ -e "$MARK" ]; do
  pid=$(cat "$MARK" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$pid" != $$ ] && [ -d "/proc/$pid" ] \
    && [ $(( $(date +%s) - $(stat -c %Y "$MARK") )) -lt 3600 ]; then
    echo "beat-probe: waiting: a benchmark (process $pid) is still deleting its files" >&2
    sleep 2
    continue
  fi
  left=$(( $(stat -c %Y "$MARK") + ${SETTLE_SECS:-370} - $(date +%s) ))
  [ "$left" -gt 0 ] || break
  echo "beat-probe: waiting $left s: a benchmark deleted its files lately" >&2
  sleep "$left"
done
D=$(mktemp -d /tmp/beat-probe.XXXX)
read -r -a P < <(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
M=127.0.0.1:${P[0]},127.0.0.1:${P[1]},127.0.0.1:${P[2]}
pids=()
cleanup() {
  kill -9 "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  printf '%s' $$ >"$MARK"; rm -rf "$D"; sync; : >"$MARK"
}
trap cleanup EXIT
for p in "${P[@]}"; do
  "$BIN" --addr "127.0.0.1:$p" --members "$M" --data-dir "$D/$p" --rules "$RULES" \
    --tick-ms 50 --leader-timeout-ms 1500 --random-ms 500 --heartbeat-ms 500 \
    --publish-timeout-ms 5000 --loopback-only >"$D/$p.log" 2>&1 &
  pids+=($!)
done
L=""
for _ in $(seq 1 150); do
  sleep 0.2
  L=$(curl -s "http://127.0.0.1:${P[0]}/nacos/v1/ns/raft/leader" 2>/dev/null |
    python3 -c 'import sys,json; print(json.loads(json.load(sys.stdin)["leader"])["ip"])' 2>/dev/null) || true
  [ -n "$L" ] && break
done
[ -n "$L" ] || { echo "beat-probe: no leader within 30 s" >&2; exit 1; }
echo "leader $L ($RULES)"
printf '%s' '{"instanceList":[{"instanceId":"127.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@svc-000001","ip":"127.0.0.1","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@svc-000001","metadata":{},"lastBeat":1600000000000,"marked":false}]}' >"$D/value"
wrk -t "$(( C < 2 ? C : 2 ))" -c "$C" -d "${S}s" --latency --timeout 30s -s "$HERE/native/benches/vs_etcd/writes.lua" \
  "http://$L" -- nacos 'com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@probe-' "$D/value" |
  grep -v VS_ETCD_RESULT
echo "CPU ticks ($(getconf CLK_TCK) per second):"
for i in 0 1 2; do
  role=follower
  [ "127.0.0.1:${P[$i]}" = "$L" ] && role=leader
  echo "  127.0.0.1:${P[$i]} $role $(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")"
done
for p in "${P[@]}"; do
  echo "== 127.0.0.1:$p"
  curl -s "http://127.0.0.1:$p/metrics" |
    grep -E "^nacos_raft_(beats_[a-z_]*_total|datums|sync_fetches_total|commit_batch[a-z_]*_total) " || true
done
