// Frame time of the release build in headless Chromium, at 9, 15 and 51 nodes with messages in
// flight and 1,000 datums loaded, and the page's own work per frame. Run by scripts/bench-web.sh
// after a release build. BENCH_NODES (9,15,51), BENCH_DATUMS (1000), BENCH_SECONDS (10).
//
// Two figures per cluster size:
// - frame time: the interval between animation frames with the frame-rate limit lifted
//   (--disable-frame-rate-limit, --disable-gpu-vsync), so each interval is what one frame
//   really costs (script, style, layout, paint) rather than the display's 16.7 ms;
// - work: the app's own time per frame, from the clock callback to the end of Yew's DOM update.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.DIST || path.join(root, 'dist');
const seconds = Number(process.env.BENCH_SECONDS || 10);
const datums = Number(process.env.BENCH_DATUMS || 1000);
// More hash fields for the measured page, e.g. `&rules=compare` (two rings).
const extra = process.env.BENCH_HASH_EXTRA || '';

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

const srv = await serve(dist, '/bench/');
const browser = await launch(['--disable-frame-rate-limit', '--disable-gpu-vsync']);
const results = [];
try {
  for (const nodes of (process.env.BENCH_NODES || "9,15,51").split(",").map(Number)) {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 1000 });
    // Fast timings (a beat every 500 ms) plus 1,000 sample writes forwarded to the leader:
    // messages are in flight nearly all the time, slowed down by slow motion so that they are drawn.
    await page.goto(`${srv.url}#seed=1&nodes=${nodes}&timings=fast&speed=10&actions=6000:load:0:0:${datums}${extra}`);
    await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
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
          const svg = document.querySelector('svg.ring');
          flying.push(Number(svg?.dataset.flying || 0));
          if (ts < end) requestAnimationFrame(tick); else done();
        };
        requestAnimationFrame(tick);
      });
      return {
        intervals: intervals.slice(5),
        work: window.__nacosRaftFrames.slice(5),
        flying,
        elements: document.querySelectorAll('svg.ring *').length,
      };
    }, seconds * 1000);
    const withMsgs = r.flying.filter((f) => f > 0).length / Math.max(1, r.flying.length);
    results.push({
      nodes,
      datums,
      frames: r.intervals.length,
      frame_p50_ms: pct(r.intervals, 50),
      frame_p95_ms: pct(r.intervals, 95),
      work_p50_ms: pct(r.work, 50),
      work_p95_ms: pct(r.work, 95),
      frames_with_messages: withMsgs,
      max_messages: Math.max(...r.flying),
      svg_elements: r.elements,
    });
    await page.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
console.log(JSON.stringify(results));
