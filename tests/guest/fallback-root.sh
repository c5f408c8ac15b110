# SPDX-License-Identifier: MIT
# Runs inside vkernel under busybox on a disk whose data partition does not mount (its
# boot sector zeroed by run.py, suite fat32_data): the ramfs stays the root, and the boot
# tree and the ESP are where they are on a normal boot.
. /boot/modules/check.sh

check programs_in_bin "yes" "$([ -x /bin/busybox ] && [ -x /bin/shell.vbin ] && echo yes)"
check dev_null "" "$($bb cat /dev/null)"
check kobj_mounted "yes" "$([ -d /kobj/kernel ] && echo yes)"
echo memory > /in-memory.txt
check root_writable_in_memory "memory" "$($bb cat /in-memory.txt)"
echo scratch > /tmp/t.txt
check tmp_writable "scratch" "$($bb cat /tmp/t.txt)"
check no_data_files "no" "$([ -e /README.txt ] && echo yes || echo no)"
check esp_on_boot "yes" "$([ -f /boot/EFI/BOOT/BOOTX64.EFI ] && echo yes)"
check boot_modules_over_esp "yes" "$([ -f /boot/modules/check.sh ] && [ -d /boot/boot ] && echo yes)"
finish fallback-root
