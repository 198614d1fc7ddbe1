#!/usr/bin/env bash
# Load `hbmon watch`'s listener with pings: wrk (a Lua script spreading GET /ping/<name>
# over N heartbeats) at a fixed concurrency for a while, beside the same wrk against
# nginx's `return 200` on the same machine (the loopback limit for keep-alive requests);
# then the latency of single pings while 1,000 idle connections are held open. Prints
# pings per second, p50/p99 latency, hbmon's peak RSS and whether every ping answered
# 200 is in the store. Asserts nothing.
#
#   bench/listen.sh [N] [DURATION] [CONNECTIONS]     default: 1000 10 64
#
# Needs wrk, nginx-light, sqlite3 and python3 (installed with apt-get when run as root).
# Everything listens on 127.0.0.1 only and is stopped by process id on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
duration=${2:-10}
conns=${3:-64}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v sqlite3 >/dev/null || need+=(sqlite3)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "listen: install ${need[*]}" >&2; exit 1
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
wait_port() { for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

cargo build --release --quiet
bin=target/release/hbmon

# nginx: the same machine's limit for small keep-alive requests.
nport=$(free_port)
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log crit;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  server { listen 127.0.0.1:$nport; location / { return 200 "ok\n"; } }
}
CONF
nginx -p "$work" -c "$work/nginx.conf" &
pids+=($!)
wait_port "$nport"

port=$(free_port)
{
  echo "version: 1"
  echo "listen: { address: \"127.0.0.1:$port\", max_pings_per_second: 1000000 }"
  echo "store: { path: $work/hbmon.db }"
  echo "monitors:"
  for i in $(seq 1 "$n"); do echo "  - { name: job$i, heartbeat: { period: 1d } }"; done
} > "$work/hbmon.yaml"
/usr/bin/time -f "%M" -o "$work/rss" "$bin" watch -c "$work/hbmon.yaml" --log-format json 2> "$work/watch.log" &
hb=$!
pids+=($hb)
wait_port "$port"

# Both runs print their figures the same way.
cat > "$work/plain.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.0f %.0f %.0f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99), latency.mean))
end
LUA
{
  echo "local n = $n"
  echo "local i = 0"
  echo 'request = function() i = i % n + 1; return wrk.format("GET", "/ping/job" .. i) end'
  cat "$work/plain.lua"
} > "$work/pings.lua"

run() { wrk -t 2 -c "$conns" -d "${duration}s" --latency -s "$2" "$1" | awk '/^RESULT/ {print $2, $3, $4, $5, $6}'; }
read -r nreq nerr ndur np50 np99 < <(run "http://127.0.0.1:$nport/" "$work/plain.lua")
read -r hreq herr hdur hp50 hp99 < <(run "http://127.0.0.1:$port/" "$work/pings.lua")

# Idle connections held open, then single pings one after another.
python3 - "$port" > "$work/idle" <<'PY'
import socket, sys, time, http.client
port = int(sys.argv[1])
idle = []
for _ in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    idle.append(s)
lat = []
for k in range(300):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    t = time.perf_counter()
    c.request("GET", "/ping/job1")
    r = c.getresponse(); r.read()
    lat.append((time.perf_counter() - t) * 1000)
    c.close()
    assert r.status == 200, r.status
lat.sort()
print(f"{lat[len(lat)//2]:.2f} {lat[int(len(lat)*0.99)]:.2f} {len(idle)}")
PY
read -r ip50 ip99 nidle < "$work/idle"

# SIGTERM to hbmon itself (the child of time), so time writes its figure.
pkill -TERM -P "$hb" || true
wait "$hb" || true
stored=$(sqlite3 "$work/hbmon.db" "SELECT count(*) FROM pings")
rss=$(cat "$work/rss")

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "listener under wrk: $n heartbeats, $conns connections, ${duration}s, keep-alive"
printf '%-26s %12s %10s %10s %8s\n' "" "requests/s" "p50 ms" "p99 ms" "errors"
printf '%-26s %12.0f %10.2f %10.2f %8d\n' "nginx return 200 (limit)" "$(pct "$nreq" "$(pct "$ndur" 1000000)")" "$(pct "$np50" 1000)" "$(pct "$np99" 1000)" "$nerr"
printf '%-26s %12.0f %10.2f %10.2f %8d\n' "hbmon /ping/<name>" "$(pct "$hreq" "$(pct "$hdur" 1000000)")" "$(pct "$hp50" 1000)" "$(pct "$hp99" 1000)" "$herr"
echo "hbmon / nginx throughput: $(pct "$hreq" "$nreq")"
every=no
[ "$stored" -ge $((hreq + 300)) ] && every=yes
echo "pings answered 200: $hreq + 300; in the store: $stored; every answered ping stored: $every"
echo "single pings with $nidle idle connections open: p50 ${ip50} ms, p99 ${ip99} ms"
echo "hbmon peak RSS: $((rss / 1024)) MiB"
