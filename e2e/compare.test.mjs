// End-to-end: Compare mode (issue #13), the same seed and actions under Nacos 1.4.1 and the
// hardened rules, two rings on one clock. Run by scripts/e2e.sh or `node --test compare.test.mjs`
// in this folder after `trunk build --release`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { open, pageSuite, artifacts } from './lib.mjs';

const suite = pageSuite('/compare/');

const clock = (page) => page.$eval('[data-clock-ms]', (e) => Number(e.dataset.clockMs));
/** Each node's state on one side: { A: 'LEADER', ... }. */
const states = (page, side) => page.$$eval(`[data-testid=compare-${side}] [data-node]`,
  (l) => Object.fromEntries(l.map((e) => [e.dataset.node, e.dataset.state])));

async function pause(page) {
  if ((await page.$eval('[data-testid=play]', (e) => e.dataset.playing)) === 'true') {
    await page.click('[data-testid=play]');
  }
}

test('compare: two rings, two monitors, one clock, an action applied to both', async () => {
  const { page, errors } = await open(suite.context,
    suite.url + '#seed=7&nodes=5&timings=fast&speed=100&rules=compare');
  await page.waitForSelector('[data-testid=compare]');
  for (const side of ['left', 'right']) {
    assert.equal(await page.locator(`[data-testid=compare-${side}] svg.ring`).count(), 1, side);
    assert.equal(await page.locator(`[data-testid=compare-${side}] [data-node]`).count(), 5, side);
    assert.equal(await page.locator(`[data-testid=compare-${side}] [data-testid=violations]`).count(), 1, side);
  }
  assert.match(await page.textContent('[data-testid=compare-left] .compare-title'), /Nacos 1\.4\.1/);
  assert.match(await page.textContent('[data-testid=compare-right] .compare-title'), /Hardened/);
  // One clock and one set of controls drive both.
  assert.equal(await page.locator('[data-clock-ms]').count(), 1);
  assert.equal(await page.locator('[data-testid=play]').count(), 1);
  assert.equal(await page.locator('[data-testid=timeline]').count(), 1);
  // Every fix is on, each with its switch.
  assert.equal(await page.locator('[data-testid^=fix-]:checked').count(), 10);
  await page.waitForFunction(() => document.querySelector('[data-clock-ms]').dataset.clockMs > 3000, null, { timeout: 60_000 });
  await pause(page);
  const t = await clock(page);
  // Crash A through the left ring's inspector: A is down on both sides, at the same time.
  await page.click('[data-testid=compare-left] [data-index="0"] circle.body');
  await page.click('[data-testid=node-inspector] [data-action=crash]');
  await page.waitForSelector('[data-testid=compare-left] [data-index="0"][data-state="DOWN"]');
  await page.waitForSelector('[data-testid=compare-right] [data-index="0"][data-state="DOWN"]');
  assert.match(await page.evaluate(() => location.hash), new RegExp(`rules=compare&actions=${t}:crash:0$`));
  // Stepping moves both rings: still one clock.
  await page.click('[data-testid=step]');
  assert.ok((await clock(page)) > t);
  // A switch rebuilds the right ring under the new set and lands in the URL.
  await page.click('[data-testid=fix-dead-key]');
  await page.waitForFunction(() => location.hash.includes('&fixes=') && !location.hash.includes('dead-key'));
  assert.equal(await page.locator('[data-testid=fix-dead-key]:checked').count(), 0);
  assert.equal(await page.getAttribute('[data-testid=compare-right]', 'data-rules'),
    'stale-votes+term-bump+stale-candidate+two-leaders+first-beat+global-lock+term-on-restart+stale-forward+split-vote');
  await page.waitForSelector('[data-testid=compare-right] [data-index="0"][data-state="DOWN"]');
  await page.screenshot({ path: path.join(artifacts, 'compare.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('compare: Nacos 1.4.1 against itself gives the same rings at every moment', async () => {
  const { page, errors } = await open(suite.context,
    suite.url + '#seed=11&nodes=5&timings=fast&speed=100&rules=compare&fixes=nacos&actions=2000:part:00111,6000:healall');
  await page.waitForSelector('[data-testid=compare]');
  await page.waitForFunction(() => document.querySelector('[data-clock-ms]').dataset.clockMs > 8000, null, { timeout: 60_000 });
  await pause(page);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await states(page, 'right'), await states(page, 'left'), `at ${await clock(page)}`);
    await page.click('[data-testid=step]');
  }
  assert.ok(Object.values(await states(page, 'left')).includes('LEADER'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('compare: scenarios open in compare mode, and a bad rules value is named', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#scenario=dead-key-loss&rules=compare');
  await page.waitForSelector('[data-testid=compare]');
  await page.waitForSelector('[data-testid=scenario][data-scenario="dead-key-loss"]');
  await page.click('[role=tab][data-tab=scenarios]');
  await page.click('[data-action=compare-two-leaders]');
  await page.waitForFunction(() => /scenario=two-leaders/.test(location.hash) && /rules=compare/.test(location.hash));
  assert.equal(await page.locator('[data-testid=compare] svg.ring').count(), 2);
  // Side by side on a wide screen, stacked on a phone.
  const boxes = async () => Promise.all(['left', 'right'].map((s) => page.locator(`[data-testid=compare-${s}]`).boundingBox()));
  let [l, r] = await boxes();
  assert.ok(Math.abs(l.y - r.y) < 2 && r.x > l.x + l.width - 2, JSON.stringify([l, r]));
  await page.setViewportSize({ width: 390, height: 844 });
  [l, r] = await boxes();
  assert.ok(r.y >= l.y + l.height - 2, JSON.stringify([l, r]));
  await page.setViewportSize({ width: 1400, height: 1000 });
  // Both titles in Chinese too.
  await page.click('[data-testid=lang]');
  assert.match(await page.textContent('[data-testid=compare-right] .compare-title'), /加固版/);
  await page.click('[data-testid=lang]');
  // The rules menu leaves Compare mode: one ring again.
  await page.selectOption('[data-testid=rules]', 'hardened');
  await page.waitForFunction(() => /rules=hardened/.test(location.hash));
  assert.equal(await page.locator('[data-testid=compare]').count(), 0);
  assert.match(await page.textContent('[data-testid=status]'), /Hardened/);
  await page.close();

  const bad = await open(suite.context, suite.url + '#seed=5&nodes=4&rules=bogus');
  await bad.page.waitForSelector('[data-testid=url-error][data-field=rules]');
  assert.equal(await bad.page.locator('[data-node]').count(), 4);
  assert.equal(await bad.page.locator('[data-testid=compare]').count(), 0);
  assert.deepEqual([...errors, ...bad.errors], []);
  await bad.page.close();
});
