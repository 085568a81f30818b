// Makes docs/live.png from the release build (dist/) and the release node: live mode on three
// real nodes (fast timings, --faults, loopback only, a temp data dir, stopped at the end), a
// service registered through the naming API, one follower's link from the leader cut, the
// leader inspected, while messages fly.
// `NACOS_RAFT_NODE_BIN=<node> node e2e/screenshot-live.mjs [out.png] [lang]`.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serve, launch, FAST_TIMINGS, raftLeader } from './lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] || path.join(root, 'docs', 'live.png');
const lang = process.argv[3] || 'en';
const bin = process.env.NACOS_RAFT_NODE_BIN
  || path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'release', 'nacos-raft-node');

/** 8848-8850 as in `make live` when they are free, any free ports otherwise. */
async function ports() {
  const free = (p) => new Promise((ok) => {
    const s = net.createServer().once('error', () => ok(null));
    s.listen(p, '127.0.0.1', () => { const got = s.address().port; s.close(() => ok(got)); });
  });
  const want = [8848, 8849, 8850];
  const got = await Promise.all(want.map(free));
  if (got.every((p, i) => p === want[i])) return want;
  return [await free(0), await free(0), await free(0)];
}

async function until(what, f, ms) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await f(); if (v) return v; } catch { /* not up yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

const post = (addr, p) => fetch(`http://${addr}${p}`, { method: 'POST', signal: AbortSignal.timeout(3_000) });

if (!fs.existsSync(bin)) throw new Error(`no node binary at ${bin}: cargo build --release -p nacos-raft-node`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nacos-raft-shot-'));
const srv = await serve(process.env.DIST || path.join(root, 'dist'), '/shot/');
const addrs = (await ports()).map((p) => `127.0.0.1:${p}`);
const procs = addrs.map((addr) => spawn(bin, ['--addr', addr, '--members', addrs.join(','),
  '--data-dir', path.join(tmp, addr.replace(':', '_')), '--faults', '--loopback-only',
  '--health-check', 'none', '--web-origin', new URL(srv.url).origin, ...FAST_TIMINGS], { stdio: 'ignore' }));
let b;
try {
  const leader = await until('a leader all three agree on', async () => {
    const l = await Promise.all(addrs.map(raftLeader));
    return l[0] && l.every((x) => x === l[0]) ? l[0] : null;
  }, 20_000);
  const follower = addrs.find((a) => a !== leader);
  b = await launch();
  const page = await b.context.newPage();
  await page.setViewportSize({ width: 1440, height: 1040 });
  await page.goto(`${srv.url}#live=${addrs.join(',')}`);
  await page.evaluate((l) => localStorage.setItem('nacos-raft.lang', l), lang);
  await page.reload();
  await page.waitForSelector(`[data-node="${leader}"][data-state="LEADER"]`, { timeout: 15_000 });
  // A few registrations (commits fly to both followers), then the leader's requests to one
  // follower cut: its beats and commits to it die on the link.
  for (let i = 1; i <= 3; i++) {
    await post(leader, `/nacos/v1/ns/instance?serviceName=orders&ip=127.0.0.1&port=${8080 + i}&ephemeral=false`);
  }
  await post(leader, `/nacos-raft/v1/faults/cut?peer=${follower}&dir=out`);
  await page.waitForTimeout(1_600);
  await post(leader, `/nacos/v1/ns/instance?serviceName=orders&ip=127.0.0.1&port=8090&ephemeral=false`);
  await page.waitForTimeout(150);
  await page.click(`[data-node="${leader}"] circle.body`);
  await page.waitForTimeout(250);
  await page.screenshot({ path: out });
  console.log('wrote', out);
} finally {
  await b?.close();
  await srv.close();
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode !== null ? null : new Promise((ok) => p.once('exit', ok)))));
  fs.rmSync(tmp, { recursive: true, force: true });
}
