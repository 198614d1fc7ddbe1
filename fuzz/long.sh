#!/usr/bin/env bash
# The long fuzz run: every target (or those named) for FUZZ_RUNS executions (1,000,000 by
# default), one after another, each capped at FUZZ_MAX_SECONDS (0: no cap) since the
# config target is slow (about 100 executions a second). Logs go to fuzz/long/<target>.log,
# new inputs to fuzz/corpus/<target>, crashing inputs to fuzz/artifacts/<target>/. Prints
# a table: executions, crashes, time and peak RSS per target; exits 1 if any crashed.
#
#   fuzz/long.sh
#   FUZZ_RUNS=200000 FUZZ_MAX_SECONDS=600 fuzz/long.sh config template
set -uo pipefail

cd "$(dirname "$0")"
runs="${FUZZ_RUNS:-1000000}"
max_seconds="${FUZZ_MAX_SECONDS:-0}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config timeline units template listener)
fi

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked || exit 2
fi
# FUZZ_NO_BUILD=1: run the binaries as last built.
[ -n "${FUZZ_NO_BUILD:-}" ] || cargo +nightly fuzz build || exit 2
bin="target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
mkdir -p long

rows=()
status=0
for t in "${targets[@]}"; do
    corpus="corpus/$t"
    mkdir -p "$corpus" "artifacts/$t"
    cp -n "seeds/$t"/* "$corpus"/ 2>/dev/null || true
    before=$(find "artifacts/$t" -type f | wc -l)
    log="long/$t.log"
    echo "=== $t: $runs runs (cap ${max_seconds}s), log in fuzz/$log"
    start=$(date +%s)
    /usr/bin/time -v "$bin/$t" -artifact_prefix="artifacts/$t/" -runs="$runs" \
        -max_total_time="$max_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$corpus" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    max_rss_kb=$(sed -n 's/^\s*Maximum resident set size (kbytes): *//p' "$log" | tail -1)
    crashes=$(($(find "artifacts/$t" -type f | wc -l) - before))
    if [ "$rc" -ne 0 ]; then
        status=1
        what=$(grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z -]+|panicked at [^:]+:[0-9]+' "$log" | head -1)
        [ "$crashes" -eq 0 ] && crashes=1
    else
        what=""
    fi
    rows+=("$(printf '%-10s %12s %8s %8s %10s %10s  %s' "$t" "${execs:-?}" "$crashes" "${secs}s" "${rss:-?}" "$(( ${max_rss_kb:-0} / 1024 ))" "$what")")
done

echo
printf '%-10s %12s %8s %8s %10s %10s  %s\n' target executions crashes time "rss(MB)" "time-v(MB)" "first failure"
for r in "${rows[@]}"; do echo "$r"; done
exit "$status"
