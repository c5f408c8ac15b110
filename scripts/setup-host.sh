#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what vkernel's build, run and tests need on Debian 12, and enables Debian
# source packages (deb-src) for the ports, copying the machine's own apt sources: no
# mirror is named here. Fast and silent when everything is present; the Makefile calls
# it before every build. Usage: scripts/setup-host.sh [--quiet]
set -euo pipefail

# command-or-file  package
needs=(
  "clang clang"
  "ld.lld lld"
  "lld-link lld"
  "llvm-nm llvm"
  "llvm-objcopy llvm"
  "qemu-system-x86_64 qemu-system-x86"
  "/usr/share/OVMF/OVMF_CODE_4M.fd ovmf"
  "mcopy mtools"
  "mkfs.fat dosfstools"
  "fsck.fat dosfstools"
  "sgdisk gdisk"
  "python3 python3"
  "gdb gdb"
  "pkg-config pkgconf"
  "llvm-ar llvm"
  "/usr/share/consolefonts/Lat15-Terminus16.psf.gz console-setup-linux"
  "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev"
  "/usr/lib/x86_64-linux-musl/libc.a musl-dev"
  "musl-gcc musl-tools"
)

if [[ ${1-} == --bench ]]; then
  needs+=("/vmlinuz linux-image-amd64")
fi

missing=()
for entry in "${needs[@]}"; do
  what=${entry% *}
  pkg=${entry#* }
  if [[ $what == /* ]]; then
    [[ -e $what ]] && continue
  else
    PATH=$PATH:/usr/sbin:/sbin command -v "$what" >/dev/null 2>&1 && continue
  fi
  [[ " ${missing[*]-} " == *" $pkg "* ]] || missing+=("$pkg")
done

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

if ((${#missing[@]})); then
  echo "setup-host: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

# deb-src: copy every existing "deb" entry as "deb-src" (ports fetch Debian sources).
enable_deb_src() {
  local sources=/etc/apt/sources.list.d/debian.sources list=/etc/apt/sources.list
  local target=/etc/apt/sources.list.d/vkernel-deb-src.sources
  [[ -e $target ]] && return 0
  if [[ -f $sources ]] && grep -q '^Types:.*deb-src' "$sources"; then return 0; fi
  if [[ -f $list ]] && grep -q '^deb-src ' "$list"; then return 0; fi
  if [[ -f $sources ]]; then
    sed -n '/^Types:/,/^$/p' "$sources" | sed 's/^Types: *deb$/Types: deb-src/' |
      as_root tee "$target" >/dev/null
  elif [[ -f $list ]]; then
    grep '^deb ' "$list" | sed 's/^deb /deb-src /' |
      as_root tee /etc/apt/sources.list.d/vkernel-deb-src.list >/dev/null
    as_root touch "$target"
  else
    echo "setup-host: no apt sources found; cannot enable deb-src" >&2
    return 0
  fi
  echo "setup-host: enabled Debian source packages (deb-src)" >&2
  as_root apt-get update -qq || true
}
enable_deb_src
