#!/usr/bin/env bash
# `npm run images -- [NAME...]`: builds the images the project runs as Swarm services, here,
# from Debian's packages and this checkout (nothing is pulled), and prints their references. With no
# name, all of them. An image is rebuilt only when its sources changed (a label records their hash).
# The lab loads them onto its hosts; real clusters push them to their registry and name them in the
# components' image arguments.
#
#   swarm-ha-web:3            the demo's web service: Debian's static busybox alone (about 2 MB),
#                             serving its page on / and one metric on /metrics, with wget for healthchecks
#   swarm-ha-registrar:3      the service registry's registrar (images/cmd/registrar), a static
#                             Go binary in an otherwise empty image (about 6 MB)
#   swarm-ha-exporter:2       the monitoring's exporter of the swarm and ZooKeeper
#                             (images/cmd/exporter), likewise (about 5 MB)
#   swarm-ha-docker-read:2    the read-only Docker API proxy the registrar, the exporter and
#                             Prometheus read the swarm through (images/cmd/docker-read), likewise
#   swarm-ha-prometheus:2.42  Debian's prometheus (with promtool) on Debian's libc6 alone, with the files
#                             its classic web UI names from its Depends (about 113 MB)
#   swarm-ha-alertmanager:0.25   Debian's prometheus-alertmanager, likewise (about 30 MB)
#   swarm-ha-node-exporter:1.5   Debian's prometheus-node-exporter, likewise (about 20 MB)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
WEB_IMAGE="swarm-ha-web:3"
REGISTRAR_IMAGE="swarm-ha-registrar:3"
EXPORTER_IMAGE="swarm-ha-exporter:2"
DOCKER_READ_IMAGE="swarm-ha-docker-read:2"
PROMETHEUS_IMAGE="swarm-ha-prometheus:2.42"
ALERTMANAGER_IMAGE="swarm-ha-alertmanager:0.25"
NODE_EXPORTER_IMAGE="swarm-ha-node-exporter:1.5"
LABEL="swarm-ha.lab=1"
CACHE="${SWARM_HA_CACHE:-$HOME/.cache/swarm-ha}"

die() { printf 'images: %s\n' "$*" >&2; exit 1; }

# current IMAGE HASH: whether the image exists and was built from sources with this hash.
current() {
  [ "$(docker image inspect -f '{{index .Config.Labels "swarm-ha.source"}}' "$1" 2>/dev/null)" = "$2" ]
}

# download DIR PACKAGE...: Debian's packages, as .deb files into DIR (the package lists refreshed
# once if they are stale).
download() {
  local dir="$1"
  shift
  (cd "$dir" && { apt-get download "$@" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download "$@" >/dev/null 2>&1; }; }) ||
    { rm -rf "$dir"; die "could not download Debian's $*"; }
}

web() {
  local hash tmp
  hash="$(declare -f web | sha256sum | cut -c1-16)"
  if current "$WEB_IMAGE" "$hash"; then echo "$WEB_IMAGE"; return 0; fi
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/web.XXXXXX")"
  download "$tmp" busybox-static
  dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/root"
  mkdir -p "$tmp/root/www" "$tmp/root/tmp"
  ln -s busybox "$tmp/root/bin/sh"
  # And wget, for healthchecks such as Pulumi.prod.yaml's (CMD wget -qO- http://localhost/).
  ln -s busybox "$tmp/root/bin/wget"
  tar -C "$tmp/root" -c . | docker import \
    -c 'ENTRYPOINT ["/bin/sh", "-c"]' \
    -c 'CMD ["echo \"swarm-ha web on $(busybox hostname)\" > /www/index.html && echo \"swarm_ha_web_up 1\" > /www/metrics && exec busybox httpd -f -p 80 -h /www"]' \
    -c "LABEL $LABEL" -c "LABEL swarm-ha.source=$hash" - "$WEB_IMAGE" >/dev/null
  rm -rf "$tmp"
  echo "$WEB_IMAGE"
}

# go_image NAME IMAGE: the command images/cmd/NAME of the images' Go module as a static binary, in
# the image its Dockerfile describes. Its hash covers the module's files and the command's own, and
# the shared packages under images/internal.
go_image() {
  local name="$1" image="$2" module="$root/images" hash tmp out
  hash="$(cd "$module" && find go.mod go.sum internal "cmd/$name" -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)"
  if current "$image" "$hash"; then echo "$image"; return 0; fi
  command -v go >/dev/null 2>&1 || die "$name: no go command; install Go 1.26 or newer"
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/$name.XXXXXX")"
  (cd "$module" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp/$name" "./cmd/$name") ||
    { rm -rf "$tmp"; die "$name: go build failed in $module/cmd/$name"; }
  cp "$module/cmd/$name/Dockerfile" "$tmp/"
  # (The legacy builder's deprecation notice is printed only when the build fails.)
  out="$(docker build -q --label "$LABEL" --label "swarm-ha.source=$hash" -t "$image" "$tmp" 2>&1)" ||
    { rm -rf "$tmp"; die "$name: docker build failed: $out"; }
  rm -rf "$tmp"
  echo "$image"
}

# classic_ui DIR: the files Prometheus's classic web UI (in DIR/root) names from other Debian
# packages, its Depends (scripts, styles, the glyph font), copied in place of the package's links
# into /usr/share/javascript and /usr/share/fonts-glyphicons; only those files, not the packages
# (moment-timezone alone is 214 MB).
classic_ui() {
  local dir="$1" static="$1/root/usr/share/prometheus/web/static" tree="$1/ui/root" ref rel top
  mkdir -p "$dir/ui" "$tree/usr/share"
  download "$dir/ui" fonts-glyphicons-halflings libjs-bootstrap4 libjs-d3 \
    libjs-eonasdan-bootstrap-datetimepicker libjs-jquery libjs-jquery-hotkeys libjs-moment \
    libjs-moment-timezone libjs-mustache libjs-popper.js libjs-rickshaw
  for ref in "$dir"/ui/*.deb; do dpkg-deb -x "$ref" "$tree"; done
  cp -a "$dir/root/usr/share/prometheus" "$tree/usr/share/"
  # Each asset the pages name (classic/static/PATH), and the glyph fonts the glyphicons style names.
  { grep -rhoE 'classic/static/[^"?]+' "$dir/root/usr/share/prometheus/web/templates" | sed 's|^classic/static/||'
    (cd "$tree/usr/share/prometheus/web/static" && find -L vendor/bootstrap4-glyphicons/fonts -type f | sed 's|^\./||'); } |
    sort -u | while read -r rel; do
      top="${rel%%/*}"
      [ -L "$static/$top" ] && rm "$static/$top"
      [ -L "$static/vendor/bootstrap4-glyphicons/fonts/glyphicons" ] && rm "$static/vendor/bootstrap4-glyphicons/fonts/glyphicons"
      [ -f "$static/$rel" ] && continue
      ref="$(readlink -f "$tree/usr/share/prometheus/web/static/$rel")" ||
        die "prometheus: the classic UI's $rel is in none of its Depends"
      [ -f "$ref" ] || die "prometheus: the classic UI's $rel is in none of its Depends"
      mkdir -p "$(dirname "$static/$rel")" && cp "$ref" "$static/$rel"
    done
}

# debian_image IMAGE PACKAGE ENTRYPOINT [KEEP...]: Debian's PACKAGE (Go programs linked to libc
# alone) on Debian's libc6, with the entrypoint and the programs named in KEEP of the package's
# /usr/bin and its data in /usr/share/prometheus; nothing of its docs, man pages or init scripts.
debian_image() {
  local image="$1" package="$2" entrypoint="$3" hash tmp program
  shift 3
  hash="$(printf '%s\n' "$image" "$package" "$entrypoint" "$@" "$(declare -f debian_image classic_ui)" | sha256sum | cut -c1-16)"
  if current "$image" "$hash"; then echo "$image"; return 0; fi
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/debian.XXXXXX")"
  download "$tmp" "$package" libc6
  mkdir -p "$tmp/pkg" "$tmp/root/usr/bin" "$tmp/root/tmp" "$tmp/root/etc"
  dpkg-deb -x "$tmp"/libc6_*.deb "$tmp/root"
  dpkg-deb -x "$tmp/${package}"_*.deb "$tmp/pkg"
  rm -rf "$tmp/root/usr/share/doc" "$tmp/root/usr/share/lintian"
  for program in "${entrypoint##*/}" "$@"; do
    cp "$tmp/pkg/usr/bin/$program" "$tmp/root/usr/bin/" || { rm -rf "$tmp"; die "$image: $package has no /usr/bin/$program"; }
  done
  # The package's data (Alertmanager's notification templates, Prometheus's web assets).
  if [ -d "$tmp/pkg/usr/share/prometheus" ]; then
    mkdir -p "$tmp/root/usr/share" && cp -a "$tmp/pkg/usr/share/prometheus" "$tmp/root/usr/share/"
  fi
  if [ -d "$tmp/root/usr/share/prometheus/web/templates" ]; then classic_ui "$tmp"; fi
  printf 'root:x:0:0:root:/:/nonexistent\nnobody:x:65534:65534:nobody:/:/nonexistent\n' >"$tmp/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/root/etc/group"
  tar -C "$tmp/root" -c . | docker import \
    -c "ENTRYPOINT [\"$entrypoint\"]" \
    -c "LABEL $LABEL" -c "LABEL swarm-ha.source=$hash" - "$image" >/dev/null
  rm -rf "$tmp"
  echo "$image"
}

docker info >/dev/null 2>&1 || die "no Docker engine answers here; start one (npm run lab -- up starts it)"
[ $# -gt 0 ] || set -- web registrar exporter docker-read prometheus alertmanager node-exporter
for name in "$@"; do
  case "$name" in
    web) web ;;
    registrar) go_image registrar "$REGISTRAR_IMAGE" ;;
    exporter) go_image exporter "$EXPORTER_IMAGE" ;;
    docker-read) go_image docker-read "$DOCKER_READ_IMAGE" ;;
    prometheus) debian_image "$PROMETHEUS_IMAGE" prometheus /usr/bin/prometheus promtool ;;
    alertmanager) debian_image "$ALERTMANAGER_IMAGE" prometheus-alertmanager /usr/bin/prometheus-alertmanager ;;
    node-exporter) debian_image "$NODE_EXPORTER_IMAGE" prometheus-node-exporter /usr/bin/prometheus-node-exporter ;;
    *) die "no image named '$name' (web, registrar, exporter, docker-read, prometheus, alertmanager, node-exporter)" ;;
  esac
done
