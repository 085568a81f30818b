#!/usr/bin/env bash
# Trunk as the project runs it: `bash scripts/trunk.sh build --release` (or `serve --release …`).
# A release build rebuilds the standard library for the page (`-Zbuild-std`, at the page's
# opt-level "z" and inside its LTO) with the `immediate-abort` panic strategy: a panic traps at
# once instead of formatting a message nobody reads (the page installs no panic hook, so on
# wasm32-unknown-unknown that message went nowhere before either). 29.6 KB less gzipped page
# (358.4 → 328.8 KB, issue 14; docs/benchmarks.md). Both flags are unstable: they run on the
# pinned stable toolchain (rust-toolchain.toml, 1.95.0, with its rust-src component) through
# RUSTC_BOOTSTRAP=1, as `make fuzz` does; the pin keeps their behaviour fixed. Plain
# `trunk build --release` still works and gives the page with the prebuilt standard library;
# so does NACOS_RAFT_WEB_PREBUILT_STD=1 here. Builds without --release are left as they are.
# Every build of index.html also builds live mode's page into DIST/live/ (a post_build hook,
# Trunk.toml, scripts/trunk-live-page.sh), with these same flags: the site is two pages.
set -euo pipefail
cd "$(dirname "$0")/.."
release=0
for a in "$@"; do [ "$a" = --release ] && release=1; done
if [ "$release" = 1 ] && [ "${NACOS_RAFT_WEB_PREBUILT_STD:-0}" != 1 ]; then
  if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    echo "[trunk] the rust-src component is missing: run make tools (or rustup component add rust-src)" >&2
    exit 1
  fi
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  # The standard library's own size-over-speed choices (smaller sorts, integer formatting and
  # string searches; same results): 2.5 KB less gzipped page (issue 14, docs/benchmarks.md).
  export CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size
  # Only the page's target: build scripts and proc macros (host) keep the usual flags.
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort"
  # wasm-bindgen without the name and producers sections (scripts/wasm-bindgen-release/), but
  # for a build that keeps the names on purpose (web/build.rs).
  if [ -z "${NACOS_RAFT_WEB_KEEP_NAMES:-}" ]; then
    PATH="$PWD/scripts/wasm-bindgen-release:$PATH"
    export PATH
  fi
fi
exec trunk "$@"
