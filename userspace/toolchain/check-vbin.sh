#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-vbin.sh [-q] FILE...: verifies that each FILE is a program vkernel can load: an
# ELF64 little-endian x86-64 executable, either static-PIE (type DYN with DF_1_PIE, so a
# shared library is rejected) or static (type EXEC), with no PT_INTERP (no dynamic
# loader), no DT_NEEDED (no shared libraries) and a non-executable stack
# (PT_GNU_STACK without PF_X). Prints one line per file; -q prints only failures.
# Exits non-zero if any file fails. Reads the headers itself with od: no binutils needed.
set -euo pipefail

quiet=0
if [[ ${1-} == -q ]]; then
  quiet=1
  shift
fi
if (($# == 0)); then
  echo "usage: check-vbin.sh [-q] FILE..." >&2
  exit 2
fi

PT_DYNAMIC=2
PT_INTERP=3
PT_GNU_STACK=0x6474e551
PF_X=1
DT_NULL=0
DT_NEEDED=1
DT_FLAGS_1=0x6ffffffb
DF_1_PIE=0x08000000

bytes=()
# read_bytes FILE OFFSET COUNT: loads the bytes into the array `bytes` (decimal values).
read_bytes() {
  # shellcheck disable=SC2207
  bytes=($(od -An -v -t u1 -j "$2" -N "$3" "$1"))
  ((${#bytes[@]} == $3))
}

# le INDEX WIDTH: the little-endian unsigned integer at bytes[INDEX..INDEX+WIDTH).
le() {
  local value=0 i
  for ((i = $2 - 1; i >= 0; i--)); do
    value=$(((value << 8) | bytes[$1 + i]))
  done
  echo "$value"
}

# check FILE: prints the problem on stderr and returns 1, or the kind and returns 0.
# Runs under `if`, so set -e is off inside: every failure is an explicit return.
check() {
  local file=$1 type machine phoff phentsize phnum i base
  local interp=0 dyn_offset=-1 dyn_size=0 stack_exec=0 needed=0 pie=0 tag

  [[ -f $file ]] || { echo "$file: FAIL: no such file" >&2; return 1; }
  read_bytes "$file" 0 64 || { echo "$file: FAIL: too short for an ELF header" >&2; return 1; }
  if ((bytes[0] != 0x7f || bytes[1] != 0x45 || bytes[2] != 0x4c || bytes[3] != 0x46)); then
    echo "$file: FAIL: not an ELF file" >&2
    return 1
  fi
  ((bytes[4] == 2)) || { echo "$file: FAIL: not ELF64 (class ${bytes[4]})" >&2; return 1; }
  ((bytes[5] == 1)) || { echo "$file: FAIL: not little-endian" >&2; return 1; }
  type=$(le 16 2)
  machine=$(le 18 2)
  phoff=$(le 32 8)
  phentsize=$(le 54 2)
  phnum=$(le 56 2)
  ((machine == 62)) || { echo "$file: FAIL: not x86-64 (e_machine $machine)" >&2; return 1; }
  if ((type != 2 && type != 3)); then
    echo "$file: FAIL: ELF type $type is neither EXEC (2) nor DYN (3, static-PIE)" >&2
    return 1
  fi
  ((phnum > 0 && phentsize >= 56)) || { echo "$file: FAIL: no program headers" >&2; return 1; }

  read_bytes "$file" "$phoff" $((phnum * phentsize)) ||
    { echo "$file: FAIL: program headers run past the end of the file" >&2; return 1; }
  for ((i = 0; i < phnum; i++)); do
    base=$((i * phentsize))
    case $(le "$base" 4) in
      "$PT_INTERP") interp=1 ;;
      "$PT_DYNAMIC")
        dyn_offset=$(le $((base + 8)) 8)
        dyn_size=$(le $((base + 32)) 8)
        ;;
      $((PT_GNU_STACK))) (($(le $((base + 4)) 4) & PF_X)) && stack_exec=1 ;;
    esac
  done

  if ((dyn_offset >= 0 && dyn_size > 0)); then
    read_bytes "$file" "$dyn_offset" "$dyn_size" ||
      { echo "$file: FAIL: PT_DYNAMIC runs past the end of the file" >&2; return 1; }
    for ((base = 0; base + 16 <= dyn_size; base += 16)); do
      tag=$(le "$base" 8)
      ((tag == DT_NULL)) && break
      ((tag == DT_NEEDED)) && needed=$((needed + 1))
      ((tag == DT_FLAGS_1)) && (($(le $((base + 8)) 8) & DF_1_PIE)) && pie=1
    done
  fi

  if ((interp)); then
    echo "$file: FAIL: has PT_INTERP (a dynamically linked program; link with vk-cc)" >&2
    return 1
  fi
  if ((needed)); then
    echo "$file: FAIL: has $needed DT_NEEDED entries (needs shared libraries)" >&2
    return 1
  fi
  if ((stack_exec)); then
    echo "$file: FAIL: PT_GNU_STACK asks for an executable stack" >&2
    return 1
  fi
  if ((type == 3 && !pie)); then
    echo "$file: FAIL: type DYN without DF_1_PIE: a shared library, not a static-PIE program" >&2
    return 1
  fi
  ((quiet)) || echo "$file: ok ($( ((type == 3)) && echo static-PIE || echo static EXEC))"
  return 0
}

status=0
for file in "$@"; do
  check "$file" || status=1
done
exit "$status"
