#!/usr/bin/env bash
# `npm run setup`: provides the real Pulumi engine on a machine that cannot reach Pulumi's download
# sites. Builds the pulumi CLI, the command provider plugin and the Node.js language host from the
# Go module proxy into $SWARM_HA_CACHE/bin (outside the repository), once; later runs reuse them.
# Prints what it did and how long each step took; fails naming what could not be had.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
. "$here/env.sh"

PULUMI_VERSION="v3.274.1"
MIN_PULUMI="3.200.0"
# The upstream command provider matching @pulumi/command in package.json: tag v1.2.1 is this
# pseudo-version. The module proxy reachable here refuses it, so the project's own provider
# (provider/command) is built instead; the upstream one is tried first in case it is served.
COMMAND_VERSION="1.2.1"
COMMAND_MODULE="github.com/pulumi/pulumi-command/provider@v0.0.0-20260303235922-7f3eb6f3b77c"
NODEJS_HOST_MODULE="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@latest"
repo="$(cd "$here/.." && pwd)"

bin="$SWARM_HA_CACHE/bin"
work="$SWARM_HA_CACHE/build"
mkdir -p "$bin" "$work" "$PULUMI_HOME" "$SWARM_HA_STATE"

step_start=0
step() { step_start=$(date +%s); printf '==> %s\n' "$*"; }
done_step() { printf '    %s (%ss)\n' "$*" "$(($(date +%s) - step_start))"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# version_ge A B: true when version A >= B (both without a leading v).
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# module_dir MODULE@VERSION: downloads a module through the proxy and prints its directory.
module_dir() {
  local out dir
  out="$(go mod download -json "$1" 2>&1)" || true
  dir="$(printf '%s' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  if [ -z "$dir" ]; then
    printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' >&2
    return 1
  fi
  printf '%s\n' "$dir"
}

# side_by_side DEST: lays pkg/ and sdk/ of $PULUMI_VERSION out next to each other, writable, so the
# `replace ... => ../sdk` in pkg/go.mod resolves.
side_by_side() {
  local dest="$1" pkg sdk
  if [ -f "$dest/.complete" ]; then return 0; fi
  pkg="$(module_dir "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION")" || fail "could not download github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION from the Go module proxy"
  sdk="$(module_dir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")" || fail "could not download github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION from the Go module proxy"
  rm -rf "$dest" && mkdir -p "$dest"
  cp -r "$pkg" "$dest/pkg" && cp -r "$sdk" "$dest/sdk"
  chmod -R u+w "$dest"
  touch "$dest/.complete"
}

have_pulumi() {
  local v
  command -v pulumi >/dev/null 2>&1 || return 1
  v="$(pulumi version 2>/dev/null | sed 's/^v//')" || return 1
  [ -n "$v" ] && version_ge "$v" "$MIN_PULUMI"
}

total_start=$(date +%s)
printf 'setup: results in %s\n' "$bin"

step "pulumi CLI (at least $MIN_PULUMI)"
if have_pulumi; then
  done_step "using $(command -v pulumi) $(pulumi version)"
else
  src="$work/pulumi-$PULUMI_VERSION"
  side_by_side "$src"
  (cd "$src/pkg" && CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$bin/pulumi" ./cmd/pulumi) || fail "building the pulumi CLI $PULUMI_VERSION failed (see the go output above)"
  [ "$(pulumi version)" = "$PULUMI_VERSION" ] || fail "built pulumi reports '$(pulumi version)', expected $PULUMI_VERSION"
  done_step "built $bin/pulumi $(pulumi version)"
fi

step "pulumi-resource-command $COMMAND_VERSION"
stamp="$(cd "$repo/provider/command" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-16)"
if [ -x "$bin/pulumi-resource-command" ] && [ "$(cat "$bin/.command-stamp" 2>/dev/null)" = "$stamp" ]; then
  done_step "up to date"
elif upstream="$(module_dir "$COMMAND_MODULE" 2>/dev/null)"; then
  (cd "$upstream" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" \
    -o "$bin/pulumi-resource-command" ./cmd/pulumi-resource-command) || fail "building the upstream command provider failed"
  echo "$stamp" >"$bin/.command-stamp"
  done_step "built the upstream provider"
else
  printf '    the module proxy does not serve the upstream provider; building provider/command\n'
  (cd "$repo/provider/command" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X main.Version=$COMMAND_VERSION" -o "$bin/pulumi-resource-command" .) ||
    fail "building provider/command failed (see the go output above)"
  echo "$stamp" >"$bin/.command-stamp"
  done_step "built $bin/pulumi-resource-command (the project's own, schema of @pulumi/command $COMMAND_VERSION)"
fi

step "pulumi-language-nodejs (for plain 'pulumi up')"
if command -v pulumi-language-nodejs >/dev/null 2>&1; then
  done_step "using $(command -v pulumi-language-nodejs)"
elif [ -f "$bin/.nodejs-host-refused" ]; then
  done_step "not available (the module proxy refused it earlier); the project's runs use the Automation API"
elif host_dir="$(module_dir "$NODEJS_HOST_MODULE" 2>/dev/null)"; then
  (cd "$host_dir" && CGO_ENABLED=0 go build -trimpath -o "$bin/pulumi-language-nodejs" .) ||
    fail "building pulumi-language-nodejs failed"
  done_step "built $bin/pulumi-language-nodejs"
else
  touch "$bin/.nodejs-host-refused"
  done_step "not available: the module proxy does not serve $NODEJS_HOST_MODULE; the project's runs use the Automation API with an inline program"
fi

# The CLI's own install ships this plugin; the CLI built here does not. It hosts the Node.js dynamic
# providers of the program (the ZooKeeper probe), with the SDK in this checkout's node_modules.
step "pulumi-resource-pulumi-nodejs (Node.js dynamic providers)"
sdk_provider="$repo/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"
[ -f "$sdk_provider" ] || fail "no $sdk_provider: run npm ci (or npm install) first"
shim="$(printf '#!/bin/sh\n# The dynamic provider host of the Pulumi SDK in this checkout (written by npm run setup).\nexec node "%s" "$@"\n' "$sdk_provider")"
if [ "$(cat "$bin/pulumi-resource-pulumi-nodejs" 2>/dev/null)" = "$shim" ]; then
  done_step "up to date"
else
  printf '%s\n' "$shim" >"$bin/pulumi-resource-pulumi-nodejs"
  chmod 0755 "$bin/pulumi-resource-pulumi-nodejs"
  done_step "wrote $bin/pulumi-resource-pulumi-nodejs"
fi

printf 'setup: done in %ss; source scripts/env.sh to use them\n' "$(($(date +%s) - total_start))"
