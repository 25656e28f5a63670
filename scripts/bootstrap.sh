#!/usr/bin/env bash
# What `npm run demo` and `npm test` do first, so that each works alone on a fresh clone: the npm
# packages (npm ci, when node_modules is missing or older than package-lock.json), the machine's
# tools the suite uses (shellcheck, ssh, a JDK and Apache Curator's service discovery, which the
# registry's tests read it with, from Debian's packages, when missing), then the engine and the
# official plugins (scripts/setup.sh). The lab installs its own needs (Docker, debootstrap); the
# registrar's image needs Go (1.26, as on this project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

need=()
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
[ -f /usr/share/java/curator-x-discovery.jar ] || need+=(libcurator-discovery-java)
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
  { echo "bootstrap: no go command; the registrar's image is built with Go 1.26 (GOTOOLCHAIN=local)" >&2; exit 1; }

bash scripts/setup.sh
