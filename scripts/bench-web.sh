#!/usr/bin/env bash
# The web app's budgets (issue 14), measured on the release build: gzipped size of wasm + JS
# (budget 250 KB) of each of the site's two pages (the simulator's, dist/, and live mode's,
# dist/live/: each loads only its own wasm and JS) and frame time in headless Chromium with
# messages in flight and 1,000 datums loaded at 9 nodes (p95 ≤ 16.7 ms), 15 nodes (p95 ≤ 8 ms)
# and 51 nodes (p95 ≤ 16.7 ms).
# Prints a table and one JSON line; exits non-zero if a budget is exceeded.
# BASELINE_DIST=DIR also measures another build (a dist/ kept from an earlier commit) in the
# same run, size and frames, and prints this build's ratios to it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d e2e/node_modules ] || npm ci --prefix e2e --no-audit --no-fund >/dev/null
echo "[bench-web] trunk build --release"
bash scripts/trunk.sh build --release >/tmp/nacos-raft-trunk-bench.log 2>&1 || { cat /tmp/nacos-raft-trunk-bench.log; exit 1; }

# Prints the gzip -9 size of each of a build's wasm, JS and wasm-bindgen snippets (inline
# JavaScript, dist/snippets/: part of the page too) and leaves their sum in $gz_total.
gz_sum() {
  local f raw gz
  gz_total=0
  for f in "$1"/*.wasm "$1"/*.js $(find "$1/snippets" -name '*.js' 2>/dev/null | sort); do
    raw=$(stat -c %s "$f"); gz=$(gzip -9c "$f" | wc -c); gz_total=$((gz_total + gz))
    printf '%-48s %10d %10d\n' "$(basename "$f")" "$raw" "$gz"
  done
}
budget=$((250 * 1000))
printf '%-48s %10s %10s\n' file bytes gzip-9
gz_sum dist
total=$gz_total
printf '%-48s %10s %10d  (budget %d, %s)\n' "wasm + js, the simulator's page" "" "$total" "$budget" \
  "$([ "$total" -le "$budget" ] && echo ok || echo OVER)"
gz_sum dist/live
live_total=$gz_total
printf '%-48s %10s %10d  (budget %d, %s)\n' "wasm + js, live mode's page (live/)" "" "$live_total" "$budget" \
  "$([ "$live_total" -le "$budget" ] && echo ok || echo OVER)"

base_frames=
if [ -n "${BASELINE_DIST:-}" ]; then
  echo "[bench-web] baseline: $BASELINE_DIST"
  gz_sum "$BASELINE_DIST"
  base_total=$gz_total
  printf '%-48s %10s %10d  (this build ÷ baseline: %s)\n' "baseline wasm + js" "" "$base_total" \
    "$(awk -v a="$total" -v b="$base_total" 'BEGIN { printf "%.3f×", a / b }')"
  base_frames=$(DIST="$BASELINE_DIST" node e2e/bench.mjs)
fi
frames=$(node e2e/bench.mjs)
node -e '
const r = JSON.parse(process.argv[1]);
const budget = { 9: 16.7, 15: 8, 51: 16.7 };
console.log("nodes  frames  frame p50  frame p95  budget  work p50  work p95  with msgs  max msgs");
let ok = true;
for (const x of r) {
  const pass = budget[x.nodes] === undefined || x.frame_p95_ms <= budget[x.nodes];
  ok &&= pass;
  console.log(String(x.nodes).padStart(5), String(x.frames).padStart(7),
    x.frame_p50_ms.toFixed(1).padStart(9), x.frame_p95_ms.toFixed(1).padStart(10),
    (budget[x.nodes] + (pass ? " ok" : " OVER")).padStart(8),
    x.work_p50_ms.toFixed(1).padStart(9), x.work_p95_ms.toFixed(1).padStart(9),
    (Math.round(x.frames_with_messages * 100) + "%").padStart(10), String(x.max_messages).padStart(9));
}
if (process.argv[2]) {
  // The baseline ran in the same run, before this build: ratios of this build to it.
  const base = JSON.parse(process.argv[2]);
  console.log("nodes  baseline p95  this p95  ratio   (frame time, this build ÷ baseline)");
  for (const x of r) {
    const b = base.find(y => y.nodes === x.nodes);
    if (b) console.log(String(x.nodes).padStart(5), b.frame_p95_ms.toFixed(1).padStart(13),
      x.frame_p95_ms.toFixed(1).padStart(9), (x.frame_p95_ms / b.frame_p95_ms).toFixed(2).padStart(6) + "×");
  }
}
process.exit(ok ? 0 : 1);
' "$frames" "$base_frames"
echo "{\"gzip_bytes\":$total,\"live_gzip_bytes\":$live_total,\"frames\":$frames}"
[ "$total" -le "$budget" ] && [ "$live_total" -le "$budget" ]
