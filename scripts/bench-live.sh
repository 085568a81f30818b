#!/usr/bin/env bash
# `make bench-live`: the cost of watching a cluster live, in two figures.
# (a) write throughput and p50/p99 of 3 real nodes with two live viewers (each reading every
#     node's event stream) vs none, and the nodes' CPU per write, runs alternated in one session
#     (native/benches/native.rs, part `live`; target: within 5 %);
# (b) page frame time of the release page in live mode on 5 real nodes at fast timings under
#     100 writes/s, in headless Chromium (e2e/bench-live.mjs; target: p95 ≤ 16.7 ms).
#
#   BASELINE_BIN=<node binary> runs a cluster of that build beside this one's in (a), its runs
#   interleaved with this build's: before and after in one session.
#   BENCH_VSYNC=1 measures (b) with Chromium's 60 Hz frame-rate limit kept, as a real screen, and
#   reports the share of dropped frames (intervals over 1.5 periods); the 16.7 ms target is for
#   the limit lifted, so it is not checked then.
#   BENCH_PROFILE=FILE adds a 5 s V8 sampling profile of the page's main thread to (b), saved as
#   FILE (.cpuprofile) with its top self times on stderr (Rust names: build the page with
#   NACOS_RAFT_WEB_KEEP_NAMES=1 and pass DIST=).
#
#   scripts/bench-live.sh          both (about 4 minutes on 2 cores)
#   scripts/bench-live.sh quick    shorter native runs
#   scripts/bench-live.sh page     only (b)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
if [ "${1:-}" != page ]; then
  $CARGO bench -q -p nacos-raft-node --bench native -- live ${1:-}
fi
[ -d e2e/node_modules ] || npm ci --prefix e2e --no-audit --no-fund >/dev/null
echo "[bench-live] trunk build --release"
bash scripts/trunk.sh build --release >/tmp/nacos-raft-trunk-bench-live.log 2>&1 || { cat /tmp/nacos-raft-trunk-bench-live.log; exit 1; }
echo "[bench-live] cargo build --release -p nacos-raft-node"
$CARGO build --release -q -p nacos-raft-node
export NACOS_RAFT_NODE_BIN="$(realpath "${CARGO_TARGET_DIR:-target}")/release/nacos-raft-node"
r=$(node e2e/bench-live.mjs)
node -e '
const x = JSON.parse(process.argv[1]);
const pass = x.vsync || x.frame_p95_ms <= 16.7;
console.log("\n## Page frame time, live mode (" + x.nodes + " nodes, fast timings, " + x.target_writes_per_s + " writes/s)\n");
console.log("| writes/s acked | frames | frame p50 ms | frame p95 ms (target 16.7) | work p50 ms | work p95 ms | frames with messages | max flying |");
console.log("|---|---|---|---|---|---|---|---|");
console.log(`| ${x.writes_per_s.toFixed(0)} | ${x.frames} | ${x.frame_p50_ms.toFixed(1)} | ${x.frame_p95_ms.toFixed(1)} ${x.vsync ? "(60 Hz limit kept)" : pass ? "ok" : "OVER"} | ${x.work_p50_ms.toFixed(1)} | ${x.work_p95_ms.toFixed(1)} | ${Math.round(x.frames_with_messages * 100)} % | ${x.max_messages} |`);
if (x.vsync) console.log(`\n60 Hz limit kept: ${(x.dropped_frames * 100).toFixed(1)} % of frame intervals over 25 ms`);
process.exit(pass ? 0 : 1);
' "$r"
echo "$r"
