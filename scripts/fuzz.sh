#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every host fuzzer (build/fuzz/fuzz_*) for a bounded time, starting from and adding
# to its corpus under build/fuzz-corpus/<name> (seeded from the regression inputs in
# tests/host/corpus/<name>). A crash stops with the reproducer path; copy it into
# tests/host/corpus/<name>/ once fixed so `make test` replays it forever.
# Usage: fuzz.sh SECONDS_PER_FUZZER
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
status=0
for fz in build/fuzz/fuzz_*; do
  [[ -x $fz ]] || continue # the compiler's .d dependency files live here too
  name=$(basename "$fz")
  work=build/fuzz-corpus/$name
  mkdir -p "$work" build/fuzz-crashes
  [[ -d tests/host/corpus/$name ]] && cp -n tests/host/corpus/$name/* "$work"/ 2>/dev/null || true
  echo "== $name for ${seconds}s"
  # Per-fuzzer options. fuzz_gpt: disks up to 32 sectors (small seeds from
  # scripts/make-gpt-seeds.py); its 64 KiB seeds made every run pay two CRC passes over
  # a 16 KiB entry array and went seven times slower without reaching more code.
  # fuzz_fat32: libFuzzer's default (entropic) schedule keeps a list of rare features
  # that it trims only when an input finds a new one; on this fuzzer's ~12,000
  # features, a run that finds none scans that whole list for every feature of every
  # execution, at 600 executions a second instead of 6,000 (docs/reliability.md).
  extra=()
  [[ $name == fuzz_gpt ]] && extra=(-max_len=16384)
  [[ $name == fuzz_fat32 ]] && extra=(-entropic=0)
  rc=0
  "$fz" "${extra[@]}" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build/fuzz-crashes/"$name"- "$work" >build/fuzz-crashes/"$name".log 2>&1 || rc=$?
  grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' build/fuzz-crashes/"$name".log || true
  if ((rc != 0)); then
    echo "$name: FOUND A CRASH (see build/fuzz-crashes/$name.log)"
    status=1
  fi
done
exit $status
