#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench-linux.sh: run vkbench on Debian's own Linux kernel in the same QEMU machine as
# vkernel's benchmark runs, and capture its output. The other half of the side-by-side
# table (scripts/bench_vkbench.py, docs/performance.md).
#
# Usage: scripts/bench-linux.sh [--icount] [--quick] [--smp N] [--only 'NAME...']
#                               [--out FILE] [--timeout SECONDS]
#   --icount   -icount shift=0,sleep=off with a fixed virtual RTC: the guest TSC counts
#              guest instructions (QEMU-TESTING.md). vkbench is told, and labels insns.
#   --quick    vkbench --quick (repeat counts divided by 20)
#   --smp      vCPUs (default 1; the SMP pass of bench_vkbench.py uses 2)
#   --only     run only the benchmarks whose names contain one of these words
#   --out      where to write the serial output (default build/bench/linux[-icount].txt)
#   --timeout  give up after this many seconds (default 1800 with --icount, else 300)
# Environment: VMLINUZ (default: the newest /boot/vmlinuz-*, package linux-image-amd64),
#   VKBENCH (default build/userspace/bin/vkbench.vbin; `make` builds it),
#   DISK_IMAGE (default build/vkernel.img: a fresh copy is the guest's disk),
#   VKBENCH_ONLY (vkbench name filters, space-separated: e.g. "disk_").
#
# Machine: the same as vkernel's runs (tests/integration/vkqemu.py): q35, 512 MiB, one
# vCPU (or --smp N), QEMU's default CPU model, -nodefaults -vga std, no display, never a network.
# Firmware differs by necessity (-kernel boots through SeaBIOS' Linux loader; vkernel
# needs OVMF), which only changes boot time, not the figures.
#
# The initramfs is built here, reproducibly: cpio newc with sorted names, mtime 0,
# uid/gid 0, inode numbers in order. It holds /init (vkbench itself), /dev/console and
# /tmp; stdout is already the console, and as pid 1 vkbench powers the machine off when
# done (reboot(RB_POWER_OFF)). panic=-1 plus -no-reboot end QEMU if anything goes wrong.
#
# The disk (for the disk benchmarks): a fresh copy of vkernel's boot image, attached as
# vkernel's runs attach it (virtio-blk-pci, raw), so Linux's vfat and vkernel's FAT32
# work on the same layout and neither sees the other's writes. The initramfs also
# carries the modules Linux needs for it (Debian builds virtio, virtio_blk and vfat as
# modules), uncompressed, and /vkbench-modules listing them in load order; vkbench
# loads them with finit_module and mounts /dev/vda2 (userspace/vkbench/bench_disk.c).
set -euo pipefail
cd "$(dirname "$0")/.."

icount=0
quick=0
smp=1
only=${VKBENCH_ONLY-}
out=
timeout_s=
while (($#)); do
  case $1 in
    --icount) icount=1 ;;
    --quick) quick=1 ;;
    --out) out=$2 && shift ;;
    --timeout) timeout_s=$2 && shift ;;
    --smp) smp=$2 && shift ;;
    --only) only=$2 && shift ;;
    -h | --help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "bench-linux: unknown option $1 (see --help)" >&2 && exit 2 ;;
  esac
  shift
done

vmlinuz=${VMLINUZ:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
if [[ -z $vmlinuz || ! -r $vmlinuz ]]; then
  echo "bench-linux: no readable /boot/vmlinuz-*: install linux-image-amd64" \
    "(scripts/setup-host.sh), or set VMLINUZ" >&2
  exit 1
fi
vkbench=${VKBENCH:-build/userspace/bin/vkbench.vbin}
if [[ ! -x $vkbench ]]; then
  echo "bench-linux: $vkbench not found: run make first" >&2
  exit 1
fi

work=build/bench/linux
mkdir -p "$work"
suffix=$( ((icount)) && echo -icount || true)
out=${out:-build/bench/linux$suffix.txt}
timeout_s=${timeout_s:-$( ((icount)) && echo 1800 || echo 300)}
cpio=$work/init.cpio
disk_image=${DISK_IMAGE:-build/vkernel.img}
disk=$work/disk.img

# The disk's modules in load order (dependencies first, from modules.dep), uncompressed
# into $work/modules; prints their file names.
disk_modules() {
  local dir=/lib/modules/$1
  [[ -r $dir/modules.dep ]] || return 1
  python3 - "$dir" "$work/modules" <<'EOF'
import os, shutil, subprocess, sys
moddir, out = sys.argv[1], sys.argv[2]
wanted = ['virtio_pci', 'virtio_blk', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8',
          'nls_iso8859-1']
deps = {}
for line in open(os.path.join(moddir, 'modules.dep')):
    path, _, rest = line.partition(':')
    deps[path] = rest.split()
by_name = {}
for path in deps:
    base = os.path.basename(path).split('.ko')[0]
    by_name[base] = by_name[base.replace('-', '_')] = path
order = []


def visit(path):
    if path in order:
        return
    for d in deps.get(path, []):
        visit(d)
    order.append(path)


for name in wanted:
    if name in by_name:  # built into this kernel, so not listed: nothing to load
        visit(by_name[name])
os.makedirs(out, exist_ok=True)
tools = {'.xz': ['xz', '-dc'], '.zst': ['zstd', '-dc'], '.gz': ['gzip', '-dc']}
for path in order:
    src = os.path.join(moddir, path)
    name = os.path.basename(path).split('.ko')[0] + '.ko'
    ext = os.path.splitext(path)[1]
    if ext in tools:
        with open(os.path.join(out, name), 'wb') as f:
            f.write(subprocess.run(tools[ext] + [src], check=True, capture_output=True).stdout)
    else:
        shutil.copyfile(src, os.path.join(out, name))
    print(name)
EOF
}
rm -rf "$work/modules" "$disk"
modules=$(disk_modules "$(basename "$vmlinuz" | sed 's/^vmlinuz-//')") || modules=
if [[ -n $modules && -r $disk_image ]]; then
  cp --sparse=always "$disk_image" "$disk"
else
  echo "bench-linux: no $disk_image or no modules for $(basename "$vmlinuz"):" \
    "no disk, so the disk benchmarks say n/a" >&2
  modules=
fi

# shellcheck disable=SC2086 # one argument per module
python3 - "$vkbench" "$cpio" "$work/modules" $modules <<'EOF'
# A cpio "newc" archive (the format Linux unpacks as initramfs), byte-for-byte the same
# for the same vkbench binary and modules.
import sys

binary, out, moddir, modules = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000
entries = [  # (name, mode, data, (rdev major, minor))
    ('dev', S_IFDIR | 0o755, b'', (0, 0)),
    ('dev/console', S_IFCHR | 0o600, b'', (5, 1)),
    ('init', S_IFREG | 0o755, open(binary, 'rb').read(), (0, 0)),
    ('tmp', S_IFDIR | 0o1777, b'', (0, 0)),
]
if modules:
    entries += [('lib', S_IFDIR | 0o755, b'', (0, 0)),
                ('lib/modules', S_IFDIR | 0o755, b'', (0, 0))]
    entries += [('lib/modules/' + m, S_IFREG | 0o644, open(moddir + '/' + m, 'rb').read(),
                 (0, 0)) for m in modules]
    entries.append(('vkbench-modules', S_IFREG | 0o644,
                    ''.join('/lib/modules/%s\n' % m for m in modules).encode(), (0, 0)))
entries.sort(key=lambda e: e[0])


def record(ino, name, mode, data, rdev, nlink):
    name_bytes = name.encode() + b'\0'
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0)
    head = b'070701' + b''.join(b'%08X' % f for f in fields)
    blob = head + name_bytes
    blob += b'\0' * (-len(blob) % 4) + data
    return blob + b'\0' * (-len(blob) % 4)


archive = b''
for ino, (name, mode, data, rdev) in enumerate(entries, start=1):
    archive += record(ino, name, mode, data, rdev, 2 if mode & S_IFDIR else 1)
archive += record(0, 'TRAILER!!!', 0, b'', (0, 0), 1)
archive += b'\0' * (-len(archive) % 512)
with open(out, 'wb') as f:
    f.write(archive)
EOF

vkbench_args=()
((icount)) && vkbench_args+=(--icount)
((quick)) && vkbench_args+=(--quick)
if [[ -n $only ]]; then
  read -ra only_words <<<"$only"
  vkbench_args+=("${only_words[@]}")
fi
qemu=(qemu-system-x86_64 -machine q35 -m 512M -smp "$smp" -nic none -nodefaults -no-reboot
  -display none -vga std -monitor none -serial "file:$out"
  -kernel "$vmlinuz" -initrd "$cpio"
  -append "console=ttyS0 quiet panic=-1 -- ${vkbench_args[*]-}")
[[ -n $modules ]] && qemu+=(-drive "if=none,id=d0,format=raw,file=$disk" -device virtio-blk-pci,drive=d0)
((icount)) && qemu+=(-icount shift=0,sleep=off -rtc base=2024-01-01T00:00:00,clock=vm)

echo "bench-linux: $(basename "$vmlinuz")$( ((icount)) && echo ' under -icount' || true)," \
  "output in $out (timeout ${timeout_s}s)" >&2
rm -f "$out"
status=0
timeout --foreground "$timeout_s" "${qemu[@]}" </dev/null || status=$?
tr -d '\r' <"$out" >"$out.tmp" && mv -f "$out.tmp" "$out"
if ((status == 124)); then
  echo "bench-linux: timed out after ${timeout_s}s" >&2
  exit 1
fi
if ! grep -q '^vkbench: done' "$out"; then
  echo "bench-linux: vkbench did not finish (QEMU status $status); the last lines:" >&2
  tail -n 20 "$out" >&2
  exit 1
fi
sed -n '/^vkbench: start/,/^vkbench: done/p' "$out"
