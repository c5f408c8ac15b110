#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes the seed inputs of the FAT32 fuzzer (tests/host/fuzz_fat32.c) from a real
# mkfs.fat volume filled with mtools. A FAT32 volume has at least 65525 clusters, so the
# fuzzer's input holds only the sectors that matter and the rest of the disk reads as
# zeros: input sectors 0-3 are volume sectors 0-3 (boot sector, FSInfo), 4-5 the first two
# sectors of each FAT copy, and 6 on the first sectors of the data region.
# Usage: scripts/make-fat32-seed.sh OUTPUT_DIR
set -euo pipefail
out=${1:?output directory}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MTOOLS_SKIP_CHECK=1 LC_ALL=C.UTF-8
img=$work/seed.img
truncate -s 34M "$img"
mkfs.fat -F 32 -s 1 -n SEED "$img" >/dev/null
printf 'hello\n' >"$work/a"
head -c 1500 /dev/zero | tr '\0' 'x' >"$work/b"
mmd -i "$img" ::/dir "::/dir/Sub Directory"
mcopy -i "$img" "$work/a" ::/HELLO.TXT
mcopy -i "$img" "$work/b" "::/dir/A long name for a file.bin"
mcopy -i "$img" "$work/a" "::/dir/Sub Directory/Ünïcödé.txt"

u16() { od -An -tu2 -j "$1" -N2 "$img" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$img" | tr -d ' '; }
u8() { od -An -tu1 -j "$1" -N1 "$img" | tr -d ' '; }
reserved=$(u16 14) fats=$(u8 16) fat_size=$(u32 36)
data=$((reserved + fats * fat_size))
sector() { dd if="$img" bs=512 skip="$1" count="$2" status=none; }
mkdir -p "$out"
{ sector 0 4; sector "$reserved" 2; sector "$data" 10; } >"$out/mtools_tree"
# The same volume marked dirty (FAT[1] bit 27 clear) with FSInfo zeroed: mount recounts.
cp "$out/mtools_tree" "$work/dirty"
printf '\xff\xff\xff\x07' | dd of="$work/dirty" bs=1 seek=$((4 * 512 + 4)) conv=notrunc status=none
dd if=/dev/zero of="$work/dirty" bs=512 seek=1 count=1 conv=notrunc status=none
cp "$work/dirty" "$out/dirty_no_fsinfo"
