# SPDX-License-Identifier: MIT
"""gdb helpers for vkernel: read the kernel's process list and log ring, and load a
program's symbols at its load base so `hbreak main`, `bt` and source lines work in ring 3.

Sourced by scripts/gdb/vkernel.gdb (make debug) and the VS Code launch configurations.
Commands: find-process, vk-tasks, vk-threads, vk-bt, vk-kobj, vk-log, vk-break-start (see
`help <command>`).

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
import struct

import gdb

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
PROGRAM_DIR = os.path.join(ROOT, 'build', 'userspace', 'bin')
PIE_BASE = 0x0000400000000000  # EXEC_PIE_BASE in kernel/proc/exec.h
MAX_PROCESSES = 4096           # guards the list walk against a corrupt `next`
MAX_THREADS = 4096
MAX_FRAMES = 32
KOBJ_MAX_CHILDREN = 1024
# arch_switch_frame_t (kernel/sched/sched_internal.h): what arch_context_switch pushed
# (switch.S), lowest address first; a sleeping thread's context_rsp points at r15.
SWITCH_FRAME = ('r15', 'r14', 'r13', 'r12', 'rbx', 'rbp', 'rflags', 'rip')

_loaded = {}  # program path -> offset it was loaded at


def _static(name, file_suffix):
    """A static variable of one kernel source file, e.g. _static('ring_written', 'core/log.c')."""
    for sym in gdb.lookup_static_symbols(name):
        if sym.symtab and sym.symtab.filename.endswith(file_suffix):
            return sym.value()
    return gdb.parse_and_eval("'%s'::%s" % (os.path.basename(file_suffix), name))


def _processes():
    """process_t values from the kernel's `proc_table` list (newest first)."""
    out = []
    p = gdb.parse_and_eval('proc_table')
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
    """'hello', 'hello.vbin', '/bin/hello.vbin' -> 'hello.vbin' (the kernel's p->name); a
    program built without the .vbin suffix (busybox) keeps its name."""
    base = os.path.basename(text)
    if base.endswith('.vbin') or os.path.isfile(os.path.join(PROGRAM_DIR, base)):
        return base
    return base + '.vbin'


def _link_base(path):
    """(lowest PT_LOAD address, is PIE) of a 64-bit ELF: a static PIE is linked at 0 and
    moved to image_base; a fixed-address program (busybox) is loaded where it is linked."""
    with open(path, 'rb') as f:
        data = f.read(1 << 16)
    e_type, = struct.unpack_from('<H', data, 16)
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    lowest = None
    for i in range(phnum):
        p_type, _, _, vaddr = struct.unpack_from('<IIQQ', data, phoff + i * phentsize)
        if p_type == 1 and (lowest is None or vaddr < lowest):
            lowest = vaddr
    return (lowest or 0) & ~0xfff, e_type == 3


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
        linked, pie = _link_base(path)
        base = int(proc['image_base']) if proc is not None else (PIE_BASE if pie else linked)
        load_program(os.path.abspath(path), base - linked)
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


def _read_u64(addr):
    return struct.unpack('<Q', bytes(gdb.selected_inferior().read_memory(addr, 8)))[0]


def _where(pc):
    """'function (file:line)' for a code address, from the loaded symbols."""
    block = None
    try:
        block = gdb.block_for_pc(pc)
    except RuntimeError:
        pass
    while block is not None and block.function is None:
        block = block.superblock
    if block is not None:
        name = block.function.print_name
    else:  # assembly has no debug function: fall back to the ELF symbol
        text = gdb.execute('info symbol 0x%x' % pc, to_string=True)
        name = text.split(' in section')[0].replace(' + ', '+') if ' in section' in text else '??'
    sal = gdb.find_pc_line(pc)
    if sal.symtab is not None and sal.line:
        return '%s (%s:%d)' % (name, sal.symtab.filename, sal.line)
    return name


def _sched_threads():
    """sched_thread_t values in creation order (kernel/sched/thread.c)."""
    out = []
    t = gdb.parse_and_eval('sched_threads_first')
    while int(t) != 0 and len(out) < MAX_THREADS:
        out.append(t.dereference())
        t = t['all_next']
    return out


def _process_tid(t):
    """The user tid of a scheduler thread that runs a process (0 for kernel threads)."""
    owner = gdb.parse_and_eval('(struct proc_thread *)%d' % int(t['owner']))
    return int(owner['tid']) if int(owner) != 0 else 0


def _find_thread(thread_id):
    """The thread with that scheduler id (vk-threads' ID column)."""
    for t in _sched_threads():
        if int(t['id']) == thread_id:
            return t
    return None


class Threads(gdb.Command):
    """vk-threads: list the scheduler's threads: id, user tid, state, CPU, name."""

    def __init__(self):
        super().__init__('vk-threads', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        print('%5s %5s %-22s %3s %s' % ('ID', 'TID', 'STATE', 'CPU', 'NAME'))
        for t in _sched_threads():
            tid = _process_tid(t)
            print('%5d %5s %-22s %3d %s' % (int(t['id']), tid or '-', str(t['state']),
                                           int(t['cpu']), t['name'].string()))


class ThreadBacktrace(gdb.Command):
    """vk-bt <tid>: backtrace of a thread that is not running, from the context
arch_context_switch saved on its kernel stack. tid is the scheduler's thread id, the ID
column of vk-threads (a process thread's own tid is in its TID column). Follows frame
pointers through the kernel stack; for the running thread use bt."""

    def __init__(self):
        super().__init__('vk-bt', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg.isdigit():
            raise gdb.GdbError('usage: vk-bt <tid>   (see vk-threads)')
        t = _find_thread(int(arg))
        if t is None:
            raise gdb.GdbError('vk-bt: no thread %s (see vk-threads)' % arg)
        state = str(t['state'])
        if state.endswith('RUNNING'):
            raise gdb.GdbError('vk-bt: thread %s runs on CPU %d: use bt there'
                               % (arg, int(t['cpu'])))
        if state.endswith('DEAD'):
            raise gdb.GdbError('vk-bt: thread %s has exited' % arg)
        rsp = int(t['context_rsp'])
        try:
            saved = {n: _read_u64(rsp + 8 * i) for i, n in enumerate(SWITCH_FRAME)}
        except gdb.MemoryError:
            raise gdb.GdbError('vk-bt: saved context at 0x%x is unreadable' % rsp)
        print('thread %d "%s" %s, saved rsp 0x%x' % (int(t['id']), t['name'].string(),
                                                     state, rsp))
        # #0 is where arch_context_switch returns to: the switch call in the scheduler.
        pc, rbp = saved['rip'], saved['rbp']
        print('#0  0x%016x in %s' % (pc, _where(pc - 1)))
        for i in range(1, MAX_FRAMES):
            if rbp == 0 or rbp & 7:
                break
            try:
                next_rbp, ret = _read_u64(rbp), _read_u64(rbp + 8)
            except gdb.MemoryError:
                break
            if ret == 0:
                break
            print('#%-2d 0x%016x in %s' % (i, ret, _where(ret - 1)))
            if next_rbp <= rbp:
                break  # frames only go up the stack
            rbp = next_rbp


def _kobj_name(node):
    path = node['path'].string()
    return path.rsplit('/', 1)[-1]


def _kobj_children(node):
    out = []
    c = node['first_child']
    while int(c) != 0 and len(out) < KOBJ_MAX_CHILDREN:
        out.append(c.dereference())
        c = c['next_sibling']
    return out


def _kobj_resolve(path):
    """The static node for an absolute path; a component under a dynamic directory
    resolves to its "*" template (the key only exists while the getter runs)."""
    node = _static('root', 'kobj/kobj.c')
    for part in [p for p in path.split('/') if p]:
        kids = _kobj_children(node)
        match = [k for k in kids if _kobj_name(k) == part]
        if not match:
            match = [k for k in kids if _kobj_name(k) == '*']
        if not match:
            raise gdb.GdbError('vk-kobj: no node %s' % path)
        node = match[0]
    return node


def _crash_last():
    text = _static('last', 'proc/crash_kobj.c')
    length = int(_static('last_length', 'proc/crash_kobj.c'))
    data = bytes(gdb.selected_inferior().read_memory(text.address, min(length, 4096)))
    return data.decode('utf-8', 'replace')


# Nodes whose value is a plain kernel variable gdb can read without running the getter.
KOBJ_READERS = {
    '/crash/count': lambda: str(int(_static('count', 'proc/crash_kobj.c'))),
    '/crash/last': _crash_last,
}


def _symbol_at(ptr):
    if int(ptr) == 0:
        return None
    try:
        return gdb.block_for_pc(int(ptr)).function.print_name
    except (RuntimeError, AttributeError):
        return '0x%x' % int(ptr)


class KObj(gdb.Command):
    """vk-kobj <path>: a KObj node as the kernel holds it: type, access, unit, description
and, for a directory, its children. Values come from getter callbacks, which vk-kobj does
not run (calling kernel code in a stopped guest can deadlock on a lock it holds); it
prints the value only for nodes whose value is a plain variable (/crash/count,
/crash/last) and otherwise names the getter (read /kobj<path> in the guest)."""

    def __init__(self):
        super().__init__('vk-kobj', gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        path = arg.strip() or '/'
        if not path.startswith('/'):
            raise gdb.GdbError('usage: vk-kobj </absolute/path>')
        node = _kobj_resolve(path)
        access = int(node['access'])
        flags = ''.join(c for bit, c in ((1, 'r'), (2, 'w'), (4, 'v')) if access & bit)
        unit = node['unit'].string() if int(node['unit']) else ''
        print('%s: %s, access %s%s' % (node['path'].string(), str(node['type']), flags,
                                      ', unit ' + unit if unit else ''))
        if int(node['description']):
            print('  %s' % node['description'].string())
        if str(node['type']).endswith('KOBJ_DIR'):
            kids = _kobj_children(node)
            for k in kids:
                print('  %-24s %s' % (_kobj_name(k), str(k['type'])))
            if int(node['enumerate']):
                print('  (dynamic: children come from %s at run time; "*" is their template)'
                      % _symbol_at(node['enumerate']))
            return
        key = node['path'].string()
        if key in KOBJ_READERS:
            print('value: %s' % KOBJ_READERS[key]())
        elif int(node['get']):
            print('value: needs the live getter %s (not called from gdb); read /kobj%s in '
                  'the guest' % (_symbol_at(node['get']), path))
        else:
            print('value: none (not readable)')


class ExecBreakpoint(gdb.Breakpoint):
    """Stops in proc_exec_done when a process has just exec'd our program (a shell or
    init starting it with fork and execve never passes arch_user_enter)."""

    def __init__(self, name):
        super().__init__('proc_exec_done', type=gdb.BP_HARDWARE_BREAKPOINT)
        self.program = name
        self.hit_program = False

    def stop(self):
        try:
            p = gdb.parse_and_eval('p')
            match = int(p) != 0 and p['name'].string() == self.program
        except gdb.error:
            return False
        self.hit_program = match
        return match


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
        if isinstance(bp, (StartBreakpoint, ExecBreakpoint)) and bp.hit_program:
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
        ebp = ExecBreakpoint(name)  # the same program started by execve
        print('vkernel: breakpoints %d and %d stop when %s starts' % (bp.number, ebp.number, name))


FindProcess()
Tasks()
Threads()
ThreadBacktrace()
KObj()
Log()
BreakStart()
gdb.events.stop.connect(_on_stop)
