#!/usr/bin/env bash
# lab/docker-ce-standin.sh DIR VERSION: a signed apt repository in the layout of Docker's
# (DIR/debian/gpg, DIR/debian/dists/bookworm/stable), for the lab, which cannot reach Docker's.
# It holds stand-ins for docker-ce, docker-ce-cli and containerd.io at VERSION: docker-ce is Debian's
# docker.io repackaged under Docker's name (conflicting with and replacing docker.io, as Docker's
# does), docker-ce-cli is empty (the CLI is in docker.io's files) and containerd.io depends on
# Debian's containerd. What it exercises is the product's docker-ce path (the repository's key, its
# sources entry, the version pin, apt's signature check, docker.io giving way), not Docker's builds.
set -euo pipefail

dir="${1:?usage: docker-ce-standin.sh DIR VERSION}"
version="${2:?usage: docker-ce-standin.sh DIR VERSION}"
codename=bookworm
arch=amd64

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rm -rf "$dir"
repo="$dir/debian"
pool="$repo/pool/stable"
lists="$repo/dists/$codename/stable/binary-$arch"
mkdir -p "$pool" "$lists"

# package NAME DEPENDS [ROOT] [FIELDS]: a package of that name at VERSION (DEPENDS may be empty),
# empty or with ROOT's files and maintainer scripts; FIELDS are more lines of its control file.
package() {
  local name="$1" depends="$2" root="${3:-$work/$1}" fields="${4:-}"
  mkdir -p "$root/DEBIAN"
  {
    printf 'Package: %s\nVersion: %s\nArchitecture: %s\n' "$name" "$version" "$arch"
    printf 'Maintainer: swarm-ha lab <lab@swarm-ha.invalid>\n'
    [ -z "$depends" ] || printf 'Depends: %s\n' "$depends"
    [ -z "$fields" ] || printf '%s\n' "$fields"
    printf 'Description: lab stand-in for Docker %s\n Debian packages in its place, for the lab rehearsal only.\n' "$name"
  } >"$root/DEBIAN/control"
  dpkg-deb -Zgzip -z1 --root-owner-group --build "$root" "$pool/${name}_${version#*:}_$arch.deb" >/dev/null
}

# Debian's docker.io: bookworm's, as this machine's apt lists and the lab's hosts have it.
(cd "$work" && { apt-get download docker.io >/dev/null 2>&1 ||
  { apt-get update -qq && apt-get download docker.io >/dev/null; }; })
dpkg-deb -R "$work"/docker.io_*.deb "$work/engine"
field() { sed -n "s/^$1: //p" "$work/engine/DEBIAN/control"; }
package docker-ce "$(field Depends), docker-ce-cli (= $version)" "$work/engine" \
  "Pre-Depends: $(field Pre-Depends)
Conflicts: docker.io
Replaces: docker.io"
package docker-ce-cli ""
package containerd.io "containerd"

(cd "$repo" && dpkg-scanpackages --multiversion pool/stable /dev/null 2>/dev/null) >"$lists/Packages"
gzip -9kn "$lists/Packages"

release="$repo/dists/$codename/Release"
{
  printf 'Origin: swarm-ha lab\nLabel: docker-ce stand-in\nSuite: %s\nCodename: %s\n' "$codename" "$codename"
  printf 'Architectures: %s\nComponents: stable\nDate: %s\nSHA256:\n' "$arch" "$(LC_ALL=C date -Ru)"
  for f in Packages Packages.gz; do
    printf ' %s %s stable/binary-%s/%s\n' "$(sha256sum <"$lists/$f" | cut -d' ' -f1)" \
      "$(stat -c %s "$lists/$f")" "$arch" "$f"
  done
} >"$release"

# A signing key of its own, made for this repository and kept nowhere else.
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'swarm-ha lab apt <lab@swarm-ha.invalid>' ed25519 sign never
gpg --batch --quiet --armor --export >"$repo/gpg"
gpg --batch --quiet --yes --clearsign -o "$repo/dists/$codename/InRelease" "$release"
gpg --batch --quiet --yes --armor --detach-sign -o "$release.gpg" "$release"
printf '%s\n' "$repo"
