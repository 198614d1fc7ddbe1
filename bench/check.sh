#!/usr/bin/env bash
# Benchmark `hbmon check` on N http monitors against the ways people check many endpoints
# today, all probing the same local nginx, at the same concurrency:
#   - xargs -P <c> -n 1 curl            one process per probe (shell-script monitors)
#   - xargs -P <c> check_http           monitoring-plugins (Nagios and cron users)
#   - blackbox_exporter /probe          driven by one `curl --parallel` (the Prometheus way)
#   - wrk -c <c>, Connection: close     the machine's limit for fresh connections
# and times `hbmon validate` on a 10,000-monitor config. Prints a table; asserts nothing.
#
#   bench/check.sh [N...]            default: 100 1000 10000; CONCURRENCY (default 64)
#
# Needs nginx-light, monitoring-plugins-basic, prometheus-blackbox-exporter, wrk, curl and
# time (installed with apt-get when run as root). Everything listens on 127.0.0.1 only and
# is stopped by process id on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-100 1000 10000}")
# shellcheck disable=SC2206 # split "100 1000" given as one word too
counts=(${counts[*]})
conc=${CONCURRENCY:-64}
check_http=/usr/lib/nagios/plugins/check_http

need=()
command -v nginx >/dev/null || need+=(nginx-light)
[ -x "$check_http" ] || need+=(monitoring-plugins-basic)
command -v prometheus-blackbox-exporter >/dev/null || need+=(prometheus-blackbox-exporter)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "bench: install ${need[*]}" >&2; exit 1
  fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

# nginx: one worker, many connections, a tiny 200 response.
port=$(free_port)
mkdir -p "$work/logs"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/logs/error.log crit;
daemon off;
events { worker_connections 8192; }
worker_rlimit_nofile 16384;
http {
  access_log off;
  client_body_temp_path $work/body; proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi; uwsgi_temp_path $work/uwsgi; scgi_temp_path $work/scgi;
  server {
    listen 127.0.0.1:$port backlog=8192;
    location / { return 200 "ok\n"; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)
wait_port "$port"

# blackbox_exporter with one http module.
bb_port=$(free_port)
cat > "$work/blackbox.yml" <<CONF
modules:
  http_2xx:
    prober: http
    timeout: 10s
    http: { preferred_ip_protocol: ip4 }
CONF
prometheus-blackbox-exporter --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
  --log.level=error >"$work/blackbox.log" 2>&1 &
bb_pid=$!
pids+=("$bb_pid")
wait_port "$bb_port"

cargo build --release --quiet
hbmon=target/release/hbmon

# Run a command under /usr/bin/time; prints "wall cpu peak_rss_kib".
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || {
    rc=$?; [ "$rc" -le 3 ] || { cat "$work/stderr" >&2; return "$rc"; }
  }
  read -r wall user sys rss < "$work/time"
  echo "$wall $(python3 -c "print(round($user + $sys, 2))") $rss"
}
# CPU seconds a running process has used (utime + stime).
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

rows=()
row() { # n tool wall cpu rss hbmon_wall
  local probes_s ratio
  probes_s=$(python3 -c "print(f'{$1 / max($3, 1e-9):.0f}')")
  ratio=$(python3 -c "print(f'{$3 / max($6, 1e-9):.1f}x')")
  rows+=("$(printf '%-7s %-34s %9s %10s %8s %12s %9s' "$1" "$2" "$3" "$probes_s" "$4" "$5" "$ratio")")
}

for n in "${counts[@]}"; do
  {
    echo "version: 1"
    echo "monitors:"
    for i in $(seq "$n"); do
      printf '  - name: m%d\n    http: { url: "http://127.0.0.1:%d/m%d" }\n' "$i" "$port" "$i"
    done
  } > "$work/monitors.yaml"
  for i in $(seq "$n"); do echo "http://127.0.0.1:$port/m$i"; done > "$work/urls"
  for i in $(seq "$n"); do printf 'url = "http://127.0.0.1:%d/probe?module=http_2xx&target=http://127.0.0.1:%d/m%d"\noutput = "/dev/null"\n' "$bb_port" "$port" "$i"; done > "$work/bb.curl"

  # Correctness first: every monitor must be up, or the timing means nothing.
  "$hbmon" check -c "$work/monitors.yaml" --format json --concurrency "$conc" --per-host "$conc" > "$work/report.json"
  up=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["up"])' "$work/report.json")
  [ "$up" = "$n" ] || { echo "bench: only $up of $n monitors up" >&2; exit 1; }

  read -r h_wall h_cpu h_rss < <(measure "$hbmon" check -c "$work/monitors.yaml" --format json --concurrency "$conc" --per-host "$conc")
  row "$n" "hbmon check" "$h_wall" "$h_cpu" "$h_rss KiB" "$h_wall"
  read -r wall cpu rss < <(measure xargs -a "$work/urls" -P "$conc" -n 1 curl -fsS -o /dev/null)
  row "$n" "xargs -P $conc curl" "$wall" "$cpu" "$rss KiB" "$h_wall"
  sed "s|^http://127.0.0.1:$port||" "$work/urls" > "$work/paths"
  read -r wall cpu rss < <(measure xargs -a "$work/paths" -P "$conc" -I{} "$check_http" -H 127.0.0.1 -p "$port" -u {})
  row "$n" "xargs -P $conc check_http" "$wall" "$cpu" "$rss KiB" "$h_wall"
  bb_cpu0=$(cpu_of "$bb_pid")
  read -r wall cpu rss < <(measure curl --parallel --parallel-max "$conc" -s -K "$work/bb.curl")
  bb_cpu=$(python3 -c "print(round($cpu + $(cpu_of "$bb_pid") - $bb_cpu0, 2))")
  bb_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$bb_pid/status")
  row "$n" "blackbox_exporter + curl --parallel" "$wall" "$bb_cpu" "$bb_rss KiB*" "$h_wall"
  rps=$(wrk -t 2 -c "$conc" -d 3s -H 'Connection: close' "http://127.0.0.1:$port/" | awk '/Requests\/sec/ { print $2 }')
  wall=$(python3 -c "print(round($n / $rps, 3))")
  row "$n" "wrk -c $conc (limit, Connection: close)" "$wall" "-" "-" "$h_wall"
done

# validate on 10,000 monitors
{
  echo "version: 1"
  echo "monitors:"
  for i in $(seq 10000); do
    printf '  - name: v%d\n    http: { url: "http://127.0.0.1:%d/v%d", expect: { status: [200] } }\n' "$i" "$port" "$i"
  done
} > "$work/validate.yaml"
read -r v_wall v_cpu v_rss < <(measure "$hbmon" validate -c "$work/validate.yaml")

printf '\n%-7s %-34s %9s %10s %8s %12s %9s\n' "N" "tool" "wall s" "probes/s" "CPU s" "peak RSS" "vs hbmon"
printf '%s\n' "${rows[@]}"
echo "* blackbox_exporter's peak RSS over the whole session, CPU includes the driving curl"
echo
echo "hbmon validate, 10,000 monitors: ${v_wall} s wall, ${v_cpu} s CPU, ${v_rss} KiB peak RSS"
