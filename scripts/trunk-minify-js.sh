#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml), release builds only: minifies the JS that wasm-bindgen
# writes for the page and its snippets (the glue: ~40 KB as written, 7.0 KB gzipped; 5.6 KB
# minified, issue 14) with esbuild, the npm package `make tools` installs into e2e/node_modules.
# Trunk leaves this JS alone even with --minify, and has already put each file's sha384 into the
# page's `integrity` attributes: the new file's replaces the old one's there. Without esbuild (no
# `make tools` yet) the page is built unminified, with a note.
set -euo pipefail
[ "${TRUNK_PROFILE:-debug}" = release ] || exit 0
esbuild="$(cd "$(dirname "$0")/.." && pwd)/e2e/node_modules/.bin/esbuild"
if [ ! -x "$esbuild" ]; then
  echo "[trunk hook] esbuild is not installed (make tools): the page's JS is left unminified" >&2
  exit 0
fi
cd "$TRUNK_STAGING_DIR"
sha() { openssl dgst -sha384 -binary "$1" | openssl base64 -A; }
html=index.html
for js in nacos-raft-*.js snippets/*/*.js; do
  [ -f "$js" ] || continue
  old=$(sha "$js")
  "$esbuild" "$js" --minify --format=esm --log-level=warning --outfile="$js.min"
  mv "$js.min" "$js"
  new=$(sha "$js")
  if ! grep -qF "sha384-$old" "$html"; then
    echo "[trunk hook] $html has no integrity for $js: left as is" >&2
    continue
  fi
  sed -i "s|sha384-$old|sha384-$new|g" "$html"
done
