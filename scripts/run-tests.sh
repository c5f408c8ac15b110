#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every test suite and ends with one line "N passed, N failed" summed over all of
# them; exits non-zero if anything failed or a suite could not run. Called by
# `make test` after the image, host tests and fuzzers are built.
#   1. host unit tests (build/host/test_*, ASan + UBSan)
#   1b. the shell (build/userspace/bin/shell.vbin) on the host under a pty
#   2. fuzz regression inputs (tests/host/corpus/<fuzzer>/*) through each fuzzer binary
#   3. integration tests in QEMU (tests/integration/run.py), including the in-kernel suite
set -uo pipefail
cd "$(dirname "$0")/.."

total_pass=0 total_fail=0
log_dir=build/test-logs
mkdir -p "$log_dir"

# Adds the "N passed, N failed" of a suite's last summary line to the totals; a suite
# that printed no summary counts as one failure.
count() {
  local name=$1 logfile=$2 rc=$3 line p f
  line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$logfile" | tail -n 1)
  if [[ -z $line ]]; then
    echo "FAIL $name: no result line (exit status $rc); see $logfile"
    total_fail=$((total_fail + 1))
    return
  fi
  p=$(sed -E 's/.*\b([0-9]+) passed, ([0-9]+) failed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\b([0-9]+) passed, ([0-9]+) failed.*/\2/' <<<"$line")
  if ((rc != 0 && f == 0)); then
    echo "FAIL $name: exited with status $rc although it reported no failure"
    f=1
  fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
  echo "$name: $p passed, $f failed"
}

echo "== host unit tests"
for t in build/host/test_*; do
  [[ -x $t ]] || continue
  name=$(basename "$t")
  "$t" >"$log_dir/$name.log" 2>&1
  rc=$?
  grep -E '^(FAIL|  FAIL)' "$log_dir/$name.log"
  count "$name" "$log_dir/$name.log" $rc
done

echo "== shell under a host pty (tests/host/shell_pty.py)"
python3 tests/host/shell_pty.py build/userspace/bin/shell.vbin >"$log_dir/shell_pty.log" 2>&1
rc=$?
grep -E '^FAIL' "$log_dir/shell_pty.log"
count shell_pty "$log_dir/shell_pty.log" $rc

echo "== fuzz regression inputs"
for fz in build/fuzz/fuzz_*; do
  [[ -x $fz ]] || continue
  name=$(basename "$fz")
  corpus=tests/host/corpus/$name
  if [[ ! -d $corpus ]] || [[ -z $(ls -A "$corpus") ]]; then
    echo "FAIL $name: no regression inputs in $corpus"
    total_fail=$((total_fail + 1))
    continue
  fi
  n=$(ls "$corpus" | wc -l)
  if "$fz" -runs=0 "$corpus"/* >"$log_dir/$name.log" 2>&1; then
    echo "$name: $n passed, 0 failed"
    total_pass=$((total_pass + n))
  else
    echo "FAIL $name: a regression input crashed; see $log_dir/$name.log"
    total_fail=$((total_fail + 1))
  fi
done

echo "== generated docs are current"
python3 scripts/gen-abi-doc.py --check >"$log_dir/abi-doc.log" 2>&1
rc=$?
cat "$log_dir/abi-doc.log"
count abi-doc "$log_dir/abi-doc.log" $rc

python3 scripts/gen-kobj-doc.py --check >"$log_dir/kobj-doc.log" 2>&1
rc=$?
cat "$log_dir/kobj-doc.log"
count kobj-doc "$log_dir/kobj-doc.log" $rc

echo "== integration tests (QEMU)"
python3 tests/integration/run.py 2>&1 | tee "$log_dir/integration.log"
count "integration (total)" "$log_dir/integration.log" "${PIPESTATUS[0]}"

echo
echo "$total_pass passed, $total_fail failed"
((total_fail == 0))
