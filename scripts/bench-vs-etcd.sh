#!/usr/bin/env bash
# `make bench-vs-etcd`: real nacos-raft nodes side by side with etcd 3.4 in the same run, on
# loopback, both fsync'ing: writes/s, p50 and p99 at 1, 8 and 32 connections (wrk, the same Lua
# client logic for both), then failover (SIGKILL the leader, time to the first accepted write at
# a survivor) over 20 kills. One Markdown table on stdout, the JSON in artifacts/.
#
# Installs Debian's etcd-server and wrk first if they are missing (needs root or sudo); nothing
# else in the project needs them, so `make tools` / `make test` never install them.
#
#   scripts/bench-vs-etcd.sh                          the full run (~11 min on 2 cores)
#   SMOKE=1 scripts/bench-vs-etcd.sh                  2 s per cell, 2 kills (~1-2 min)
#   RUNS=5 scripts/bench-vs-etcd.sh                   each write cell 5 times (default 3), medians
#   KEYS=1000 scripts/bench-vs-etcd.sh --parts writes  overwrites of 1,000 keys instead of new keys
#   SECS=20 WARMUP=3 KILLS=30 scripts/bench-vs-etcd.sh
#   scripts/bench-vs-etcd.sh --variant 'hardened=--rules hardened'   (any harness option, see
#                                                     --help; the default variants are faithful
#                                                     and hardened)
# It first waits while another benchmark is still deleting its files, then up to 6 minutes if one
# deleted them lately: on ext4 without a journal (this machine's root) that slows every new file
# for a while (native/src/testkit/settle.rs; SETTLE_SECS=0 skips the wait).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}

say() { printf '[bench-vs-etcd] %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

need=()
have etcd || need+=(etcd-server)
have wrk || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (Debian packages)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  # etcd-server's postinst starts a system etcd (localhost:2379) through invoke-rc.d; a
  # policy-rc.d answering 101 ("action forbidden") keeps it from starting. Only if the machine
  # has none already (container images usually do), and removed again whatever happens.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y "${need[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y "${need[@]}" >/dev/null; }
  if [ "$made_policy" = 1 ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  if [ -d /run/systemd/system ] && systemctl is-enabled --quiet etcd 2>/dev/null; then
    say "note: Debian enabled etcd.service at boot (not started now); 'systemctl disable etcd' to undo"
  fi
fi
say "$(etcd --version | head -1), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"

say "building nacos-raft-node and the harness (release)"
# Run the harness binary itself rather than through `cargo bench`, so that a Ctrl-C or a SIGTERM
# reaches it directly and it stops every process it started.
BENCH=$($CARGO bench -q -p nacos-raft-node --bench vs_etcd --no-run --message-format=json \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "vs_etcd" and m.get("executable"):
        print(m["executable"])')
[ -x "$BENCH" ] || { say "no harness binary"; exit 1; }
exec "$BENCH" "$@"
