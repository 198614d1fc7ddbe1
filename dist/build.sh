#!/usr/bin/env bash
# Build every release artefact into target/dist/:
#   hbmon-VERSION-x86_64-linux-musl.tar.gz   the static binary, man pages, completions,
#                                            the systemd unit, a starter config, licences
#   hbmon_VERSION-1_amd64.deb                the same as a Debian package (cargo-deb)
#   hbmon-VERSION-image.tar                  the container image (FROM scratch), for
#                                            `podman load` / `docker load`
#   SHA256SUMS
# Installs what it needs where missing (the musl target, musl-gcc, cargo-deb, podman).
#
#   dist/build.sh           build all three
#   dist/build.sh --no-image  skip the image (no podman)
set -euo pipefail
cd "$(dirname "$0")/.."

image=yes
for arg in "$@"; do
  case "$arg" in
    --no-image) image=no ;;
    *) echo "usage: dist/build.sh [--no-image]" >&2; exit 64 ;;
  esac
done

target=x86_64-unknown-linux-musl
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
out=$target_dir/dist
bin=$target_dir/$target/dist/hbmon

need_apt=()
command -v musl-gcc >/dev/null || need_apt+=(musl-tools)
if [ "$image" = yes ]; then
  command -v podman >/dev/null || need_apt+=(podman)
  command -v runc >/dev/null || need_apt+=(runc)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb

echo "== static binary ($target)"
# The `dist` profile: the release profile with whole-program LTO (Cargo.toml).
cargo build --profile dist --locked --target "$target"
rm -rf "$out" && mkdir -p "$out"

echo "== tarball"
name=hbmon-$version-x86_64-linux-musl
stage=$out/$name
mkdir -p "$stage/man" "$stage/completions" "$stage/docs" "$stage/examples"
install -m 0755 "$bin" "$stage/hbmon"
cp man/*.1 man/*.5 "$stage/man/"
cp completions/hbmon.bash completions/_hbmon completions/hbmon.fish "$stage/completions/"
cp dist/hbmon.service dist/hbmon.yaml "$stage/"
cp docs/config.md "$stage/docs/"
cp examples/quickstart.yaml examples/monitors.yaml "$stage/examples/"
cp README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE "$stage/"
# The examples' schema line points into the checkout; in the tarball it is beside them.
cp schemas/hbmon.schema.json "$stage/"
sed -i 's|\$schema=../schemas/hbmon.schema.json|$schema=../hbmon.schema.json|' "$stage"/examples/*.yaml
# Reproducible: fixed owner, order and times (the last commit's, else the epoch).
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
  -C "$out" -czf "$out/$name.tar.gz" "$name"
rm -rf "$stage"

echo "== .deb"
cargo deb --no-build --profile dist --target "$target" --output "$out/"

if [ "$image" = yes ]; then
  echo "== container image"
  ctx=$out/image
  root=$ctx/rootfs
  mkdir -p "$root/etc/hbmon" "$root/etc/ssl/certs" "$root/tmp" "$ctx/state"
  install -m 0755 "$bin" "$ctx/hbmon"
  install -m 0644 dist/hbmon.yaml "$root/etc/hbmon/hbmon.yaml"
  install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'root:x:0:0:root:/:/sbin/nologin\nhbmon:x:10001:10001:hbmon:/var/lib/hbmon:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nhbmon:x:10001:\n' >"$root/etc/group"
  chmod 0750 "$ctx/state"
  chmod 1777 "$root/tmp"
  cp dist/Containerfile "$ctx/"
  podman_cmd() { podman --runtime runc --cgroup-manager=cgroupfs "$@"; }
  # Docker's image format: OCI images have no HEALTHCHECK.
  podman_cmd build --format docker --tag "localhost/hbmon:$version" --file "$ctx/Containerfile" "$ctx"
  podman_cmd save --format docker-archive --output "$out/hbmon-$version-image.tar" "localhost/hbmon:$version"
  rm -rf "$ctx"
fi

(cd "$out" && sha256sum -- *.tar.gz *.deb $( [ "$image" = yes ] && echo "*-image.tar") >SHA256SUMS)
echo "== artefacts in $out"
ls -l "$out"
