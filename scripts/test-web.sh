#!/usr/bin/env bash
# The web crate's component and model tests, compiled to wasm and run in headless Chromium
# (wasm-pack + wasm-bindgen-test-runner + chromedriver). wasm-pack silently skips a suite that is
# not marked run_in_browser, so the run must report exactly the number of tests declared in
# web/tests/browser.rs. (The web crate's pure modules also have host tests: `cargo test -p
# nacos-raft-web`, part of `cargo test --workspace`.)
set -euo pipefail
cd "$(dirname "$0")/.."
expected=$(grep -c '^#\[wasm_bindgen_test\]' web/tests/browser.rs)
[ "$expected" -gt 0 ] || { echo "[test-web] no tests declared in web/tests/browser.rs"; exit 1; }
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
log=$(mktemp)
echo "[test-web] wasm-pack test --headless --chrome web ($expected tests expected)"
if ! wasm-pack test --headless --chrome web >"$log" 2>&1; then
  cat "$log"; echo "[test-web] FAILED"; exit 1
fi
n=$(awk '/test result: ok\./{for(i=1;i<=NF;i++) if($i=="passed;") s+=$(i-1)} END{print s+0}' "$log")
if [ "$n" != "$expected" ]; then
  cat "$log"; echo "[test-web] ran $n browser tests, expected $expected"; exit 1
fi
grep -E '^test .* ok$' "$log" | sed 's/^/[test-web] /'
echo "test-web: $n passed, 0 failed"
rm -f "$log"
