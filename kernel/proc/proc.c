/* SPDX-License-Identifier: MIT */
/*
 * Process lifecycle: spawn (a thread per process, see proc.h), exit, faults, reaping.
 *
 * Programs are files found through the VFS (kernel/fs): the boot modules appear as
 * /bin/NAME.vbin until the disk is mounted. Symbol maps for crash reports still come
 * from the boot modules ("modules/NAME.map").
 */
#include "proc/proc_internal.h"
#include "proc/exec.h"
#include "proc/signal.h"
#include "ipc/ipc.h"
#include "tty/tty.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "lib/symmap.h"
#include "lib/linemap.h"
#include "proc/crash.h"
#include "config.h"
#include "core/spinlock.h"
#include "sched/sched.h"
#include "mm/usercopy.h"
#include "mm/mm.h"
#include "time/time.h"
#include "arch/x86_64/arch.h"
#include <stdarg.h>
#include "kobj/kobj.h"
#include <vk/errno.h>
#include <vk/vk.h>

#define PROC_BACKTRACE_MAX_FRAMES 16

/* Guarded by proc_table_lock: the list, every state and exit status, process groups
 * and sessions. Taken with interrupts off. */
spinlock_t proc_table_lock = SPINLOCK_INIT;
process_t *proc_table;
static uint32_t next_pid = 1;
/* Woken whenever a process becomes a zombie; waiters re-check under lock. */
static sched_wait_queue_t exited = SCHED_WAIT_QUEUE_INIT;

uint32_t proc_allocate_id(void)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    uint32_t id = next_pid++;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return id;
}

vnode_t *proc_cwd(process_t *p)
{
    if (!p)
        return vnode_ref(vfs_root());
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    vnode_t *v = vnode_ref(p->cwd);
    spinlock_unlock_irqrestore(&p->lock, f);
    return v;
}

void proc_set_cwd(process_t *p, vnode_t *v)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    vnode_t *old = p->cwd;
    p->cwd = v;
    spinlock_unlock_irqrestore(&p->lock, f);
    vnode_unref(old); /* may free: not under the spinlock */
}

proc_sigaction_t proc_signal_action(process_t *p, int sig)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    proc_sigaction_t act = p->actions[sig - 1];
    spinlock_unlock_irqrestore(&p->lock, f);
    return act;
}

void proc_signal_action_swap(process_t *p, int sig, const proc_sigaction_t *act,
                             proc_sigaction_t *old)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    if (old)
        *old = p->actions[sig - 1];
    if (act)
        p->actions[sig - 1] = *act;
    spinlock_unlock_irqrestore(&p->lock, f);
}

/* p->exe: path made absolute against p's working directory (truncated if long). */
static void set_exe(process_t *p, const char *path)
{
    if (path[0] == '/' || !p->cwd) {
        strlcpy(p->exe, path, sizeof(p->exe));
        return;
    }
    long n = vfs_path_of(p->cwd, p->exe, sizeof(p->exe));
    if (n < 0)
        n = 0;
    if (n > 0 && p->exe[n - 1] != '/' && (size_t)n + 1 < sizeof(p->exe))
        p->exe[n++] = '/';
    p->exe[n] = 0;
    strlcpy(p->exe + n, path, sizeof(p->exe) - (size_t)n);
}

static const char *path_basename(const char *path)
{
    const char *base = path;
    for (const char *s = path; *s; s++)
        if (*s == '/')
            base = s + 1;
    return base;
}

unsigned proc_live_count(void)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    unsigned n = 0;
    for (process_t *p = proc_table; p; p = p->next)
        n++;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return n;
}

/* Closes the files and IPC handles and drops the directory of a process whose program has ended. */
static void release_files(process_t *p)
{
    ipc_process_release(p); /* peers see PEER_CLOSED now, like pipe readers */
    fdtable_free(p->fds);
    p->fds = NULL;
    if (p->cwd)
        vnode_unref(p->cwd);
    p->cwd = NULL;
}

static void free_process(process_t *p)
{
    if (p->aspace)
        aspace_destroy(p->aspace);
    release_files(p);
    kfree(p);
}

void proc_last_thread_ended(process_t *p, int status)
{
    aspace_destroy(p->aspace);
    p->aspace = NULL;
    release_files(p); /* pipe readers see end of file now, not when the parent reaps */
    /* Nobody will wait for p's children now: its zombies are freed and the others are
     * freed when they end. Otherwise orphans fill CONFIG_PROC_MAX and fork fails. */
    process_t *unreaped = NULL;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    proc_orphan_groups_of_locked(p);
    for (process_t **link = &proc_table; *link;) {
        process_t *q = *link;
        if (q != p && q->parent_pid == p->pid && q->state == PROC_ZOMBIE) {
            *link = q->next;
            q->next = unreaped;
            unreaped = q;
            continue;
        }
        if (q == p && p->parent_pid == PROC_ORPHAN) {
            *link = q->next;
            q->next = unreaped;
            unreaped = q;
            continue;
        }
        if (q->parent_pid == p->pid)
            q->parent_pid = PROC_ORPHAN;
        link = &q->next;
    }
    p->exit_status = status;
    p->state = PROC_ZOMBIE;
    uint32_t parent_pid = p->parent_pid;
    /* A session leader's end takes the terminal from its session (docs/tty.md). */
    tty_t *hangup = p->pid == p->sid ? p->ctty : NULL;
    if (hangup)
        for (process_t *q = proc_table; q; q = q->next)
            if (q->sid == p->sid && q->ctty == hangup)
                q->ctty = NULL;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    if (hangup)
        tty_session_ended(hangup, p->pid);
    while (unreaped) {
        process_t *q = unreaped;
        unreaped = q->next;
        free_process(q); /* may be p itself: use nothing of p below */
    }
    if (parent_pid && parent_pid != PROC_ORPHAN)
        proc_signal(parent_pid, SIG_CHLD); /* after this p may be reaped at any moment */
    sched_wake_all(&exited);
}

/* Group, session and controlling terminal come from the parent (fork, spawn). */
static void inherit_session(process_t *p, process_t *parent)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    p->pgid = parent->pgid;
    p->sid = parent->sid;
    p->ctty = parent->ctty;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
}

/* Publishes p (pid, list) and starts its first thread t; on failure both are freed. */
static long start_process(process_t *p, proc_thread_t *t)
{
    p->start_ns = time_monotonic_ns();
    p->state = PROC_RUNNING;
    sched_wait_queue_init(&p->thread_ended);
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    p->pid = next_pid++;
    long pid = p->pid;
    bool new_session = !p->sid; /* started by the kernel: init and its like */
    if (new_session) {
        p->sid = p->pgid = p->pid;
        p->ctty = tty_console();
    }
    p->next = proc_table;
    proc_table = p;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    if (new_session && p->ctty)
        tty_set_session(p->ctty, p->sid, p->pgid);

    if (proc_thread_start(t, (uint32_t)pid)) {
        f = spinlock_lock_irqsave(&proc_table_lock);
        for (process_t **link = &proc_table; *link; link = &(*link)->next)
            if (*link == p) {
                *link = p->next;
                break;
            }
        spinlock_unlock_irqrestore(&proc_table_lock, f);
        kfree(t);
        free_process(p);
        return -VK_ENOMEM;
    }
    return pid; /* p may already be gone (reaped by its parent): use only the pid */
}

static bool too_many_processes(const char *what)
{
    if (proc_live_count() < CONFIG_PROC_MAX)
        return false;
    log_warn("proc: CONFIG_PROC_MAX (%d) processes (zombies included) reached; %s refused",
             CONFIG_PROC_MAX, what);
    return true;
}

long proc_fork(const arch_frame_t *frame)
{
    proc_clone_args_t none = { 0 };
    return proc_clone(frame, &none);
}

long proc_clone(const arch_frame_t *frame, const proc_clone_args_t *args)
{
    process_t *parent = proc_current();
    if (too_many_processes("fork"))
        return -VK_EAGAIN;
    process_t *p = kzalloc(sizeof(*p));
    proc_thread_t *t = p ? proc_thread_new(p) : NULL;
    if (!t) {
        kfree(p);
        return -VK_ENOMEM;
    }
    p->aspace = aspace_clone(parent->aspace);
    p->fds = fdtable_clone(parent->fds);
    if (!p->aspace || !p->fds || ipc_process_fork(parent, p)) {
        kfree(t);
        free_process(p);
        return -VK_ENOMEM;
    }
    p->cwd = proc_cwd(parent);
    p->umask = __atomic_load_n(&parent->umask, __ATOMIC_RELAXED);
    p->parent_pid = parent->pid;
    inherit_session(p, parent);
    memcpy(p->name, parent->name, sizeof(p->name));
    memcpy(p->exe, parent->exe, sizeof(p->exe));
    p->image_base = parent->image_base;
    p->image_end = parent->image_end;
    sched_mutex_lock(&parent->brk_lock); /* a vfork child may share memory, not the break */
    p->brk_start = parent->brk_start;
    p->brk = parent->brk;
    sched_mutex_unlock(&parent->brk_lock);
    uint64_t f = spinlock_lock_irqsave(&parent->lock);
    memcpy(p->actions, parent->actions, sizeof(p->actions));
    spinlock_unlock_irqrestore(&parent->lock, f);
    proc_thread_copy_registers(t, frame, args);
    return start_process(p, t);
}

/* Descriptors 0, 1 and 2 on one open file description of the console, as a terminal
 * login would have them. */
static int open_console(fdtable_t *fds)
{
    file_t *console;
    int err = vfs_open(NULL, "/dev/console", VFS_O_RDWR, 0, &console);
    if (err)
        return err;
    for (int fd = 0; fd < 3; fd++)
        fdtable_install_at(fds, fd, file_ref(console), false);
    file_unref(console);
    return 0;
}

/* A process the kernel starts itself (init) gets the KObj-write right, and its
 * environment names the handle: *out becomes envp plus "VK_KOBJ_WRITE=<handle>" (one
 * kmalloc holding the array and the string; the caller frees it). */
static int grant_kobj_write(process_t *p, const char *const *envp, const char ***out)
{
    enum { ENTRY_MAX = 32 };
    unsigned n = 0;
    while (envp && envp[n])
        n++;
    const char **env = kmalloc((n + 2) * sizeof(*env) + ENTRY_MAX);
    if (!env)
        return -VK_ENOMEM;
    char *entry = (char *)(env + n + 2);
    long h = kobj_write_grant(p, entry, ENTRY_MAX);
    if (h < 0) {
        kfree(env);
        return (int)h;
    }
    for (unsigned i = 0; i < n; i++)
        env[i] = envp[i];
    env[n] = entry;
    env[n + 1] = NULL;
    *out = env;
    return 0;
}

long proc_spawn(const char *path, const char *const *argv, const char *const *envp)
{
    process_t *parent = proc_current();
    vnode_t *cwd = proc_cwd(parent);
    void *elf;
    size_t size;
    int err = exec_read_file(cwd, path, &elf, &size);
    if (err) {
        vnode_unref(cwd);
        return err;
    }
    if (too_many_processes("spawn")) {
        vnode_unref(cwd);
        kfree(elf);
        return -VK_EAGAIN;
    }
    process_t *p = kzalloc(sizeof(*p));
    proc_thread_t *t = p ? proc_thread_new(p) : NULL;
    if (!t) {
        vnode_unref(cwd);
        kfree(p);
        kfree(elf);
        return -VK_ENOMEM;
    }
    p->aspace = aspace_create();
    p->fds = fdtable_new();
    p->cwd = cwd; /* our reference */
    p->umask = 022;
    p->parent_pid = parent ? parent->pid : 0;
    if (parent)
        inherit_session(p, parent);
    strlcpy(p->name, path_basename(path), sizeof(p->name));
    set_exe(p, path);
    arch_fpu_init_state(&t->fpu);
    exec_start_t start;
    const char **env_with_right = NULL;
    err = !p->aspace || !p->fds ? -VK_ENOMEM : open_console(p->fds);
    if (!err && parent)
        err = ipc_process_fork(parent, p); /* the handles the parent marked inheritable */
    else if (!err) {
        ipc_service_grant_first(p); /* only the boot's first process gets it, at 0x400 */
        err = grant_kobj_write(p, envp, &env_with_right);
    }
    if (!err)
        err = exec_load(p, elf, size, path, argv, env_with_right ? env_with_right : envp,
                        &start);
    kfree(elf);
    kfree(env_with_right);
    if (err) {
        log_warn("proc: cannot start %s: error %d", path, err);
        kfree(t);
        free_process(p);
        return err;
    }
    t->entry = start.entry;
    t->user_stack = start.stack_pointer;
    return start_process(p, t);
}

/* What execve resets: handlers (ignored signals stay ignored), TLS, FPU, name. */
static void reset_for_exec(process_t *p, proc_thread_t *t, const char *path)
{
    for (int i = 0; i < PROC_SIGNALS; i++) {
        bool ignored = p->actions[i].handler == 1;
        memset(&p->actions[i], 0, sizeof(p->actions[i]));
        p->actions[i].handler = ignored ? 1 : 0;
    }
    t->fs_base = 0;
    arch_set_user_fs(0);
    t->clear_child_tid = 0;
    arch_fpu_init_state(&t->fpu);
    arch_fpu_restore(&t->fpu);
    strlcpy(p->name, path_basename(path), sizeof(p->name));
    set_exe(p, path);
    fdtable_close_on_exec(p->fds);
}

long proc_exec(arch_frame_t *frame, const char *path, const char *const *argv,
               const char *const *envp)
{
    process_t *p = proc_current();
    void *elf;
    size_t size;
    vnode_t *cwd = proc_cwd(p);
    int err = exec_read_file(cwd, path, &elf, &size);
    vnode_unref(cwd);
    if (!err && (err = proc_become_single_threaded()))
        kfree(elf);
    if (err)
        return err;
    aspace_t *old = p->aspace, *fresh = aspace_create();
    if (!fresh) {
        kfree(elf);
        return -VK_ENOMEM;
    }
    uint64_t saved[4] = { p->image_base, p->image_end, p->brk_start, p->brk };
    exec_start_t start;
    /* exec_load fills p->aspace; the switch hook may load it meanwhile, which is
     * harmless: the kernel touches no user memory until the new program runs. */
    p->aspace = fresh;
    err = exec_load(p, elf, size, path, argv, envp, &start);
    kfree(elf);
    if (err) {
        p->aspace = old;
        aspace_activate(old);
        aspace_destroy(fresh);
        p->image_base = saved[0];
        p->image_end = saved[1];
        p->brk_start = saved[2];
        p->brk = saved[3];
        return err;
    }
    aspace_activate(fresh);
    aspace_destroy(old);
    reset_for_exec(p, proc_thread_current(), path);
    uint64_t cs = frame->cs, ss = frame->ss;
    memset(frame, 0, sizeof(*frame));
    frame->cs = cs;
    frame->ss = ss;
    frame->vector = ARCH_FRAME_VECTOR_SYSCALL;
    frame->rip = start.entry;
    frame->rsp = start.stack_pointer;
    frame->rflags = 0x202;
    log_debug("proc: %s[%u] execs %s", p->name, p->pid, path);
    proc_exec_done(p);
    return 0;
}

/* Called once a program replaced another through execve, before its first
 * instruction runs. It does nothing: it is where debuggers stop (vk-break-start in
 * scripts/gdb/vkernel.py), because an exec'd program does not pass arch_user_enter. */
__attribute__((noinline)) void proc_exec_done(process_t *p)
{
    __asm__ volatile("" ::"r"(p) : "memory");
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 5: return "SIGTRAP";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return "signal";
    }
}

/* The program's symbol map ("modules/NAME.map", made at build time), or NULL. */
static const vk_boot_module_t *find_symbols(const process_t *p)
{
    char name[VK_BOOT_MODULE_NAME_MAX];
    fmt_snprintf(name, sizeof(name), "modules/%s.map", p->name);
    return kernel_find_module(name);
}

/* A crash report: every line goes to the log and into text, which becomes /crash/last
 * (lines that no longer fit are left out of text, never cut in half). */
struct report {
    char text[CRASH_REPORT_MAX];
    size_t length;
    bool full;
    bool quiet; /* over the console's rate limit: kept in KObj only */
};

__attribute__((format(printf, 2, 3))) static void report_line(struct report *r,
                                                               const char *fmt, ...)
{
    char line[SYMMAP_NAME_MAX + LINEMAP_FILE_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    if (!r->quiet)
        log_error("%s", line);
    static const char more[] = "...\n";
    if (r->full)
        return;
    if (r->length + n + 1 + sizeof(more) - 1 > sizeof(r->text)) {
        memcpy(r->text + r->length, more, sizeof(more) - 1);
        r->length += sizeof(more) - 1;
        r->full = true;
        return;
    }
    memcpy(r->text + r->length, line, n);
    r->length += n;
    r->text[r->length++] = '\n';
}

struct user_symbols {
    const process_t *p;
    const vk_boot_module_t *map;
    const vk_boot_module_t *lines; /* the debug.lines bundle, section p->name */
};

static void describe_user(const struct user_symbols *s, uint64_t addr, char *out, size_t size)
{
    symmap_result_t r;
    linemap_result_t where;
    const process_t *p = s->p;
    if (!s->map || addr < p->image_base || addr >= p->image_end ||
        !symmap_lookup(phys_to_virt(s->map->base), s->map->size, addr - p->image_base, &r))
        fmt_snprintf(out, size, "?");
    else if (s->lines && linemap_lookup(phys_to_virt(s->lines->base), s->lines->size, p->name,
                                        addr - p->image_base, &where))
        fmt_snprintf(out, size, "%s+0x%llx (%s:%u)", r.name, (unsigned long long)r.offset,
                     where.file, (unsigned)where.line);
    else
        fmt_snprintf(out, size, "%s+0x%llx", r.name, (unsigned long long)r.offset);
}

/* Frame pointers of the dead program, read through the checked user-copy path (its
 * address space is still the active one). Stops at the first unreadable frame. */
static void report_backtrace(struct report *rep, const process_t *p, uint64_t rip,
                             uint64_t rbp)
{
    struct user_symbols syms = { p, find_symbols(p), kernel_find_module("modules/debug.lines") };
    char name[SYMMAP_NAME_MAX + LINEMAP_FILE_MAX + 32];
    describe_user(&syms, rip, name, sizeof(name));
    report_line(rep, "  #0  0x%llx %s", (unsigned long long)rip, name);
    for (unsigned i = 1; i < PROC_BACKTRACE_MAX_FRAMES && rbp; i++) {
        uint64_t frame[2];
        if (usercopy_from(frame, rbp, sizeof(frame)) != 0 || frame[1] == 0)
            break;
        describe_user(&syms, frame[1] - 1, name, sizeof(name));
        report_line(rep, "  #%-2u 0x%llx %s", i, (unsigned long long)frame[1], name);
        if (frame[0] <= rbp)
            break; /* frames only go up the stack */
        rbp = frame[0];
    }
    if (!syms.map)
        report_line(rep, "  (no symbol map modules/%s.map)", p->name);
}

void proc_kill_on_fault(const arch_frame_t *f, int sig, const char *what)
{
    process_t *p = proc_current();
    KASSERT(p != NULL);
    struct report report = { .length = 0 }; /* about 1 KiB of the 16 KiB kernel stack */
    struct report *r = &report;
    /* A program that crashes children in a loop must not flood the console: reports
     * over the rate limit are only counted and kept in /kobj/crash. */
    static log_ratelimit_t console_budget;
    uint32_t dropped;
    r->quiet = !log_ratelimit(&console_budget, &dropped);
    if (!r->quiet && dropped)
        log_error("(%u crash reports suppressed on the console; /kobj/crash/count has them all)",
                  dropped);
    char where[64] = "";
    if (f->rip >= p->image_base && f->rip < p->image_end)
        fmt_snprintf(where, sizeof(where), " (image+0x%llx)",
                     (unsigned long long)(f->rip - p->image_base));
    char address[48] = "";
    if (f->vector == 14)
        fmt_snprintf(address, sizeof(address), ", address 0x%llx",
                     (unsigned long long)arch_read_cr2());
    report_line(r, "%s[%u] killed by %s: %s at rip 0x%llx%s%s, error 0x%llx", p->name,
                p->pid, signal_name(sig), what, (unsigned long long)f->rip, where, address,
                (unsigned long long)f->error_code);
    report_line(r, "  rsp 0x%llx rbp 0x%llx rax 0x%llx rdi 0x%llx rsi 0x%llx",
                (unsigned long long)f->rsp, (unsigned long long)f->rbp,
                (unsigned long long)f->rax, (unsigned long long)f->rdi,
                (unsigned long long)f->rsi);
    report_backtrace(r, p, f->rip, f->rbp);
    crash_record(r->text, r->length);
    proc_exit(sig);
}

process_t *proc_find(long pid)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    process_t *found = NULL;
    for (process_t *p = proc_table; p; p = p->next)
        if ((long)p->pid == pid && p->state == PROC_RUNNING)
            found = p;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return found; /* FIXME: reference-count once processes can be reaped concurrently */
}

int proc_signal(long pid, int sig)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    int err = -VK_ESRCH;
    for (process_t *p = proc_table; p; p = p->next)
        if ((long)p->pid == pid && p->state == PROC_RUNNING) {
            if (sig)
                signal_raise(p, sig);
            err = 0;
            break;
        }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return err;
}

/* Raises sig (0: none) in p's thread tid if it has one; under p->lock, so the thread
 * cannot end meanwhile. */
static bool raise_in_thread(process_t *p, long tid, int sig)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    bool found = false;
    for (proc_thread_t *t = p->threads; t && !found; t = t->next)
        if ((long)t->tid == tid) {
            found = true;
            if (sig)
                signal_raise_thread(t, sig);
        }
    spinlock_unlock_irqrestore(&p->lock, f);
    return found;
}

int proc_signal_thread(long tgid, long tid, int sig)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    int err = -VK_ESRCH;
    for (process_t *p = proc_table; p && err; p = p->next)
        if (p->state == PROC_RUNNING && (!tgid || (long)p->pid == tgid) &&
            raise_in_thread(p, tid, sig))
            err = 0;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return err;
}

/* wait4's pid argument: a child, any (-1), the caller's group (0), group -pid. */
static bool wait_matches(const process_t *p, long pid, const process_t *me)
{
    if (pid > 0)
        return (long)p->pid == pid;
    if (pid == -1)
        return true;
    uint32_t group = pid == 0 ? (me ? me->pgid : 0) : (uint32_t)-pid;
    return p->pgid == group;
}

/* A stop or continue of p that wait4 with these options reports now (proc_table_lock
 * held); the report is taken. */
static bool take_report(process_t *p, int options, int *status)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    bool taken = false;
    if ((options & PROC_WAIT_UNTRACED) && p->wait_report == PROC_REPORT_STOPPED) {
        *status = (p->stop_signal << 8) | 0x7f;
        taken = true;
    } else if ((options & PROC_WAIT_CONTINUED) && p->wait_report == PROC_REPORT_CONTINUED) {
        *status = 0xffff;
        taken = true;
    }
    if (taken)
        p->wait_report = 0;
    spinlock_unlock_irqrestore(&p->lock, f);
    return taken;
}

void proc_child_changed(process_t *p)
{
    if (p->parent_pid && p->parent_pid != PROC_ORPHAN)
        proc_signal(p->parent_pid, SIG_CHLD);
    sched_wake_all(&exited);
}

int proc_with_thread(long tid, int (*fn)(proc_thread_t *t, void *arg), void *arg)
{
    if (tid == 0)
        return fn(proc_thread_current(), arg);
    if (tid < 0)
        return -VK_EINVAL;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    int r = -VK_ESRCH;
    for (process_t *p = proc_table; p && r == -VK_ESRCH; p = p->next) {
        if (p->state != PROC_RUNNING)
            continue;
        uint64_t pf = spinlock_lock_irqsave(&p->lock);
        for (proc_thread_t *t = p->threads; t; t = t->next)
            if ((long)t->tid == tid && t->sched) {
                r = fn(t, arg);
                break;
            }
        spinlock_unlock_irqrestore(&p->lock, pf);
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return r;
}

long proc_wait(long pid, int *status, bool nohang)
{
    return proc_wait_options(pid, status, nohang ? PROC_WAIT_NOHANG : 0);
}

long proc_wait_options(long pid, int *status, int options)
{
    bool nohang = options & PROC_WAIT_NOHANG;
    process_t *me = proc_current();
    uint32_t parent = me ? me->pid : 0;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    for (;;) {
        bool have_child = false;
        for (process_t **link = &proc_table; *link; link = &(*link)->next) {
            process_t *p = *link;
            if (p->parent_pid != parent || !wait_matches(p, pid, me))
                continue;
            have_child = true;
            int reported;
            if (p->state != PROC_ZOMBIE && take_report(p, options, &reported)) {
                long got = p->pid; /* p stays alive: it is not reaped */
                spinlock_unlock_irqrestore(&proc_table_lock, f);
                if (status)
                    *status = reported;
                return got;
            }
            if (p->state != PROC_ZOMBIE)
                continue;
            *link = p->next;
            spinlock_unlock_irqrestore(&proc_table_lock, f);
            long got = p->pid;
            if (status)
                *status = p->exit_status;
            if (me) {
                /* Its threads are gone, so its totals are final (getrusage CHILDREN). */
                uint64_t mf = spinlock_lock_irqsave(&me->lock);
                proc_cpu_times_t *c = &me->children_times;
                c->user_ns += p->exited_times.user_ns + p->children_times.user_ns;
                c->kernel_ns += p->exited_times.kernel_ns + p->children_times.kernel_ns;
                c->voluntary_switches += p->exited_times.voluntary_switches +
                                         p->children_times.voluntary_switches;
                c->involuntary_switches += p->exited_times.involuntary_switches +
                                           p->children_times.involuntary_switches;
                spinlock_unlock_irqrestore(&me->lock, mf);
            }
            free_process(p);
            return got;
        }
        if (!have_child) {
            spinlock_unlock_irqrestore(&proc_table_lock, f);
            return -VK_ECHILD;
        }
        if (nohang) {
            spinlock_unlock_irqrestore(&proc_table_lock, f);
            return 0;
        }
        if (!me) {
            sched_wait(&exited, &proc_table_lock);
        } else if (sched_wait_interruptible(&exited, &proc_table_lock, SCHED_WAIT_FOREVER)) {
            spinlock_unlock_irqrestore(&proc_table_lock, f);
            return -VK_EINTR;
        }
    }
}

unsigned proc_snapshot(void *out, unsigned max)
{
    vk_task_info_t *t = out;
    unsigned n = 0;
    uint64_t now = time_monotonic_ns();
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    for (process_t *p = proc_table; p && n < max; p = p->next, n++) {
        memset(&t[n], 0, sizeof(t[n]));
        t[n].pid = p->pid;
        t[n].parent_pid = p->parent_pid;
        t[n].state = p->state == PROC_ZOMBIE ? VK_TASK_ZOMBIE : VK_TASK_RUNNING;
        t[n].cpu_time_ns = p->state == PROC_ZOMBIE ? 0 : now - p->start_ns;
        t[n].resident_bytes = p->aspace ? aspace_resident_pages(p->aspace) * PAGE_SIZE : 0;
        strlcpy(t[n].name, p->name, sizeof(t[n].name));
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return n;
}

/* Fills out from p. Under lock. */
static void fill_info(const process_t *p, proc_info_t *out)
{
    out->pid = p->pid;
    out->tid = 0;
    out->zombie = p->state == PROC_ZOMBIE;
    strlcpy(out->name, p->name, sizeof(out->name));
    out->resident_pages = p->aspace ? aspace_resident_pages(p->aspace) : 0;
}

/* The process at position, or (position UINT32_MAX) the one with pid: false if none. */
static bool find_info(unsigned position, uint32_t pid, proc_info_t *out)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    process_t *p = proc_table;
    while (p && (position == UINT32_MAX ? p->pid != pid : position-- > 0))
        p = p->next;
    if (p)
        fill_info(p, out);
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return p != NULL;
}

bool proc_info_at(unsigned position, proc_info_t *out)
{
    return position != UINT32_MAX && find_info(position, 0, out);
}

bool proc_info_by_pid(uint32_t pid, proc_info_t *out)
{
    return find_info(UINT32_MAX, pid, out);
}

bool proc_info_by_thread(uint64_t sched_id, proc_info_t *out)
{
    bool found = false;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    for (process_t *p = proc_table; p && !found; p = p->next) {
        uint64_t pf = spinlock_lock_irqsave(&p->lock);
        for (proc_thread_t *t = p->threads; t && !found; t = t->next) {
            if (t->sched && sched_thread_id(t->sched) == sched_id) {
                fill_info(p, out);
                out->tid = t->tid;
                found = true;
            }
        }
        spinlock_unlock_irqrestore(&p->lock, pf);
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return found;
}
