// Shared by the browser tests and the benchmark: a static server for dist/ under a sub-path on
// 127.0.0.1, and Debian's Chromium launched headless through playwright-core.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The release build the page tests open (`DIST=` for another). */
export const dist = process.env.DIST || path.join(root, 'dist');
/** Where the tests leave their screenshots. */
export const artifacts = path.join(root, 'artifacts');

/** The fast timings of `make live` (scripts/cluster.sh FAST=1): a leader within ~2 s. */
export const FAST_LEADER_TIMEOUT_MS = 1500;
export const FAST_RANDOM_MS = 500;
export const FAST_TIMINGS = ['--tick-ms', '50', '--leader-timeout-ms', String(FAST_LEADER_TIMEOUT_MS),
  '--random-ms', String(FAST_RANDOM_MS), '--heartbeat-ms', '500', '--publish-timeout-ms', '500'];

/** A TCP port free on 127.0.0.1 now. */
export async function freePort() {
  const s = net.createServer();
  await new Promise((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address();
  await new Promise((ok) => s.close(ok));
  return port;
}

/** The leader `/nacos/v1/ns/raft/leader` of `addr` reports (its address), or null (none, or no answer). */
export async function raftLeader(addr) {
  try {
    const r = await fetch(`http://${addr}/nacos/v1/ns/raft/leader`, { signal: AbortSignal.timeout(3_000) });
    const inner = JSON.parse(await r.text()).leader;
    return inner && inner !== 'null' ? JSON.parse(inner).ip : null;
  } catch {
    return null;
  }
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.md': 'text/markdown; charset=utf-8',
};

/** Serves `dir` at `http://127.0.0.1:<port><prefix>` (prefix like `/demo/sub/`). */
export async function serve(dir, prefix = '/pages/nacos-raft/') {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end('not under ' + prefix);
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length));
    // A folder is its index.html, as on a static host: the simulator's page and live/'s.
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = path.join(dir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''));
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404).end('missing');
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(body);
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}${prefix}`, close: () => new Promise((ok) => server.close(ok)) };
}

/** Debian's Chromium, headless, with a fresh profile; `options` for the context (e.g. `locale`). */
export async function launch(extraArgs = [], options = {}) {
  const executablePath = process.env.CHROMIUM || execSync('command -v chromium', { shell: '/bin/bash' }).toString().trim();
  const userDataDir = fs.mkdtempSync('/tmp/nacos-raft-chromium-');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs,
    ],
    viewport: { width: 1400, height: 1000 },
    ...options,
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens `url` in a new page, collecting console errors and page errors. */
export async function open(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector('[data-node]', { timeout: 30_000 });
  return { page, errors };
}

/**
 * The set-up every page test file shares: before its tests, `dist/` served under `prefix` and one
 * headless Chromium; after them, both stopped. Returns an object whose `url` (the page's address)
 * and `context` (the browser context) are filled in once the tests start.
 */
export function pageSuite(prefix) {
  const suite = { url: undefined, context: undefined };
  let srv;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(path.join(dist, 'index.html')), `no build in ${dist}: run trunk build --release`);
    fs.mkdirSync(artifacts, { recursive: true });
    srv = await serve(dist, prefix);
    browser = await launch();
    suite.url = srv.url;
    suite.context = browser.context;
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });
  return suite;
}

/**
 * Where `page`'s frames go: a Chrome trace (devtools.timeline) over `ms` of animation frames,
 * durations summed by event name, per frame: the renderer's main thread (the one that fires the
 * animation frames: script, style, layout, paint, commit, GC) and any thread's raster and
 * compositing work. The largest 20, in ms per frame; and `cpu_ms_per_s`: the thread CPU time
 * (`tdur`, not stretched by other processes on a busy machine) of the main thread's tasks and of
 * raster, per second of the trace.
 */
export async function traceFrames(context, page, ms) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const complete = new Promise((ok) => cdp.once('Tracing.tracingComplete', ok));
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,disabled-by-default-devtools.timeline,v8.execute',
    transferMode: 'ReportEvents',
  });
  const t0 = performance.now();
  const frames = await page.evaluate(async (span) => {
    let n = 0;
    const end = performance.now() + span;
    await new Promise((ok) => {
      const tick = (ts) => { n++; if (ts < end) requestAnimationFrame(tick); else ok(); };
      requestAnimationFrame(tick);
    });
    return n;
  }, ms);
  const secs = (performance.now() - t0) / 1000;
  await cdp.send('Tracing.end');
  await complete;
  await cdp.detach();
  const main = events.find((e) => e.name === 'FireAnimationFrame');
  const sums = {};
  const cpu = { main_tasks: 0, raster: 0 };
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur) continue;
    const onMain = main && e.pid === main.pid && e.tid === main.tid;
    if (!onMain && !/Raster|Composit|Draw/.test(e.name)) continue;
    if (onMain && e.name === 'RunTask') cpu.main_tasks += (e.tdur ?? e.dur) / 1000;
    if (e.name === 'RasterTask') cpu.raster += (e.tdur ?? e.dur) / 1000;
    const k = `${onMain ? 'main' : 'other'} ${e.name}`;
    sums[k] = (sums[k] || 0) + (e.tdur ?? e.dur) / 1000;
  }
  const top = Object.entries(sums).sort((a, b) => b[1] - a[1]).slice(0, 20);
  return {
    frames,
    cpu_ms_per_s: { main_tasks: +(cpu.main_tasks / secs).toFixed(1), raster: +(cpu.raster / secs).toFixed(1) },
    ms_per_frame: Object.fromEntries(top.map(([k, v]) => [k, +(v / frames).toFixed(2)])),
    slow_frames: main ? slowFrames(events, main) : null,
  };
}

// Where the frames over 16.7 ms went: between two starts of the page's animation-frame callback
// on its main thread, the main thread's tasks in wall time ("wall") and in thread CPU ("cpu":
// wall - cpu is time the task was runnable but not running, or blocked), by kind (script,
// style, layout, paint, ...); "idle" is the part of the interval with no main-thread task at all
// (waiting for the compositor, raster or the next begin-frame); and the other threads' busy time.
function slowFrames(events, main) {
  const onMain = (e) => e.pid === main.pid && e.tid === main.tid;
  const starts = events.filter((e) => e.ph === 'X' && e.name === 'FireAnimationFrame' && onMain(e))
    .map((e) => e.ts).sort((a, b) => a - b);
  const kinds = {
    script: /^(FunctionCall|EvaluateScript|TimerFire|EventDispatch|RunMicrotasks|v8\.compile|XHRReadyStateChange)$/,
    style: /^(UpdateLayoutTree|ScheduleStyleRecalculation)$/,
    layout: /^Layout$/,
    paint: /^(PrePaint|Paint|Layerize|UpdateLayer|Commit)$/,
    gc: /^(MajorGC|MinorGC)$/,
  };
  const tasks = events.filter((e) => e.ph === 'X' && e.dur && onMain(e) && e.name === 'RunTask');
  const inner = events.filter((e) => e.ph === 'X' && e.dur && onMain(e) && e.name !== 'RunTask');
  const others = events.filter((e) => e.ph === 'X' && e.dur && !onMain(e) && /^(RasterTask|ThreadControllerImpl::RunTask|RunTask)$/.test(e.name));
  const overlap = (e, a, b) => Math.max(0, Math.min(e.ts + e.dur, b) - Math.max(e.ts, a));
  const out = { count: 0, of: Math.max(0, starts.length - 1), interval_ms: 0, wall: {}, cpu_ms: 0, idle_ms: 0, other_threads_ms: 0 };
  for (let i = 0; i + 1 < starts.length; i++) {
    const [a, b] = [starts[i], starts[i + 1]];
    if (b - a <= 16_700) continue;
    out.count++;
    out.interval_ms += (b - a) / 1000;
    let busy = 0;
    for (const t of tasks) {
      const o = overlap(t, a, b);
      if (!o) continue;
      busy += o;
      out.cpu_ms += ((t.tdur ?? t.dur) * o) / t.dur / 1000;
    }
    out.wall.tasks = (out.wall.tasks || 0) + busy / 1000;
    out.idle_ms += (b - a - busy) / 1000;
    for (const e of inner) {
      const o = overlap(e, a, b);
      if (!o) continue;
      for (const [k, re] of Object.entries(kinds)) if (re.test(e.name)) out.wall[k] = (out.wall[k] || 0) + o / 1000;
    }
    for (const e of others) out.other_threads_ms += overlap(e, a, b) / 1000;
  }
  const per = (v) => +(v / Math.max(1, out.count)).toFixed(2);
  return {
    count: out.count,
    of: out.of,
    per_slow_frame_ms: {
      interval: per(out.interval_ms),
      main_tasks_wall: per(out.wall.tasks || 0),
      main_tasks_cpu: per(out.cpu_ms),
      main_idle: per(out.idle_ms),
      ...Object.fromEntries(Object.keys(kinds).map((k) => [k, per(out.wall[k] || 0)])),
      other_threads_busy: per(out.other_threads_ms),
    },
  };
}
