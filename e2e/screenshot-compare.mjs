// Makes docs/compare.png from the release build (dist/): the dead-key scenario (#3652) in
// Compare mode at the end of its story. `node e2e/screenshot-compare.mjs [out.png]`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, launch } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] || path.join(root, 'docs', 'compare.png');
const srv = await serve(process.env.DIST || path.join(root, 'dist'), '/shot/');
const b = await launch();
try {
  const page = await b.context.newPage();
  await page.setViewportSize({ width: 1440, height: 1100 });
  await page.goto(srv.url + '#scenario=dead-key-loss&rules=compare');
  await page.evaluate(() => localStorage.setItem('nacos-raft.lang', 'en'));
  await page.reload();
  await page.waitForSelector('[data-testid=compare]');
  // The story pauses at its end (or on a violation: play on until the end).
  for (let i = 0; i < 600; i++) {
    await page.waitForTimeout(100);
    const done = await page.$('[data-testid=chapter].over');
    const playing = await page.$eval('[data-testid=play]', (e) => e.dataset.playing);
    if (done && playing !== 'true') break;
    if (playing !== 'true') await page.click('[data-testid=play]');
  }
  await page.waitForTimeout(3_600); // toasts fade
  await page.screenshot({ path: out });
  console.log('wrote', out);
} finally {
  await b.close();
  await srv.close();
}
