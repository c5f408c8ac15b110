#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: every benchmark, one after the other (docs/performance.md).
#  1. scripts/bench_boot.py: boot cost (guest instructions under -icount, wall time under
#     plain TCG) -> build/bench/boot.md, boot.json.
#  2. scripts/bench_vkbench.py: vkbench on vkernel beside Debian's Linux in the same
#     QEMU -> build/bench/vkbench.md, vkbench.json.
# Each keeps its previous JSON and flags instruction counts more than 10% worse.
# build/bench/results.md holds both tables, results.json both figure sets.
# Arguments go to bench_vkbench.py (--quick, --no-wall, --no-linux, --no-smp, --smp-icount).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/bench_boot.py
echo
python3 scripts/bench_vkbench.py "$@"
cat build/bench/boot.md build/bench/vkbench.md > build/bench/results.md
python3 -c 'import json; print(json.dumps({"boot": json.load(open("build/bench/boot.json")), "vkbench": json.load(open("build/bench/vkbench.json"))}, indent=2))' > build/bench/results.json
echo "tables: build/bench/results.md"
