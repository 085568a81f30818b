#!/usr/bin/env bash
# The core's scenario tests compiled to wasm, run in Node and in headless Chromium. wasm-pack
# silently skips suites meant for the other environment, so each run must report exactly the
# number of scenario tests declared in core/tests/common/scenario_cases.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
expected=$(grep -cE '^\s+[a-z0-9_]+ => [a-z_]+\([0-9]*\);$' core/tests/common/scenario_cases.rs)
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}

count() { # the "N passed" of the suite whose Running line names $2, in log $1
  awk -v suite="$2" '/^ *Running (unittests|tests\/)/{cur=($0 ~ suite)} cur && /test result: ok\./{for(i=1;i<=NF;i++) if($i=="passed;") print $(i-1)}' "$1" | head -1
}

run() { # name, suite, wasm-pack flags...
  local name=$1 suite=$2; shift 2
  local log; log=$(mktemp)
  echo "[wasm-core] $name: wasm-pack test $* core"
  # `--test <suite>`: only that suite is built, not the examples (host tools: the campaign's
  # progress bar does not build for wasm).
  if ! wasm-pack test "$@" core --test "$(basename "$suite" .rs)" >"$log" 2>&1; then cat "$log"; echo "[wasm-core] $name: FAILED"; exit 1; fi
  local n; n=$(count "$log" "$suite")
  if [ "${n:-0}" != "$expected" ]; then
    cat "$log"; echo "[wasm-core] $name: ran ${n:-0} scenario tests, expected $expected"; exit 1
  fi
  echo "[wasm-core] $name: $n/$expected scenario tests passed"
  rm -f "$log"
}

run node "tests/scenarios.rs" --release --node
run chrome "tests/scenarios_browser.rs" --release --headless --chrome
