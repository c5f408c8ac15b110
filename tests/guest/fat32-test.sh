# SPDX-License-Identifier: MIT
# Runs inside vkernel under busybox: file operations on the FAT32 data partition
# (the root, /). The host then checks the partition with fsck.fat and mtools (run.py, suite
# fat32_data). PASS/FAIL lines, then "fat32-test: N passed, N failed".
. /boot/modules/check.sh

check readme_from_build "This is vkernel's data partition. Programs, settings and media live here." \
  "$($bb cat /README.txt)"
check case_insensitive_lookup "yes" "$([ -f /readme.TXT ] && echo yes)"
cd / || exit 1
echo "hello fat" > hello.txt
check write_read "hello fat" "$($bb cat hello.txt)"
echo "second line" >> hello.txt
check append "2" "$($bb wc -l < hello.txt | $bb tr -d ' ')"
$bb mkdir -p "Some Dir/Nested Deeper"
echo nested > "Some Dir/Nested Deeper/A long file name.text"
check long_names "nested" "$($bb cat '/Some Dir/Nested Deeper/A long file name.text')"
echo unicode > "Ünïcödé ファイル.txt"
check unicode_name "unicode" "$($bb cat 'Ünïcödé ファイル.txt')"
$bb head -c 300000 /dev/urandom > big.bin
check big_file_size "300000" "$($bb stat -c %s big.bin)"
$bb md5sum big.bin > big.md5
check big_file_checksum "big.bin: OK" "$($bb md5sum -c big.md5)"
$bb mkdir many
i=0
while [ $i -lt 40 ]; do echo "file $i" > "many/f$i.txt"; i=$((i + 1)); done
check many_files "40" "$($bb ls many | $bb wc -l | $bb tr -d ' ')"
$bb mv hello.txt "Some Dir/moved.txt"
check rename_across_dirs "no hello fat" "$([ -e hello.txt ] && echo yes || echo no) $($bb head -n 1 'Some Dir/moved.txt')"
echo gone > victim.txt
$bb rm victim.txt
check unlink "no" "$([ -e victim.txt ] && echo yes || echo no)"
$bb mkdir emptydir
$bb rmdir emptydir
check rmdir "no" "$([ -e emptydir ] && echo yes || echo no)"
check rmdir_nonempty_fails "1" "$($bb rmdir many 2>/dev/null; echo $?)"
printf '0123456789' > trunc.txt
$bb truncate -s 4 trunc.txt
check truncate "0123" "$($bb cat trunc.txt)"
check ls_dot_entries "yes" "$($bb ls -a / | $bb grep -qx '\.\.' && echo yes)"
check root_has_mount_points "bin boot dev kobj tmp" \
  "$(for d in bin boot dev kobj tmp; do [ -d /$d ] && echo $d; done | $bb xargs)"
check mounts_are_distinct "5" "$($bb stat -c %d / /bin /tmp /boot /boot/modules | $bb sort -u | $bb wc -l | $bb tr -d ' ')"
check bin_is_read_only "no" "$( (echo x > /bin/new-file) 2>/dev/null; [ -e /bin/new-file ] && echo yes || echo no)"
check boot_modules_over_esp "yes" "$([ -f /boot/modules/check.sh ] && [ -d /boot/boot ] && echo yes)"
check efi_partition_has_loader "yes" "$([ -f /boot/EFI/BOOT/BOOTX64.EFI ] && echo yes)"
$bb sync

finish fat32-test
