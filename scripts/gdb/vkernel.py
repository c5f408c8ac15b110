# SPDX-License-Identifier: MIT
"""gdb helpers for vkernel: read the kernel's process list and log ring, and load a
program's symbols at its load base so `hbreak main`, `bt` and source lines work in ring 3.

Sourced by scripts/gdb/vkernel.gdb (make debug) and the VS Code launch configurations.
Commands: find-process, vk-tasks, vk-log, vk-break-start (see `help <command>`).

Design notes:
- Kernel statics are read by file-qualified lookup: `current` exists in more than one
  translation unit, so a bare name is ambiguous. Nothing here calls kernel functions
  (that would run code in a stopped guest).
- Programs are static PIEs linked at 0 and loaded at EXEC_PIE_BASE (kernel/proc/exec.h);
  a running process's process_t.image_base wins over that default.
- vk-break-start uses a hardware breakpoint on arch_user_enter: the firmware runs first
  and the loader copies the kernel over any int3 a software breakpoint would plant early.
"""
import os

import gdb

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
PROGRAM_DIR = os.path.join(ROOT, 'build', 'userspace', 'bin')
PIE_BASE = 0x0000400000000000  # EXEC_PIE_BASE in kernel/proc/exec.h
MAX_PROCESSES = 4096           # guards the list walk against a corrupt `next`

_loaded = {}  # program path -> offset it was loaded at


def _static(name, file_suffix):
    """A static variable of one kernel source file, e.g. _static('all', 'proc/proc.c')."""
    for sym in gdb.lookup_static_symbols(name):
        if sym.symtab and sym.symtab.filename.endswith(file_suffix):
            return sym.value()
    return gdb.parse_and_eval("'%s'::%s" % (os.path.basename(file_suffix), name))


def _processes():
    """process_t values from the kernel's `all` list (newest first)."""
    out = []
    p = _static('all', 'proc/proc.c')
    while int(p) != 0 and len(out) < MAX_PROCESSES:
        out.append(p.dereference())
        p = p['next']
    return out


def _current_process():
    """The process of the thread CPU 0 runs (a process_t *, 0 for kernel threads). The
    scheduler thread's owner is the user thread (struct proc_thread)."""
    thread = gdb.parse_and_eval('(struct proc_thread *)sched_cpus[0].current->owner')
    if int(thread) == 0:
        return gdb.parse_and_eval('(struct process *)0')
    return thread['process']


def _current_address():
    return int(_current_process())


def _program_name(text):
    """'hello', 'hello.vbin', '/bin/hello.vbin' -> 'hello.vbin' (the kernel's p->name)."""
    base = os.path.basename(text)
    return base if base.endswith('.vbin') else base + '.vbin'


def _find_in_kernel(name=None, pid=None):
    """The newest process with that name or pid, or None (also when memory is unreadable)."""
    try:
        for p in _processes():
            if pid is not None and int(p['pid']) == pid:
                return p
            if name is not None and p['name'].string() == name:
                return p
    except gdb.error:
        pass
    return None


def load_program(path, offset):
    """add-symbol-file PATH -o OFFSET, replacing an earlier load of the same file."""
    if _loaded.get(path) == offset:
        return
    confirm = gdb.parameter('confirm')
    gdb.execute('set confirm off')
    try:
        if path in _loaded:
            gdb.execute('remove-symbol-file %s' % path, to_string=True)
        gdb.execute('add-symbol-file %s -o 0x%x' % (path, offset), to_string=True)
        _loaded[path] = offset
    finally:
        gdb.execute('set confirm %s' % ('on' if confirm else 'off'))


class FindProcess(gdb.Command):
    """find-process <program.vbin | name | pid>: load a program's symbols at its load base.
The base is read from the kernel's process list when the process exists, otherwise the
fixed PIE base 0x400000000000. A bare name means build/userspace/bin/NAME.vbin."""

    def __init__(self):
        super().__init__('find-process', gdb.COMMAND_USER, gdb.COMPLETE_FILENAME)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg:
            raise gdb.GdbError('usage: find-process <program.vbin | name | pid>')
        proc = None
        if arg.isdigit():
            proc = _find_in_kernel(pid=int(arg))
            if proc is None:
                raise gdb.GdbError('find-process: no process with pid %s' % arg)
            name = proc['name'].string()
        else:
            name = _program_name(arg)
            proc = _find_in_kernel(name=name)
        path = arg if (not arg.isdigit() and os.path.isfile(arg)) else os.path.join(PROGRAM_DIR, name)
        if not os.path.isfile(path):
            raise gdb.GdbError('find-process: %s not found (run make)' % path)
        base = int(proc['image_base']) if proc is not None else PIE_BASE
        load_program(os.path.abspath(path), base)
        where = 'pid %d' % int(proc['pid']) if proc is not None else 'default base'
        print('vkernel: %s symbols at 0x%x (%s)' % (name, base, where))


class Tasks(gdb.Command):
    """vk-tasks: list processes from kernel memory (* marks the current one)."""

    def __init__(self):
        super().__init__('vk-tasks', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        cur = _current_address()
        procs = _processes()
        print('  %5s %5s %-13s %-18s %s' % ('PID', 'PPID', 'STATE', 'IMAGE', 'NAME'))
        for p in procs:
            mark = '*' if int(p.address) == cur else ' '
            print('%s %5d %5d %-13s 0x%016x %s' % (mark, int(p['pid']), int(p['parent_pid']),
                                                   str(p['state']), int(p['image_base']),
                                                   p['name'].string()))
        if not procs:
            print('(no processes yet)')


class Log(gdb.Command):
    """vk-log [N]: print the last N lines (default 40) of the kernel log ring."""

    def __init__(self):
        super().__init__('vk-log', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        count = int(arg) if arg.strip() else 40
        base = int(gdb.parse_and_eval('log_ring'))
        size = int(gdb.parse_and_eval('log_ring_size'))
        written = int(_static('ring_written', 'core/log.c'))
        held = min(written, size)
        start = (written - held) % size
        raw = bytes(gdb.selected_inferior().read_memory(base, size))
        data = (raw[start:] + raw[:start])[:held]
        lines = data.decode('utf-8', 'replace').replace('\r', '').split('\n')
        if written > size:
            lines = lines[1:]  # the oldest line was partly overwritten
        if lines and lines[-1] == '':
            lines.pop()
        for line in lines[-count:] if count > 0 else []:
            print(line)


class StartBreakpoint(gdb.Breakpoint):
    """Stops on arch_user_enter when the process about to enter ring 3 has our name.

    Once per thread: continuing from here single-steps over the breakpoint, and when a
    timer interrupt lands in that step, the interrupt returns to the same first
    instruction and the breakpoint fires again for the same start."""

    def __init__(self, name):
        super().__init__('arch_user_enter', type=gdb.BP_HARDWARE_BREAKPOINT)
        self.program = name
        self.hit_program = False
        self.seen_threads = set()  # tids already stopped for

    def stop(self):
        try:
            cur = _current_process()
            owner = gdb.parse_and_eval('(struct proc_thread *)sched_cpus[0].current->owner')
            thread = int(owner['tid']) if int(owner) != 0 else 0
            match = int(cur) != 0 and cur['name'].string() == self.program
        except gdb.error:
            return False
        if match and thread in self.seen_threads:
            return False
        if match:
            self.seen_threads.add(thread)
        self.hit_program = match
        return match


def _on_stop(event):
    """Symbols are loaded here, not in stop(), which must not change debugger state."""
    if not isinstance(event, gdb.BreakpointEvent):
        return
    for bp in event.breakpoints:
        if isinstance(bp, StartBreakpoint) and bp.hit_program:
            bp.hit_program = False
            gdb.execute('find-process %s' % bp.program)
            print("vkernel: %s is about to enter ring 3; try 'hbreak main' and 'continue'"
                  % bp.program)


class BreakStart(gdb.Command):
    """vk-break-start <name>: stop when the kernel starts a process of that name (just
before it enters ring 3) and load its symbols, ready for `hbreak main`."""

    def __init__(self):
        super().__init__('vk-break-start', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if not arg.strip():
            raise gdb.GdbError('usage: vk-break-start <name>')
        name = _program_name(arg.strip())
        bp = StartBreakpoint(name)
        print('vkernel: breakpoint %d stops when %s starts' % (bp.number, name))


FindProcess()
Tasks()
Log()
BreakStart()
gdb.events.stop.connect(_on_stop)
