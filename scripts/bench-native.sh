#!/usr/bin/env bash
# `make bench-native`: benchmarks of real nacos-raft-node processes on loopback, printed as
# Markdown tables — write throughput and p50/p99 latency of a 3-node cluster at 1, 8 and 32
# clients; beat size and encode/decode time at 100,000 keys; catch-up time of a new follower for
# 10,000 and 100,000 datums (and Nacos' own pacing at 10,000); leader/follower CPU per beat;
# idle connections held by a leader (memory each, refusals over the cap, time to shed them);
# writes with two live viewers on every node's event stream vs none.
# Takes about 7 minutes on 2 cores and needs ~1.2 GB of free disk under $TMPDIR per
# 100,000-datum catch-up (twice that with BASELINE_BIN, both kept until the end).
#
#   scripts/bench-native.sh              everything but catchup-big
#   scripts/bench-native.sh writes beat  only some parts (writes, beat, catchup, cpu, conns, live)
#   scripts/bench-native.sh quick        shorter runs, 20,000 keys instead of 100,000
#   CATCHUP_ROUNDS=3 scripts/bench-native.sh catchup-big
#                                        the 100,000-datum catch-up alone, CATCHUP_ROUNDS rounds
#                                        (issue 14's ≤ 5 s target), with BASELINE_BIN alternated
#                                        round by round and the ratios
#   BASELINE_BIN=<old nacos-raft-node> scripts/bench-native.sh cpu
#                                        CPU per beat at 100,000 keys of both builds and the ratios
# It first waits while another benchmark is still deleting its files, then up to 6 minutes if one
# deleted them lately: on ext4 without a journal (this machine's root) that slows every new file
# for a while (native/src/testkit/settle.rs; SETTLE_SECS=0 skips the wait).
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
exec $CARGO bench -q -p nacos-raft-node --bench native -- "$@"
