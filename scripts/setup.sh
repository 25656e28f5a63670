#!/usr/bin/env bash
# `npm run setup`: the Pulumi engine and the official plugins this project runs on, on a machine that
# may not reach Pulumi's download sites. Into $SWARM_HA_CACHE (outside the repository), once; later
# runs check and reuse what is there:
#   - the pulumi CLI: one on PATH (at least $MIN_PULUMI), else built from the Go module proxy;
#   - the provider plugins command, docker and random, at the versions package.json pins, installed
#     as versioned plugins into $PULUMI_HOME/plugins (as a download would) from the folder of
#     official plugin tarballs (SWARM_HA_PLUGINS, or shared/plugins beside or above this checkout),
#     each checked against the sha256 its README lists; without that folder, downloaded;
#   - the Node.js language host (for `pulumi up` on this `runtime: nodejs` project), on PATH;
#   - the host of the program's Node.js dynamic providers (the ZooKeeper probe).
# Prints what it did and how long each step took; fails naming what is missing and where to get it.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=/dev/null
. "$here/env.sh"

PULUMI_VERSION="v3.274.1"
MIN_PULUMI="3.200.0"
NODEJS_HOST_VERSION="v3.259.0"
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

# The folder of official plugin tarballs: SWARM_HA_PLUGINS, else shared/plugins in this checkout's
# parent or any folder above it. Prints nothing when there is none.
plugin_folder() {
  local dir="$repo"
  if [ -n "${SWARM_HA_PLUGINS:-}" ]; then
    [ -f "$SWARM_HA_PLUGINS/README.md" ] || fail "SWARM_HA_PLUGINS=$SWARM_HA_PLUGINS has no README.md listing the tarballs' sha256"
    printf '%s\n' "$SWARM_HA_PLUGINS"
    return 0
  fi
  while [ "$dir" != / ]; do
    dir="$(dirname "$dir")"
    if [ -f "$dir/shared/plugins/README.md" ]; then
      printf '%s\n' "$dir/shared/plugins"
      return 0
    fi
  done
}

# checked_tarball NAME: sets $tarball to NAME in the plugin folder when it is there, after its sha256
# matched the one the folder's README lists (a mismatch stops setup); empty when it is not there.
checked_tarball() {
  local want got
  tarball=""
  [ -n "$folder" ] && [ -f "$folder/$1" ] || return 0
  want="$(sed -n "s/^\([0-9a-f]\{64\}\)  $1\$/\1/p" "$folder/README.md" | head -n1)"
  [ -n "$want" ] || fail "$folder/README.md lists no sha256 for $1"
  got="$(sha256sum "$folder/$1" | cut -d' ' -f1)"
  [ "$got" = "$want" ] || fail "$folder/$1 has sha256 $got, but $folder/README.md lists $want; refusing it"
  tarball="$folder/$1"
}

# The version package.json pins for an npm package (the engine asks for the plugin of that version).
pinned() {
  local v
  v="$(node -p 'require(process.argv[1]).dependencies[process.argv[2]] || ""' "$repo/package.json" "$1")"
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "package.json pins no exact version of $1 (found '$v'); the engine needs the plugin of one version"
  printf '%s\n' "$v"
}


install_plugin() {
  local name="$1" version
  version="$(pinned "@pulumi/$name")"
  step "plugin resource $name $version"
  if [ -x "$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name" ]; then
    done_step "installed in $PULUMI_HOME/plugins"
    return 0
  fi
  checked_tarball "pulumi-resource-$name-v$version-linux-amd64.tar.gz"
  if [ -n "$tarball" ]; then
    pulumi plugin install resource "$name" "$version" --file "$tarball" >/dev/null ||
      fail "pulumi plugin install resource $name $version --file $tarball failed"
    done_step "installed from $tarball (sha256 checked)"
  elif pulumi plugin install resource "$name" "$version" >/dev/null 2>&1; then
    done_step "downloaded and installed"
  else
    fail "the $name plugin $version is not installed and could not be had: no pulumi-resource-$name-v$version-linux-amd64.tar.gz in ${folder:-a plugin folder (none found: set SWARM_HA_PLUGINS to the folder of official plugin tarballs)}, and 'pulumi plugin install resource $name $version' could not download it. Get the release tarball of pulumi/pulumi-$name v$version and run: pulumi plugin install resource $name $version --file TARBALL"
  fi
}

total_start=$(date +%s)
printf 'setup: results in %s\n' "$SWARM_HA_CACHE"
folder="$(plugin_folder)"
tarball=""

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

for plugin in command docker random; do install_plugin "$plugin"; done

step "pulumi-language-nodejs (runs this project's program for pulumi up and preview)"
host_tarball="pulumi-language-nodejs-$NODEJS_HOST_VERSION-linux-amd64.tar.gz"
tarball=""
command -v pulumi-language-nodejs >/dev/null 2>&1 || checked_tarball "$host_tarball"
if command -v pulumi-language-nodejs >/dev/null 2>&1; then
  done_step "using $(command -v pulumi-language-nodejs)"
elif [ -n "$tarball" ]; then
  tar -xzf "$tarball" -C "$bin" pulumi-language-nodejs
  done_step "unpacked $bin/pulumi-language-nodejs from $tarball (sha256 checked)"
else
  fail "no pulumi-language-nodejs on PATH and no $host_tarball in ${folder:-a plugin folder (none found: set SWARM_HA_PLUGINS)}. It ships with the pulumi CLI's release archive; put it on PATH"
fi

# The CLI's release archive ships this plugin; a CLI built from source does not. It hosts the
# program's Node.js dynamic providers (the ZooKeeper probe) with the SDK of the program being run:
# like the released one, it runs from the program's directory (the engine starts plugins there; the
# Automation API workspaces link node_modules in).
step "pulumi-resource-pulumi-nodejs (Node.js dynamic providers)"
[ -f "$repo/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js" ] || fail "no @pulumi/pulumi in $repo/node_modules: run npm ci (or npm install) first"
shim="$(printf '#!/bin/sh\n# The dynamic provider host of the Pulumi SDK of the program in the working directory (npm run setup).\nexec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"\n')"
if [ "$(cat "$bin/pulumi-resource-pulumi-nodejs" 2>/dev/null)" = "$shim" ]; then
  done_step "up to date"
else
  printf '%s\n' "$shim" >"$bin/pulumi-resource-pulumi-nodejs"
  chmod 0755 "$bin/pulumi-resource-pulumi-nodejs"
  done_step "wrote $bin/pulumi-resource-pulumi-nodejs"
fi

printf 'setup: done in %ss; run ". scripts/env.sh" to have pulumi on PATH with this project'"'"'s environment\n' "$(($(date +%s) - total_start))"
