// Live mode end to end: three real release nodes (fast timings, --faults, loopback only, temp data
// dirs) and the release page (dist/) in headless Chromium, watching and breaking them through
// their event streams and fault API. Run by scripts/e2e.sh (which builds dist/ and the node
// first) or `node --test live.test.mjs` in this folder with NACOS_RAFT_NODE_BIN set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, launch, FAST_TIMINGS, FAST_LEADER_TIMEOUT_MS, FAST_RANDOM_MS, freePort, raftLeader } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.DIST || path.join(root, 'dist');
const bin = process.env.NACOS_RAFT_NODE_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'release', 'nacos-raft-node');
const artifacts = path.join(root, 'artifacts');

let srv;
let browser;
let page;
let errors = [];
let addrs = [];
const nodes = []; // { addr, dir, proc, log }
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nacos-raft-live-e2e-'));

async function http(addr, p, method = 'GET') {
  const r = await fetch(`http://${addr}${p}`, { method, signal: AbortSignal.timeout(3_000) });
  return { status: r.status, text: await r.text() };
}

/** `addr`'s term as its `/nacos/v1/ns/raft/state` reports it. */
async function apiTerm(addr) {
  const { text } = await http(addr, '/nacos/v1/ns/raft/state');
  const me = JSON.parse(text).peers.map((p) => (typeof p === 'string' ? JSON.parse(p) : p)).find((p) => p.ip === addr);
  return Number(me.term);
}

async function until(what, f, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    assert.ok(Date.now() < end, `timed out (${timeoutMs} ms) waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

const pageNode = (addr) => page.locator(`[data-node="${addr}"]`);
const pageAttr = (addr, name) => pageNode(addr).getAttribute(name);
const pageLeaders = () => page.$$eval('[data-state="LEADER"]', (l) => l.map((e) => e.dataset.node));

/** Page coordinates of a node's centre. */
async function centre(addr) {
  const b = await page.locator(`[data-node="${addr}"] circle.body`).boundingBox();
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

function startNode(n) {
  n.proc = spawn(bin, n.args, { stdio: ['ignore', 'ignore', fs.openSync(n.log, 'a')] });
}

async function stopNode(n) {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const gone = new Promise((ok) => n.proc.once('exit', ok));
  n.proc.kill('SIGTERM');
  const t = setTimeout(() => n.proc.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), `no build in ${dist}: run trunk build --release`);
  assert.ok(fs.existsSync(bin), `no node binary at ${bin}: cargo build --release -p nacos-raft-node`);
  fs.mkdirSync(artifacts, { recursive: true });
  srv = await serve(dist, '/live/nacos-raft/');
  const origin = new URL(srv.url).origin;
  const ports = [await freePort(), await freePort(), await freePort()];
  addrs = ports.map((p) => `127.0.0.1:${p}`);
  for (const addr of addrs) {
    const dir = path.join(tmp, addr.replace(':', '_'));
    const log = path.join(tmp, `${addr.replace(':', '_')}.log`);
    const args = ['--addr', addr, '--members', addrs.join(','), '--data-dir', dir, '--faults',
      '--loopback-only', '--health-check', 'none', '--web-origin', origin, ...FAST_TIMINGS];
    const n = { addr, dir, log, args, proc: null };
    startNode(n);
    nodes.push(n);
  }
  await until('a leader all three nodes agree on', async () => {
    const l = await Promise.all(addrs.map(raftLeader));
    return l[0] && l.every((x) => x === l[0]);
  }, 20_000);
  browser = await launch();
  page = await browser.context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${srv.url}#live=${addrs.join(',')}`);
});

after(async () => {
  await browser?.close();
  await srv?.close();
  for (const n of nodes) await stopNode(n);
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('live: three nodes with the leader the nodes report, and messages flowing', async () => {
  await page.waitForSelector('[data-node][data-conn="open"]', { timeout: 15_000 });
  assert.equal(await page.locator('[data-node]').count(), 3);
  await until('every stream open', async () => (await page.locator('[data-conn="open"]').count()) === 3, 10_000);
  // The page shows exactly the leader the nodes report (both can move while we look: retry).
  await until('the page and /leader agree', async () => {
    const api = await raftLeader(addrs[0]);
    const shown = await pageLeaders();
    return api && shown.length === 1 && shown[0] === api;
  }, 10_000);
  const count = async () => Number(await page.getAttribute('[data-testid=live-msg-count]', 'data-count'));
  const first = await count();
  await until('the message count to grow', async () => (await count()) > first + 3, 5_000);
  await page.waitForSelector('[data-msg]', { state: 'attached', timeout: 5_000 });
  assert.equal(await page.getAttribute('[data-testid=violations]', 'data-count'), '0');
  // Events in words, in both languages.
  await page.click('[data-tab=events]');
  await until('beats in words', async () => /receivedBeat/.test(await page.textContent('[data-testid=event-log]')), 5_000);
  await page.click('[data-testid=lang]');
  await until('the same log in Chinese', async () => /[\u4e00-\u9fff]/.test(await page.textContent('[data-testid=event-log]')), 5_000);
  await page.screenshot({ path: path.join(artifacts, 'live-zh.png') });
  await page.click('[data-testid=lang]');
  await page.click('[data-tab=inspect]');
  await page.screenshot({ path: path.join(artifacts, 'live.png') });
  // The top node's address sits above the ring: clear of the toolbar with its status line.
  const bar = await page.locator('.transport').boundingBox();
  const label = await page.locator(`[data-node="${addrs[0]}"] .label`).boundingBox();
  assert.ok(label.y >= bar.y + bar.height, `the top node's label (y ${label.y}) overlaps the toolbar (bottom ${bar.y + bar.height})`);
});

test('live: pause freezes the view while the cluster goes on, export saves the recorded session', async () => {
  const count = async () => Number(await page.getAttribute('[data-testid=live-msg-count]', 'data-count'));
  await page.click('[data-testid=play]');
  assert.equal(await page.getAttribute('[data-testid=play]', 'data-playing'), 'false');
  const frozen = await count();
  await page.waitForTimeout(1_200);
  assert.equal(await count(), frozen, 'the view is frozen');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export]')]);
  const doc = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.format, 'nacos-raft-live-session/1');
  assert.deepEqual(doc.nodes, addrs);
  assert.ok(doc.messages > frozen, `recorded while paused: ${doc.messages} > ${frozen}`);
  assert.ok(doc.records.some((r) => r.record.type === 'snapshot') && doc.records.some((r) => r.record.type === 'msg'));
  await page.keyboard.press('Space');
  assert.equal(await page.getAttribute('[data-testid=play]', 'data-playing'), 'true', 'Space plays again');
  await until('the view to move again', async () => (await count()) > doc.messages, 5_000);
});

test('live: paused, the scrubber replays the recorded session (ring, log, Lanes); Live jumps back to now', async () => {
  const count = async () => Number(await page.getAttribute('[data-testid=live-msg-count]', 'data-count'));
  const scrub = (v) => page.$eval('[data-testid=live-scrub]', (e, v) => {
    e.value = String(v);
    e.dispatchEvent(new Event('input', { bubbles: true }));
  }, v);
  const bound = async (name) => Number(await page.getAttribute('[data-testid=live-scrub]', name));
  await page.click('[data-testid=play]');
  await page.waitForSelector('[data-testid=live-scrub]');
  const frozen = await count();
  const logLines = () => page.locator('[data-testid=event-log] li').count();
  const frozenLog = await logLines();
  // One second into the recording: fewer messages and log lines than at the pause.
  await scrub((await bound('min')) + 1_000);
  const early = await count();
  assert.ok(early < frozen, `scrubbed back: ${early} < ${frozen} messages`);
  assert.ok(Number(await page.getAttribute('[data-testid=live-scrub]', 'data-at-ms')) <= 1_100);
  assert.ok((await logLines()) <= frozenLog);
  assert.equal(await page.locator('[data-node]').count(), 3);
  // Forward past the pause (the cluster went on and was recorded): more than at the pause.
  await page.waitForTimeout(1_000);
  await scrub(await bound('max'));
  await scrub(await bound('max'));
  assert.ok((await count()) > frozen, 'recorded while paused, reached by scrubbing forward');
  // The Lanes view at the scrubbed instant: the latest exchanges; a click selects one.
  await page.click('[data-tab=lanes]');
  await page.waitForSelector('[data-testid=spacetime] [data-st-kind="beat"]', { state: 'attached', timeout: 3_000 });
  await page.$eval('[data-testid=spacetime] [data-st-kind="beat"] .st-hit', (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
  await page.waitForSelector('[data-testid=spacetime] .st-msg.selected', { state: 'attached', timeout: 3_000 });
  await page.screenshot({ path: path.join(artifacts, 'live-lanes.png') });
  await page.click('[data-tab=inspect]');
  await page.waitForSelector('[data-testid=live-msg] [data-testid=live-msg-side][data-kind="beat"]');
  await page.click('[data-testid=live-now]');
  assert.equal(await page.getAttribute('[data-testid=play]', 'data-playing'), 'true', 'Live plays again');
  assert.equal(await page.locator('[data-testid=live-scrub]').count(), 0);
  await until('the view at now', async () => (await count()) > frozen, 5_000);
});

test('live: the Connect dialog remembers the addresses and refuses a bad one; live mode is its own page and Simulation goes back', async () => {
  // From the simulation: Live… opens the dialog, prefilled with the last cluster.
  const p2 = await browser.context.newPage();
  await p2.goto(`${srv.url}#seed=3&nodes=3`);
  await p2.waitForSelector('[data-node]');
  await p2.click('[data-testid=live-open]');
  await p2.waitForSelector('[data-testid=live-connect-dialog]');
  assert.equal(await p2.inputValue('[data-testid=live-addrs]'), addrs.join(','));
  await p2.fill('[data-testid=live-addrs]', '127.0.0.1:99999');
  await p2.click('[data-testid=live-connect]');
  assert.match(await p2.textContent('[data-testid=url-error]'), /not a port/);
  assert.equal(await p2.locator('[data-node]').count(), 0, 'nothing connected');
  await p2.fill('[data-testid=live-addrs]', addrs.join(', '));
  await p2.click('[data-testid=live-connect]');
  await until('three streams open', async () => (await p2.locator('[data-conn="open"]').count()) === 3, 10_000);
  assert.equal(new URL(p2.url()).hash, `#live=${addrs.join(',')}`);
  // Live mode is its own page (live/, its own wasm), and the Simulation link goes back.
  assert.equal(new URL(p2.url()).pathname, new URL('live/', srv.url).pathname);
  const wasm = await p2.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm')));
  assert.ok(wasm.length === 1 && /nacos-raft-live-[0-9a-f]+_bg\.wasm$/.test(wasm[0]), `live page loaded ${wasm}`);
  await p2.click('[data-testid=live-simulation]');
  await p2.waitForSelector('[data-testid=start-here], [data-node]');
  assert.equal(new URL(p2.url()).pathname, new URL(srv.url).pathname);
  // live/ alone opens the Connect dialog; a simulator's hash there goes to the simulator.
  await p2.goto(new URL('live/', srv.url).href);
  await p2.waitForSelector('[data-testid=live-connect-dialog]');
  assert.equal(new URL(p2.url()).hash, '#live=');
  await p2.goto(new URL('live/#seed=3&nodes=3', srv.url).href);
  await p2.waitForSelector('[data-node]');
  assert.equal(new URL(p2.url()).pathname, new URL(srv.url).pathname);
  await p2.close();
});

test('live: a publish from the page reaches every node\'s Data row and disk', async () => {
  await page.click('[data-tab=data]');
  await page.fill('[data-testid=live-publish-service]', 'e2e-live');
  await page.click('[data-testid=live-publish]');
  for (const addr of addrs) {
    await page.waitForSelector(`[data-testid=live-data-row][data-addr="${addr}"] td[data-key*="e2e-live"]`, { timeout: 10_000 });
  }
  const onDisk = (dir) => {
    const found = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.includes('e2e-live')) found.push(p);
      }
    };
    walk(dir);
    return found;
  };
  for (const n of nodes) {
    const files = await until(`the datum file on ${n.addr}`, async () => {
      const f = onDisk(n.dir);
      return f.length ? f : null;
    }, 5_000);
    assert.match(fs.readFileSync(files[0], 'utf8'), /e2e-live/);
  }
});

test('live: Crash on the leader elects another one in time, Restart brings it back as FOLLOWER', async () => {
  const old = (await pageLeaders())[0];
  assert.ok(old, 'a leader on the page');
  await page.click(`[data-node="${old}"] circle.body`);
  const clicked = Date.now();
  await page.click('[data-testid=live-crash]');
  await until('the crashed node drawn DOWN and crashed', async () =>
    (await pageAttr(old, 'data-state')) === 'DOWN' && (await pageAttr(old, 'data-crashed')) === 'true', 5_000);
  assert.equal(await pageAttr(old, 'data-conn'), 'open', 'crashed, not unreachable: its stream stays');
  const budget = FAST_LEADER_TIMEOUT_MS + FAST_RANDOM_MS + 2_000;
  const next = await until('a new leader on the page', async () => {
    const l = (await pageLeaders()).filter((a) => a !== old);
    return l.length === 1 ? l[0] : null;
  }, budget + 1_000);
  const took = Date.now() - clicked;
  assert.ok(took <= budget, `new leader ${next} shown after ${took} ms > ${budget} ms`);
  await page.click(`[data-node="${old}"] circle.body`);
  await page.click('[data-testid=live-restart]');
  await until('the restarted node back as FOLLOWER', async () =>
    (await pageAttr(old, 'data-state')) === 'FOLLOWER' && (await pageAttr(old, 'data-crashed')) === 'false', 10_000);
  await page.screenshot({ path: path.join(artifacts, 'live-restart.png') });
});

test('live: a cut drawn across a follower\'s links makes its term climb, on the page and on /state', async () => {
  const leader = await until('one leader', async () => {
    const l = await pageLeaders();
    return l.length === 1 ? l[0] : null;
  }, 10_000);
  const f = addrs.find((a) => a !== leader);
  const others = addrs.filter((a) => a !== f);
  const termPage0 = Number(await pageAttr(f, 'data-term'));
  const termApi0 = await apiTerm(f);
  // A line across the follower's two links (a third of the way from it), from outside to outside.
  const c = await centre(f);
  const [a, b] = await Promise.all(others.map(centre));
  const p1 = { x: c.x + (a.x - c.x) * 0.33, y: c.y + (a.y - c.y) * 0.33 };
  const p2 = { x: c.x + (b.x - c.x) * 0.33, y: c.y + (b.y - c.y) * 0.33 };
  const from = { x: p1.x + (p1.x - p2.x) * 0.4, y: p1.y + (p1.y - p2.y) * 0.4 };
  const to = { x: p2.x + (p2.x - p1.x) * 0.4, y: p2.y + (p2.y - p1.y) * 0.4 };
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let k = 1; k <= 10; k++) await page.mouse.move(from.x + (to.x - from.x) * k / 10, from.y + (to.y - from.y) * k / 10);
  await page.mouse.up();
  try {
    await until('both links of the follower drawn cut', async () =>
      (await page.locator('[data-link-state="cut"]').count()) === 2, 5_000);
  } catch (e) {
    await page.screenshot({ path: path.join(artifacts, 'live-cut-failed.png') });
    const links = await page.$$eval('[data-link-state]', (l) => l.map((x) => `${x.dataset.a}-${x.dataset.b}:${x.dataset.linkState}`));
    const faults = await Promise.all(addrs.map(async (a) => (await http(a, '/nacos-raft/v1/faults')).text));
    throw new Error(`${e.message}; f=${f} line ${JSON.stringify([from, to])} links ${links} faults ${faults.join(' ')}`);
  }
  await until('the follower\'s term to climb on the page', async () => Number(await pageAttr(f, 'data-term')) > termPage0, 10_000);
  await until('the follower\'s term to climb on /state', async () => (await apiTerm(f)) > termApi0, 10_000);
  await page.screenshot({ path: path.join(artifacts, 'live-cut.png') });
  // Heal from the page: click each cut link, then Heal (both of its ends).
  for (let k = 0; k < 2; k++) {
    // A click on the link itself (a message flying over its middle could take a mouse click).
    await page.$eval('[data-link-state="cut"] line.hit', (e) => e.dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await page.click('[data-testid=live-heal-link]');
    await until('one link fewer cut', async () => (await page.locator('[data-link-state="cut"]').count()) === 1 - k, 5_000);
  }
  await until('the links drawn open again', async () =>
    (await page.locator('[data-link-state="open"]').count()) === 3, 5_000);
});

test('live: loss and latency from the page, then Heal all', async () => {
  const addr = addrs[0];
  await page.click(`[data-node="${addr}"] circle.body`);
  const active = () => page.textContent('[data-testid=live-active-faults]');
  await page.fill('[data-testid=live-loss-pct]', '30');
  await page.click('[data-testid=live-loss]');
  await until('loss shown active', async () => /30/.test(await active()), 5_000);
  await page.fill('[data-testid=live-lat-min]', '5');
  await page.fill('[data-testid=live-lat-max]', '20');
  await page.click('[data-testid=live-latency]');
  await until('latency shown active', async () => /5–20/.test(await active()), 5_000);
  const f = JSON.parse((await http(addr, '/nacos-raft/v1/faults')).text);
  assert.deepEqual([f.loss_pct, f.latency_ms], [30, { min: 5, max: 20 }], 'the node has them');
  // Bad input: the node's 400 text in a toast, nothing changes.
  await page.fill('[data-testid=live-loss-pct]', '150');
  await page.click('[data-testid=live-loss]');
  await page.waitForSelector('[data-testid=toast]');
  assert.match(await page.textContent('[data-testid=toast]'), /150/);
  assert.equal(JSON.parse((await http(addr, '/nacos-raft/v1/faults')).text).loss_pct, 30);
  // That refusal is the one console error it leaves (Chromium logs every 4xx).
  assert.ok(errors.every((e) => /status of 400/.test(e)), errors.join('\n'));
  errors = [];
  await page.click('[data-testid=live-heal-all]');
  await until('no fault left', async () => /no faults/.test(await active()), 5_000);
});

test('live: a node started without --faults has its controls say so', async () => {
  const addr = `127.0.0.1:${await freePort()}`;
  const n = {
    addr, dir: path.join(tmp, 'nofaults'), log: path.join(tmp, 'nofaults.log'),
    args: ['--addr', addr, '--members', addr, '--data-dir', path.join(tmp, 'nofaults'), '--loopback-only',
      '--health-check', 'none', '--web-origin', new URL(srv.url).origin, ...FAST_TIMINGS],
  };
  startNode(n);
  nodes.push(n);
  const p3 = await browser.context.newPage();
  await p3.goto(`${srv.url}#live=${addr}`);
  await p3.waitForSelector(`[data-node="${addr}"][data-conn="open"]`, { timeout: 15_000 });
  await p3.click(`[data-node="${addr}"] circle.body`);
  await p3.waitForSelector('[data-testid=live-faults-disabled]');
  assert.match(await p3.textContent('[data-testid=live-faults-disabled]'), /--faults/);
  assert.ok(await p3.isDisabled('[data-testid=live-crash]'));
  // The node itself refuses: 403 with the text the page shows.
  const r = await http(addr, '/nacos-raft/v1/faults/crash', 'POST');
  assert.equal(r.status, 403);
  await p3.close();
  await stopNode(n);
});

test('live: a stopped process is drawn unreachable (not crashed) and reconnected when it is back', async () => {
  const n = nodes[2];
  await stopNode(n);
  await until('the stopped node drawn unreachable', async () =>
    (await pageAttr(n.addr, 'data-conn')) !== 'open' && (await pageAttr(n.addr, 'data-state')) === 'DOWN', 5_000);
  assert.equal(await pageAttr(n.addr, 'data-crashed'), 'false', 'unreachable, not crashed by the fault API');
  await page.waitForTimeout(1_500);
  startNode(n);
  // Reconnection with backoff (at most 8 s between attempts).
  await until('the restarted process back on the page', async () =>
    (await pageAttr(n.addr, 'data-conn')) === 'open' && ['FOLLOWER', 'LEADER', 'CANDIDATE'].includes(await pageAttr(n.addr, 'data-state')), 15_000);
  // The only console errors are the refused stream connections of the stopped process.
  const others = errors.filter((e) => !/nacos-raft\/v1\/events|ERR_CONNECTION_REFUSED/.test(e));
  assert.deepEqual(others, []);
});
