#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder a peer or a client reaches (native/README.md,
# "Garbage (fuzzing)"): builds the cargo-fuzz targets of fuzz/ once, runs each for
# FUZZ_SECONDS (default 180) with libFuzzer, and prints a table: target, executions, coverage,
# corpus, crashes. Exits 1 if any target crashed (the input is in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh                         # = make fuzz, ~25 min
#   FUZZ_SECONDS=12 scripts/fuzz.sh         # = make fuzz-smoke (part of make test)
#   FUZZ_TARGETS="beat store" scripts/fuzz.sh
#
# The toolchain is the pinned stable one: cargo-fuzz passes -Z flags to rustc, which
# RUSTC_BOOTSTRAP=1 allows on stable. No sanitizer by default (the project's crates forbid
# unsafe code; without AddressSanitizer the targets run 2-5x faster); FUZZ_SANITIZER=address
# turns it on. New inputs the fuzzer keeps go to a working corpus in the target directory
# (seeded from fuzz/corpus/ and fuzz/regressions/, which are never written).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-180}
TARGETS=${FUZZ_TARGETS:-"vote beat commit delete_commit publish datum_keys answer store"}
MAX_LEN=${FUZZ_MAX_LEN:-16384}
SANITIZER=${FUZZ_SANITIZER:-none}
TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")/fuzz"
BIN="$TARGET_DIR/x86_64-unknown-linux-gnu/release"

say() { printf '[fuzz] %s\n' "$*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "cargo-fuzz is missing: run make tools"; exit 1
fi

start=$(date +%s)
say "building the fuzz targets (instrumented release build)"
RUSTC_BOOTSTRAP=1 cargo fuzz build -O --sanitizer "$SANITIZER" --fuzz-dir fuzz \
  --target-dir "$TARGET_DIR" >&2
say "built in $(( $(date +%s) - start )) s; ${SECONDS_PER_TARGET} s per target"

rows=()
crashed=0
for t in $TARGETS; do
  work="$TARGET_DIR/corpus/$t"
  art="fuzz/artifacts/$t"
  log="$TARGET_DIR/logs/$t.log"
  mkdir -p "$work" "$art" "$(dirname "$log")"
  seeds=("fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
  before=$(find "$art" -type f | wc -l)
  say "$t: ${SECONDS_PER_TARGET} s"
  set +e
  "$BIN/$t" -max_total_time="$SECONDS_PER_TARGET" -max_len="$MAX_LEN" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  crashes=$(( $(find "$art" -type f | wc -l) - before ))
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  [ "$crashes" -gt 0 ] && crashed=1
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  if [ -z "$execs" ]; then execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#'); fi
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  rate=$(( ${execs:-0} / (SECONDS_PER_TARGET > 0 ? SECONDS_PER_TARGET : 1) ))
  rows+=("| $t | ${execs:-0} | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |")
  if [ "$crashes" -gt 0 ]; then
    say "$t CRASHED (exit $rc): input in $art/, log in $log"
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -5 >&2 || true
  fi
done

echo
echo "fuzzing: ${SECONDS_PER_TARGET} s per target, sanitizer ${SANITIZER}, total $(( $(date +%s) - start )) s including the build"
echo
echo "| target | execs | execs/s | coverage (edges) | features | corpus | crashes |"
echo "|---|--:|--:|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
if [ "$crashed" -ne 0 ]; then
  say "crashes found: minimize with 'RUSTC_BOOTSTRAP=1 cargo fuzz tmin --fuzz-dir fuzz <target> <input>'," \
    "add the input to fuzz/regressions/<target>/ and fix the cause"
  exit 1
fi
