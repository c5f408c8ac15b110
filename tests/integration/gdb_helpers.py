# SPDX-License-Identifier: MIT
"""The gdb helpers (scripts/gdb/vkernel.py) against a real boot: gdb in batch mode on a
paused QEMU (TCG), vk-break-start hello, hbreak main in ring 3, then read the backtrace,
the source line, the kernel's process and thread lists, a sleeping thread's backtrace
(vk-bt), KObj nodes (vk-kobj) and its log ring."""
import os
import re
import socket
import subprocess


def free_port():
    """A TCP port nobody listens on now (QEMU binds it a moment later)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def gdb_batch(ROOT, port, commands, timeout=180):
    """gdb -batch on the kernel with the helpers, connected to QEMU on port: its output."""
    kernel = os.path.join(ROOT, 'build', 'kernel', 'vkernel.elf')
    args = ['gdb', '-batch', '-nx']
    for c in ['set confirm off', 'set pagination off',
              'source ' + os.path.join(ROOT, 'scripts', 'gdb', 'vkernel.py'),
              'target remote 127.0.0.1:%d' % port] + commands:
        args += ['-ex', c]
    r = subprocess.run(args + [kernel], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    return r.stdout + r.stderr


def run(check, Guest, ROOT):
    def paused(cmdline):
        return lambda port: Guest(cmdline=cmdline, smp=1,
                                  extra=['-S', '-gdb', 'tcp:127.0.0.1:%d' % port])
    session(check, 'gdb_helpers', paused('console=serial test=user init=/bin/hello.vbin gdbtest'),
            lambda g, port: run_hello(check, g, port, ROOT))
    session(check, 'gdb_helpers.shell',
            paused('console=serial test=user init=/bin/busybox sh /boot/modules/crash-report.sh'),
            lambda g, port: run_shell_crash(check, port, ROOT))
    session(check, 'gdb_helpers.vkernel_shell', paused('console=serial log=info'),
            lambda g, port: run_vkernel_shell(check, g, port, ROOT))


def run_vkernel_shell(check, g, port, ROOT):
    """docs/debugging.md's shell walk-through: the normal boot (init forks and execs the
    vkernel shell), vk-break-start shell stops after the exec, and a breakpoint in the
    shell catches a typed line."""
    import threading
    import time

    def type_a_line():
        try:
            g.wait_for(r'vk:[^\n$]*\$ ', timeout=240)
            time.sleep(2)
            g.type('echo hi\r')
        except Exception:  # the gdb side reports what it did not see
            pass
    threading.Thread(target=type_a_line, daemon=True).start()
    out = gdb_batch(ROOT, port, ['vk-break-start shell', 'continue', 'hbreak shell_run_line',
                                 'continue', 'bt', 'delete'], timeout=240)
    check('gdb_helpers.vkernel_shell_break_after_exec',
          re.search(r'proc_exec_done .*\n.*\nvkernel: shell\.vbin symbols at 0x400000000000', out),
          out[-600:])
    check('gdb_helpers.vkernel_shell_line_breakpoint',
          re.search(r'shell_run_line \(line=[^)]*"echo hi"\) at userspace/shell/exec\.c:\d+', out) and
          re.search(r'in main .* at userspace/shell/main\.c:\d+', out), out[-600:])


def session(check, name, boot, body):
    """Boots a paused guest with a gdb server and runs body(guest, port); a boot or gdb
    failure is a failed check named name, never a skip."""
    port = free_port()
    g = None
    try:
        g = boot(port)
        body(g, port)
    except subprocess.TimeoutExpired as e:
        check(name, False, 'gdb timed out: %s' % e)
    except Exception as e:  # BootError and friends
        check(name, False, '%s: %s' % (type(e).__name__, e))
    finally:
        if g:
            g.close()


def run_shell_crash(check, port, ROOT):
    """The shell configuration's stop (vk-break-start busybox), then a crash under it:
    stopped right after the kernel kept the report, vk-kobj reads /crash from memory."""
    out = gdb_batch(ROOT, port, [
        'vk-break-start busybox', 'continue', 'echo ==SHELL==\\n', 'vk-tasks',
        'delete', 'hbreak crash_record', 'continue', 'finish',
        'echo ==CRASH==\\n', 'vk-kobj /crash/count', 'vk-kobj /crash/last', 'echo ==END==\\n'])
    shell = re.search(r'==SHELL==\n(.*?)==', out, re.S)
    check('gdb_helpers.shell_break_start',
          shell and re.search(r'^\*\s+1\s+0\s+PROC_RUNNING\s+0x0000000000400000 busybox$', shell.group(1), re.M),
          out[-600:])
    crash = re.search(r'==CRASH==\n(.*?)==END==', out, re.S)
    text = crash.group(1) if crash else out[-600:]
    check('gdb_helpers.vk_kobj_reads_crash_after_fault',
          re.search(r'^value: 1$', text, re.M) and
          re.search(r'^value: test-crash\.vbin\[\d+\] killed by SIGSEGV', text, re.M) and
          re.search(r'#0\s+0x[0-9a-f]+ crash_deep_leaf\+0x[0-9a-f]+ \(userspace/tests/crash/crash\.c:\d+\)', text),
          text[-800:])


def run_hello(check, g, port, ROOT):
    """vk-break-start hello, hbreak main, bt and source lines in ring 3, then the kernel's
    process and thread lists, vk-bt of the boot thread, vk-kobj and vk-log."""
    commands = ['vk-break-start hello.vbin', 'continue',
                'echo ==RING3-ENTRY==\\n', 'info symbol $pc',
                'hbreak main', 'continue', 'set backtrace past-main on',
                'echo ==BT==\\n', 'bt',
                'echo ==FRAME==\\n', 'frame', 'info source',
                'echo ==TASKS==\\n', 'vk-tasks',
                'echo ==THREADS==\\n', 'vk-threads',
                'echo ==VKBT==\\n', 'vk-bt 0',
                'echo ==KOBJ==\\n', 'vk-kobj /crash', 'vk-kobj /crash/count',
                'vk-kobj /kernel/version',
                'echo ==LOG==\\n', 'vk-log 5', 'echo ==END==\\n']
    out = gdb_batch(ROOT, port, commands)

    def section(name):
        m = re.search(r'==%s==\n(.*?)(?===\w+==|\Z)' % name, out, re.S)
        return m.group(1) if m else ''

    entry = section('RING3-ENTRY')
    check('gdb_helpers.break_start_stops_at_ring3_entry',
          'arch_user_enter' in entry and 'hello.vbin symbols at 0x400000000000' in out,
          out[-600:] + '\n--- serial ---\n' + g.text()[-600:])
    bt, frame, tasks, log = section('BT'), section('FRAME'), section('TASKS'), section('LOG')
    hello_c = os.path.join(ROOT, 'userspace', 'hello', 'hello.c')
    lines = open(hello_c).read().splitlines()
    m = re.search(r'^#0\s+main \(argc=(\d+), argv=0x[0-9a-f]+\) at (\S*userspace/hello/hello\.c):(\d+)',
                  bt, re.M)
    check('gdb_helpers.stopped_in_hello_main', m is not None, bt[-400:] or out[-600:])
    if m:
        # The reported line lies inside main's body and gdb shows that source line.
        line = int(m.group(3))
        start = next(i for i, t in enumerate(lines, 1) if t.startswith('int main('))
        check('gdb_helpers.source_line_in_main', start < line <= len(lines) and
              lines[line - 1].strip() in frame, 'line %d: %r' % (line, frame[-200:]))
        check('gdb_helpers.argv_from_cmdline', m.group(1) == '2', 'argc=' + m.group(1))
    check('gdb_helpers.info_source_is_hello_c',
          re.search(r'Current source file is \S*userspace/hello/hello\.c', frame), frame[-300:])
    check('gdb_helpers.backtrace_through_libc_start',
          re.search(r'^#1\s+0x[0-9a-f]+ in \S*libc_start\S*', bt, re.M), bt[-400:])
    m = re.search(r'^\*\s+(\d+)\s+\d+\s+PROC_RUNNING\s+0x0000400000000000 hello\.vbin$', tasks, re.M)
    check('gdb_helpers.vk_tasks_lists_hello_as_current', m is not None, tasks[-300:])
    threads, vkbt, kobj = section('THREADS'), section('VKBT'), section('KOBJ')
    check('gdb_helpers.vk_threads_lists_main_and_hello',
          re.search(r'^\s+0\s+-\s+SCHED_THREAD_BLOCKED\s+\d+ main$', threads, re.M) and
          re.search(r'^\s+\d+\s+1\s+SCHED_THREAD_RUNNING\s+\d+ hello\.vbin$', threads, re.M),
          threads[-400:])
    # Thread 0 ("main") waits for init: from the saved switch frame through the
    # scheduler and proc_wait to run_init in main.c, each frame with file:line.
    frames = re.findall(r'^#(\d+)\s+0x[0-9a-f]+ in (\S+) \((\S+):(\d+)\)$', vkbt, re.M)
    names = [f[1] for f in frames]
    check('gdb_helpers.vk_bt_sleeping_thread',
          len(frames) >= 4 and frames[0][2].endswith('sched/sched.c') and
          any(n.startswith('proc_wait') for n in names) and 'run_init' in names and
          min(i for i, n in enumerate(names) if n.startswith('proc_wait')) < names.index('run_init'),
          vkbt[-600:])
    run_init = [f for f in frames if f[1] == 'run_init']
    if run_init:
        main_c = open(os.path.join(ROOT, 'kernel', 'core', 'main.c')).read().splitlines()
        line = int(run_init[0][3])
        check('gdb_helpers.vk_bt_line_is_the_wait', run_init[0][2].endswith('core/main.c') and
              'proc_wait' in main_c[line - 1], 'main.c:%d: %r' % (line, main_c[line - 1]))
    check('gdb_helpers.vk_kobj_lists_dir',
          re.search(r'^/crash: KOBJ_DIR, access r\n.*\n\s+count\s+KOBJ_UINT\n\s+last\s+KOBJ_STRING$',
                    kobj, re.M), kobj[-500:])
    check('gdb_helpers.vk_kobj_reads_variable',
          re.search(r'^/crash/count: KOBJ_UINT, access rv\n.*\nvalue: 0$', kobj, re.M), kobj[-500:])
    check('gdb_helpers.vk_kobj_names_getter',
          re.search(r'^/kernel/version: KOBJ_STRING.*\n.*\nvalue: needs the live getter text_get', kobj, re.M),
          kobj[-500:])
    log_lines = [t for t in log.splitlines() if t.strip()]
    check('gdb_helpers.vk_log_prints_recent_lines',
          len(log_lines) == 5 and any('starting init' in t for t in log_lines), log[-400:])
