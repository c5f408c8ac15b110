#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stages the userspace sysroot that vk-cc compiles and links against. Idempotent, and
# fast when up to date (one stat and one find), so vk-cc runs it on every invocation.
#
# Layout (default build/sysroot, or $VK_SYSROOT):
#   usr/include/          Debian's musl headers (/usr/include/x86_64-linux-musl), copied
#   usr/include/...       vkernel's public headers: the whole include/ tree, copied
#   usr/include/vk/       + libvk's headers (userspace/libvk/*.h)
#   usr/lib/              musl's crt files (rcrt1.o, crt1.o, Scrt1.o, crti.o, crtn.o) and
#                         static archives (libc.a, the empty libm.a, libpthread.a, ...);
#                         libvk.a is installed here by userspace/userspace.mk
#   usr/lib/pkgconfig/    vk.pc (for vk-pkg-config); ports add their own .pc files here
#   usr/share/pkgconfig/
#   .stamp                fingerprint of the musl files and of this script
#   .stamp-headers        when the vkernel headers were last synced
#
# No libc.so is staged: nothing can link dynamically by accident.
#
# Two parts, refreshed separately:
#  - musl: recopied only when its fingerprint changes (musl-dev upgraded, this script
#    edited, the repository moved). Copies get fresh mtimes so everything rebuilds.
#  - vkernel headers: synced whenever a file under include/ or a libvk header is newer
#    than .stamp-headers. Copies keep their source's mtime, so only programs that
#    include a changed header rebuild; files removed from the repository are removed.
# Concurrent callers (make -j) serialise on a flock and re-check after taking it.
set -euo pipefail

self=$(readlink -f "${BASH_SOURCE[0]}")
here=${self%/*}
repo=${here%/userspace/toolchain}
sysroot=${VK_SYSROOT:-$repo/build/sysroot}
[[ $sysroot == /* ]] || sysroot=$PWD/$sysroot

musl_inc=/usr/include/x86_64-linux-musl
musl_lib=/usr/lib/x86_64-linux-musl
stamp=$sysroot/.stamp
stamp_headers=$sysroot/.stamp-headers
manifest=$sysroot/.headers-manifest

die() {
  echo "stage-sysroot: $*" >&2
  exit 1
}

# Everything whose change must restage musl; the repository path is part of it because
# the .pc file and the dependency files name absolute paths.
musl_fingerprint() {
  [[ -f $musl_lib/libc.a && -f $musl_lib/rcrt1.o && -d $musl_inc ]] ||
    die "musl is not installed (missing $musl_lib/libc.a): apt-get install musl-dev"
  printf 'layout 1 repo %s\n' "$repo"
  stat -L -c '%n %i %Y %s' "$self" "$musl_lib/libc.a" "$musl_lib/rcrt1.o" "$musl_inc" \
    "$musl_inc/stdio.h"
}

# The vkernel header sources: the public ABI tree and libvk's own headers.
header_sources() {
  if [[ -d $repo/include ]]; then
    find "$repo/include" -type f -printf 'include/%P\n'
  fi
  find "$repo/userspace/libvk" -maxdepth 1 -type f -name '*.h' -printf 'userspace/libvk/%P\n'
}

headers_stale() {
  [[ -e $stamp_headers ]] || return 0
  [[ -n $(find "$repo/include" "$repo/userspace/libvk" -newer "$stamp_headers" -print -quit \
    2>/dev/null) ]]
}

# Where a header source lands inside usr/include.
header_destination() {
  case $1 in
    include/*) echo "${1#include/}" ;;
    userspace/libvk/*) echo "vk/${1#userspace/libvk/}" ;;
  esac
}

stage_musl() {
  local builtins
  builtins=$(clang --target=x86_64-linux-musl --rtlib=compiler-rt -print-libgcc-file-name)
  [[ -f $builtins ]] ||
    die "compiler-rt builtins not found ($builtins): apt-get install libclang-rt-14-dev"

  rm -f "$stamp"
  mkdir -p "$sysroot/usr/include" "$sysroot/usr/lib/pkgconfig" "$sysroot/usr/share/pkgconfig"
  cp -R "$musl_inc/." "$sysroot/usr/include/"
  cp -f "$musl_lib"/*.o "$musl_lib"/*.a "$sysroot/usr/lib/"

  # Paths are sysroot-relative: vk-pkg-config sets PKG_CONFIG_SYSROOT_DIR.
  cat >"$sysroot/usr/lib/pkgconfig/vk.pc" <<'EOF'
prefix=/usr
libdir=${prefix}/lib
includedir=${prefix}/include

Name: vk
Description: vkernel runtime library (vk_api_t accessors)
Version: 0.1
Libs: -L${libdir} -lvk
Cflags: -I${includedir}
EOF
  # Headers are copied over the fresh musl tree below; force that sync.
  rm -f "$stamp_headers"
}

stage_headers() {
  local new_stamp=$sysroot/.stamp-headers.new rel dst src
  local -A wanted=()
  # Taken before copying, so an edit made during the sync is seen next time.
  touch "$new_stamp"

  while IFS= read -r rel; do
    dst=$(header_destination "$rel")
    src=$repo/$rel
    [[ -e $musl_inc/$dst ]] && die "$rel would shadow musl's <$dst>: rename it"
    [[ -n ${wanted[$dst]-} ]] && die "$rel and ${wanted[$dst]} both install <$dst>"
    wanted[$dst]=$rel
    dst=$sysroot/usr/include/$dst
    if [[ ! -e $dst || $src -nt $dst || $dst -nt $src ]]; then
      [[ -d ${dst%/*} ]] || mkdir -p "${dst%/*}"
      # Copy then rename: a compiler running in parallel never sees half a header.
      cp -p "$src" "$dst.tmp.$$"
      mv -f "$dst.tmp.$$" "$dst"
    fi
  done < <(header_sources)

  if [[ -f $manifest ]]; then
    while IFS= read -r dst; do
      [[ -z $dst || -n ${wanted[$dst]-} ]] || rm -f "$sysroot/usr/include/$dst"
    done <"$manifest"
  fi
  if ((${#wanted[@]})); then printf '%s\n' "${!wanted[@]}"; fi | sort >"$manifest"
  mv -f "$new_stamp" "$stamp_headers"
}

fingerprint=$(musl_fingerprint)
if [[ -f $stamp && $(<"$stamp") == "$fingerprint" ]] && ! headers_stale; then
  exit 0
fi

[[ -d $sysroot ]] || mkdir -p "$sysroot"
exec 9>"$sysroot/.lock"
flock 9
# Another caller may have staged while we waited.
if [[ ! -f $stamp || $(<"$stamp") != "$fingerprint" ]]; then
  stage_musl
  printf '%s\n' "$fingerprint" >"$stamp.new"
  mv -f "$stamp.new" "$stamp"
fi
if headers_stale; then
  stage_headers
fi
