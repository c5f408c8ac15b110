# SPDX-License-Identifier: MIT
# Runs inside vkernel under busybox sh (the crash_report integration suite):
#   init=/bin/busybox sh /boot/modules/crash-report.sh
# Crashes test-crash deep in a call chain, then prints /crash in KObj between markers so
# the harness can compare it with the kernel log's report. The harness checks the
# frames' file:line against userspace/tests/crash/crash.c.
. /boot/modules/check.sh

before=$($bb cat /kobj/crash/count)
/bin/test-crash.vbin deep
status=$?
check killed_by_sigsegv "139" "$status"
check count_went_up "$((before + 1))" "$($bb cat /kobj/crash/count)"
echo "crash-report: last begin"
$bb cat /kobj/crash/last
echo "crash-report: last end"

finish crash-report
