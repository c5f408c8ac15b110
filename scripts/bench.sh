#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every benchmark, one after the other (docs/performance.md).
#  1. scripts/bench_boot.py: boot cost (guest instructions under -icount, wall time under
#     plain TCG) -> build/bench/results.md, results.json.
#  2. scripts/bench_vkbench.py: vkbench on vkernel beside Debian's Linux in the same
#     QEMU -> build/bench/vkbench.md, vkbench.json.
# Each keeps its previous JSON and flags instruction counts more than 10% worse.
# Arguments go to bench_vkbench.py (--quick, --no-wall, --no-linux).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/bench_boot.py
echo
python3 scripts/bench_vkbench.py "$@"
