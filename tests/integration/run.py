#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration tests: boot the real disk image in QEMU and check what a user would see.
Each boot serves several checks. Prints PASS/FAIL per check and a closing
'N passed, N failed'. Usage: run.py [name-filter]"""
import os
import re
import time
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
from vkqemu import Guest, BootError, qemu_exit_status, ROOT, IMAGE  # noqa: E402

EXIT_TESTS_PASSED = 0x10
EXIT_TESTS_FAILED = 0x11
EXIT_PANIC = 0x12

results = []


def check(name, ok, detail=''):
    results.append((name, bool(ok)))
    print('%s %s%s' % ('PASS' if ok else 'FAIL', name, '' if ok or not detail else ': ' + detail),
          flush=True)


def dump_tail(guest, lines=40):
    print('  --- last serial output ---')
    for line in guest.text().splitlines()[-lines:]:
        print('  | ' + line)


def boot_default():
    """Normal boot: banner, subsystems, framebuffer console, monitor, ACPI power-off."""
    g = Guest(cmdline='console=both log=info panic=exit monitor', smp=1)
    try:
        g.wait_for(r'vkernel: ready', timeout=90)
        out = g.text()
        check('boot.banner_on_serial', re.search(r'vkernel \d+\.\d+\.\d+ \(build [^)]+\) x86_64', out))
        check('boot.no_panic', 'PANIC' not in out)
        check('boot.memory_initialised', re.search(r'pmm: .*MiB', out), 'no pmm summary line')
        check('boot.acpi_tables_found', re.search(r'acpi: .*(APIC|MADT)', out), 'no acpi summary')
        check('boot.timer_calibrated', re.search(r'time: .*TSC', out, re.I), 'no time line')
        check('boot.pci_enumerated', re.search(r'pci: \d+ (device|function)', out), 'no pci summary')
        check('boot.protection_bits', re.search(r'cpu: .*nx=1', out), 'no cpu line with nx=1')
        check('boot.boot_disk_logged',
              re.search(r'virtio-blk [0-9a-f:.]+: vda \d+ MiB, 512-byte sectors, msix, serial ', out),
              'no virtio-blk line for vda')
        check('boot.gpt_partitions_logged',
              re.search(r'block: vda1 64 MiB "EFI System"', out) and
              re.search(r'block: vda2 256 MiB "vkernel data"', out), 'no vda1/vda2 lines')
        g.wait_for(r'vk> ', timeout=30)

        w, h, rgb = g.screenshot()
        pixels = len(rgb) // 3
        distinct = len({rgb[i:i + 3] for i in range(0, min(len(rgb), w * 3 * 200), 3)})
        check('fbcon.screenshot_not_blank', pixels == w * h and distinct > 1,
              '%d distinct colours in %dx%d' % (distinct, w, h))
        # The banner is the first text row: its 16 pixel rows must hold more than one
        # colour (glyph strokes on the background) in the first ~40 character cells.
        row = b''.join(rgb[(y * w) * 3:(y * w + 320) * 3] for y in range(16))
        banner_colours = {row[i:i + 3] for i in range(0, len(row), 3)}
        check('fbcon.banner_text_region', len(banner_colours) >= 2,
              '%d colours in the banner cells' % len(banner_colours))
        # Below the text, the rest of the screen is the console background.
        tail = rgb[(h - 1) * w * 3:]
        check('fbcon.background_uniform_below_text', len({tail[i:i + 3] for i in range(0, len(tail), 3)}) == 1)

        g.type('help\r')
        g.wait_for(r'poweroff\s+power the machine off', timeout=20)
        check('monitor.help_lists_commands', True)
        g.type('nosuchcommand\r')
        g.wait_for(r'nosuchcommand: unknown command', timeout=20)
        check('monitor.unknown_command_error', True)
        g.type('mem\r')
        m = g.wait_for(r'physical memory: (\d+) MiB total, (\d+) MiB free', timeout=20)
        total, free = int(m.group(1)), int(m.group(2))
        check('monitor.mem_plausible', 400 <= total <= 512 and 0 < free <= total,
              'total %d free %d' % (total, free))
        g.type('poweroff\r')
        status = g.wait_exit(timeout=30)
        check('acpi.poweroff_ends_qemu', status == 0 and 'Powering off.' in g.text(),
              'QEMU exit status %s' % status)
    except BootError as e:
        check('boot_default', False, str(e))
        dump_tail(g)
    finally:
        g.close()


# The scratch disks the in-kernel virtio-blk tests write to (kernel/drivers/virtio_blk/
# virtio_blk_test.c finds them by serial and writes nowhere else). Fresh sparse files in
# a temporary folder for every boot: the boot disk is never written.
SCRATCH_DISKS = [  # (serial, -device options, -drive options)
    ('vkscratch-m', 'disable-legacy=on', ''),
    ('vkscratch-l', 'disable-modern=on', ''),
    ('vkscratch-ro', '', ',readonly=on'),
    ('vkscratch-poll', 'vectors=0', ''),  # no MSI-X: the polling fallback
]
SCRATCH_TESTS = ['vblk_scratch_modern_write_read', 'vblk_scratch_legacy_write_read',
                 'vblk_scratch_polling_write_read', 'vblk_scratch_concurrent_threads_modern',
                 'vblk_scratch_concurrent_threads_legacy', 'vblk_scratch_flush',
                 'vblk_scratch_out_of_range_refused', 'vblk_scratch_read_only_refuses_writes',
                 'vblk_scratch_serials_from_get_id', 'vblk_scratch_bcache_writes_back_and_reads_back']


def scratch_disk_args(directory):
    args = []
    for i, (serial, device, drive) in enumerate(SCRATCH_DISKS):
        path = os.path.join(directory, serial + '.img')
        with open(path, 'wb') as f:
            f.truncate(8 << 20)
        args += ['-drive', 'if=none,id=scratch%d,format=raw,file=%s%s' % (i, path, drive),
                 '-device', 'virtio-blk-pci,drive=scratch%d,serial=%s%s' %
                 (i, serial, ',' + device if device else '')]
    return args


def check_scratch_tests_ran(prefix, out):
    """Each scratch-disk ktest printed a PASS line: none was left out or renamed."""
    passed = set(re.findall(r'^ktest: PASS (vblk_scratch_\S+)', out, re.M))
    missing = [t for t in SCRATCH_TESTS if t not in passed]
    check(prefix + '.scratch_disk_tests_ran', not missing, 'not passed: ' + ' '.join(missing))


def kernel_tests():
    """test=kernel: the in-kernel suite; every ktest line is a result of its own. Runs on
    QEMU's 'max' CPU model so SMEP, SMAP and UMIP exist and get switched on."""
    scratch = tempfile.mkdtemp(prefix='vkscratch.')
    g = Guest(cmdline='console=serial log=info test=kernel', smp=1,
              extra=['-cpu', 'max'] + scratch_disk_args(scratch))
    try:
        status = g.wait_exit(timeout=120)
        out = g.text()
        for m in re.finditer(r'^ktest: (PASS|FAIL) (\S+)', out, re.M):
            check('ktest.' + m.group(2), m.group(1) == 'PASS')
        check('cpu.smep_smap_umip_enabled_on_max_cpu',
              re.search(r'cpu: .* smep=1 smap=1 umip=1', out), 'cpu line missing or bits off')
        summary = re.search(r'ktest: (\d+) passed, (\d+) failed', out)
        check('ktest.summary_line', summary is not None)
        expected = qemu_exit_status(EXIT_TESTS_PASSED if summary and summary.group(2) == '0'
                                    else EXIT_TESTS_FAILED)
        check('ktest.exit_status', status == expected, 'status %s, expected %s' % (status, expected))
        check_scratch_tests_ran('ktest', out)
        stray = watchdog_reports_outside(out, 'watchdog_')
        check('ktest.no_watchdog_report_outside_its_tests', not stray, '; '.join(stray))
        if not summary or summary.group(2) != '0' or status != expected:
            dump_tail(g, 60)
    except BootError as e:
        check('kernel_tests', False, str(e))
        dump_tail(g)
    finally:
        g.close()
        shutil.rmtree(scratch, ignore_errors=True)


def watchdog_reports_outside(out, allowed_prefix):
    """Watchdog report lines of a test=kernel log that belong to a KTEST whose name does
    not start with allowed_prefix (a test's lines come before its PASS/FAIL line)."""
    stray, pending = [], []
    for line in out.splitlines():
        if line.startswith('watchdog: CPU') and (' is stuck' in line or 'soft lockup' in line):
            pending.append(line)
        m = re.match(r'ktest: (PASS|FAIL) (\S+)', line)
        if m:
            if not m.group(2).startswith(allowed_prefix):
                stray += pending
            pending = []
    return stray + pending


def ktest_result_checks(prefix, out, status):
    """The end of a test=kernel boot: no test failed and QEMU exited as 'all passed'.
    Returns True when something is off, so the caller shows the log."""
    summary = re.search(r'ktest: (\d+) passed, (\d+) failed', out)
    failed = [m.group(1) for m in re.finditer(r'^ktest: FAIL (\S+)', out, re.M)]
    check(prefix + '.ktests_pass', summary is not None and summary.group(2) == '0',
          'failed: %s' % ' '.join(failed))
    ok = status == qemu_exit_status(EXIT_TESTS_PASSED)
    check(prefix + '.exit_status', ok, 'status %s' % status)
    return bool(failed) or summary is None or not ok


def kernel_tests_smp():
    """The in-kernel suite again on four CPUs (one boot): every CPU must come up, and the
    SMP KTESTs (pinning, cross-CPU wake-ups, lock stress, TLB shootdown) run for real."""
    scratch = tempfile.mkdtemp(prefix='vkscratch.')
    g = Guest(cmdline='console=serial log=info test=kernel', smp=4,
              extra=['-cpu', 'max'] + scratch_disk_args(scratch))
    try:
        status = g.wait_exit(timeout=240)
        out = g.text()
        check('smp.four_cpus_online', re.search(r'smp: 4 CPUs online', out), 'no summary line')
        check('smp.each_cpu_logged', len(re.findall(r'smp: CPU \d \(apic id \d+\) online in \d+ us', out)) == 3)
        bad = ktest_result_checks('smp', out, status)
        for name in re.findall(r'^ktest: PASS (smp_\S+)', out, re.M):
            check('smp.ktest.' + name, True)
        check('smp.no_panic', 'PANIC' not in out)
        stray = watchdog_reports_outside(out, 'watchdog_')
        check('smp.no_watchdog_report_outside_its_tests', not stray, '; '.join(stray))
        if bad or 'PANIC' in out:
            dump_tail(g, 60)
    except BootError as e:
        check('kernel_tests_smp', False, str(e))
        dump_tail(g)
    finally:
        g.close()
        shutil.rmtree(scratch, ignore_errors=True)


def kernel_tests_debug():
    """The same in-kernel suite on the DEBUG=1 kernel (make debug-kernel): the KASAN-lite
    heap (redzones, poison, quarantine, double-free checks) and UBSan traps armed while
    everything runs, plus the tests that provoke each of them. Two CPUs, so the SMP
    KTESTs run under lockdep and the checked heap too."""
    d = os.path.join(ROOT, 'build', 'debug', 'kernel')
    replace = {'/boot/vkernel.elf': open(os.path.join(d, 'vkernel.elf'), 'rb').read(),
               '/boot/vkernel.map': open(os.path.join(d, 'vkernel.map'), 'rb').read()}
    scratch = tempfile.mkdtemp(prefix='vkscratch.')
    g = Guest(cmdline='console=serial log=info test=kernel', smp=2, replace=replace,
              extra=['-cpu', 'max'] + scratch_disk_args(scratch))
    try:
        status = g.wait_exit(timeout=180)
        out = g.text()
        bad = ktest_result_checks('debug_kernel', out, status)
        check('debug_kernel.slab_debug_armed', 'SLAB_DEBUG redzones and poison' in out,
              'the heap did not report debug mode')
        check('debug_kernel.no_heap_corruption_report', 'PANIC' not in out)
        # The tests built only into this kernel (KASAN-lite heap, UBSan traps) ran.
        debug_only = ['heap_debug_write_after_free_detected', 'heap_debug_freed_object_not_reused_at_once',
                      'heap_debug_one_byte_overflow_detected', 'heap_debug_double_free_detected',
                      'heap_debug_large_block_overflow_detected',
                      'heap_debug_large_block_double_free_detected', 'harden_ubsan_trap_is_named']
        missing = [t for t in debug_only if 'ktest: PASS ' + t not in out]
        check('debug_kernel.debug_only_tests_passed', not missing, 'not passed: ' + ' '.join(missing))
        check('debug_kernel.lockdep_armed', 'lockdep: lock-order checking armed' in out)
        # The lockdep KTESTs invert the order of their own ktest_lockdep_* locks on
        # purpose (4 reports); any other inversion is a real one in the kernel.
        inversions = re.findall(r'lockdep: lock order inversion: .*', out)
        deliberate = [l for l in inversions if l.count('ktest_lockdep_') == 2]
        check('debug_kernel.lockdep_reports_the_deliberate_inversions', len(deliberate) == 4,
              '%d deliberate reports' % len(deliberate))
        # Every lock the kernel took had a class: no "zero-initialised ... not checked".
        unchecked = re.findall(r'lockdep: zero-initialised .*', out)
        check('debug_kernel.lockdep_every_lock_has_a_class', not unchecked,
              '; '.join(unchecked[:3]))
        check('debug_kernel.lockdep_no_other_inversion', len(inversions) == len(deliberate),
              '; '.join(l for l in inversions if l not in deliberate))
        check_scratch_tests_ran('debug_kernel', out)
        if bad:
            dump_tail(g, 40)
    except BootError as e:
        check('kernel_tests_debug', False, str(e))
        dump_tail(g)
    finally:
        g.close()
        shutil.rmtree(scratch, ignore_errors=True)


def source_line(path, needle):
    """The 1-based number of the one line of path (from the repository root) containing
    needle: tests compare reported file:line against the source, not a constant."""
    with open(os.path.join(ROOT, path)) as f:
        hits = [i + 1 for i, line in enumerate(f) if needle in line]
    if len(hits) != 1:
        raise AssertionError('%s: %d lines contain %r' % (path, len(hits), needle))
    return hits[0]


def panic_report():
    """test=panic: a null write in a named function; the report must name it."""
    g = Guest(cmdline='console=serial test=panic', smp=1)
    try:
        status = g.wait_exit(timeout=90)
        out = g.text()
        check('panic.exit_status', status == qemu_exit_status(EXIT_PANIC), 'status %s' % status)
        check('panic.names_exception', re.search(r'PANIC: page fault \(vector 14\)', out))
        check('panic.symbolized_rip', re.search(r'in kernel at 0x[0-9a-f]+ kernel_test_panic_fault\+0x', out))
        check('panic.cr2_is_fault_address', re.search(r'cr2 0x0000000000000008', out))
        frames = re.findall(r'^\s+#\d+\s+0x[0-9a-f]+ (\S+)', out, re.M)
        check('panic.backtrace_frames', len(frames) >= 2 and frames[0].startswith('kernel_test_panic_fault+'),
              'frames: %s' % frames)
        check('panic.backtrace_reaches_caller', any(f.startswith(('run_mode', 'kernel_main_stage2')) for f in frames[1:]),
              'frames: %s' % frames)
        # file:line from the debug.lines bundle, checked against the source.
        fault_line = source_line('kernel/core/main.c', '*(volatile uint64_t *)8 = 0xdead;')
        call_line = source_line('kernel/core/main.c', '        kernel_test_panic_fault();')
        check('panic.rip_file_line', re.search(r'in kernel at 0x[0-9a-f]+ kernel_test_panic_fault\+0x[0-9a-f]+ '
                                               r'\(kernel/core/main\.c:%d\)' % fault_line, out),
              'expected kernel/core/main.c:%d' % fault_line)
        check('panic.caller_file_line', re.search(r'#1\s+0x[0-9a-f]+ run_mode\+0x[0-9a-f]+ \(kernel/core/main\.c:%d\)'
                                                  % call_line, out), 'expected kernel/core/main.c:%d' % call_line)
    except BootError as e:
        check('panic_report', False, str(e))
        dump_tail(g)
    finally:
        g.close()
    panic_through_kobj()


def panic_through_kobj():
    """The shell's panic command: init (holding the KObj-write right) sets the
    /kernel/panic action through vkobj, and the kernel panics on purpose."""
    g = Guest(cmdline='console=serial test=user init=/bin/vkobj.vbin set /kernel/panic 1', smp=1)
    try:
        status = g.wait_exit(timeout=90)
        out = g.text()
        check('panic_kobj.exit_status', status == qemu_exit_status(EXIT_PANIC), 'status %s' % status)
        check('panic_kobj.deliberate', re.search(r'PANIC: deliberate panic through /kernel/panic \(pid 1\)', out))
        check('panic_kobj.backtrace_names_action', re.search(r'#\d+\s+0x[0-9a-f]+ panic_set\+', out))
    except BootError as e:
        check('panic_through_kobj', False, str(e))
        dump_tail(g)
    finally:
        g.close()


def panic_report_smp():
    """test=panic on four vCPUs limited to two by smp=2: the other CPU logs without
    pause until the panic, and the report must come out whole, after stopping it."""
    g = Guest(cmdline='console=serial test=panic smp=2', smp=4)
    try:
        status = g.wait_exit(timeout=90)
        out = g.text()
        check('panic_smp.limit_smp_2', re.search(r'smp: 2 CPUs online \(limit 2\), 0 failed to start, '
                                                 r'2 left off by the limit', out), 'no summary')
        check('panic_smp.exit_status', status == qemu_exit_status(EXIT_PANIC), 'status %s' % status)
        check('panic_smp.other_cpu_was_logging', re.search(r'chatter: CPU 1 line', out) and
              not re.search(r'chatter: CPU [23]', out))
        report = out[out.find('PANIC:'):]
        check('panic_smp.report_not_interleaved', 'PANIC:' in out and 'chatter' not in report,
              report[:400])
        check('panic_smp.names_exception', re.search(r'PANIC: page fault \(vector 14\) in kernel at 0x[0-9a-f]+ '
                                                     r'kernel_test_panic_fault\+0x', report))
        check('panic_smp.backtrace_complete', re.search(r'#1\s+0x[0-9a-f]+ run_mode\+', report))
        check('panic_smp.other_stopped_first', 'System halted (1 other CPUs stopped first).' in report)
    except BootError as e:
        check('panic_report_smp', False, str(e))
        dump_tail(g)
    finally:
        g.close()


def bad_kernel():
    """A corrupt kernel file: the loader must say so, not hang silently or jump."""
    cases = {
        'bad_magic': b'this is not an ELF file at all' * 10,
        'truncated': None,
    }
    elf = open(os.path.join(os.path.dirname(__file__), '..', '..', 'build', 'kernel',
                            'vkernel.elf'), 'rb').read()
    cases['truncated'] = elf[:100]
    expect = {'bad_magic': 'bad ELF magic', 'truncated': 'bad program header table'}
    for name, data in cases.items():
        g = Guest(replace={'/boot/vkernel.elf': data}, smp=1)
        try:
            g.wait_for(r'vkernel loader: error: .*vkernel\.elf is not a valid kernel: ' +
                       re.escape(expect[name]), timeout=90)
            check('loader.rejects_' + name, 'vkernel: ready' not in g.text())
        except BootError as e:
            check('loader.rejects_' + name, False, str(e))
            dump_tail(g)
        finally:
            g.close()


def gdb_attach():
    """gdb on the kernel: connect to QEMU's stub, stop at kernel_main, read a backtrace."""
    port = 20000 + os.getpid() % 20000
    g = Guest(smp=1, extra=['-S', '-gdb', 'tcp:127.0.0.1:%d' % port])
    try:
        kernel = os.path.join(ROOT, 'build', 'kernel', 'vkernel.elf')
        r = subprocess.run(['gdb', '-batch', '-nx', '-ex', 'set confirm off',
                            '-ex', 'target remote 127.0.0.1:%d' % port,
                            '-ex', 'hbreak kernel_main', '-ex', 'continue', '-ex', 'bt',
                            '-ex', 'print info->magic == 0x31305442534b5f56', kernel],
                           capture_output=True, text=True, timeout=180)
        out = r.stdout + r.stderr
        check('gdb.stops_at_kernel_main', re.search(r'#0\s+kernel_main \(info=0xffff8', out), out[-400:])
        check('gdb.backtrace_reaches_entry', re.search(r'#1\s+0x[0-9a-f]+ in _start \(\) at kernel/arch/x86_64/entry.S', out))
        check('gdb.reads_boot_info', re.search(r'\$1 = 1', out), out[-200:])
    except (BootError, subprocess.TimeoutExpired) as e:
        check('gdb_attach', False, str(e))
    finally:
        g.close()


def disk_image():
    """make-disk.sh: GPT with two FAT32 partitions that other tools read back, EXTRA copied."""
    import tempfile
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1', PATH=os.environ['PATH'] + ':/usr/sbin:/sbin')
    with tempfile.TemporaryDirectory() as d:
        extra = os.path.join(d, 'extra')
        os.makedirs(os.path.join(extra, 'music', 'albums'))
        payload = os.urandom(300000)
        open(os.path.join(extra, 'music', 'albums', 'track.bin'), 'wb').write(payload)
        open(os.path.join(extra, 'hello.txt'), 'w').write('hi from EXTRA\n')
        img = os.path.join(d, 'disk.img')
        b = os.path.join(ROOT, 'build')
        subprocess.run([os.path.join(ROOT, 'scripts', 'make-disk.sh'), img,
                        b + '/boot/BOOTX64.EFI', b + '/kernel/vkernel.elf',
                        b + '/kernel/vkernel.map', 'log=debug', extra, b + '/userspace/bin'],
                       check=True, env=env)
        table = subprocess.run(['sgdisk', '-p', img], capture_output=True, text=True, env=env).stdout
        check('disk.gpt_has_esp_and_data', re.search(r'^\s+1\s+2048\s+.*EF00', table, re.M) and
              re.search(r'^\s+2\s+.*0700\s+vkernel data', table, re.M), table[-300:])
        data_offset = int(re.search(r'^\s+2\s+(\d+)', table, re.M).group(1)) * 512
        got = subprocess.run(['mtype', '-i', '%s@@%d' % (img, data_offset), '::/music/albums/track.bin'],
                             capture_output=True, env=env).stdout
        check('disk.extra_copied_byte_for_byte', got == payload, '%d bytes back' % len(got))
        cmd = subprocess.run(['mtype', '-i', img + '@@1M', '::/boot/cmdline'], capture_output=True,
                             text=True, env=env).stdout
        check('disk.cmdline_on_esp', cmd.strip() == 'log=debug', repr(cmd))
        for name, offset, size in (('esp', 1 << 20, 64 << 20), ('data', data_offset, 256 << 20)):
            part = os.path.join(d, name + '.part')
            subprocess.run(['dd', 'if=' + img, 'of=' + part, 'bs=1M', 'skip=%d' % (offset >> 20),
                            'count=%d' % (size >> 20), 'status=none'], check=True)
            r = subprocess.run(['fsck.fat', '-n', part], capture_output=True, text=True, env=env)
            check('disk.%s_fsck_clean' % name, r.returncode == 0, r.stdout[-300:])
        # The EXTRA files are readable in the guest, at their place under the root.
        import hashlib
        g = Guest(cmdline='console=serial test=user init=/bin/busybox md5sum /hello.txt '
                          '/music/albums/track.bin', image=img)
        try:
            status = g.wait_exit(timeout=120)
            out = g.text()
            want = [hashlib.md5(b'hi from EXTRA\n').hexdigest() + '  /hello.txt',
                    hashlib.md5(payload).hexdigest() + '  /music/albums/track.bin']
            check('disk.extra_readable_in_guest', all(w in out for w in want) and
                  status == qemu_exit_status(EXIT_INIT_OK), out[-400:])
        except BootError as e:
            check('disk.extra_readable_in_guest', False, str(e))
        finally:
            g.close()


def run_qemu_script():
    """The front door: run_qemu.sh --headless --smp 2 --cmdline ..., then the monitor's reboot."""
    p = subprocess.Popen([os.path.join(ROOT, 'run_qemu.sh'), '--keep-disk', '--headless',
                          '--smp', '2', '--mem', '256M', '--cmdline', 'console=serial panic=exit monitor'],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = b''
    try:
        import select
        import time
        deadline = time.time() + 120
        while b'vk> ' not in out and time.time() < deadline and p.poll() is None:
            if select.select([p.stdout], [], [], 1)[0]:
                out += os.read(p.stdout.fileno(), 65536)
        text = out.decode('utf-8', 'replace')
        check('run_qemu.boots_to_monitor', 'vk> ' in text, text[-300:])
        check('run_qemu.cmdline_applied', 'command line: "console=serial panic=exit monitor"' in text)
        check('run_qemu.two_cpus_reported', re.search(r'acpi: .* 2 CPUs', text), 'acpi line')
        for ch in b'reboot\r':
            p.stdin.write(bytes([ch]))
            p.stdin.flush()
            time.sleep(0.02)
        status = p.wait(timeout=60)  # -no-reboot turns the reset into an exit
        out += p.stdout.read()
        text = out.decode('utf-8', 'replace')
        check('acpi.reboot_resets_machine', status == 0 and 'Rebooting.' in text and
              'reboot failed' not in text, 'status %s' % status)
    except subprocess.TimeoutExpired:
        check('run_qemu_script', False, 'timed out')
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


EXIT_INIT_OK = 0x20  # init exited with status 0 (kernel/core/main.c run_init)


def user_suite(program, args='', boot_name=None, smp=1, init=None, timeout=180, typing=(),
               after=None, image=None, extra=()):
    """Boots init=PROGRAM in test mode; the program's own PASS/FAIL lines become checks,
    and init must exit 0 (QEMU status for isa-debug-exit 0x20). typing: (prompt regex,
    text) pairs; each text is typed on the serial console once its prompt appeared.
    after(guest), when given, runs once QEMU has exited, before its image is deleted;
    image boots a copy of another disk image than the build's."""
    name = boot_name or program
    init = init or '/bin/%s.vbin' % program
    g = Guest(cmdline='console=serial test=user init=%s %s' % (init, args), smp=smp,
              image=image, extra=list(extra))
    try:
        for prompt, text in typing:
            g.wait_for(prompt, timeout=timeout)
            g.type(text)
        status = g.wait_exit(timeout=timeout)
        out = g.text()
        for m in re.finditer(r'^(PASS|FAIL) (\S+)(.*)$', out, re.M):
            check('%s.%s' % (name, m.group(2)), m.group(1) == 'PASS', m.group(3).strip(': '))
        summary = re.search(r'%s: (\d+) passed, (\d+) failed' % re.escape(program), out)
        check('%s.summary_line' % name, summary is not None, 'no summary')
        ok = status == qemu_exit_status(EXIT_INIT_OK)
        check('%s.exit_status_zero' % name, ok, 'QEMU status %s' % status)
        check('%s.kernel_survived' % name, 'PANIC' not in out)
        if not ok or 'PANIC' in out or not summary:
            dump_tail(g, 60)
        if after:
            after(g)
        return out
    except BootError as e:
        check(name, False, str(e))
        dump_tail(g)
        return ''
    finally:
        g.close()


def console_init():
    """userspace/init keeps a job-control shell on the console terminal: typed lines,
    ^C to the foreground job, and a new shell when one exits (here busybox's ash)."""
    g = Guest(cmdline='console=serial init=/bin/init.vbin /bin/busybox sh -i', smp=1)
    try:
        g.wait_for(r'built-in shell \(ash\)', timeout=90)
        g.wait_for(r'/ # ', timeout=30)
        g.type('echo sum $((40+2))\r')
        g.wait_for(r'sum 42', timeout=30)
        check('init.shell_runs_typed_commands', True)
        # init passed the KObj-write right on: what the shell runs may set nodes.
        g.type('/bin/vkobj.vbin set /kernel/log/level info; echo vkobj-exit $?\r')
        m = g.wait_for(r'vkobj-exit (\d+)', timeout=30)
        check('init.shell_children_hold_kobj_write', m.group(1) == '0', 'status %s' % m.group(1))
        g.type('busybox sleep 60\r')
        g.wait_for(r'busybox sleep 60\r?\n', timeout=30)
        time.sleep(1)
        g.type('\x03')
        g.type('echo status $?\r')
        m = g.wait_for(r'status (\d+)', timeout=30)
        check('init.ctrl_c_ends_foreground_job', m.group(1) == '130', 'status %s' % m.group(1))
        g.type('exit\r')
        g.wait_for(r'init: /bin/busybox exited with status 0; starting a new one', timeout=30)
        g.wait_for(r'built-in shell \(ash\)', timeout=30)
        g.type('echo again\r')
        g.wait_for(r'again\r?\n', timeout=30)
        check('init.restarts_the_shell', True)
        check('init.kernel_survived', 'PANIC' not in g.text())
    except BootError as e:
        check('console_init', False, str(e))
        dump_tail(g)
    finally:
        g.close()


def default_boot():
    """make run's boot: no init= on the command line, so init keeps the vkernel shell on
    the console. Typed on the serial port and on the PS/2 keyboard, shown on both; and
    Ctrl+Alt+Delete restarts cleanly."""
    g = Guest(cmdline='console=both log=info', smp=2)
    try:
        g.wait_for(r'vk:[^\n$]*\$ ', timeout=120)
        check('default_boot.shell_prompt_on_serial', True)
        start = len(g.text())
        g.type('hello\r')
        g.wait_for(r'Hello from vkernel userspace!', timeout=30)
        check('default_boot.program_from_path_runs', True)
        g.wait_for(r'vk:[^\n$]*\$ ', timeout=30)
        keys = ['e', 'c', 'h', 'o', 'spc', 'k', 'b', 'd', 'shift-x', 'ret']
        for key in keys:
            if key.startswith('shift-'):
                g.command('send-key', keys=[{'type': 'qcode', 'data': 'shift'},
                                            {'type': 'qcode', 'data': key[6:]}])
            else:
                g.command('send-key', keys=[{'type': 'qcode', 'data': key}])
            time.sleep(0.05)
        g.wait_for(r'\nkbdX\r?\n', timeout=30)
        check('default_boot.keyboard_types_into_the_shell', True)
        w, h, rgb = g.screenshot()
        # The shell's prompt and output are drawn on the framebuffer too: many text rows
        # hold more than the background colour.
        rows = sum(1 for y in range(0, h - 16, 16)
                   if len({rgb[(y + 12) * w * 3 + x * 3:(y + 12) * w * 3 + x * 3 + 3]
                           for x in range(0, min(w, 640))}) > 1)
        check('default_boot.framebuffer_shows_the_session', rows >= 5, '%d text rows' % rows)
        g.command('send-key', keys=[{'type': 'qcode', 'data': 'ctrl'},
                                    {'type': 'qcode', 'data': 'alt'},
                                    {'type': 'qcode', 'data': 'delete'}])
        status = g.wait_exit(timeout=60)  # -no-reboot turns the reset into an exit
        out = g.text()
        check('default_boot.ctrl_alt_del_restarts_cleanly',
              status == 0 and 'Ctrl+Alt+Delete: Rebooting.' in out and 'reboot failed' not in out,
              'status %s' % status)
        check('default_boot.kernel_survived', 'PANIC' not in out)
    except BootError as e:
        check('default_boot', False, str(e))
        dump_tail(g)
    finally:
        g.close()


def user_programs():
    """Ring 3: musl programs through the Linux syscall ABI, vk_api_t, fault isolation."""
    g = Guest(cmdline='console=serial test=user init=/bin/hello.vbin one "two words"', smp=1)
    try:
        status = g.wait_exit(timeout=120)
        out = g.text()
        check('hello.runs_in_ring3', 'Hello from vkernel userspace!' in out, out[-300:])
        check('hello.argv_passed_with_quoting', re.search(r'two words', out) and re.search(r'one', out))
        check('hello.exit_status_zero', status == qemu_exit_status(EXIT_INIT_OK), 'status %s' % status)
    except BootError as e:
        check('hello', False, str(e))
        dump_tail(g)
    finally:
        g.close()
    user_suite('test-basic')
    user_suite('musl-gcc-hello', init='/bin/musl-gcc-hello')
    user_suite('test-signals')
    user_suite('test-fork')
    user_suite('test-files')
    user_suite('test-kobj')
    user_suite('test-session', typing=[(r'session: type a line\r?\n', 'helo\x7flo\r'),
                                       (r'session: press ctrl-c\r?\n', '\x03'),
                                       (r'session: press ctrl-z\r?\n', '\x1a')])
    user_suite('test-threads')
    # Threads on four CPUs: the futex mutex count must still be exact.
    user_suite('test-threads', boot_name='test-threads-smp4', smp=4)
    # The same two on two CPUs: parent and children, handlers and faults on different
    # CPUs, copy-on-write shot down across them.
    user_suite('test-signals', boot_name='test-signals-smp2', smp=2)
    user_suite('test-fork', boot_name='test-fork-smp2', smp=2)
    user_suite('test-sched', smp=2)
    # Under -icount the guest clock is exact, so sleep lateness is the kernel's alone.
    user_suite('test-sched', 'sleep-precision', boot_name='test-sched-icount', smp=2,
               extra=['-icount', 'shift=0,sleep=off'])
    out = user_suite('test-isolation')
    check('isolation.log_write_cannot_forge_lines',
          re.search(r'test-isolation\.vbin\[\d+\]: log-probe\?\[    0\.000000\] forged-kernel-line\?\[2J end\n', out)
          is not None and '\n[    0.000000] forged-kernel-line' not in out,
          'the probe text was not logged as one sanitised line')
    flood = re.findall(r'test-isolation\.vbin\[\d+\]: flood-line (\d+)\n', out)
    check('isolation.log_flood_rate_limited',
          [int(n) for n in flood] == list(range(50)),
          'expected flood lines 0..49 only, got %d lines' % len(flood))
    check('isolation.log_flood_drops_counted',
          re.search(r'test-isolation\.vbin\[\d+\]: \(150 lines suppressed: more than 50 in 5 s\)\n'
                    r'[^\n]*test-isolation\.vbin\[\d+\]: flood-after-window\n', out) is not None,
          'no "150 lines suppressed" line before the one after the window')
    check('isolation.kill_reports_logged', len(re.findall(r'test-crash.vbin\[\d+\] killed by SIG', out)) >= 8,
          'expected a kill report per crash')
    # Each report names the faulting function and walks back through the callers.
    for fault in ('null', 'ud2', 'div0'):
        m = re.search(r'killed by SIG\w+: [^\n]*\n[^\n]*\n[^\n]*#0\s+0x[0-9a-f]+ crash_%s\+0x[0-9a-f]+[^\n]*\n'
                      r'[^\n]*#1\s+0x[0-9a-f]+ crash_dispatch\+0x[0-9a-f]+[^\n]*\n[^\n]*#2\s+0x[0-9a-f]+ main\+0x' % fault, out)
        check('isolation.crash_%s_report_symbolized' % fault, m is not None, 'no symbolized backtrace')


def crash_report():
    """test-crash deep (run by busybox sh, tests/guest/crash-report.sh): the kernel's report
    names each frame's function and file:line, checked against crash.c, and /crash/last in
    KObj holds the same report afterwards."""
    out = user_suite('crash-report', '/boot/modules/crash-report.sh', init='/bin/busybox sh')
    src = 'userspace/tests/crash/crash.c'
    expected = [('crash_deep_leaf', source_line(src, 'crash-report: deep fault')),
                ('crash_deep_middle', source_line(src, 'crash-report: deep call 2')),
                ('crash_deep', source_line(src, 'crash-report: deep call 1')),
                ('crash_dispatch', source_line(src, 'crash-report: dispatch call')),
                ('main', source_line(src, 'crash-report: main call'))]
    frame = r'#%d\s+0x[0-9a-f]+ %s\+0x[0-9a-f]+ \(userspace/tests/crash/crash\.c:%d\)'
    # Each line may carry the log's prefix; the report's lines follow one another.
    pattern = r'test-crash\.vbin\[\d+\] killed by SIGSEGV: [^\n]*address 0x0,[^\n]*\n[^\n]*rsp [^\n]*\n[^\n]*?'
    pattern += r'\n[^\n]*?'.join(frame % (i, re.escape(name), line) for i, (name, line) in enumerate(expected))
    check('crash-report.log_frames_file_line', re.search(pattern, out),
          'expected %s' % ', '.join('%s at crash.c:%d' % e for e in expected))
    last = re.search(r'crash-report: last begin\n(.*?)crash-report: last end', out, re.S)
    text = last.group(1) if last else ''
    check('crash-report.kobj_last_is_the_report', re.search(pattern, text),
          'no such report in /crash/last: %r' % text[:300])
    check('crash-report.kobj_last_has_registers', re.search(r'rsp 0x[0-9a-f]+ rbp 0x', text), text[:200])


def busybox():
    """Debian's unmodified busybox-static (glibc, non-PIE) runs a shell script of pipes,
    redirections, subshells, applets and file operations (tests/guest/busybox-test.sh)."""
    user_suite('busybox-test', '/boot/modules/busybox-test.sh', init='/bin/busybox sh')


FUZZ_SEED = 20240601  # fixed, so a failure in `make test` replays: make fuzz-guest SEED=...
FUZZ_CALLS = 200000  # the hardening issue's short run


def syscall_fuzz():
    """test-fuzz: random syscalls and 1000 malformed executables from ring 3; the kernel
    must survive and every child must die when killed (userspace/tests/fuzz)."""
    out = user_suite('test-fuzz', 'seed=%d calls=%d elfs=1000' % (FUZZ_SEED, FUZZ_CALLS),
                     timeout=720)
    for line in re.findall(r'^fuzz: (?:syscalls|elf): .*$', out, re.M):
        print('  ' + line)  # the counts docs/reliability.md records
    m = re.search(r'fuzz: syscalls: (\d+) calls', out)
    check('test-fuzz.calls_reported', m and int(m.group(1)) == FUZZ_CALLS, m and m.group(0))
    # Numbers outside both syscall tables were logged on every call (a log flood).
    unknown = [n for n in re.findall(r'syscall (\d+) \(unknown\) not implemented', out)
               if int(n) >= 512 and not 0x1000 <= int(n) < 0x1040]
    check('test-fuzz.enosys_out_of_range_logged_once', len(unknown) <= 1, '%d lines' % len(unknown))


def gpt_partition(image, number):
    """(first byte, length) of GPT partition `number` (1-based) of a disk image."""
    import struct
    with open(image, 'rb') as f:
        f.seek(512)
        header = f.read(92)
        entries_lba, count, size = struct.unpack_from('<QII', header, 72)
        f.seek(entries_lba * 512 + (number - 1) * size)
        first, last = struct.unpack_from('<QQ', f.read(size), 32)
    return first * 512, (last - first + 1) * 512


MTOOLS_ENV = dict(os.environ, MTOOLS_SKIP_CHECK='1')


def data_partition(guest):
    """A copy of the guest image's data partition (GPT entry 2) as its own file."""
    start, length = gpt_partition(guest.image, 2)
    part = os.path.join(guest.dir, 'data.img')
    with open(guest.image, 'rb') as src, open(part, 'wb') as dst:
        src.seek(start)
        dst.write(src.read(length))
    return part


def mtype(part, name):
    """A file's bytes read by mtools from a FAT image, or None when it cannot."""
    r = subprocess.run(['mtype', '-i', part, '::' + name], capture_output=True, env=MTOOLS_ENV)
    return r.stdout if r.returncode == 0 else None


def fsck_fat(part):
    """(exit status, output) of fsck.fat -n."""
    r = subprocess.run(['fsck.fat', '-n', part], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def fat32_data():
    """The data partition through the VFS: tests/guest/fat32-test.sh writes, renames,
    deletes and checks files on the data partition (the root); then, on the host, fsck.fat finds the volume clean
    (so it was also marked cleanly unmounted) and mtools reads back what the guest wrote."""
    import hashlib
    import tempfile
    g = Guest(cmdline='console=serial test=user init=/bin/busybox sh /boot/modules/fat32-test.sh',
              smp=1)
    try:
        status = g.wait_exit(timeout=180)
        out = g.text()
        for m in re.finditer(r'^(PASS|FAIL) (\S+)(.*)$', out, re.M):
            check('fat32-test.%s' % m.group(2), m.group(1) == 'PASS', m.group(3).strip(': '))
        check('fat32-test.exit_status_zero', status == qemu_exit_status(EXIT_INIT_OK), 'status %s' % status)
        check('fat32-test.mounted_cleanly', 'not cleanly unmounted' not in out)
        part = data_partition(g)
        rc, text = fsck_fat(part)
        check('fat32_data.fsck_clean', rc == 0, text[-500:])
        check('fat32_data.moved_file_on_host', mtype(part, '/Some Dir/moved.txt') == b'hello fat\nsecond line\n')
        check('fat32_data.long_name_on_host',
              mtype(part, '/Some Dir/Nested Deeper/A long file name.text') == b'nested\n')
        check('fat32_data.unicode_name_on_host', mtype(part, '/Ünïcödé ファイル.txt') == b'unicode\n')
        big, md5 = mtype(part, '/big.bin'), mtype(part, '/big.md5') or b''
        check('fat32_data.big_file_identical', big is not None and len(big) == 300000 and
              md5.split()[:1] == [hashlib.md5(big).hexdigest().encode()], 'md5 mismatch')
        check('fat32_data.truncated_on_host', mtype(part, '/trunc.txt') == b'0123')
        check('fat32_data.deleted_gone_on_host', mtype(part, '/victim.txt') is None)
        r = subprocess.run(['mdir', '-b', '-i', part, '::/many'], capture_output=True, text=True,
                           env=MTOOLS_ENV)
        check('fat32_data.many_files_on_host', len(r.stdout.split()) == 40, r.stdout[-200:])
        start, length = gpt_partition(g.image, 1)
        esp = os.path.join(g.dir, 'esp.img')
        with open(g.image, 'rb') as src, open(esp, 'wb') as dst:
            src.seek(start)
            dst.write(src.read(length))
        rc, text = fsck_fat(esp)
        check('fat32_data.esp_clean_after_shutdown', rc == 0 and 'Dirty bit' not in text, text[-300:])
        if status != qemu_exit_status(EXIT_INIT_OK):
            dump_tail(g, 60)
    except BootError as e:
        check('fat32_data', False, str(e))
        dump_tail(g)
    finally:
        g.close()

    # A data partition that does not mount: the ramfs stays the root, the system boots.
    work = tempfile.mkdtemp(prefix='vkfallback.')
    broken = os.path.join(work, 'broken.img')
    shutil.copy(IMAGE, broken)
    start, _ = gpt_partition(broken, 2)
    with open(broken, 'r+b') as f:
        f.seek(start)
        f.write(bytes(512))
    def after_fallback(g):
        out = g.text()
        check('fallback_root.refusal_logged', 'fat32: vda2 not mounted' in out, out[-500:])
        check('fallback_root.ramfs_root_logged', 'the root stays the ramfs' in out)
    try:
        user_suite('fallback-root', '/boot/modules/fallback-root.sh', init='/bin/busybox sh',
                   after=after_fallback, image=broken)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xffffffff
    return h


# Only these fsck.fat -n lines may appear after a crash: the dirty flag is expected.
FSCK_DIRTY_ONLY = re.compile(r'^(fsck\.fat \S+ \(.*\)|Dirty bit is set\. Fs was not properly '
                             r'unmounted and some data may be corrupt\.| Automatically removing '
                             r'dirty bit\.|Leaving filesystem unchanged\.|\S+: \d+ files, '
                             r'\d+/\d+ clusters|)$')


def storage():
    """userspace/tests/storage: two writers on four CPUs torture the data partition (/) through the
    write-back cache, then a clean unmount (fsck.fat fully clean, dirty flag cleared,
    mtools reads what the manifests say); then a crash: files fsynced, QEMU killed hard
    during unsynced overwrites, and every synced file must be intact on the host."""
    def after_torture(g):
        part = data_partition(g)
        rc, text = fsck_fat(part)
        check('storage.clean_unmount_fsck_clean', rc == 0 and 'Dirty bit' not in text, text[-500:])
        for w in range(2):
            manifest = mtype(part, '/st/w%d.sum' % w) or b''
            lines = manifest.decode(errors='replace').splitlines()
            bad = []
            for line in lines:
                name, size, digest = line.split('|')
                data = mtype(part, '/st/' + name)
                if data is None or len(data) != int(size) or fnv1a(data) != int(digest, 16):
                    bad.append(name)
            check('storage.writer%d_files_identical_on_host' % w, lines and not bad,
                  'manifest %d lines, differing: %s' % (len(lines), bad[:3]))

    user_suite('test-storage', boot_name='test-storage-smp4', smp=4, after=after_torture)

    g = Guest(cmdline='console=serial test=user init=/bin/test-storage.vbin crash', smp=2)
    try:
        g.wait_for(r'STORAGE-CRASH-(READY|FAILED)', timeout=150)
        ready = 'STORAGE-CRASH-READY' in g.text()
        check('storage_crash.synced_workload_ran', ready, g.text()[-300:])
        time.sleep(1.0)  # the unsynced overwrites and their write-backs are under way
        g.proc.kill()  # no shutdown: what the disk holds now is all there is
        g.proc.wait()
        part = data_partition(g)
        rc, text = fsck_fat(part)
        unexpected = [l for l in text.splitlines() if not FSCK_DIRTY_ONLY.match(l)]
        check('storage_crash.fsck_only_dirty_flag', not unexpected, '; '.join(unexpected[:5]))
        check('storage_crash.dirty_flag_was_set', 'Dirty bit is set' in text, text[-300:])
        sizes = [0, 1, 511, 512, 513, 4095, 4096, 4097, 8192, 12345, 32768, 65536, 70000,
                 100000, 150000, 262144]
        bad = []
        for i, size in enumerate(sizes):
            want = bytes((i * 131 + j * 7 + (j >> 8)) & 255 for j in range(size))
            if mtype(part, '/crash/file%02d.bin' % i) != want:
                bad.append(i)
        check('storage_crash.synced_files_intact', ready and not bad, 'files differ: %s' % bad)
        check('storage_crash.no_temporary_names_left',
              all(mtype(part, '/crash/tmp%02d' % i) is None for i in range(1, 16, 4)))
        check('storage_crash.kernel_survived', 'PANIC' not in g.text())
        crashed = os.path.join(tempfile.mkdtemp(prefix='vkcrash.'), 'crashed.img')
        shutil.copy(g.image, crashed)
    except BootError as e:
        check('storage_crash', False, str(e))
        dump_tail(g)
        return
    finally:
        g.close()

    # The next boot on the crashed disk: the mount reports the dirty flag, the files are
    # there, and the clean unmount at the end leaves a volume fsck.fat finds clean.
    def after_reboot(g):
        check('storage_reboot.dirty_flag_reported',
              'fat32 vda2: the volume was not cleanly unmounted' in g.text())
        rc, text = fsck_fat(data_partition(g))
        check('storage_reboot.fsck_clean_after_clean_unmount', rc == 0, text[-500:])

    try:
        user_suite('test-storage', 'after-crash', boot_name='test-storage-reboot', smp=1,
                   init='/bin/test-storage.vbin', after=after_reboot, image=crashed)
    finally:
        shutil.rmtree(os.path.dirname(crashed), ignore_errors=True)


def gdb_process_helpers():
    """gdb helpers (scripts/gdb/vkernel.py): vk-break-start, find-process, vk-tasks, vk-log."""
    import gdb_helpers
    gdb_helpers.run(check, Guest, ROOT)


def vkbench_smoke():
    """vkbench --quick on vkernel: every line parses, the core figures are numbers."""
    import bench_smoke
    bench_smoke.run(check, Guest, qemu_exit_status)


def ipc():
    """Channels, handles, rights, waits and shared memory between processes
    (userspace/tests/ipc), on one CPU and on two; named services, calls, descriptors
    and cycles (userspace/tests/ipc-services) on four."""
    user_suite('test-ipc')
    user_suite('test-ipc', boot_name='test-ipc-smp2', smp=2)
    # Named services, calls, descriptors, cycles, the ipc-echo example and a stress run
    # of 4 client processes against one server (userspace/tests/ipc-services).
    user_suite('test-ipc-services', boot_name='test-ipc-services-smp4', smp=4)
    # Seeded random traffic, handle transfers, closes and kills on four CPUs, then the
    # invariants (userspace/tests/ipc-stress). The seed is printed; VK_IPC_STRESS_SEED
    # repeats a run.
    user_suite('test-ipc-stress', args=os.environ.get('VK_IPC_STRESS_SEED', ''),
               boot_name='test-ipc-stress-smp4', smp=4)


def ps2_input():
    """PS/2 input in one boot of the default monitor mode: a command typed on the QEMU
    keyboard (QMP send-key) runs, mouse moves and clicks (QMP input-send-event) are
    counted in KObj, and the keyboard driver unloaded through KObj ignores keys until
    it is loaded again. Built-in drivers refuse to unload."""
    g = Guest(cmdline='console=both log=info panic=exit monitor', smp=1)

    def after(mark, pattern, timeout=20):
        """The first match of pattern in the serial text past offset mark."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, g.text()[mark:])
            if m:
                return m
            time.sleep(0.05)
        raise BootError('timed out after %ss waiting for %r' % (timeout, pattern))

    def keys(text):
        names = {' ': 'spc', '\r': 'ret', '/': 'slash', '-': 'minus'}
        for ch in text:
            g.command('send-key', keys=[{'type': 'qcode', 'data': names.get(ch, ch)}])
            time.sleep(0.15)

    def kobj(path, value=None):
        """Runs the monitor's kobj command on serial; returns the value (or the reply)."""
        mark = len(g.text())
        g.type('kobj %s%s\r' % (path, ' ' + value if value else ''))
        m = after(mark, re.escape(path) + r'(?: = (.*)|: (set|error -?\d+))\n')
        return m.group(1) if m.group(1) is not None else m.group(2)

    try:
        g.wait_for(r'ps2: keyboard ready, mouse ready', timeout=90)
        check('ps2.controller_and_devices_found', True)
        g.wait_for(r'vk> ', timeout=30)

        mark = len(g.text())
        keys('mem\r')
        after(mark, r'mem\nphysical memory: \d+ MiB total')
        check('ps2.keyboard_drives_the_monitor', True)
        check('ps2.keys_counted', int(kobj('/drivers/ps2-keyboard/keys')) >= 4)

        before = int(kobj('/drivers/ps2-mouse/packets'))
        for i in range(5):
            g.command('input-send-event', events=[
                {'type': 'rel', 'data': {'axis': 'x', 'value': 7}},
                {'type': 'rel', 'data': {'axis': 'y', 'value': -3}}])
            time.sleep(0.05)
        for down in (True, False):
            g.command('input-send-event', events=[
                {'type': 'btn', 'data': {'down': down, 'button': 'left'}}])
            time.sleep(0.05)
        time.sleep(0.5)
        moved = int(kobj('/drivers/ps2-mouse/packets'))
        check('ps2.mouse_packets_counted', moved >= before + 6, '%d -> %d' % (before, moved))
        check('ps2.mouse_wheel_detected', kobj('/drivers/ps2-mouse/wheel') == 'true')
        check('ps2.mouse_no_resyncs', kobj('/drivers/ps2-mouse/resyncs') == '0')

        check('ps2.unload_keyboard', kobj('/drivers/ps2-keyboard/unload', '1') == 'set')
        check('ps2.unloaded_state', kobj('/drivers/ps2-keyboard/loaded') == 'false')
        pressed = kobj('/drivers/ps2-keyboard/keys')
        mark = len(g.text())
        keys('uptime\r')
        time.sleep(2)
        check('ps2.unloaded_keyboard_ignores_keys',
              not re.search(r'up \d+\.\d+ s|uptime', g.text()[mark:]) and
              kobj('/drivers/ps2-keyboard/keys') == pressed)
        check('ps2.load_keyboard', kobj('/drivers/ps2-keyboard/load', '1') == 'set')
        check('ps2.loaded_state', kobj('/drivers/ps2-keyboard/loaded') == 'true')
        mark = len(g.text())
        keys('uptime\r')
        after(mark, r'uptime\nup \d+\.\d+ s')
        check('ps2.reloaded_keyboard_works', True)

        check('drivers.serial_refuses_unload',
              kobj('/drivers/serial/unload', '1') == 'error -16' and
              kobj('/drivers/serial/message').startswith('unload refused: ') and
              kobj('/drivers/serial/loaded') == 'true')
        check('drivers.virtio_blk_listed', kobj('/drivers/virtio-blk/unloadable') == 'false')
        check('ps2.no_panic', 'PANIC' not in g.text())
    except BootError as e:
        check('ps2_input', False, str(e))
        dump_tail(g)
    finally:
        g.close()



SHELL_PROMPT = r'\nvk:[^\n$]*\$ '


def shell_suite():
    """The shell (userspace/shell, docs/shell.md) as init on the serial console: typed
    commands and keys, every builtin, pipes and redirection into files on the data partition, control
    operators, variables, history and line editing, a program on PATH, errors, and Ctrl-C
    stopping a foreground program (needs the kernel tty)."""
    g = Guest(cmdline='console=serial test=user init=/bin/shell.vbin', smp=1)

    def sh(keys, timeout=30):
        """Types keys; returns what the shell printed up to its next prompt (the echoed
        command line included, CRs removed)."""
        start = len(g.text())
        g.type(keys)
        deadline = time.time() + timeout
        while True:
            # A prompt may start the new output when the keys did not end the line (q
            # leaving watch); after Enter a redrawn line may start it (history, Tab).
            text = g.text()[start:]
            out = text if keys.endswith('\r') else '\n' + text
            m = re.search(SHELL_PROMPT, out)
            if m:
                return out[:m.start() + 1]
            if time.time() > deadline or g.proc.poll() is not None:
                raise BootError('no prompt after %r; got %r' % (keys, out[-400:]))
            time.sleep(0.05)

    def body(out):
        return out.split('\n', 1)[1] if '\n' in out else ''

    try:
        g.wait_for(SHELL_PROMPT, timeout=120)
        check('shell.prompt', True)
        out = sh('help\r')
        check('shell.help', all(c in out for c in ('version', 'drvunload', 'poweroff', 'history')), out[-300:])
        out = sh('? cd\r')
        check('shell.help_question_mark', 'cd [dir]' in out, out)
        out = sh('version\r')
        check('shell.version', re.search(r'vkernel \d+\.\d+\.\d+ \(build [^)]+\)', out), out)
        out = sh('uptime\r')
        check('shell.uptime', re.search(r'up \d+:\d\d:\d\d\.\d{3} \(\d+ s\)', out), out)
        out = sh('mem\r')
        m = re.search(r'memory: (\d+) MiB total, (\d+) MiB free', out)
        check('shell.mem', m and 0 < int(m.group(2)) < int(m.group(1)) <= 512, out)
        out = sh('tasks\r')
        check('shell.tasks', re.search(r'TID\s+STATE.*RUN_MS\s+USER_MS\s+SYS_MS', out) and
              re.search(r'\d+ [a-z]+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+shell\.vbin', out), out[-500:])
        out = sh('top once\r')
        check('shell.top_once', re.search(r'top: \d+ tasks', out) and 'USER_MS' in out and 'shell.vbin' in out, out[-500:])
        out = sh('tasks | wc -l\r')
        m = re.search(r'\n(\d+)\n', out)
        check('shell.builtin_in_pipeline', m and int(m.group(1)) >= 3, out)
        out = sh('ls /\r')
        check('shell.ls_filesystem', all(d + '/' in out for d in ('bin', 'boot', 'dev', 'kobj', 'tmp')) and
              'README.txt' in out, out)
        out = sh('ls /kernel\r')
        check('shell.ls_kobj', re.search(r'version\s+string\s+\d+\.\d+', out) and re.search(r'log/\s+dir', out), out)
        out = sh('get /kernel/version\r')
        check('shell.get', re.search(r'\n\d+\.\d+\.\d+\n', out), out)
        out = sh('describe /mem/free\r')
        check('shell.describe', re.search(r'/mem/free: uint, access \[.*\], unit bytes\n\s+RAM not allocated', out), out)
        out = sh('set /kernel/log/level debug; get /kernel/log/level\r')
        check('shell.set', '/kernel/log/level = debug' in out and '\ndebug\n' in out, out)
        # The level changes what is logged: a process ended by SIGTERM is a debug line.
        start = len(g.text())
        sh("busybox sh -c 'kill -TERM $$'; set /kernel/log/level info; busybox sh -c 'kill -TERM $$'\r")
        lines = re.findall(r'debug: busybox\[\d+\] terminated by signal 15', g.text()[start:])
        check('shell.log_level_changes_what_is_logged', len(lines) == 1, '%d debug lines' % len(lines))
        out = sh('set /kernel/log/level loud; echo status=$?; set /kernel/log/level info\r')
        check('shell.set_bad_value', 'set: /kernel/log/level:' in out and 'status=3' in out, out)
        out = sh('get /no/such/node; echo status=$?\r')
        check('shell.get_not_found', 'get: /no/such/node: not available in this kernel' in out and 'status=2' in out, out)
        start = len(g.text())
        g.type('watch /kernel/uptime_ns 200\r')
        time.sleep(3)
        out = sh('q')
        values = re.findall(r'\n(\d{6,})\n', g.text()[start:])
        check('shell.watch', len(set(values)) >= 2, out)
        out = sh('idt; echo status=$?\r')
        check('shell.idt', re.search(r'/irq/\S+\s+\d+', out), out)
        out = sh('drvunload nosuchdrv; echo status=$?; drvload nosuchdrv\r')
        check('shell.drvload_drvunload_missing',
              'drvunload: /drivers/nosuchdrv/unload: not available in this kernel' in out and
              'drvload: /drivers/nosuchdrv/load: not available in this kernel' in out and 'status=2' in out, out)
        # drvunload really stops the keyboard: keys pressed meanwhile are not counted;
        # drvload starts it again.
        out = sh('drvunload ps2-keyboard; get /drivers/ps2-keyboard/loaded; get /drivers/ps2-keyboard/keys\r')
        m = re.search(r'\n(false)\n(\d+)\n', out)
        check('shell.drvunload_stops_driver', m is not None, out)
        if m:
            for key in ('a', 'b', 'c'):
                g.command('send-key', keys=[{'type': 'qcode', 'data': key}])
            time.sleep(0.5)
            out = sh('get /drivers/ps2-keyboard/keys; drvload ps2-keyboard; get /drivers/ps2-keyboard/loaded\r')
            check('shell.unloaded_driver_ignores_keys', re.search(r'\n%s\n' % m.group(2), out), out)
            check('shell.drvload_restarts_driver', '\ntrue\n' in out, out)
            g.command('send-key', keys=[{'type': 'qcode', 'data': 'ret'}])  # typed on the console
            time.sleep(1)  # its empty line and prompt come and go before the next command
            out = sh('get /drivers/ps2-keyboard/keys\r')
            k = re.search(r'\n(\d+)\n', out)
            check('shell.loaded_driver_counts_keys_again', k and int(k.group(1)) > int(m.group(2)), out)
        out = sh('run hello one\r')
        check('shell.run', 'Hello from vkernel userspace!' in out, out)
        out = sh('hello; echo status=$?\r')
        check('shell.program_on_path', 'Hello from vkernel userspace!' in out and 'status=0' in out, out)
        out = sh('alloc\r', timeout=60)
        check('shell.alloc', re.search(r'alloc: \d+ allocations, \d+ bytes, 0 bad bytes: ok', out), out)
        out = sh('clear; echo cleared\r')
        check('shell.clear', '\x1b[2J' in out, repr(out))
        # panic asks first; anything but yes leaves the machine running.
        g.type('panic\r')
        g.wait_for(r'Type yes to confirm: ', timeout=30)
        out = sh('no\r')
        check('shell.panic_refused', 'panic: not confirmed' in out, out)
        out = sh('cd /; pwd; mkdir shdir; cd shdir; pwd; echo one > f.txt; echo two >> f.txt; cat f.txt\r')
        check('shell.cd_pwd_redirect_on_data', '\n/\n/shdir\n' in out and '\none\ntwo\n' in out, out)
        out = sh('cp f.txt g.txt; mv g.txt h.txt; touch e.txt; ls\r')
        check('shell.cp_mv_touch', 'h.txt' in out and 'e.txt' in out and 'g.txt' not in body(out), out)
        out = sh('head -n 1 h.txt; tail -n 1 h.txt; wc h.txt; cat h.txt | wc -l\r')
        check('shell.head_tail_wc_pipe', re.search(r'\none\ntwo\n2 2 8\n2\n', out), out)
        out = sh('wc -l < f.txt > count.txt 2>&1; cat count.txt; cat nosuch 2> err.txt; cat err.txt\r')
        check('shell.redirect_in_out_err', '\n2\n' in out and 'cat: nosuch:' in out, out)
        out = sh('rm e.txt f.txt h.txt count.txt err.txt; cd ..; rm -d shdir; ls /shdir; echo status=$?\r')
        check('shell.rm', 'status=0' not in out, out)
        out = sh('false; echo a=$?; true && echo and-ok; false || echo or-ok; false && echo never\r')
        check('shell.control_operators', 'a=1' in out and 'and-ok' in out and 'or-ok' in out and 'never' not in body(out), out)
        out = sh('FOO=bar; echo "${FOO}x" $FOO \'$FOO\'; export FOO; env | busybox grep FOO; unset FOO; echo [$FOO]\r')
        check('shell.variables', 'barx bar $FOO' in out and '\nFOO=bar\n' in out and '\n[]\n' in out, out)
        out = sh('nosuch; echo status=$?\r')
        check('shell.unknown_command', 'shell: nosuch: command not found' in out and 'status=127' in out, out)
        out = sh('echo a | | b; echo $?\r')
        out2 = sh('echo $?\r')
        check('shell.syntax_error', 'syntax error' in out and '\n2\n' in out2, out + out2)
        out = sh('echo wrld\x1b[D\x1b[D\x1b[Do\r')
        check('shell.line_edit_left_insert', '\nworld\n' in out, repr(out))
        out = sh('cho x\x01e\x05 y\x7fz\r')
        check('shell.line_edit_home_end_backspace', '\nx z\n' in out, repr(out))
        out = sh('\x1b[A\x1b[A\r')
        check('shell.history_up', '\nworld\n' in out, repr(out))
        out = sh('ech\t tabbed\r')
        check('shell.tab_completion', '\ntabbed\n' in out, repr(out))
        out = sh('echo abandoned\x03')
        check('shell.ctrl_c_abandons_line', '^C' in out and '\nabandoned' not in out, repr(out))
        out = sh('history\r')
        check('shell.history', re.search(r'\d+\s+echo wrld', out) is None and
              re.search(r'\d+\s+echo world', out) and re.search(r'\d+\s+version', out), out[-400:])
        out = sh('cat /kobj/mem/total\r')
        check('shell.cat_kobjfs', re.search(r'\n\d+\n', out), out)
        # Ctrl-C stops a foreground program: needs the tty's ISIG (SIGINT to the
        # foreground process group). The console of today passes the byte through.
        start = time.time()
        g.type('busybox sleep 8\r')
        time.sleep(1)
        g.type('\x03')
        try:
            g.wait_for(r'busybox sleep 8\n(?:[^\n]*\n){0,3}' + SHELL_PROMPT[2:], timeout=4)
            stopped = time.time() - start < 5
        except BootError:
            stopped = False
        check('shell.ctrl_c_stops_program', stopped, 'the prompt did not come back within 4 s of Ctrl-C')
        time.sleep(max(0, 10 - (time.time() - start)))
        out = sh('echo settled\r')
        out = sh('reboot now; echo status=$?\r')
        check('shell.reboot_bad_argument', 'usage: reboot' in out and 'status=2' in out, out)
        # poweroff: reboot(2) flushes the filesystems and powers off through ACPI, which
        # ends QEMU with status 0 (not through isa-debug-exit).
        g.type('poweroff\r')
        status = g.wait_exit(timeout=60)
        check('shell.poweroff', status == 0 and 'Powering off.' in g.text(), 'status %s' % status)
        out = g.text()
        check('shell.kernel_survived', 'PANIC' not in out)
        check('shell.data_unmounted_cleanly', 'not cleanly unmounted' not in out)
    except BootError as e:
        check('shell', False, str(e))
        dump_tail(g, 60)
    finally:
        g.close()


SUITES = [disk_image, run_qemu_script, boot_default, kernel_tests, kernel_tests_smp,
          kernel_tests_debug, busybox, fat32_data, storage, panic_report, panic_report_smp,
          bad_kernel, crash_report, gdb_attach, gdb_process_helpers, user_programs,
          console_init, default_boot, ipc, syscall_fuzz, vkbench_smoke, ps2_input,
          shell_suite]


def main():
    wanted = sys.argv[1] if len(sys.argv) > 1 else ''
    for suite in SUITES:
        if wanted and wanted not in suite.__name__:
            continue
        print('== %s' % suite.__name__, flush=True)
        try:
            suite()
        except Exception:  # a bug in the test itself is a failure, never a skip
            traceback.print_exc()
            check(suite.__name__ + '.harness', False)
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print('integration: %d passed, %d failed' % (passed, failed))
    return 1 if failed or not results else 0


if __name__ == '__main__':
    sys.exit(main())
