#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Replaces \boot\cmdline on the ESP of a vkernel disk image in place (tests and
# run_qemu.sh --cmdline use it on a copy of the image).
# Usage: image-cmdline.sh IMAGE "command line"
set -euo pipefail
img=$1
export MTOOLS_SKIP_CHECK=1
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$2" >"$tmp"
# The ESP is partition 1 at 1 MiB (scripts/make-disk.sh).
mcopy -o -i "$img@@1M" "$tmp" ::/boot/cmdline
