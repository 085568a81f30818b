// Where a page's frames go (issues 8 and 14): a Chrome trace of a served page, summed by event
// name per animation frame (see traceFrames in lib.mjs). Prints one JSON object.
//   node e2e/trace-frames.mjs URL [seconds]
// e.g. URL = a simulation page as e2e/bench.mjs opens it; for live mode see BENCH_TRACE in
// e2e/bench-live.mjs.
import { launch, traceFrames } from './lib.mjs';

const url = process.argv[2];
const seconds = Number(process.argv[3] || 5);
if (!url) {
  console.error('usage: node e2e/trace-frames.mjs URL [seconds]');
  process.exit(2);
}
const browser = await launch(['--disable-frame-rate-limit', '--disable-gpu-vsync']);
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1000 });
  await page.goto(url);
  await page.waitForSelector('[data-node]', { timeout: 60_000 });
  await page.waitForTimeout(3_000);
  console.log(JSON.stringify(await traceFrames(browser.context, page, seconds * 1000), null, 1));
} finally {
  await browser.close();
}
