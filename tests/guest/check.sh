# SPDX-License-Identifier: MIT
# Sourced by the guest test scripts: check NAME EXPECTED ACTUAL prints "PASS NAME" or
# "FAIL NAME: ..." and counts; finish PROGRAM prints the summary line the integration
# runner looks for and returns non-zero when anything failed.
bb=/bin/busybox
passed=0
failed=0

check() {
  if [ "$2" = "$3" ]; then
    echo "PASS $1"; passed=$((passed + 1))
  else
    echo "FAIL $1: expected [$2] got [$3]"; failed=$((failed + 1))
  fi
}

finish() {
  echo "$1: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}
