#!/usr/bin/env python3
"""CPU time per simulator workload of several `simbench` builds, alternated in one loop.

    python3 scripts/simbench-cpu.py PASSES LABEL=PATH [LABEL=PATH ...]

PATH is a native `simbench` or a `simbench.wasm` (run under Node's WASI by scripts/run-wasi.mjs).
Per pass and build: (user + sys of `simbench 41` - that of `simbench 1`) / 40, in ms, so start-up
and (for wasm) compilation cancel out; CPU time rather than wall clock because other builds on a
shared machine move wall-clock medians by up to 2x. Every run must print the workload's golden
trace hash. Prints each pass with the load average, then each build's median and range, and
its ratio to the first build (the median of the per-pass ratios: a pass's builds ran back to
back, so load that moves one pass moves them alike). E.g. `base=… new=…` gives new ÷ base;
`nn=<native> wn=<wasm>` gives wasm ÷ native.
"""
import json
import os
import resource
import statistics
import subprocess
import sys

HASH = "efa5dacc10016a36"
RUN_WASI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run-wasi.mjs")


def cpu_seconds(path, runs):
    cmd = ["node", "--no-warnings", RUN_WASI, path, str(runs)] if path.endswith(".wasm") else [path, str(runs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = json.loads(out)["trace_hash"]
    if got != HASH:
        sys.exit(f"{path}: trace hash {got}, expected {HASH}")
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main():
    if len(sys.argv) < 3 or not sys.argv[1].isdigit() or any("=" not in a for a in sys.argv[2:]):
        sys.exit(__doc__)
    passes = int(sys.argv[1])
    builds = [a.split("=", 1) for a in sys.argv[2:]]
    ms = {label: [] for label, _ in builds}
    for p in range(passes):
        for label, path in builds:
            ms[label].append((cpu_seconds(path, 41) - cpu_seconds(path, 1)) / 40 * 1e3)
        row = "  ".join(f"{label} {ms[label][-1]:.1f}" for label, _ in builds)
        print(f"pass {p + 1} load {os.getloadavg()[0]:.1f}: {row}", flush=True)
    first = builds[0][0]
    for label, _ in builds:
        v = ms[label]
        line = f"{label}: median {statistics.median(v):.1f} ms [{min(v):.1f}-{max(v):.1f}]"
        if label != first:
            rs = [x / b for x, b in zip(v, ms[first])]
            line += f"; ÷ {first}: {statistics.median(rs):.2f}× [{min(rs):.2f}-{max(rs):.2f}]"
        print(line)


if __name__ == "__main__":
    main()
