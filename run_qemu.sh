#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boots the vkernel disk image in QEMU (q35 + OVMF). The guest never gets a network.
#   --headless      no display; serial console on this terminal (the default when there
#                   is no X/Wayland display: then VNC listens on 127.0.0.1:5900 too)
#   --debug         start paused with a gdb server on 127.0.0.1:1234 (see docs/debugging.md)
#   --keep-disk     boot build/vkernel.img as it is (default: rebuild it with make first)
#   --smp N         CPUs (default 4)          --mem M   memory, e.g. 512M (default 512M)
#   --cmdline "..." kernel command line for this run (written to a copy of the image)
#   --              everything after is passed to QEMU
set -euo pipefail
cd "$(dirname "$0")"

smp=4 mem=512M headless=0 debug=0 keep=0 cmdline= extra=()
while (($#)); do
  case $1 in
    --headless) headless=1 ;;
    --debug) debug=1 ;;
    --keep-disk) keep=1 ;;
    --smp) smp=$2; shift ;;
    --mem) mem=$2; shift ;;
    --cmdline) cmdline=$2; shift ;;
    --) shift; extra+=("$@"); break ;;
    -h|--help) sed -n '3,12p' "$0"; exit 0 ;;
    *) extra+=("$1") ;;
  esac
  shift
done

((keep)) || make --no-print-directory disk
image=build/vkernel.img
[[ -f $image ]] || { echo "run_qemu: $image missing; run make first" >&2; exit 1; }

run_dir=build/run
mkdir -p "$run_dir"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$run_dir/OVMF_VARS.fd"
if [[ -n $cmdline ]]; then
  cp --sparse=always "$image" "$run_dir/vkernel-cmdline.img"
  image=$run_dir/vkernel-cmdline.img
  scripts/image-cmdline.sh "$image" "$cmdline"
fi

args=(
  -machine q35 -m "$mem" -smp "$smp" -nic none -nodefaults -no-reboot
  -drive if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE_4M.fd,readonly=on
  -drive "if=pflash,format=raw,unit=1,file=$run_dir/OVMF_VARS.fd"
  -drive "if=none,id=d0,format=raw,file=$image" -device virtio-blk-pci,drive=d0
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
  -serial mon:stdio
)
if ((headless)); then
  args+=(-display none -vga std)
elif [[ -n ${DISPLAY-}${WAYLAND_DISPLAY-} ]]; then
  args+=(-vga std -display gtk)
else
  echo "run_qemu: no display found; VNC on 127.0.0.1:5900 (serial console here)" >&2
  args+=(-vga std -display vnc=127.0.0.1:0)
fi
if ((debug)); then
  echo "run_qemu: paused; gdb server on 127.0.0.1:1234 (make debug in another terminal)" >&2
  args+=(-S -gdb tcp:127.0.0.1:1234)
fi
exec qemu-system-x86_64 "${args[@]}" "${extra[@]}"
