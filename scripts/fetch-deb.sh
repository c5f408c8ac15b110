#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fetches one file out of a Debian binary package, for test programs and data that
# come from Debian rather than from our sources (docs/vfs.md names them).
#
#   scripts/fetch-deb.sh PACKAGE PATH-IN-PACKAGE OUTPUT
#
# The .deb comes from the machine's own apt configuration (`apt-get download`, which
# checks it against the hashes of the signed archive index) and is cached under
# build/cache/debs, so later builds work offline. Its SHA-256 is printed.
set -euo pipefail
pkg=$1 member=$2 out=$3
cache=${BUILD:-build}/cache/debs
mkdir -p "$cache" "$(dirname "$out")"
deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
if [[ -z $deb ]]; then
  echo "  FETCH  $pkg (apt-get download)" >&2
  (cd "$cache" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) || true
  deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | head -n1 || true)
  if [[ -z $deb ]]; then
    echo "fetch-deb: could not download $pkg; check the apt sources (apt-get update)" >&2
    exit 1
  fi
  echo "  SHA256 $(sha256sum "$deb" | cut -d' ' -f1)  $(basename "$deb")" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
if [[ ! -f $tmp/$member ]]; then
  echo "fetch-deb: $pkg has no $member" >&2
  exit 1
fi
cp "$tmp/$member" "$out.tmp"
mv "$out.tmp" "$out"
