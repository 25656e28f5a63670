#!/usr/bin/env bash
# `npm run images -- [web] [registrar]`: builds the images the project runs as Swarm services, here,
# from Debian's packages and this checkout (nothing is pulled), and prints their references. With no
# name, all of them. An image is rebuilt only when its sources changed (a label records their hash).
# The lab loads them onto its hosts; real clusters push them to their registry and name them in the
# components' image arguments.
#
#   swarm-ha-web:3            the demo's web service: Debian's static busybox alone (about 2 MB)
#   swarm-ha-registrar:1      the service registry's registrar (components/registry/image), a static
#                             Go binary in an otherwise empty image (about 6 MB)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
WEB_IMAGE="swarm-ha-web:3"
REGISTRAR_IMAGE="swarm-ha-registrar:1"
LABEL="swarm-ha.lab=1"
CACHE="${SWARM_HA_CACHE:-$HOME/.cache/swarm-ha}"

die() { printf 'images: %s\n' "$*" >&2; exit 1; }

# current IMAGE HASH: whether the image exists and was built from sources with this hash.
current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "swarm-ha.source"}}' "$1" 2>/dev/null)" = "$2" ]
}

web() {
  local hash tmp
  hash="$(declare -f web | sha256sum | cut -c1-16)"
  if current "$WEB_IMAGE" "$hash"; then echo "$WEB_IMAGE"; return 0; fi
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/web.XXXXXX")"
  (cd "$tmp" && { apt-get download busybox-static >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download busybox-static >/dev/null 2>&1; }; }) ||
    { rm -rf "$tmp"; die "web: could not download Debian's busybox-static"; }
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/root"
  mkdir -p "$tmp/root/www" "$tmp/root/tmp"
  ln -s busybox "$tmp/root/bin/sh"
  tar -C "$tmp/root" -c . | docker import \
    -c 'ENTRYPOINT ["/bin/sh", "-c"]' \
    -c 'CMD ["echo \"swarm-ha web on $(busybox hostname)\" > /www/index.html && exec busybox httpd -f -p 80 -h /www"]' \
    -c "LABEL $LABEL" -c "LABEL swarm-ha.source=$hash" - "$WEB_IMAGE" >/dev/null
  rm -rf "$tmp"
  echo "$WEB_IMAGE"
}

registrar() {
  local src="$root/components/registry/image" hash tmp
  hash="$(cd "$src" && cat go.mod go.sum Dockerfile ./*.go | sha256sum | cut -c1-16)"
  if current "$REGISTRAR_IMAGE" "$hash"; then echo "$REGISTRAR_IMAGE"; return 0; fi
  command -v go >/dev/null 2>&1 || die "registrar: no go command; install Go 1.26 or newer"
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/registrar.XXXXXX")"
  (cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/registrar" .) ||
    { rm -rf "$tmp"; die "registrar: go build failed in $src"; }
  cp "$src/Dockerfile" "$tmp/"
  local out
  # (The legacy builder's deprecation notice is printed only when the build fails.)
  out="$(docker build -q --label "$LABEL" --label "swarm-ha.source=$hash" -t "$REGISTRAR_IMAGE" "$tmp" 2>&1)" ||
    { rm -rf "$tmp"; die "registrar: docker build failed: $out"; }
  rm -rf "$tmp"
  echo "$REGISTRAR_IMAGE"
}

docker info >/dev/null 2>&1 || die "no Docker engine answers here; start one (npm run lab -- up starts it)"
[ $# -gt 0 ] || set -- web registrar
for name in "$@"; do
  case "$name" in
    web) web ;;
    registrar) registrar ;;
    *) die "no image named '$name' (web, registrar)" ;;
  esac
done
