# SPDX-License-Identifier: MIT
# Runs inside vkernel under Debian's unmodified busybox-static (a glibc binary):
#   init=/bin/busybox sh /boot/modules/busybox-test.sh
# Each check prints "PASS name" or "FAIL name: detail"; the last line is
# "busybox-test: N passed, N failed" and the exit status is 0 only when all passed.
# There are no applet links yet, so applets are called as "busybox NAME".
. /boot/modules/check.sh

check echo "hi" "$(echo hi)"
check arithmetic "42" "$((6 * 7))"
check pipe_to_applet "3" "$(printf 'a\nb\nc\n' | $bb wc -l | $bb tr -d ' ')"
check three_stage_pipe "B" "$(printf 'a\nb\n' | $bb grep b | $bb tr a-z A-Z)"
check for_loop "1 2 3" "$(for i in 1 2 3; do printf '%s ' $i; done | $bb sed 's/ $//')"

cd /tmp || exit 1
$bb mkdir -p work/sub
check mkdir_p "yes" "$([ -d /tmp/work/sub ] && echo yes)"
echo "line one" > work/f.txt
echo "line two" >> work/f.txt
check redirect_append "2" "$($bb wc -l < work/f.txt | $bb tr -d ' ')"
check cat_file "line one" "$($bb head -n 1 work/f.txt)"
$bb cp work/f.txt work/sub/g.txt
check cp "$($bb cat work/f.txt)" "$($bb cat work/sub/g.txt)"
$bb mv work/sub/g.txt work/h.txt
check mv "no yes" "$([ -e work/sub/g.txt ] && echo yes || echo no) $([ -e work/h.txt ] && echo yes)"
check ls_sorted "f.txt h.txt sub" "$($bb ls work | $bb tr '\n' ' ' | $bb sed 's/ $//')"
check sort_uniq "a b" "$(printf 'b\na\nb\n' | $bb sort -u | $bb tr '\n' ' ' | $bb sed 's/ $//')"
$bb rm work/h.txt
check rm "no" "$([ -e work/h.txt ] && echo yes || echo no)"
check rmdir_nonempty_fails "1" "$($bb rmdir work 2>/dev/null; echo $?)"
$bb rm -r work
check rm_r "no" "$([ -e work ] && echo yes || echo no)"
check pwd "/tmp" "$(pwd)"
check exit_status "3" "$($bb sh -c 'exit 3'; echo $?)"
check false_status "1" "$($bb false; echo $?)"
check missing_command "127" "$(nonexistent_cmd 2>/dev/null; echo $?)"
check subshell_cd "/ /tmp" "$(cd / && pwd) $(pwd)"
check dev_null "" "$(echo gone > /dev/null)"
check bytes_from_zero "1024" "$($bb head -c 1024 /dev/zero | $bb wc -c | $bb tr -d ' ')"
check background_and_wait "done" "$( ($bb sleep 0; echo done) & wait)"
check uname "vkernel" "$($bb uname -s)"
check large_pipe "200000" "$($bb head -c 200000 /dev/zero | $bb cat | $bb wc -c | $bb tr -d ' ')"
check find_applet "/tmp/q/r" "$($bb mkdir -p /tmp/q/r && $bb find /tmp/q -type d -name r)"
check stat_size "9" "$(printf 'ninebytes' > /tmp/n && $bb stat -c %s /tmp/n)"
check grep_count "2" "$(printf 'x\ny\nx\n' | $bb grep -c x)"
check sed_subst "hello world" "$(echo hello there | $bb sed 's/there/world/')"
check awk "6" "$(echo '1 2 3' | $bb awk '{print $1+$2+$3}')"
check exec_replaces_shell "ok" "$($bb sh -c 'exec echo ok; echo not-reached')"

finish busybox-test
