#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the boot disk without root: a GPT image with
#   partition 1: FAT32 EFI System Partition  \EFI\BOOT\BOOTX64.EFI, \boot\vkernel.elf,
#                \boot\vkernel.map, \boot\cmdline
#                \modules (empty: the kernel mounts its boot modules there, /boot/modules)
#   partition 2: FAT32 data partition        the root (/): README.txt, the EXTRA folder's
#                contents, and empty mount points bin, boot, dev, kobj, tmp
# Each partition is formatted as a separate file with mkfs.fat, filled with mtools, and
# copied into the image at its GPT offset.
# Usage: make-disk.sh OUT.img LOADER.efi KERNEL.elf KERNEL.map CMDLINE [EXTRA_DIR [MODULES_DIR]]
# MODULES_DIR: files copied to \boot\modules on the ESP; the loader hands each to the
# kernel as a boot module (the programs, until the kernel reads the data partition).
set -euo pipefail

out=$1 loader=$2 kernel=$3 map=$4 cmdline=$5 extra=${6-} modules=${7-}
ESP_MB=${ESP_MB:-64}
DATA_MB=${DATA_MB:-256}
export MTOOLS_SKIP_CHECK=1
PATH=$PATH:/usr/sbin:/sbin

work=$(mktemp -d "${TMPDIR:-/tmp}/vkdisk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Partition 1 starts at 1 MiB; partition 2 follows the ESP. 1 MiB at the end for the
# backup GPT.
esp_start=2048
esp_sectors=$((ESP_MB * 2048))
data_start=$((esp_start + esp_sectors))
data_sectors=$((DATA_MB * 2048))
total_sectors=$((data_start + data_sectors + 2048))

truncate -s $((ESP_MB << 20)) "$work/esp"
mkfs.fat -F 32 -n VKBOOT "$work/esp" >/dev/null
mmd -i "$work/esp" ::/EFI ::/EFI/BOOT ::/boot ::/modules
mcopy -i "$work/esp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$work/esp" "$kernel" ::/boot/vkernel.elf
mcopy -i "$work/esp" "$map" ::/boot/vkernel.map
printf '%s\n' "$cmdline" >"$work/cmdline"
mcopy -i "$work/esp" "$work/cmdline" ::/boot/cmdline
if [[ -n $modules ]]; then
  shopt -s nullglob
  files=("$modules"/*)
  if ((${#files[@]})); then
    mmd -i "$work/esp" ::/boot/modules
    mcopy -i "$work/esp" "${files[@]}" ::/boot/modules/
  fi
  shopt -u nullglob
fi

truncate -s $((DATA_MB << 20)) "$work/data"
mkfs.fat -F 32 -n VKDATA "$work/data" >/dev/null
cat >"$work/README.txt" <<'TXT'
This is vkernel's data partition. Programs, settings and media live here.
TXT
mcopy -i "$work/data" "$work/README.txt" ::/README.txt
if [[ -n $extra ]]; then
  if [[ ! -d $extra ]]; then
    echo "make-disk: EXTRA=$extra is not a directory" >&2
    exit 1
  fi
  # Copy the folder's contents (not the folder itself) to the root of the partition.
  shopt -s dotglob nullglob
  items=("$extra"/*)
  if ((${#items[@]})); then
    mcopy -s -i "$work/data" "${items[@]}" ::/
  fi
fi
# The kernel mounts its own filesystems on these (docs/vfs.md); it would make them at
# boot, but a fresh disk should not need writing to boot.
for dir in bin boot dev kobj tmp; do
  mdir -i "$work/data" "::/$dir" >/dev/null 2>&1 || mmd -i "$work/data" "::/$dir"
done

rm -f "$out.tmp"
truncate -s $((total_sectors * 512)) "$out.tmp"
sgdisk -o \
  -n 1:${esp_start}:+${esp_sectors} -t 1:ef00 -c 1:"EFI System" \
  -n 2:${data_start}:+${data_sectors} -t 2:0700 -c 2:"vkernel data" \
  "$out.tmp" >/dev/null 2>&1 || { echo "make-disk: sgdisk failed" >&2; exit 1; }
# sgdisk -q silently skips writing the table: verify it is really there.
sgdisk -p "$out.tmp" 2>/dev/null | grep -q "EF00" || { echo "make-disk: GPT not written" >&2; exit 1; }
dd if="$work/esp" of="$out.tmp" bs=1M seek=$((esp_start / 2048)) conv=notrunc,sparse status=none
dd if="$work/data" of="$out.tmp" bs=1M seek=$((data_start / 2048)) conv=notrunc,sparse status=none
mv "$out.tmp" "$out"
