// End-to-end: the release build (dist/) served from a sub-path on 127.0.0.1, in Debian's headless
// Chromium. Run by scripts/e2e.sh (which builds dist/ first) or `node --test` in this folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { open, pageSuite, artifacts } from './lib.mjs';

const suite = pageSuite('/some/sub/path/nacos-raft/');

const clock = (page) => page.$eval('[data-clock-ms]', (e) => Number(e.dataset.clockMs));
const leaders = (page) => page.$$eval('[data-state="LEADER"]', (l) => l.map((e) => e.dataset.node));

/** Plays until the virtual clock reaches `t` (pressing play again if a violation paused it). */
async function playUntil(page, t, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while ((await clock(page)) < t) {
    assert.ok(Date.now() < end, `clock stuck at ${await clock(page)} < ${t}`);
    const playing = await page.$eval('[data-testid=play]', (e) => e.dataset.playing);
    if (playing !== 'true') await page.click('[data-testid=play]');
    await page.waitForTimeout(100);
  }
}

/** The leader changes the timeline marks up to `t`: [at, node, term]. */
async function leaderMarks(page, t) {
  const marks = await page.$$eval('[data-mark=leader]', (l) =>
    l.map((e) => [Number(e.dataset.atMs), e.dataset.markNode, Number(e.dataset.term)]));
  return marks.filter((m) => m[0] <= t).sort((a, b) => a[0] - b[0]);
}

test('the page loads from a sub-path and elects a leader', async () => {
  const { page, errors } = await open(suite.context, suite.url);
  // No hash: a random seed, written back into the URL.
  await page.waitForFunction(() => /seed=\d+/.test(location.hash));
  assert.equal(await page.locator('[data-node]').count(), 5);
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  // Everything came from the sub-path.
  const assets = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => r.name));
  assert.ok(assets.some((a) => a.includes('/some/sub/path/nacos-raft/') && a.endsWith('.wasm')), assets.join('\n'));
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(artifacts, 'page.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('crashing the leader through the UI leads to a new leader', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=7&nodes=5&timings=nacos&speed=100');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  const [old] = await leaders(page);
  await page.click(`[data-node="${old}"] circle.body`);
  await page.click('[data-testid=node-inspector] [data-action=crash]');
  await page.waitForSelector(`[data-node="${old}"][data-state="DOWN"]`);
  assert.match(await page.evaluate(() => location.hash), /actions=\d+:crash:\d/);
  await page.click('[data-testid=play]'); // keep playing (it was playing; make sure)
  if ((await page.$eval('[data-testid=play]', (e) => e.dataset.playing)) !== 'true') {
    await page.click('[data-testid=play]');
  }
  await page.waitForFunction(
    (o) => [...document.querySelectorAll('[data-state="LEADER"]')].some((e) => e.dataset.node !== o),
    old,
    { timeout: 60_000 },
  );
  const now = await leaders(page);
  assert.ok(now.length >= 1 && !now.includes(old), `new leader ${now} differs from ${old}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a shared URL replays the same leaders and terms', async () => {
  const url = suite.url + '#seed=11&nodes=5&timings=nacos&speed=1000&actions=20000:timeout:1,45000:crash:0,70000:timeout:3';
  const runs = [];
  for (let i = 0; i < 2; i++) {
    const { page, errors } = await open(suite.context, url);
    await playUntil(page, 100_000);
    runs.push(await leaderMarks(page, 100_000));
    assert.deepEqual(errors, []);
    await page.close();
  }
  assert.ok(runs[0].length >= 2, `expected leader changes, got ${JSON.stringify(runs[0])}`);
  assert.deepEqual(runs[1], runs[0]);
});

test('scrubbing the timeline travels back and forth, deterministically', async () => {
  const url = suite.url + '#seed=11&nodes=5&timings=nacos&speed=1000';
  const { page, errors } = await open(suite.context, url);
  await playUntil(page, 60_000);
  await page.click('[data-testid=play]');
  const span = await page.$eval('[data-testid=timeline]', (e) => Number(e.dataset.spanMs));
  const box = await page.$eval('[data-testid=timeline]', (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
  // Drag from 60 % back to 25 %.
  await page.mouse.move(box[0] + box[2] * 0.6, box[1] + box[3] / 2);
  await page.mouse.down();
  await page.mouse.move(box[0] + box[2] * 0.4, box[1] + box[3] / 2, { steps: 5 });
  await page.mouse.move(box[0] + box[2] * 0.25, box[1] + box[3] / 2, { steps: 5 });
  await page.mouse.up();
  const t = await clock(page);
  assert.ok(Math.abs(t - span * 0.25) <= span / 200, `clock ${t}, expected about ${span * 0.25}`);
  const states = await page.$$eval('[data-node]', (l) => l.map((e) => [e.dataset.state, e.dataset.term, e.dataset.voteFor]));
  // The same moment opened from scratch looks the same.
  const fresh = await open(suite.context, url + `&at=${t}`);
  assert.equal(await clock(fresh.page), t);
  const states2 = await fresh.page.$$eval('[data-node]', (l) => l.map((e) => [e.dataset.state, e.dataset.term, e.dataset.voteFor]));
  assert.deepEqual(states2, states);
  assert.deepEqual([...errors, ...fresh.errors], []);
  await page.close();
  await fresh.page.close();
});

test('copy link gives a URL that reopens the same moment', async () => {
  await suite.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(suite.url).origin });
  const { page, errors } = await open(suite.context, suite.url + '#seed=5&nodes=3&timings=fast&speed=100');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  await page.click('[data-testid=play]'); // pause: the link then holds this moment
  const t = await clock(page);
  const states = await page.$$eval('[data-node]', (l) => l.map((e) => [e.dataset.node, e.dataset.state, e.dataset.term]));
  await page.click('[data-testid=copy-link]');
  await page.waitForSelector('[data-testid=toast]');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(link, new RegExp(`#seed=5&nodes=3&timings=fast&speed=100.*&at=${t}`));
  const again = await open(suite.context, link);
  assert.equal(await clock(again.page), t);
  const states2 = await again.page.$$eval('[data-node]', (l) => l.map((e) => [e.dataset.node, e.dataset.state, e.dataset.term]));
  assert.deepEqual(states2, states);
  assert.deepEqual([...errors, ...again.errors], []);
  await page.close();
  await again.page.close();
});

test('every scenario loads from the Scenarios tab, with its caption in both languages', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=1&nodes=5&timings=nacos&speed=10');
  await page.click('[data-tab=scenarios]');
  const ids = await page.$$eval('[data-testid=scenarios] li', (l) => l.map((e) => e.dataset.scenario));
  assert.deepEqual(ids, ['first-election', 'split-vote', 'leader-crash', 'catch-up', 'two-leaders', 'dead-key-loss', 'stale-node-wins']);
  for (const id of ['split-vote', 'dead-key-loss']) {
    await page.click(`[data-action=load-${id}]`);
    await page.waitForSelector(`[data-testid=caption][data-scenario=${id}]`);
    assert.match(await page.evaluate(() => location.hash), new RegExp(`scenario=${id}`));
  }
  const en = await page.textContent('[data-testid=scenario]');
  await page.click('[data-testid=lang]');
  const zh = await page.textContent('[data-testid=scenario]');
  assert.notEqual(zh, en);
  assert.match(zh, /死键规则/);
  await page.click('[data-testid=lang]');
  assert.deepEqual(errors, []);
  await page.close();
});

test('drawing a line across the ring cuts the links it crosses; the trace exports as JSON', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=3&nodes=5&timings=nacos&speed=10');
  await page.click('[data-testid=play]'); // pause
  const r = await page.$eval('svg.ring', (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; });
  const scale = Math.min(r[2], r[3]) / 1000;
  const at = (x, y) => [r[0] + (r[2] - 1000 * scale) / 2 + x * scale, r[1] + (r[3] - 1000 * scale) / 2 + y * scale];
  // A vertical line left of the centre, from an empty spot at the top to the bottom: it separates
  // D and E (left) from A, B and C.
  await page.mouse.move(...at(400, 30));
  await page.mouse.down();
  for (const y of [200, 400, 600, 800, 970]) await page.mouse.move(...at(400, y));
  await page.mouse.up();
  await page.waitForSelector('[data-link-state=cut]');
  assert.equal(await page.locator('[data-link-state=cut]').count(), 6);
  assert.equal(await page.locator('[data-link-state=open]').count(), 4);
  const hash = await page.evaluate(() => location.hash);
  assert.equal((hash.match(/:cut2:/g) || []).length, 6, hash);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
  const doc = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.format, 'nacos-raft-trace/1');
  assert.equal(doc.seed, 3);
  assert.equal(doc.actions.filter((a) => a.do === 'cut').length, 6);
  assert.ok(Array.isArray(doc.messages) && Array.isArray(doc.events));
  assert.deepEqual(errors, []);
  await page.close();
});

test('51 nodes: every node drawn, links clickable and cuttable though drawn as one path', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=2&nodes=51&timings=fast&speed=10');
  assert.equal(await page.locator('[data-node]').count(), 51);
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  await page.click('[data-testid=play]'); // pause
  // Open links are one path, not 1,275 elements.
  assert.equal(await page.locator('[data-link-state]').count(), 0);
  assert.equal(await page.locator('svg.ring .links .mesh').count(), 1);
  // A click just outside the chord between neighbours 10 and 11 (no other link is that near)
  // selects that link.
  const r = await page.$eval('svg.ring', (e) => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; });
  const scale = Math.min(r[2], r[3]) / 1000;
  const at = (x, y) => [r[0] + (r[2] - 1000 * scale) / 2 + x * scale, r[1] + (r[3] - 1000 * scale) / 2 + y * scale];
  const pos = (i) => { const a = -Math.PI / 2 + (i * 2 * Math.PI) / 51; return [500 + 360 * Math.cos(a), 500 + 360 * Math.sin(a)]; };
  const [p, q] = [pos(10), pos(11)];
  const mid = [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2];
  const out = Math.hypot(mid[0] - 500, mid[1] - 500);
  await page.mouse.click(...at(mid[0] + ((mid[0] - 500) / out) * 4, mid[1] + ((mid[1] - 500) / out) * 4));
  await page.waitForSelector('[data-testid=link-inspector]');
  assert.equal(await page.locator('[data-link-state]').count(), 1, 'the selected link is drawn on its own');
  assert.deepEqual(await page.$eval('[data-link-state]', (e) => [e.dataset.a, e.dataset.b]), ['10', '11']);
  // A line drawn across the ring cuts links: they appear as elements of their own.
  await page.mouse.move(...at(30, 500));
  await page.mouse.down();
  for (const x of [200, 400, 600, 800, 970]) await page.mouse.move(...at(x, 505));
  await page.mouse.up();
  await page.waitForSelector('[data-link-state=cut]');
  assert.ok((await page.locator('[data-link-state=cut]').count()) > 100);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a partition built by dragging nodes between groups', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=3&nodes=5&timings=nacos&speed=10');
  await page.click('[data-testid=play]');
  await page.click('[data-tab=network]');
  await page.dragAndDrop('[data-chip="3"]', '.lane.g1');
  await page.dragAndDrop('[data-chip="4"]', '.lane.g1');
  assert.equal(await page.locator('.lane.g1 [data-chip]').count(), 2);
  await page.click('[data-action=apply-partition]');
  assert.match(await page.evaluate(() => location.hash), /:part:00011/);
  assert.equal(await page.locator('[data-link-state=cut]').count(), 6);
  assert.deepEqual(errors, []);
  await page.close();
});

test('forms: loss and latency from the Network tab, an instance published from a node, drafts kept while playing', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=3&nodes=5&timings=fast&speed=10');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  if ((await page.$eval('[data-testid=play]', (e) => e.dataset.playing)) !== 'true') {
    await page.click('[data-testid=play]');
  }
  await page.click('[data-tab=network]');
  await page.fill('[data-testid=loss]', '2.5');
  await page.fill('[data-testid=lat-min]', '30');
  await page.fill('[data-testid=lat-max]', '60');
  // The panels redraw several times a second while playing: what was typed stays.
  await page.waitForTimeout(700);
  assert.equal(await page.inputValue('[data-testid=loss]'), '2.5');
  assert.equal(await page.inputValue('[data-testid=lat-max]'), '60');
  await page.click('[data-action=set-loss]');
  await page.click('[data-action=set-latency]');
  await page.waitForFunction(() => /:loss:25000\b/.test(location.hash) && /:lat:30-60\b/.test(location.hash));
  const [leader] = await leaders(page);
  await page.click('[data-tab=inspect]');
  await page.click(`[data-node="${leader}"] circle.body`);
  await page.waitForSelector('[data-testid=node-inspector]');
  await page.fill('[data-testid=publish-service]', 'bad name!');
  assert.ok(await page.isDisabled('[data-testid=node-inspector] [data-action=publish]'), 'an invalid service name');
  await page.fill('[data-testid=publish-service]', 'e2e-svc');
  await page.fill('[data-testid=publish-ip]', '127.0.0.9');
  await page.waitForTimeout(700);
  assert.equal(await page.inputValue('[data-testid=publish-service]'), 'e2e-svc');
  assert.ok(!(await page.isDisabled('[data-testid=node-inspector] [data-action=publish]')));
  await page.click('[data-testid=node-inspector] [data-action=publish]');
  await page.waitForFunction(() => /:put:\d+:[^,&]*e2e-svc/.test(location.hash));
  await page.waitForSelector('[data-testid=datum-table] td[title*="e2e-svc"]', { timeout: 30_000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a phone-sized screen shows the whole ring without sideways scrolling', async () => {
  const page = await suite.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(suite.url + '#seed=3&nodes=9&timings=nacos&speed=10');
  await page.waitForSelector('[data-node]');
  const ring = await page.$eval('svg.ring', (e) => e.getBoundingClientRect().width);
  const scroll = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(ring <= 390 && ring > 300, `ring ${ring}px`);
  assert.ok(scroll <= 391, `page is ${scroll}px wide`);
  await page.screenshot({ path: path.join(artifacts, 'phone.png'), fullPage: false });
  assert.deepEqual(errors, []);
  await page.close();
});

test('reduced motion: the page still runs, without decorative animation', async () => {
  const page = await suite.context.newPage();
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.goto(suite.url + '#seed=7&nodes=5&timings=fast&speed=20');
  await page.waitForSelector('.app.reduced');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  assert.equal(await page.locator('.tail').count(), 0);
  await page.close();
});
