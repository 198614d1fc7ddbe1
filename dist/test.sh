#!/usr/bin/env bash
# Test what dist/build.sh made, as an operator would use it on this machine (as root):
#   1. the tarball: a static binary that runs `check` on the quickstart;
#   2. the .deb: dpkg -i, validate the installed config, man pages, the unit verifies,
#      completions in place, dpkg -r leaves only the conffile, --purge removes it;
#   3. the image: podman load, `check` exits 0, `watch` answers /healthz and its
#      HEALTHCHECK passes, a host name from /etc/hosts resolves without any libc.
# Stops what it starts (containers by name, by trap). Prints the figures for the notes.
#
#   dist/test.sh            after dist/build.sh
#   dist/test.sh --no-image
set -euo pipefail
cd "$(dirname "$0")/.."

image=yes
[ "${1:-}" = --no-image ] && image=no
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$target_dir/dist
work=$(mktemp -d)
podman_cmd() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }
container=hbmon-dist-test-$$
cleanup() {
  if [ "$image" = yes ]; then
    podman_cmd rm -f -v -t 0 "$container" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== tarball"
tarball=$out/hbmon-$version-x86_64-linux-musl.tar.gz
[ -f "$tarball" ] || fail "no $tarball: run dist/build.sh first"
tar -C "$work" -xzf "$tarball"
dir=$work/hbmon-$version-x86_64-linux-musl
ls "$dir"
ldd_out=$(ldd "$dir/hbmon" 2>&1 || true)
echo "ldd: $ldd_out"
case "$ldd_out" in
  *"not a dynamic executable"* | *"statically linked"*) ;;
  *) fail "the binary has dynamic dependencies: $ldd_out" ;;
esac
file "$dir/hbmon"
echo "size: $(stat -c %s "$dir/hbmon") bytes"
"$dir/hbmon" --version
"$dir/hbmon" check --config "$dir/examples/quickstart.yaml" || fail "check on the quickstart"
"$dir/hbmon" validate --config "$dir/hbmon.yaml" || fail "the starter config"
for f in man/hbmon.1 man/hbmon.yaml.5 completions/hbmon.bash hbmon.service LICENSE-MIT LICENSE-APACHE CHANGELOG.md docs/config.md; do
  [ -s "$dir/$f" ] || fail "the tarball lacks $f"
done

echo "== .deb"
deb=$(ls "$out"/hbmon_"$version"-*_amd64.deb)
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"
# A leftover from an earlier run would hide what this install does.
dpkg --purge hbmon >/dev/null 2>&1 || true
rm -rf /etc/hbmon
dpkg -i "$deb"
[ "$(command -v hbmon)" = /usr/bin/hbmon ] || fail "hbmon is not /usr/bin/hbmon"
hbmon --version
hbmon validate -c /etc/hbmon/hbmon.yaml || fail "the installed config does not validate"
hbmon check -c /etc/hbmon/hbmon.yaml || fail "check on the installed config"
man -w hbmon || fail "man hbmon"
man -w 5 hbmon.yaml || fail "man 5 hbmon.yaml"
man -w hbmon-check || fail "man hbmon-check"
unit=$(dpkg -L hbmon | grep '/systemd/system/hbmon.service$') || fail "no unit in the package"
echo "unit: $unit"
verify=$(systemd-analyze verify "$unit" 2>&1 || true)
echo "$verify"
echo "$verify" | grep -q "hbmon.service" && fail "systemd-analyze verify: $verify"
for f in /usr/share/bash-completion/completions/hbmon /usr/share/zsh/vendor-completions/_hbmon /usr/share/fish/vendor_completions.d/hbmon.fish; do
  [ -s "$f" ] || fail "missing $f"
done
grep -qx /etc/hbmon/hbmon.yaml /var/lib/dpkg/info/hbmon.conffiles || fail "hbmon.yaml is not a conffile"
# The packaged examples point editors at ../schemas/hbmon.schema.json: it is there.
for ex in /usr/share/doc/hbmon/examples/*.yaml; do
  ref=$(sed -n 's/^# yaml-language-server: \$schema=//p' "$ex")
  [ -s "$(dirname "$ex")/$ref" ] || fail "$ex names a schema that is not installed: $ref"
done
files=$(dpkg -L hbmon | while read -r f; do [ -f "$f" ] && echo "$f"; done)
echo "installed files: $(echo "$files" | wc -l)"
dpkg -r hbmon
left=$(for f in $files; do [ -e "$f" ] && echo "$f"; done || true)
echo "left after dpkg -r: ${left:-nothing}"
[ "$left" = /etc/hbmon/hbmon.yaml ] || fail "dpkg -r left: $left"
dpkg --purge hbmon
[ ! -e /etc/hbmon/hbmon.yaml ] || fail "dpkg --purge left the conffile"
echo "dpkg --purge: the conffile is gone"

if [ "$image" = yes ]; then
  echo "== image"
  # The sandbox forbids raising RLIMIT_NOFILE inside containers (as docker-api.sh notes).
  mkdir -p /etc/containers
  grep -q default_ulimits /etc/containers/containers.conf 2>/dev/null ||
    printf '[containers]\ndefault_ulimits = []\n' >>/etc/containers/containers.conf
  archive=$out/hbmon-$version-image.tar
  podman_cmd load --input "$archive"
  ref=localhost/hbmon:$version
  podman_cmd image inspect --format 'size {{.Size}} bytes, user {{.Config.User}}, entrypoint {{.Config.Entrypoint}}, cmd {{.Config.Cmd}}, exposed {{.Config.ExposedPorts}}, volumes {{.Config.Volumes}}' "$ref"
  podman_cmd image inspect --format '{{.Config.Healthcheck.Test}}' "$ref" | grep -q healthcheck || fail "the image has no HEALTHCHECK"
  podman_cmd run --rm --network none "$ref" check || fail "check in the image"
  # watch with the image's own config (listening on 0.0.0.0:8471), and its HEALTHCHECK.
  # A name only /etc/hosts knows (podman writes --add-host there) is resolved by hbmon itself.
  cat >"$work/resolve.yaml" <<'EOF'
version: 1
monitors:
  - name: by-hosts-file
    tcp: { host: hbmon-peer.test, port: 8471 }
  - name: healthz-by-name
    http: { url: "http://hbmon-peer.test:8471/healthz", expect: { body_contains: ok } }
EOF
  chmod 0644 "$work/resolve.yaml"
  podman_cmd run -d --name "$container" --network none --add-host hbmon-peer.test:127.0.0.1 \
    -v "$work/resolve.yaml:/etc/hbmon/resolve.yaml:ro" "$ref" >/dev/null
  healthy=no
  for _ in $(seq 50); do
    if podman_cmd exec "$container" hbmon healthcheck >/dev/null 2>&1; then healthy=yes; break; fi
    sleep 0.2
  done
  [ "$healthy" = yes ] || { podman_cmd logs "$container" >&2; fail "watch in the image never answered /healthz"; }
  podman_cmd healthcheck run "$container" 2>/dev/null || fail "the image's HEALTHCHECK failed"
  echo "HEALTHCHECK: healthy"
  podman_cmd exec "$container" hbmon check -c /etc/hbmon/resolve.yaml --format json >"$work/check.json" || { cat "$work/check.json" >&2; fail "names from /etc/hosts in the image"; }
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [print(m["name"], m["status"], m["reason"]) for m in d["monitors"]]' "$work/check.json"
  podman_cmd exec "$container" hbmon status || fail "hbmon status inside the image"
  podman_cmd stop -t 20 "$container" >/dev/null
  code=$(podman_cmd inspect --format '{{.State.ExitCode}}' "$container")
  [ "$code" = 0 ] || { podman_cmd logs "$container" >&2; fail "watch exited $code on SIGTERM"; }
  echo "watch in the image: healthy, stopped with 0"
fi
echo "== all artefacts pass"
