#!/usr/bin/env bash
# The simulator workload (5 nodes, 1,000 datums, 1 h virtual, Nacos timings) natively and as
# wasm (wasm32-wasip1: the same code generation as the browser's wasm32 build), the wasm run
# twice: in headless Chromium, the browser the page runs in (scripts/run-wasi-chromium.mjs), and
# under Node's WASI (scripts/run-wasi.mjs; Node 20's V8 is 11.3, years older than Chromium's).
# PASSES (5) passes alternate the three; each pass runs RUNS (15) workloads per build in one
# process and takes their median wall time; the table gives the median of the passes and the
# ratio of each wasm run to native within each pass (median, range), so that load which moves
# one pass moves all three builds of it. Targets (issue #14): native ≥ 100,000× real time; wasm
# within 1.2× of native. Every wasm run must print the native build's trace hash (the golden
# one, `efa5dacc10016a36`, which core's tests check natively, in Node and in Chrome).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-15}
PASSES=${PASSES:-5}
cargo build -q --release -p nacos-raft-core --example simbench
cargo build -q --release -p nacos-raft-core --example simbench --target wasm32-wasip1
T=${CARGO_TARGET_DIR:-target}
python3 - "$RUNS" "$PASSES" "$T/release/examples/simbench" "$T/wasm32-wasip1/release/examples/simbench.wasm" <<'PY'
import json, os, statistics, subprocess, sys

runs, passes, native, wasm = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
builds = [("native (release)", [native, str(runs)]),
          ("wasm in Chromium", ["node", "scripts/run-wasi-chromium.mjs", wasm, str(runs)]),
          ("wasm in Node", ["node", "--no-warnings", "scripts/run-wasi.mjs", wasm, str(runs)])]
chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
if not (os.path.exists(chromium) and os.path.isdir("e2e/node_modules/playwright-core")):
    print(f"(no {chromium} or e2e/node_modules/playwright-core: `make tools` installs them; "
          "the Chromium row is left out)", file=sys.stderr)
    builds = [b for b in builds if "Chromium" not in b[0]]
ms = {name: [] for name, _ in builds}
x_real = {name: [] for name, _ in builds}
hash_native = None
for p in range(passes):
    row = []
    for name, cmd in builds:
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        hash_native = hash_native or r["trace_hash"]
        if r["trace_hash"] != hash_native:
            sys.exit(f"{name}: trace hash {r['trace_hash']}, native's {hash_native}")
        ms[name].append(r["median_ms"])
        x_real[name].append(r["x_real_time"])
        row.append(f"{name} {r['median_ms']:.1f}")
    print(f"pass {p + 1}/{passes}, load {os.getloadavg()[0]:.1f}: " + ", ".join(row) + " ms",
          file=sys.stderr, flush=True)
n = ms["native (release)"]
print(f"{passes} passes × {runs} workloads; per pass the median workload's wall time; trace hash {hash_native} in every run")
print("| build | median of passes | range | ÷ native (median of passes, range) | × real time |")
print("|---|---|---|---|---|")
verdicts = []
for name, _ in builds:
    v = ms[name]
    med = statistics.median(v)
    if name.startswith("native"):
        ratio = "1"
    else:
        rs = [w / x for w, x in zip(v, n)]
        r = statistics.median(rs)
        ratio = f"{r:.2f}× ({min(rs):.2f}-{max(rs):.2f})"
        verdicts.append(f"{name}: {r:.2f}× native (target ≤ 1.2×: {'met' if r <= 1.2 else 'NOT met'})")
    print(f"| {name} | {med:.1f} ms | {min(v):.1f}-{max(v):.1f} ms | {ratio} | {statistics.median(x_real[name]):,.0f}× |")
for line in verdicts:
    print(line)
x = statistics.median(x_real["native (release)"])
print(f"native vs real time: {x:,.0f}×  (target ≥ 100,000×: {'met' if x >= 100000 else 'NOT met'})")
PY
