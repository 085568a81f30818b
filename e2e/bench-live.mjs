// Frame time of the release page in live mode: five real release nodes (fast timings, loopback
// only, temp data dirs, stopped at the end) under a steady write load, watched by the page in
// headless Chromium. Run by scripts/bench-live.sh after the release builds (NACOS_RAFT_NODE_BIN).
//
// Measured as scripts/bench-web.sh measures the simulator (e2e/bench.mjs): the interval between
// animation frames with the frame-rate limit lifted, so each interval is what one frame costs
// (script, style, layout, paint); and the page's own work per frame (record → DOM update).
// The writes: RATE persistent-instance registrations per second through the naming API on the
// leader, cycling over 50 services (so the key set stays put and each write is a Raft commit),
// paced by the clock, at most 64 in flight.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, launch, traceFrames } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.DIST || path.join(root, 'dist');
const bin = process.env.NACOS_RAFT_NODE_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'release', 'nacos-raft-node');
const seconds = Number(process.env.BENCH_SECONDS || 15);
const RATE = Number(process.env.BENCH_WRITES_PER_S || 100);
const NODES = Number(process.env.BENCH_NODES || 5);
// BENCH_TRACE=1: after the measurement, a 5 s Chrome trace under the same load (where the frames
// go: script, style, layout, paint, commit, raster), printed to stderr.
const TRACE = Boolean(process.env.BENCH_TRACE);
const TIMINGS = ['--tick-ms', '50', '--leader-timeout-ms', '1500', '--random-ms', '500',
  '--heartbeat-ms', '500', '--publish-timeout-ms', '500'];

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

async function freePort() {
  const s = net.createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

async function leaderOf(addr) {
  try {
    const r = await fetch(`http://${addr}/nacos/v1/ns/raft/leader`, { signal: AbortSignal.timeout(2_000) });
    const inner = JSON.parse(await r.text()).leader;
    return inner && inner !== 'null' ? JSON.parse(inner).ip : null;
  } catch {
    return null;
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nacos-raft-bench-live-'));
const procs = [];
let srv;
let browser;
let result;
try {
  if (!fs.existsSync(bin)) throw new Error(`no node binary at ${bin}`);
  srv = await serve(dist, '/bench-live/');
  const origin = new URL(srv.url).origin;
  const addrs = [];
  for (let i = 0; i < NODES; i++) addrs.push(`127.0.0.1:${await freePort()}`);
  for (const addr of addrs) {
    const dir = path.join(tmp, addr.replace(':', '_'));
    const log = fs.openSync(path.join(tmp, `${addr.replace(':', '_')}.log`), 'a');
    procs.push(spawn(bin, ['--addr', addr, '--members', addrs.join(','), '--data-dir', dir, '--loopback-only',
      '--health-check', 'none', '--web-origin', origin, ...TIMINGS], { stdio: ['ignore', 'ignore', log] }));
  }
  let leader = null;
  for (const end = Date.now() + 30_000; !leader; await sleep(200)) {
    if (Date.now() > end) throw new Error('no leader within 30 s');
    const l = await Promise.all(addrs.map(leaderOf));
    if (l[0] && l.every((x) => x === l[0])) leader = l[0];
  }
  browser = await launch(['--disable-frame-rate-limit', '--disable-gpu-vsync']);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${srv.url}#live=${addrs.join(',')}`);
  await page.waitForFunction((n) => document.querySelectorAll('[data-conn="open"]').length === n, NODES, { timeout: 20_000 });

  // The write load, paced by the clock until told to stop.
  let stop = false;
  let acked = 0;
  let failed = 0;
  let skipped = 0; // not offered: 64 were in flight (the cluster is slower than the load)
  let inflight = 0;
  const writer = (async () => {
    const t0 = Date.now();
    for (let k = 0; !stop; k++) {
      await sleep(t0 + (k * 1000) / RATE - Date.now());
      if (inflight >= 64) { skipped++; continue; }
      inflight++;
      const url = `http://${leader}/nacos/v1/ns/instance?serviceName=bench-live-${k % 50}&ip=127.0.0.1&port=${9000 + (k % 1000)}&ephemeral=false`;
      fetch(url, { method: 'POST', signal: AbortSignal.timeout(5_000) })
        .then((r) => { if (r.ok) acked++; else failed++; })
        .catch(() => { failed++; })
        .finally(() => { inflight--; });
    }
  })();
  await sleep(3_000); // the load settles; the page has keys to show
  const acked0 = acked;
  const t0 = Date.now();
  const r = await page.evaluate(async (ms) => {
    window.__nacosRaftFrames = [];
    const intervals = [];
    const flying = [];
    let last = performance.now();
    const end = last + ms;
    await new Promise((done) => {
      const tick = (ts) => {
        intervals.push(ts - last);
        last = ts;
        flying.push(Number(document.querySelector('svg.ring')?.dataset.flying || 0));
        if (ts < end) requestAnimationFrame(tick); else done();
      };
      requestAnimationFrame(tick);
    });
    return {
      intervals: intervals.slice(5),
      work: window.__nacosRaftFrames.slice(5),
      flying,
      messages: Number(document.querySelector('[data-testid=live-msg-count]')?.dataset.count || 0),
    };
  }, seconds * 1000);
  const writesPerS = (acked - acked0) / ((Date.now() - t0) / 1000);
  if (TRACE) console.error(JSON.stringify(await traceFrames(browser.context, page, 5_000), null, 1));
  stop = true;
  await writer;
  result = {
    nodes: NODES,
    target_writes_per_s: RATE,
    writes_per_s: writesPerS,
    failed_writes: failed,
    skipped_writes: skipped,
    frames: r.intervals.length,
    frame_p50_ms: pct(r.intervals, 50),
    frame_p95_ms: pct(r.intervals, 95),
    work_p50_ms: pct(r.work, 50),
    work_p95_ms: pct(r.work, 95),
    frames_with_messages: r.flying.filter((f) => f > 0).length / Math.max(1, r.flying.length),
    max_messages: Math.max(...r.flying),
    messages_seen: r.messages,
  };
} finally {
  await browser?.close();
  await srv?.close();
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      const gone = new Promise((ok) => p.once('exit', ok));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
