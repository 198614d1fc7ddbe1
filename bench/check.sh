#!/usr/bin/env bash
# Benchmark `hbmon check` against `xargs -P <concurrency> curl` (one process per probe,
# the way shell-script monitors work) on the same URLs served by a local nginx.
# Prints wall time, peak RSS and the ratio; asserts nothing about speed.
#
#   bench/check.sh [N...]        default: 1000 monitors; concurrency from CONCURRENCY (64)
#
# Everything runs on 127.0.0.1; nginx is stopped by its process id on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-1000}")
conc=${CONCURRENCY:-64}

if ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light time curl
  else
    echo "bench: needs nginx (Debian package nginx-light)" >&2; exit 1
  fi
fi
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (Debian package time)" >&2; exit 1; }

work=$(mktemp -d)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
    kill -QUIT "$nginx_pid"
    for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log warn;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { return 200 "ok\n"; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
nginx_pid=$(cat "$work/nginx.pid")
curl -fsS "http://127.0.0.1:$port/" >/dev/null

cargo build --release --quiet
hbmon=target/release/hbmon

# Run a command under /usr/bin/time; print "wall_seconds max_rss_kib".
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
    rc=$?; [ "$rc" -le 3 ] || { cat "$work/stderr" >&2; return "$rc"; }
  }
  cat "$work/time"
}

printf '%-8s %-28s %10s %12s\n' "N" "tool" "wall (s)" "peak RSS"
for n in "${counts[@]}"; do
  {
    echo "version: 1"
    echo "monitors:"
    for i in $(seq "$n"); do
      printf '  - name: m%d\n    http: { url: "http://127.0.0.1:%d/m%d" }\n' "$i" "$port" "$i"
    done
  } > "$work/monitors.yaml"
  for i in $(seq "$n"); do echo "http://127.0.0.1:$port/m$i"; done > "$work/urls"

  "$hbmon" check -c "$work/monitors.yaml" --format json --concurrency "$conc" > "$work/report.json"
  up=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["summary"]["up"])' "$work/report.json")
  [ "$up" = "$n" ] || { echo "bench: only $up of $n monitors up" >&2; exit 1; }

  read -r h_wall h_rss < <(measure "$hbmon" check -c "$work/monitors.yaml" --format json --concurrency "$conc")
  read -r c_wall c_rss < <(measure xargs -a "$work/urls" -P "$conc" -n 1 curl -fsS -o /dev/null)
  printf '%-8s %-28s %10s %9s KiB\n' "$n" "hbmon check" "$h_wall" "$h_rss"
  printf '%-8s %-28s %10s %9s KiB\n' "$n" "xargs -P $conc -n 1 curl" "$c_wall" "$c_rss"
  python3 -c "import sys; h, c = map(float, sys.argv[1:]); print(f\"{'':8} curl / hbmon wall time: {c / h:.1f}x\")" "$h_wall" "$c_wall"
done
