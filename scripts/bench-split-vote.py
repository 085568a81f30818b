#!/usr/bin/env python3
"""`make bench-split-vote`: how often a leader's death costs a second election round on real
nodes, with and without the hardened `split-vote` fix, side by side in one run.

Two clusters of 3 release nodes on loopback (fast timings: a follower campaigns 1.5-2.0 s after
its leader's last beat), one per rule set, every node started with --faults and a latency fault
on every node (each request and answer delayed by --latency-ms), which widens the window in which
two survivors campaign for the same term. The clusters take turns: SIGKILL of one cluster's
leader, time until a survivor says it leads (polled every 10 ms through /raft/state), restart,
then the other cluster. Prints one Markdown table; the JSON goes to artifacts/.

    scripts/bench-split-vote.py --bin target/release/nacos-raft-node [--kills 40] [--latency-ms 100]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

FAST = ["--tick-ms", "50", "--leader-timeout-ms", "1500", "--random-ms", "500", "--heartbeat-ms", "500"]
# Every fix but `split-vote` (the rules syntax's `hardened-` form), so a future fix is in both.
WITHOUT = "hardened-split-vote"
# One leader due after the last beat (at most 2.0 s), the latency of a vote round trip and of the
# state poll: a failover slower than this waited a second leader due.
SLOW_S = 2.5


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    def __init__(self, name, binary, rules, latency_ms, base):
        self.name, self.binary, self.rules, self.latency = name, binary, rules, latency_ms
        self.addrs = [f"127.0.0.1:{p}" for p in free_ports(3)]
        self.base = os.path.join(base, name)
        self.procs = {}
        self.times = []

    def start(self, addr):
        d = os.path.join(self.base, addr.split(":")[1])
        os.makedirs(d, exist_ok=True)
        log = open(d + ".log", "ab")
        self.procs[addr] = subprocess.Popen(
            [self.binary, "--addr", addr, "--members", ",".join(self.addrs), "--data-dir", d,
             "--faults", "--loopback-only", "--rules", self.rules] + FAST,
            stdout=log, stderr=log)

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()

    def leads(self, addr):
        try:
            with urllib.request.urlopen(f"http://{addr}/nacos/v1/ns/raft/state", timeout=1) as r:
                peers = json.loads(r.read()).get("peers") or []
        except Exception:
            return False
        return any(p.get("ip") == addr and p.get("state") == "LEADER" for p in peers)

    def set_latency(self):
        for a in self.addrs:
            q = f"http://{a}/nacos-raft/v1/faults/latency?min={self.latency}&max={self.latency}"
            try:
                urllib.request.urlopen(urllib.request.Request(q, method="POST"), timeout=2).read()
            except Exception:
                pass

    def settled_leader(self, limit_s=30):
        """The one node that leads, once every node runs with the latency fault."""
        end = time.time() + limit_s
        while time.time() < end:
            self.set_latency()
            leaders = [a for a in self.addrs if self.leads(a)]
            if len(leaders) == 1:
                return leaders[0]
            time.sleep(0.1)
        return None

    def kill_once(self):
        for _ in range(10):
            leader = self.settled_leader()
            if leader is None:
                raise RuntimeError(f"{self.name}: no single leader within 30 s")
            time.sleep(1.0)  # a beat or two under the latency before the kill
            if self.leads(leader):
                break
        else:
            raise RuntimeError(f"{self.name}: the leader changed in each of 10 tries")
        survivors = [a for a in self.addrs if a != leader]
        t0 = time.time()
        self.procs[leader].send_signal(signal.SIGKILL)
        self.procs[leader].wait()
        took = None
        while time.time() - t0 < 20:
            if any(self.leads(a) for a in survivors):
                took = time.time() - t0
                break
            time.sleep(0.01)
        if took is None:
            raise RuntimeError(f"{self.name}: no survivor led within 20 s of the kill")
        self.times.append(took)
        self.start(leader)
        return took


def pct(v, q):
    s = sorted(v)
    return s[min(len(s) - 1, int(len(s) * q))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True, help="the nacos-raft-node binary")
    ap.add_argument("--kills", type=int, default=40, help="kills per cluster (40)")
    ap.add_argument("--latency-ms", type=int, default=100, help="latency fault on every node (100)")
    ap.add_argument("--without", default=WITHOUT, help="rules of the baseline cluster")
    ap.add_argument("--with", dest="with_", default="hardened", help="rules of the other cluster")
    ap.add_argument("--json", default="artifacts/bench-split-vote.json")
    a = ap.parse_args()
    if not os.access(a.bin, os.X_OK):
        sys.exit(f"bench-split-vote: {a.bin} is not an executable node binary")
    base = tempfile.mkdtemp(prefix="bench-split-vote.")
    clusters = [Cluster("without", a.bin, a.without, a.latency_ms, base),
                Cluster("with", a.bin, a.with_, a.latency_ms, base)]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        for c in clusters:
            for addr in c.addrs:
                c.start(addr)
        for k in range(a.kills):
            for c in clusters:
                took = c.kill_once()
                print(f"[split-vote] {c.name}: kill {k + 1}/{a.kills}: a survivor leads after {took:.3f} s",
                      file=sys.stderr, flush=True)
    finally:
        for c in clusters:
            c.stop()
        shutil.rmtree(base, ignore_errors=True)
    rows = []
    for c in clusters:
        t = c.times
        rows.append({"cluster": c.name, "rules": c.rules, "kills": len(t), "p50_s": pct(t, 0.5),
                     "p90_s": pct(t, 0.9), "p99_s": pct(t, 0.99), "max_s": max(t),
                     "slow": sum(1 for x in t if x > SLOW_S), "times_s": [round(x, 3) for x in t]})
    print(f"\n## Leader SIGKILL to a new leader, 3 real nodes, latency fault {a.latency_ms} ms on every node\n")
    print(f"| rules | kills | p50 s | p90 s | p99 s | max s | slower than {SLOW_S} s (a second leader due) |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        name = "hardened without split-vote" if r["rules"] == WITHOUT else r["rules"]
        print(f"| {name} | {r['kills']} | {r['p50_s']:.2f} | {r['p90_s']:.2f} | {r['p99_s']:.2f} | "
              f"{r['max_s']:.2f} | {r['slow']} |")
    print(f"\nStarted {started}; kills taken in turns; `{' '.join(sys.argv)}`.")
    os.makedirs(os.path.dirname(a.json) or ".", exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"started": started, "latency_ms": a.latency_ms, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
