#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make fuzz-guest`: boot vkernel headless with init=test-fuzz (userspace/tests/fuzz) and
report. Usage: fuzz_guest.py SEED CALLS ELFS [SMP] [SEEDS]; SEED may be empty (the guest
picks one and prints it); SEEDS > 1 runs CALLS calls of each of the seeds SEED,
SEED+1, ... in one boot. Prints the fuzzer's lines, the kernel's error lines and the end of
the serial log; the whole log goes to build/fuzz-guest.log. Exit status 0 when the
kernel did not panic and the fuzzer exited 0. With FUZZ_DEBUG_KERNEL=1 in the
environment it boots the DEBUG=1 kernel (make debug-kernel: KASAN-lite heap, UBSan)
instead of the disk's own. FUZZ_GUEST_LOG names another log file (for runs side by
side)."""
import os
import re
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
from vkqemu import Guest, BootError, qemu_exit_status  # noqa: E402

EXIT_INIT_OK = 0x20  # kernel/core/main.c run_init


def main():
    seed, calls, elfs = sys.argv[1], sys.argv[2], sys.argv[3]
    smp = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else 1
    seeds = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else 1
    args = 'calls=%s elfs=%s seeds=%d' % (calls, elfs, seeds) + (' seed=%s' % seed if seed else '')
    # Roughly 1,400 calls and 25 executables a second under TCG on a slow host; the
    # timeout allows for a host several times slower.
    timeout = 120 + int(calls) * seeds // 250 + int(elfs) // 5
    replace = None
    if os.environ.get('FUZZ_DEBUG_KERNEL') == '1':
        d = os.path.join(ROOT, 'build', 'debug', 'kernel')
        replace = {'/boot/vkernel.elf': open(os.path.join(d, 'vkernel.elf'), 'rb').read(),
                   '/boot/vkernel.map': open(os.path.join(d, 'vkernel.map'), 'rb').read()}
    g = Guest(cmdline='console=serial test=user init=/bin/test-fuzz.vbin ' + args, smp=smp,
              replace=replace)
    start = time.time()
    try:
        status = g.wait_exit(timeout=timeout)
    except BootError as e:
        status = None
        print('fuzz-guest: %s' % e)
    out = g.text()
    g.close()
    log = os.environ.get('FUZZ_GUEST_LOG') or os.path.join(ROOT, 'build', 'fuzz-guest.log')
    with open(log, 'w') as f:
        f.write(out)
    for line in out.splitlines():
        if line.startswith(('fuzz:', 'PASS', 'FAIL', 'test-fuzz:')) or 'PANIC' in line:
            print(line)
    ok = status == qemu_exit_status(EXIT_INIT_OK) and 'PANIC' not in out
    if not ok:
        print('  --- last serial output ---')
        for line in out.splitlines()[-40:]:
            print('  | ' + line)
    print('fuzz-guest: %s after %ds (QEMU status %s); log in %s' %
          ('ok' if ok else 'FAILED', time.time() - start, status, log))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
