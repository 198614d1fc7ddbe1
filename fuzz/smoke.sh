#!/usr/bin/env bash
# CI smoke run of the fuzz targets: build them all once, then run each for a bounded time
# (FUZZ_SECONDS, 20 s by default) from its committed seeds. Exits non-zero on any crash,
# timeout (-timeout=30: ten times an ASan build's slowdown over a second) or out-of-memory (-rss_limit_mb=2048); the input that did it is
# left in fuzz/artifacts/<target>/.
#
#   fuzz/smoke.sh                 # every target, 20 s each
#   FUZZ_SECONDS=60 fuzz/smoke.sh config listener
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-20}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config timeline units template listener)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "smoke.sh: the nightly toolchain is needed (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "smoke.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
# The binaries are run directly: `cargo fuzz run` would rebuild whenever a source file
# changed in the meantime.
bin="target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"

failed=()
for t in "${targets[@]}"; do
    # libFuzzer writes new inputs into the first corpus directory: a scratch copy of the
    # seeds, so that the committed seeds stay as they are.
    corpus="corpus/$t"
    mkdir -p "$corpus" "artifacts/$t"
    cp -n "seeds/$t"/* "$corpus"/ 2>/dev/null || true
    echo "=== $t: ${seconds}s"
    if ! "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 "$corpus"; then
        failed+=("$t")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke.sh: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "smoke.sh: all ${#targets[@]} targets ran ${seconds}s each without a crash"
