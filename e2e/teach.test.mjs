// End-to-end tests of the page's teaching parts (issue #11): the start card, the live caption,
// the chapters of a story, the headline with two leaders, the Chinese violation list and the
// notice of a bad link. Like page.test.mjs: the release build (dist/) on 127.0.0.1, Debian's
// headless Chromium; run by scripts/e2e.sh. Screenshots land in artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, open, pageSuite, artifacts } from './lib.mjs';

const suite = pageSuite('/teach/nacos-raft/');

const attr = (page, sel, name) => page.$eval(sel, (e, n) => e.getAttribute(n), name);
const pause = async (page) => {
  if ((await attr(page, '[data-testid=play]', 'data-playing')) === 'true') await page.click('[data-testid=play]');
};

test('a start card on first load, gone for good once dismissed; a live caption under the ring', async () => {
  // Opened paused at the start (at=0): no leader yet.
  const { page, errors } = await open(suite.context, suite.url + '#seed=7&nodes=5&timings=nacos&speed=100&at=0');
  await page.waitForSelector('[data-testid=start-here]');
  const card = await page.textContent('[data-testid=start-here]');
  assert.match(card, /Start here/);
  assert.match(card, /#3652/);
  // The caption says in words what happens: before the first leader, then with one.
  assert.match(await page.textContent('[data-testid=caption]'), /^no leader yet: /);
  assert.equal(await page.textContent('[data-testid=status]'), 'no leader');
  await page.click('[data-testid=play]');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  await page.waitForFunction(() => /leads in term \d+; its beats list \d+ keys/.test(document.querySelector('[data-testid=caption]').textContent));
  await pause(page);
  await page.screenshot({ path: path.join(artifacts, 'start-here.png') });
  await page.click('[data-testid=lang]');
  assert.match(await page.textContent('[data-testid=start-here]'), /从这里开始/);
  assert.match(await page.textContent('[data-testid=caption]'), /领导者/);
  await page.click('[data-testid=lang]');
  await page.click('[data-action=dismiss-start]');
  assert.equal(await page.locator('[data-testid=start-here]').count(), 0);
  await page.close();
  // Remembered: a new page of the same profile has no card.
  const again = await open(suite.context, suite.url + '#seed=7&nodes=5&timings=nacos&speed=100');
  await again.page.waitForSelector('[data-testid=caption]');
  assert.equal(await again.page.locator('[data-testid=start-here]').count(), 0);
  assert.deepEqual([...errors, ...again.errors], []);
  await again.page.close();
});

test('the #3652 story in chapters: they advance, ] is announced, the headline names both leaders', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#scenario=two-leaders');
  await page.waitForSelector('[data-testid=chapter]');
  assert.equal(await attr(page, '[data-testid=chapter]', 'data-index'), '1');
  const count = Number(await attr(page, '[data-testid=chapter]', 'data-count'));
  assert.ok(count >= 4, `${count} chapters`);
  assert.match(await page.textContent('[data-testid=chapter]'), new RegExp(`^Chapter 1 of ${count} · the story begins`));
  // Playing, the story reaches its next chapter by itself.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=chapter]').dataset.index) >= 2, null, { timeout: 60_000 });
  await pause(page);
  const at = Number(await attr(page, '[data-testid=chapter]', 'data-index'));
  // `]` goes to the next chapter, and says so.
  await page.keyboard.press(']');
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=chapter]').dataset.index) === n + 1, at);
  assert.match(await page.textContent('[data-testid=toast]'), new RegExp(`^Next chapter · Chapter ${at + 1} of ${count}`));
  assert.equal(await attr(page, '[data-testid=next-mark]', 'title'), 'Next chapter');
  // On to the chapter of the violation: two nodes believe they lead, and the headline says so.
  for (let i = 0; i < count; i++) {
    if (/the monitor flags: Two leaders at once/.test(await page.textContent('[data-testid=chapter]'))) break;
    await page.keyboard.press(']');
    await page.waitForTimeout(100);
  }
  assert.match(await page.textContent('[data-testid=chapter]'), /the monitor flags: Two leaders at once/);
  const leaders = await page.$$eval('[data-state="LEADER"]', (l) => l.map((e) => [e.dataset.node, e.dataset.term]));
  assert.equal(leaders.length, 2);
  const status = await page.textContent('[data-testid=status]');
  assert.match(status, /^two leaders: [A-E] term \d+, [A-E] term \d+$/);
  for (const [, term] of leaders) assert.ok(status.includes(`term ${term}`), status);
  assert.match(await page.textContent('[data-testid=caption]'), /the network is split: [A-E,]+ \| [A-E,]+/);
  // The split shows on the ring as two groups.
  assert.equal(await page.$$eval('.group-ring', (l) => new Set(l.map((e) => e.dataset.group)).size), 2);
  await page.waitForTimeout(3_600); // the toast fades
  await page.locator('.stage').screenshot({ path: path.join(artifacts, 'chapter.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a story pauses at its end with what you saw and what to try next', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#scenario=first-election');
  await page.waitForSelector('[data-testid=chapter]');
  await page.waitForSelector('[data-testid=chapter][data-over=true]', { timeout: 90_000 });
  assert.equal(await attr(page, '[data-testid=play]', 'data-playing'), 'false');
  const t = await page.textContent('[data-testid=chapter]');
  assert.match(t, /What you saw:/);
  assert.match(t, /Try next:/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('zh-CN: the violation list reads in Chinese, with full-width punctuation', async () => {
  const zh = await launch(['--lang=zh-CN'], { locale: 'zh-CN' });
  try {
    const { page, errors } = await open(zh.context, suite.url + '#scenario=dead-key-loss');
    await page.waitForSelector('[data-testid=chapter]');
    assert.match(await page.textContent('[data-testid=chapter]'), /^第 1 章，共 \d+ 章/);
    const count = Number(await attr(page, '[data-testid=chapter]', 'data-count'));
    for (let i = 0; i < count; i++) await page.keyboard.press(']');
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=violations]').dataset.count) > 0);
    const rows = await page.$$eval('[data-testid=violations] li', (l) => l.map((e) => [e.querySelector('strong').textContent, e.querySelector('.detail').textContent, e.textContent]));
    assert.ok(rows.length >= 1);
    for (const [title, detail, all] of rows) {
      // Keys keep their names (…@@svc-0001); everything else is Chinese.
      const words = `${title} ${detail}`.split(/[\s（]/).filter((w) => !w.includes('@@')).join(' ').match(/[A-Za-z]{3,}/g);
      assert.equal(words, null, `English in: ${all}`);
      assert.doesNotMatch(`${title}${detail}`, /[,:;()]/, `half-width punctuation in: ${all}`);
      assert.match(all, /：/);
    }
    await page.waitForTimeout(3_600);
    await page.locator('.stage').screenshot({ path: path.join(artifacts, 'violations-zh.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await zh.close();
  }
});

test('an invalid hash shows which field is bad and keeps every valid one', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#seed=7&nodes=abc&timings=fast&speed=100');
  await page.waitForSelector('[data-testid=url-error]');
  assert.equal(await attr(page, '[data-testid=url-error]', 'data-field'), 'nodes');
  assert.match(await page.textContent('[data-testid=url-error]'), /nodes "abc" is not a number/);
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /^#seed=7&nodes=5&timings=fast&speed=100/);
  assert.equal(await page.locator('[data-node]').count(), 5);
  // A good link has no notice.
  const good = await open(suite.context, suite.url + '#seed=7&nodes=3');
  assert.equal(await good.page.locator('[data-testid=url-error]').count(), 0);
  assert.deepEqual([...errors, ...good.errors], []);
  await page.close();
  await good.page.close();
});

test('a link action the simulator refuses is named, skipped, and the rest of the run kept', async () => {
  // Node 2 is running at 3.5 s: its restart is refused (as `simulate --url` refuses and skips it).
  const link = '#seed=7&nodes=5&timings=fast&speed=100&actions=2000:crash:1,3500:restart:2,9000:timeout:3';
  const { page, errors } = await open(suite.context, suite.url + link);
  await page.waitForSelector('[data-testid=url-error][data-field=actions]');
  assert.match(await page.textContent('[data-testid=url-error]'), /3500:restart:2: .*running/);
  assert.equal(await page.locator('[data-node]').count(), 5);
  // The link is written back with its actions as given: it still replays the same run.
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /actions=2000:crash:1,3500:restart:2,9000:timeout:3/);
  assert.deepEqual(errors, []);
  await page.close();
});

/** The smallest on-screen font size (px) of each kind of text inside the nodes. */
const nodeFonts = (page) => page.$$eval('.node text', (l) => {
  const m = {};
  for (const e of l) {
    const px = e.getScreenCTM().a * parseFloat(getComputedStyle(e).fontSize);
    const c = e.getAttribute('class');
    m[c] = Math.min(m[c] ?? 1e9, px);
  }
  return m;
});

test('1280×720: the ring uses the space, the text inside a node is at least 11 px', async () => {
  const page = await suite.context.newPage();
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(suite.url + '#seed=7&nodes=5&timings=nacos&speed=100');
  await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
  const f = await nodeFonts(page);
  for (const c of ['letter', 'term', 'state-word']) assert.ok(f[c] >= 11, `${c}: ${f[c]}px`);
  await page.close();
});

test('phone: no label of the ring outside the screen, at 5 and at 9 nodes', async () => {
  for (const n of [5, 9]) {
    const page = await suite.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(suite.url + `#seed=7&nodes=${n}&timings=nacos&speed=100`);
    await page.waitForSelector('[data-state="LEADER"]', { timeout: 60_000 });
    // Every label: the address, the vote, the key count.
    const out = await page.$$eval('.node .label text', (l) => l.map((e) => {
      const r = e.getBoundingClientRect();
      return [e.textContent, r.left, r.right];
    }).filter(([, l, r]) => l < 0 || r > window.innerWidth));
    assert.deepEqual(out, [], `${n} nodes`);
    await page.close();
  }
});

test('the Data view decodes values and compares with a node you pick; the delete icon is drawn', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#scenario=two-leaders');
  await page.waitForSelector('[data-testid=chapter]');
  const count = Number(await attr(page, '[data-testid=chapter]', 'data-count'));
  for (let i = 0; i < count; i++) await page.keyboard.press(']');
  // A term above 100 explains itself on hover.
  const titles = await page.$$eval('[data-node] > title', (l) => l.map((e) => e.textContent));
  assert.ok(titles.some((t) => /term 10\d[\s\S]*\+100 per write/.test(t)), titles.join(' | '));
  await page.click('[data-tab=data]');
  await page.waitForSelector('[data-testid=data-view] td.cell');
  const stamps = await page.$$eval('[data-testid=data-view] td.cell', (l) => l.map((e) => e.textContent));
  assert.ok(stamps.some((c) => /^\d+$/.test(c)), stamps.join(' | '));
  await page.click('[data-testid=data-values]');
  const cells = await page.$$eval('[data-testid=data-view] td.cell', (l) => l.map((e) => e.textContent));
  assert.ok(cells.some((c) => /^127\.0\.0\.\d+:\d+ ✓ w1/.test(c)), cells.join(' | '));
  await page.selectOption('[data-testid=data-against]', '0');
  assert.equal(await page.textContent('[data-testid=data-view] th.leader'), 'A');
  // A node with datums: its delete buttons carry an SVG icon, no emoji.
  const holder = await page.$$eval('[data-node]', (l) => l.find((e) => e.querySelector('.label .sub').textContent.includes('▤')).dataset.node);
  await page.click(`[data-node="${holder}"] circle.body`);
  await page.waitForSelector('[data-testid=datum-table]');
  assert.ok(await page.locator('[data-testid=datum-table] button.mini svg').count() > 0);
  assert.doesNotMatch(await page.textContent('body'), /🗑/u);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a story logs its own actions as what happens, not as "you …"; the help links the primer', async () => {
  const { page, errors } = await open(suite.context, suite.url + '#scenario=leader-crash');
  await page.waitForSelector('[data-testid=chapter]');
  const count = Number(await attr(page, '[data-testid=chapter]', 'data-count'));
  for (let i = 0; i < count; i++) await page.keyboard.press(']');
  await page.click('[data-tab=events]');
  const log = await page.textContent('[data-testid=event-log]');
  assert.match(log, /[A-E] crashes(?!:)/);
  assert.doesNotMatch(log, /\byou (crashed|restarted|isolated|split|healed|wrote)/);
  await page.keyboard.press('?');
  // A local build links to the primer Trunk copies beside the page; it must be served there.
  const primer = await page.$eval('[data-testid=help-dialog] [data-testid=primer-link]', (a) => a.href);
  assert.match(primer, /\/docs\/primer\.md$/);
  const served = await page.request.get(primer);
  assert.equal(served.status(), 200);
  assert.match(await served.text(), /Nacos/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('phone: a tapped node brings the inspector into view, a story brings the ring back', async () => {
  const page = await suite.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(suite.url + '#seed=7&nodes=5&timings=nacos&speed=100');
  await page.waitForSelector('[data-node]');
  await page.click('[data-node] circle.body');
  await page.waitForFunction(() => {
    const r = document.querySelector('[data-testid=node-inspector]')?.getBoundingClientRect();
    return r && r.top >= -1 && r.top < window.innerHeight;
  }, null, { timeout: 5_000 });
  await page.click('[data-tab=scenarios]');
  await page.click('[data-action=load-two-leaders]');
  await page.waitForFunction(() => {
    const r = document.querySelector('svg.ring').getBoundingClientRect();
    return r.bottom > 0 && r.top < window.innerHeight;
  }, null, { timeout: 5_000 });
  await page.close();
});
