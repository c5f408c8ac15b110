#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make stress`: boot vkernel headless on 4 CPUs with init=test-stress
(userspace/tests/stress) for STRESS_SECONDS and judge the run. Usage:
stress.py SECONDS [SEED] [SMP] [KERNEL_DIR]; KERNEL_DIR (e.g. build/debug/kernel) boots
that kernel instead of the image's own, as the kernel_tests_debug suite does.

Fails when the program does not exit 0, on a PANIC, on any watchdog report, on a lockdep
inversion report (debug kernels), or when the guest prints nothing for SILENCE_LIMIT
seconds (the program prints progress every 10 s). Prints a summary; the whole serial log
goes to build/stress.log."""
import os
import re
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
from vkqemu import Guest, BootError, qemu_exit_status  # noqa: E402

EXIT_INIT_OK = 0x20  # kernel/core/main.c run_init
SILENCE_LIMIT = 90   # seconds without serial output before the guest counts as hung
BOOT_ALLOWANCE = 120


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else 180
    seed = sys.argv[2] if len(sys.argv) > 2 else ''
    smp = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 4
    kernel_dir = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else ''
    replace = None
    if kernel_dir:
        d = os.path.join(ROOT, kernel_dir)
        replace = {'/boot/vkernel.elf': open(os.path.join(d, 'vkernel.elf'), 'rb').read(),
                   '/boot/vkernel.map': open(os.path.join(d, 'vkernel.map'), 'rb').read()}
    args = 'seconds=%d' % seconds + (' seed=%s' % seed if seed else '')
    g = Guest(cmdline='console=serial log=info test=user init=/bin/test-stress.vbin ' + args,
              smp=smp, replace=replace)
    start = time.time()
    status, problem = None, None
    last_len, last_change = 0, time.time()
    try:
        while True:
            status = g.proc.poll()
            if status is not None:
                break
            n = len(g.text())
            if n != last_len:
                last_len, last_change = n, time.time()
            elif time.time() - last_change > SILENCE_LIMIT:
                problem = 'no serial output for %d s' % SILENCE_LIMIT
                break
            if time.time() - start > seconds + BOOT_ALLOWANCE + SILENCE_LIMIT:
                problem = 'still running %d s after the planned end' % (BOOT_ALLOWANCE + SILENCE_LIMIT)
                break
            time.sleep(1)
        time.sleep(0.5)
    finally:
        out = g.text()
        g.close()
    log = os.path.join(ROOT, 'build', 'stress.log')
    with open(log, 'w') as f:
        f.write(out)
    watchdog = [l for l in out.splitlines() if l.startswith('watchdog:')]
    lockdep = re.findall(r'lockdep: lock order inversion: .*', out)
    for line in out.splitlines():
        if line.startswith(('stress:', 'PASS', 'FAIL', 'test-stress:')) or 'PANIC' in line or 'lockdep' in line or \
                line.startswith('watchdog:'):
            print(line)
    checks = [
        ('the program exited 0', status == qemu_exit_status(EXIT_INIT_OK)),
        ('no panic', 'PANIC' not in out),
        ('no watchdog report', not watchdog),
        ('no lock order inversion', not lockdep),
        ('the guest never went silent', problem is None),
    ]
    ok = all(good for _, good in checks)
    print('stress: summary (%s kernel, %d CPUs, %d s asked, %d s wall):' %
          (kernel_dir or 'release', smp, seconds, time.time() - start))
    for name, good in checks:
        print('  %s %s' % ('ok  ' if good else 'FAIL', name))
    if problem:
        print('  problem: ' + problem)
    if not ok:
        print('  --- last serial output ---')
        for line in out.splitlines()[-40:]:
            print('  | ' + line)
    print('stress: %s (QEMU status %s); log in %s' % ('ok' if ok else 'FAILED', status, log))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
