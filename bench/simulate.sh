#!/usr/bin/env bash
# Time `hbmon simulate` over a simulated day: N monitors probed every 30 s (2,880 results
# each), every monitor failing for 5 minutes once, at an hour of its own, so the state
# machine confirms, alerts and recovers all day long. Beside it, `hbmon validate` of the
# same file (the part of the time that is reading the config). Prints wall time and peak
# RSS; asserts nothing.
#
#   bench/simulate.sh [N]        default: 1000
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
bin=target/release/hbmon

python3 - "$n" "$work" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/hbmon.yaml", "w") as f:
    f.write("version: 1\nmonitors:\n")
    for i in range(n):
        f.write(f'  - {{ name: m{i}, interval: 30s, http: {{ url: "http://127.0.0.1:9/{i}" }} }}\n')
with open(f"{work}/day.txt", "w") as f:
    for i in range(n):
        seq = ["fail" if (k // 120) % 24 == i % 24 and k % 120 < 10 else "ok" for k in range(2880)]
        f.write(f"m{i}: " + " ".join(seq) + "\n")
PY

measure() { /usr/bin/time -f "%e %M" -o "$work/t" "$@" > "$work/out"; read -r s kb < "$work/t"; echo "$s $((kb / 1024))"; }
read -r vs vm < <(measure "$bin" validate -c "$work/hbmon.yaml")
read -r ss sm < <(measure "$bin" simulate -c "$work/hbmon.yaml" -f "$work/day.txt" --quiet)
alerts=$(grep -c -E ' (DOWN|UP) ' "$work/out" || true)
printf '%-48s %8s %10s\n' "" "seconds" "peak MiB"
printf '%-48s %8s %10s\n' "validate, $n monitors" "$vs" "$vm"
printf '%-48s %8s %10s\n' "simulate, $n monitors x 2,880 results (a day)" "$ss" "$sm"
echo "alerts printed: $alerts"
