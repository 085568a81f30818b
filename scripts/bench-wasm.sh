#!/usr/bin/env bash
# The simulator workload (5 nodes, 1,000 datums, 1 h virtual, Nacos timings) natively and as
# wasm (wasm32-wasip1 under Node's WASI: the same code generation as the browser's wasm32 build),
# with the ratio. Targets (issue #14): native ≥ 100,000× real time; wasm within 1.2× of native.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-9}
cargo build -q --release -p nacos-raft-core --example simbench
cargo build -q --release -p nacos-raft-core --example simbench --target wasm32-wasip1
native=$("${CARGO_TARGET_DIR:-target}/release/examples/simbench" "$RUNS")
wasm=$(node --no-warnings scripts/run-wasi.mjs "${CARGO_TARGET_DIR:-target}/wasm32-wasip1/release/examples/simbench.wasm" "$RUNS")
python3 - "$native" "$wasm" <<'PY'
import json, sys
n, w = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("| build | runs | median | min | max | × real time |")
print("|---|---|---|---|---|---|")
for name, r in (("native (release)", n), ("wasm (release, Node)", w)):
    print(f"| {name} | {r['runs']} | {r['median_ms']:.1f} ms | {r['min_ms']:.1f} ms | {r['max_ms']:.1f} ms | {r['x_real_time']:,}× |")
ratio = w['median_ms'] / n['median_ms']
print(f"wasm / native (medians): {ratio:.2f}×  (target ≤ 1.2×: {'met' if ratio <= 1.2 else 'NOT met'})")
print(f"native vs real time: {n['x_real_time']:,}×  (target ≥ 100,000×: {'met' if n['x_real_time'] >= 100000 else 'NOT met'})")
PY
