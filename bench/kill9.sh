#!/usr/bin/env bash
# Delivery under kill -9, the documented long run: 100 cycles (CI runs 20 as part of
# `cargo test`). Prints alerts expected, received, lost, duplicates and why.
# Usage: bench/kill9.sh [cycles]
set -euo pipefail
cd "$(dirname "$0")/.."
HBMON_KILL_CYCLES="${1:-100}" cargo test --release --test cli \
  delivery::kill_9_with_alerts_in_flight -- --nocapture 2>&1 | grep -E "kill -9 cycles|test result|panicked"
