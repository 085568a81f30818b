#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml): builds live mode's page (live.html) into live/ of the
# site being staged, so that every `trunk build` and `trunk serve` of index.html (plain, through
# scripts/trunk.sh, or `make demo`) makes the whole site. Live mode is a page of its own, with its
# own wasm, so that neither page downloads the other's code (issue 14). It runs in Trunk's
# environment: the same profile, public URL and (from scripts/trunk.sh) standard-library flags.
set -euo pipefail
# The nested build reads the same Trunk.toml: its own hook must not start a third.
[ -z "${NACOS_RAFT_LIVE_PAGE_HOOK:-}" ] || exit 0
[ "$(basename "${TRUNK_HTML_FILE:-index.html}")" = index.html ] || exit 0
export NACOS_RAFT_LIVE_PAGE_HOOK=1
args=(build live.html --dist "$TRUNK_STAGING_DIR/live")
[ "${TRUNK_PROFILE:-debug}" = release ] && args+=(--release)
case "${TRUNK_PUBLIC_URL:-./}" in
  ./ | "") args+=(--public-url ./) ;;
  */) args+=(--public-url "${TRUNK_PUBLIC_URL}live/") ;;
  *) args+=(--public-url "${TRUNK_PUBLIC_URL}/live/") ;;
esac
echo "[trunk hook] trunk ${args[*]}" >&2
exec trunk "${args[@]}"
