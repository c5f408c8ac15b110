#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make bench`: boot-cost benchmark (guest instructions under -icount, and wall time
# under plain TCG). Writes build/bench/results.md and results.json; flags figures more
# than 10% worse than the previous run. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/bench_boot.py "$@"
