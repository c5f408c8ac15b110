#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot cost of vkernel under QEMU.

icount run (-icount shift=0,sleep=off, one vCPU, fixed RTC): the guest TSC advances one
tick per guest instruction, so the kernel's "boot: kernel ready; tsc T (loader entry L,
kernel entry K)" line gives instructions from power-on to kernel ready (T), from loader
entry to ready (T - L) and inside the kernel (T - K). Deterministic for identical inputs.

wall run (plain TCG): host seconds from QEMU start to the loader's first line and to
"vkernel: ready", repeated to show the spread. For reference only: it is noisy.
"""
import json
import os
import re
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
from vkqemu import Guest  # noqa: E402

OUT = os.path.join(ROOT, 'build', 'bench')
READY = re.compile(r'boot: kernel ready; tsc (\d+) \(loader entry (\d+), kernel entry (\d+)\)')
CMDLINE = 'console=serial log=info panic=exit'


def icount_run():
    g = Guest(cmdline=CMDLINE, smp=1, extra=['-icount', 'shift=0,sleep=off',
                                              '-rtc', 'base=2024-01-01T00:00:00,clock=vm'])
    try:
        m = g.wait_for(READY.pattern, timeout=600)
        ready, loader, kentry = (int(x) for x in m.groups())
        g.wait_for(r'vk> ', timeout=120)
        g.type('poweroff\r')
        g.wait_exit(timeout=300)
    finally:
        g.close()
    return {
        'power_on_to_ready_insns': ready,
        'loader_entry_to_ready_insns': ready - loader,
        'kernel_entry_to_ready_insns': ready - kentry,
    }


def wall_run():
    start = time.monotonic()
    g = Guest(cmdline=CMDLINE, smp=1)
    try:
        g.wait_for(r'vkernel loader', timeout=120)
        loader = time.monotonic() - start
        g.wait_for(r'vkernel: ready', timeout=120)
        ready = time.monotonic() - start
        g.wait_for(r'vk> ', timeout=60)
        g.type('poweroff\r')
        g.wait_exit(timeout=60)
    finally:
        g.close()
    return loader, ready


def main():
    os.makedirs(OUT, exist_ok=True)
    results = {}
    print('boot under -icount shift=0 (about a minute)...', flush=True)
    results.update(icount_run())
    runs = int(os.environ.get('BENCH_WALL_RUNS', '3'))
    walls = []
    for i in range(runs):
        print('boot under plain TCG, run %d of %d...' % (i + 1, runs), flush=True)
        walls.append(wall_run())
    results['power_on_to_ready_wall_ms'] = round(statistics.median(w[1] for w in walls) * 1000)
    results['loader_to_ready_wall_ms'] = round(statistics.median(w[1] - w[0] for w in walls) * 1000)
    spread = max(w[1] for w in walls) - min(w[1] for w in walls)

    json_path = os.path.join(OUT, 'boot.json')
    previous = {}
    if os.path.exists(json_path):
        previous = json.load(open(json_path))
        os.replace(json_path, os.path.join(OUT, 'boot.previous.json'))
    units = {'insns': 'guest instructions', 'ms': 'ms wall (median of %d, spread %.0f ms)' % (runs, spread * 1000)}
    lines = ['| benchmark | vkernel | unit | previous | change |', '|---|---:|---|---:|---|']
    regressions = []
    for name, value in results.items():
        unit = units['insns'] if name.endswith('insns') else units['ms']
        prev = previous.get(name)
        change = ''
        if prev:
            pct = (value - prev) * 100.0 / prev
            change = '%+.1f%%' % pct
            # Instruction counts are deterministic: any growth over 10% is a regression.
            if pct > 10 and name.endswith('insns'):
                change += ' REGRESSION'
                regressions.append(name)
        lines.append('| %s | %s | %s | %s | %s |' % (name, value, unit, prev if prev else '-', change))
    table = '\n'.join(lines)
    print(table)
    with open(os.path.join(OUT, 'boot.md'), 'w') as f:
        f.write('# vkernel boot benchmark\n\n' + table + '\n')
    with open(json_path, 'w') as f:
        json.dump(results, f, indent=2)
    if regressions:
        print('regressed by more than 10%%: %s' % ', '.join(regressions))
    return 0


if __name__ == '__main__':
    sys.exit(main())
