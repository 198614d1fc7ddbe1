#!/usr/bin/env bash
# Soak `hbmon watch`: N monitors (90% http, 10% tcp) against a local nginx at one interval
# for a while, then print CPU %, peak RSS, the store's size, how many probes ran against
# how many were due, and the lag of each probe behind its scheduled time (percentiles,
# from the store). Asserts nothing; prints figures.
#
#   bench/soak.sh [N] [INTERVAL] [DURATION]      default: 2000 10s 600 (seconds)
#   JITTER (default: the interval) spreads the monitors over it; TIMEOUT (default 1s).
#
# Needs nginx-light, sqlite3, curl and python3 (installed with apt-get when run as root).
# Everything listens on 127.0.0.1 only and is stopped by process id on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
interval=${2:-10s}
duration=${3:-600}
jitter=${JITTER:-$interval}

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "soak: install ${need[*]}" >&2; exit 1
  fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log crit;
daemon off;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server { listen 127.0.0.1:$port backlog=8192; location / { return 200 "ok\n"; } }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

{
  echo "version: 1"
  echo "defaults: { interval: $interval, timeout: ${TIMEOUT:-1s}, jitter: $jitter }"
  echo "monitors:"
  for i in $(seq 1 "$n"); do
    if [ $((i % 10)) = 0 ]; then
      echo "  - { name: tcp-$i, tcp: { host: 127.0.0.1, port: $port } }"
    else
      echo "  - { name: http-$i, http: { url: \"http://127.0.0.1:$port/health/$i\" } }"
    fi
  done
} > "$work/hbmon.yaml"

cargo build --release -q
bin=target/release/hbmon
"$bin" watch --config "$work/hbmon.yaml" --db "$work/hbmon.db" --log-format json \
  2> "$work/watch.log" &
pid=$!
pids+=("$pid")
ticks=$(getconf CLK_TCK)
start=$(date +%s.%N)
sleep "$duration"
if ! kill -0 "$pid" 2>/dev/null; then
  echo "soak: hbmon watch exited early:" >&2; tail -20 "$work/watch.log" >&2; exit 1
fi
# CPU from /proc before stopping: user + system ticks of the whole process.
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
end=$(date +%s.%N)
kill -TERM "$pid"
wait "$pid" || true
elapsed=$(python3 -c "print($end - $start)")

db="$work/hbmon.db"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
size=$(stat -c %s "$db")
ran=$(sqlite3 "$db" 'SELECT COUNT(*) FROM observations')
down=$(sqlite3 "$db" "SELECT COUNT(*) FROM observations WHERE status != 'up'")
skipped=$(grep -c 'still running' "$work/watch.log" || true)
sqlite3 -separator ' ' "$db" 'SELECT at - scheduled FROM observations ORDER BY 1' > "$work/lag.txt"
python3 - "$work/lag.txt" "$n" "$interval" "$elapsed" "$utime" "$stime" "$ticks" "$hwm" "$size" "$ran" "$down" "$skipped" <<'PY'
import sys
lag = [int(x) for x in open(sys.argv[1]) if x.strip()]
n, interval, elapsed = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
utime, stime, ticks, hwm = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
size, ran, down, skipped = int(sys.argv[9]), int(sys.argv[10]), int(sys.argv[11]), int(sys.argv[12])
secs = {"s": 1, "m": 60}[interval[-1]] * float(interval[:-1]) if interval[-1] in "sm" else float(interval)
due = n * elapsed / secs
def pct(p):
    return lag[min(len(lag) - 1, int(p / 100 * len(lag)))] if lag else 0
cpu = (utime + stime) / ticks / elapsed * 100
print(f"monitors {n} every {interval} for {elapsed:.0f} s")
print(f"cpu      {cpu:.1f} % of one core  (user {utime / ticks:.1f} s, system {stime / ticks:.1f} s)")
print(f"peak RSS {hwm / 1024:.1f} MiB")
print(f"store    {size / 1048576:.1f} MiB for {ran} observations ({size / max(ran, 1):.0f} B each)")
print(f"probes   {ran} ran of ~{due:.0f} due ({100 * ran / due:.1f} %); not up: {down}; skipped overlaps: {skipped}")
print(f"lag ms   p50 {pct(50)}  p90 {pct(90)}  p99 {pct(99)}  p99.9 {pct(99.9)}  max {lag[-1] if lag else 0}")
print(f"late     {sum(1 for x in lag if x > 1000)} probes more than 1 s after their time")
PY
