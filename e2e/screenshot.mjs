// Makes docs/screenshot.png from the release build (dist/): the "two leaders" scenario paused
// while a beat is in flight, with a node inspected. `node e2e/screenshot.mjs [out.png] [lang]`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] || path.join(root, 'docs', 'screenshot.png');
const lang = process.argv[3] || 'en';
const srv = await serve(process.env.DIST || path.join(root, 'dist'), '/shot/');
const b = await launch();
try {
  const page = await b.context.newPage();
  await page.setViewportSize({ width: 1440, height: 1040 });
  await page.goto(srv.url + '#scenario=two-leaders');
  await page.evaluate((l) => localStorage.setItem('nacos-raft.lang', l), lang);
  await page.reload();
  await page.waitForSelector('[data-testid=caption]');
  // Play at high speed to the moment both leaders exist, then step until beats are in flight.
  await page.waitForFunction(() => document.querySelectorAll('[data-state="LEADER"]').length === 2
    || Number(document.querySelector('[data-testid=violations]').dataset.count) > 0, null, { timeout: 60_000 });
  if ((await page.$eval('[data-testid=play]', (e) => e.dataset.playing)) === 'true') await page.click('[data-testid=play]');
  for (let i = 0; i < 400; i++) {
    const n = await page.$$eval('[data-msg=beat]', (l) => l.length);
    if (n >= 3) break;
    await page.click('[data-testid=step]');
  }
  // Let the beats travel a little, at slow motion.
  await page.click('[data-testid=play]');
  await page.waitForTimeout(450);
  await page.click('[data-testid=play]');
  await page.waitForTimeout(3_600); // the "paused on a violation" toast fades
  const leaders = await page.$$eval('[data-state="LEADER"]', (l) => l.map((e) => e.dataset.node));
  await page.click(`[data-node="${leaders[leaders.length - 1]}"] circle.body`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
  console.log('wrote', out);
} finally {
  await b.close();
  await srv.close();
}
