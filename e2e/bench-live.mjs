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
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, launch, traceFrames, FAST_TIMINGS, freePort, raftLeader } from './lib.mjs';

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
// BENCH_VSYNC=1: Chromium keeps its 60 Hz frame-rate limit, as a real browser on a 60 Hz screen:
// then a frame interval is the vsync period or a multiple of it, and the figure that matters is
// the share of dropped frames (intervals over 1.5 periods). Not the figure, which is
// measured with the limit lifted.
const VSYNC = Boolean(process.env.BENCH_VSYNC);
// BENCH_PROFILE=FILE: after the measurement, a 5 s sampling profile of the page's main thread
// under the same load (V8's profiler: JS and wasm functions; build the page with
// NACOS_RAFT_WEB_KEEP_NAMES=1 to see Rust names), saved as FILE (.cpuprofile, opens in Chrome's
// DevTools), its top self times printed to stderr.
const PROFILE = process.env.BENCH_PROFILE;
const PERIOD_MS = 1000 / 60;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

// CPU time (ms) of every thread of this process's descendants, keyed "<process>/<thread>": the
// process is `node` for the nacos-raft nodes this bench started, else Chromium's --type (browser
// for the one without). Read from /proc at both ends of the measured window.
function cpuByThread(nodePids) {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const parent = new Map();
  const pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  for (const pid of pids) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const mine = (pid) => { for (let p = pid; p > 1; p = parent.get(p)) if (p === process.pid) return true; return false; };
  const out = {};
  for (const pid of pids) {
    if (pid === process.pid || !mine(pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const kind = nodePids.has(pid) ? 'node' : /chrom/.test(cmd) ? (cmd.match(/--type=([a-z-]+)/)?.[1] || 'browser') : 'other';
      for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
        const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/[0-9]+$/, '');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const k = kind === 'node' ? 'node' : `${kind}/${comm}`;
        out[k] = (out[k] || 0) + (Number(f[11]) + Number(f[12])) * tick;
      }
    } catch { /* gone */ }
  }
  return out;
}

// Cores used per key between two cpuByThread readings over `secs`, the busiest first.
function cores(a, b, secs) {
  const d = Object.entries(b).map(([k, v]) => [k, (v - (a[k] || 0)) / 1000 / secs]).filter(([, v]) => v >= 0.005);
  d.sort((x, y) => y[1] - x[1]);
  const sum = (re) => +d.filter(([k]) => re.test(k)).reduce((s, [, v]) => s + v, 0).toFixed(2);
  return {
    chromium: sum(/^(browser|renderer|gpu-process|utility|zygote)\//),
    nodes: sum(/^node$/),
    threads: Object.fromEntries(d.slice(0, 12).map(([k, v]) => [k, +v.toFixed(2)])),
  };
}

// V8's sampling profile of the page for `ms`: written to `file`, the top self times to stderr.
async function profileMainThread(context, page, ms, file) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await sleep(ms);
  const { profile } = await cdp.send('Profiler.stop');
  await cdp.detach();
  fs.writeFileSync(file, JSON.stringify(profile));
  const self = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    const name = f.functionName || `(anonymous ${f.url.split('/').pop()}:${f.lineNumber})`;
    self.set(name, (self.get(name) || 0) + (dt[i + 1] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = (self.get('(idle)') || 0) + (self.get('(program)') || 0);
  console.error(`[bench-live] profile ${file}: ${total.toFixed(0)} ms sampled, ${(total - idle).toFixed(0)} ms busy`);
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.error(`${t.toFixed(1).padStart(8)} ms ${(100 * t / total).toFixed(1).padStart(5)} %  ${name}`);
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nacos-raft-bench-live-'));
const procs = [];
// Each node's stderr, kept in the temp dir for the diagnostics below.
const logOf = (addr) => path.join(tmp, `${addr.replace(':', '_')}.log`);
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
    const log = fs.openSync(logOf(addr), 'a');
    procs.push(spawn(bin, ['--addr', addr, '--members', addrs.join(','), '--data-dir', dir, '--loopback-only',
      '--health-check', 'none', '--web-origin', origin, ...FAST_TIMINGS], { stdio: ['ignore', 'ignore', log] }));
  }
  let leader = null;
  for (const end = Date.now() + 30_000; !leader; await sleep(200)) {
    if (Date.now() > end) throw new Error('no leader within 30 s');
    const l = await Promise.all(addrs.map(raftLeader));
    if (l[0] && l.every((x) => x === l[0])) leader = l[0];
  }
  browser = await launch(VSYNC ? [] : ['--disable-frame-rate-limit', '--disable-gpu-vsync']);
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(`${srv.url}#live=${addrs.join(',')}`);
  try {
    await page.waitForFunction((n) => document.querySelectorAll('[data-conn="open"]').length === n, NODES, { timeout: 20_000 });
  } catch (e) {
    // Which streams did not open, as the page shows them, and what each node logged.
    const conns = await page.evaluate(() => [...document.querySelectorAll('[data-node]')]
      .map((el) => `${el.dataset.node}: ${el.dataset.conn ?? '?'}`));
    for (const a of addrs) {
      const log = fs.readFileSync(logOf(a), 'utf8').trim().split('\n');
      console.error(`[bench-live] ${a} log, last lines:\n  ${log.slice(-8).join('\n  ')}`);
    }
    throw new Error(`the page's streams did not all open within 20 s: ${conns.join(', ') || 'no node shown'}`, { cause: e });
  }

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
  const nodePids = new Set(procs.map((p) => p.pid));
  const cpu0 = cpuByThread(nodePids);
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
  const secs = (Date.now() - t0) / 1000;
  const cpu = cores(cpu0, cpuByThread(nodePids), secs);
  const writesPerS = (acked - acked0) / secs;
  // The compositing layers of a live frame (what the compositor threads draw and the raster
  // threads fill): their count and the area painted into them, in CSS px².
  const cdp = await browser.context.newCDPSession(page);
  const layers = await new Promise((ok) => {
    cdp.on('LayerTree.layerTreeDidChange', (e) => { if (e.layers) ok(e.layers); });
    cdp.send('LayerTree.enable');
    setTimeout(() => ok([]), 2_000);
  });
  await cdp.detach();
  const drawn = layers.filter((l) => l.drawsContent);
  if (TRACE) console.error(JSON.stringify(await traceFrames(browser.context, page, 5_000), null, 1));
  if (PROFILE) await profileMainThread(browser.context, page, 5_000, PROFILE);
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
    vsync: VSYNC,
    ...(VSYNC ? { dropped_frames: r.intervals.filter((x) => x > 1.5 * PERIOD_MS).length / Math.max(1, r.intervals.length) } : {}),
    work_p50_ms: pct(r.work, 50),
    work_p95_ms: pct(r.work, 95),
    frames_with_messages: r.flying.filter((f) => f > 0).length / Math.max(1, r.flying.length),
    max_messages: Math.max(...r.flying),
    messages_seen: r.messages,
    layers: layers.length,
    layers_drawn: drawn.length,
    layer_area_px2: Math.round(drawn.reduce((a, l) => a + l.width * l.height, 0)),
    cpu_cores: cpu,
    // Chromium's CPU (all its processes and threads) per frame drawn: with the frame-rate limit
    // lifted, what one frame costs the machine, whatever the other processes leave it.
    chromium_cpu_ms_per_frame: +((cpu.chromium * 1000) / (r.intervals.length / seconds)).toFixed(2),
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
