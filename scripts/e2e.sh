#!/usr/bin/env bash
# End-to-end browser tests: builds the release site with Trunk, serves dist/ from a sub-path on
# 127.0.0.1 and drives it in Debian's headless Chromium with playwright-core (e2e/). Screenshots
# land in artifacts/ (gitignored).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d e2e/node_modules/playwright-core ] && [ -x e2e/node_modules/.bin/esbuild ] \
  || npm ci --prefix e2e --no-audit --no-fund >/dev/null
echo "[e2e] trunk build --release"
bash scripts/trunk.sh build --release >/tmp/nacos-raft-trunk-e2e.log 2>&1 || { cat /tmp/nacos-raft-trunk-e2e.log; exit 1; }
echo "[e2e] cargo build --release -p nacos-raft-node (for live mode)"
${CARGO:-cargo} build --release -q -p nacos-raft-node
export NACOS_RAFT_NODE_BIN="$(realpath "${CARGO_TARGET_DIR:-target}")/release/nacos-raft-node"
FILES=(page.test.mjs teach.test.mjs compare.test.mjs live.test.mjs)
expected=$(cd e2e && cat "${FILES[@]}" | grep -c "^test('")
[ "$expected" -gt 0 ] || { echo "[e2e] no tests declared in e2e/${FILES[*]}"; exit 1; }
log=$(mktemp)
echo "[e2e] node --test ${FILES[*]} ($expected tests expected, one file at a time: live mode has timing budgets)"
if ! (cd e2e && node --test --test-concurrency=1 --test-reporter=spec "${FILES[@]}") >"$log" 2>&1; then
  cat "$log"; echo "[e2e] FAILED"; exit 1
fi
cat "$log"
pass=$(awk '/^ℹ pass /{print $3}' "$log")
fail=$(awk '/^ℹ fail /{print $3}' "$log")
if [ "${pass:-0}" != "$expected" ] || [ "${fail:-1}" != "0" ]; then
  echo "[e2e] ran ${pass:-0} tests, expected $expected"; exit 1
fi
echo "[e2e] screenshots in artifacts/"
echo "e2e: $pass passed, 0 failed"
rm -f "$log"
