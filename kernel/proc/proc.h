/* SPDX-License-Identifier: MIT */
/*
 * Processes and their threads in ring 3.
 *
 * A process is an address space, open files, signal handlers and one or more threads
 * (proc_thread_t). Each thread runs on a scheduler thread of its own (kernel/sched),
 * which owns it (sched_thread_owner); a switch hook loads the incoming thread's address
 * space, FS base and FPU state. proc_spawn() starts the child and returns its pid at
 * once; the parent collects it with wait4 (proc_wait). The process ends with its last
 * thread.
 */
#ifndef KERNEL_PROC_PROC_H
#define KERNEL_PROC_PROC_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "mm/aspace.h"
#include "arch/x86_64/arch.h"
#include "fs/vfs.h"
#include "core/log.h"

#define PROC_NAME_MAX 32
#define PROC_EXE_MAX 256

typedef enum { PROC_RUNNING = 1, PROC_ZOMBIE = 3 } proc_state_t;

#define PROC_SIGNALS 64

/* One entry of rt_sigaction's table (the kernel's struct sigaction on x86-64). */
typedef struct {
    uint64_t handler;  /* SIG_DFL (0), SIG_IGN (1) or a user function */
    uint64_t flags;    /* SA_* */
    uint64_t restorer; /* user code that calls rt_sigreturn (SA_RESTORER) */
    uint64_t mask;     /* blocked while the handler runs */
} proc_sigaction_t;

typedef struct process process_t;

/* CPU time and switches, for getrusage and times (docs/sched.md, "Accounting"). */
typedef struct {
    uint64_t user_ns, kernel_ns;
    uint64_t voluntary_switches, involuntary_switches;
} proc_cpu_times_t;
typedef struct tty tty_t; /* kernel/tty */
typedef struct ipc_handle_table ipc_handle_table_t; /* kernel/ipc/handle.c */

/* One thread of a process: what each has of its own. The scheduler thread it runs on
 * owns it (sched_thread_owner). */
typedef struct proc_thread {
    uint32_t tid;               /* from the pid space; the first thread's is the pid */
    process_t *process;
    sched_thread_t *sched;      /* set when it starts */
    uint64_t resume;            /* arch_user_enter's resume token while running */
    bool full_restore;          /* this syscall must return through IRET (sigreturn) */
    arch_fpu_state_t fpu;       /* user FPU/SSE registers while switched out */
    uint64_t fs_base;           /* arch_prctl(ARCH_SET_FS), CLONE_SETTLS */
    uint64_t clear_child_tid;   /* set_tid_address, CLONE_CHILD_CLEARTID */
    uint64_t set_child_tid;     /* CLONE_CHILD_SETTID: the tid is written here first */
    uint64_t signal_mask;       /* blocked signals: bit (n - 1) for signal n */
    uint64_t signal_pending;    /* raised for this thread only (tkill); atomic */
    uint64_t altstack_sp, altstack_size; /* sigaltstack; size 0: none */
    bool sigsuspend_active;     /* rt_sigsuspend: signal_mask is temporary ... */
    uint64_t sigsuspend_saved;  /* ... and this comes back after the handler */
    bool from_frame;            /* starts from start_frame (fork, clone) ... */
    arch_frame_t start_frame;   /* ... with these registers, RAX = 0 */
    uint64_t entry, user_stack; /* ... or at the program's entry (spawn, from exec_load) */
    struct proc_thread *next;   /* the process's threads; guarded by process->lock */
} proc_thread_t;

/* process_t.wait_report */
#define PROC_REPORT_STOPPED   1
#define PROC_REPORT_CONTINUED 2

/* parent_pid of a process whose parent ended before it: it is freed when it ends. */
#define PROC_ORPHAN UINT32_MAX

struct process {
    uint32_t pid;
    uint32_t parent_pid;        /* PROC_ORPHAN once the parent ended: nobody reaps it */
    char name[PROC_NAME_MAX];
    char exe[PROC_EXE_MAX];     /* absolute path of the program (readlink /proc/self/exe) */
    proc_state_t state;
    int exit_status;            /* wait4 encoding: (code << 8) or signal number */

    aspace_t *aspace;
    uint64_t image_base, image_end;
    sched_mutex_t brk_lock;     /* guards brk against two threads moving it at once */
    uint64_t brk_start, brk;    /* program break: [brk_start, brk) */
    uint64_t signal_pending;    /* raised, not yet delivered; atomic (other CPUs raise) */
    proc_sigaction_t actions[PROC_SIGNALS]; /* under lock: proc_signal_action */
    fdtable_t *fds;             /* open files */
    ipc_handle_table_t *handles; /* IPC handles; made on first use (atomic), not forked */
    vnode_t *cwd;               /* working directory (a reference); under lock: proc_cwd */
    uint32_t umask;             /* atomic */
    uint64_t start_ns;
    /* Job control; guarded by proc_table_lock (kernel/proc/session.c). Inherited by
     * fork and spawn. */
    uint32_t pgid, sid;         /* process group and session */
    tty_t *ctty;                /* controlling terminal, NULL when none */

    spinlock_t lock;            /* guards the fields below */
    proc_thread_t *threads;     /* the live threads */
    unsigned thread_count;
    bool stopped;               /* job control stop: every thread waits in continued */
    int stop_signal;            /* the signal that stopped it */
    uint8_t wait_report;        /* PROC_REPORT_*: a stop or continue wait4 may report */
    bool continue_notify;       /* continued: tell the parent (done by a woken thread) */
    sched_wait_queue_t continued; /* woken by SIGCONT and SIGKILL */
    bool group_exit;            /* exit_group, a fatal signal or execve: all but ... */
    proc_thread_t *survivor;    /* ... this thread (NULL: every thread) must end */
    int group_exit_status;
    sched_wait_queue_t thread_ended; /* woken as each thread ends (execve waits) */
    proc_cpu_times_t exited_times;   /* of its threads that ended */
    proc_cpu_times_t children_times; /* of its reaped children (theirs, with their children's) */
    log_ratelimit_t log_budget; /* its vk_log_write lines (kernel/sys/sys_vk.c) */

    struct process *next;       /* all processes, newest first (zombies until reaped) */
};

process_t *proc_current(void);
proc_thread_t *proc_thread_current(void);

/* The fields a process's threads share and may change at the same moment (chdir,
 * rt_sigaction) are read and written through these, under p->lock. proc_cwd returns
 * a new reference (the root when p is NULL, for kernel threads); proc_set_cwd takes
 * over the caller's reference to v and drops the old directory's. */
vnode_t *proc_cwd(process_t *p);
void proc_set_cwd(process_t *p, vnode_t *v);
/* A copy of p's action for sig (1..PROC_SIGNALS). */
proc_sigaction_t proc_signal_action(process_t *p, int sig);
/* Sets the action for sig to *act when act is given; *old (when given) gets the
 * previous one. One step, so two threads never see a half-written action. */
void proc_signal_action_swap(process_t *p, int sig, const proc_sigaction_t *act,
                             proc_sigaction_t *old);
/* Loads the program at path (looked up from the caller's working directory) and starts
 * it on a new thread with descriptors 0-2 on /dev/console. It gets the IPC handles the
 * caller marked inheritable (as fork would); a process started by the kernel itself
 * (init) gets the KObj-write right instead (kernel/kobj/kobj_right.c). Returns the new
 * pid (>0) or a negative errno. */
long proc_spawn(const char *path, const char *const *argv, const char *const *envp);
/* fork: a copy of the calling process (memory shared copy-on-write) that returns 0 from
 * the syscall whose frame is given. Returns the child's pid or a negative errno. */
long proc_fork(const arch_frame_t *frame);

/* What clone's flags ask of the child (fork-like or a thread). */
typedef struct {
    uint64_t stack;       /* the child's RSP, or 0 for the parent's */
    uint64_t tls;         /* CLONE_SETTLS: the child's FS base */
    bool set_tls;
    uint64_t child_tid;   /* CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID address */
    bool set_child_tid, clear_child_tid;
    uint64_t parent_tid;  /* threads: CLONE_PARENT_SETTID address, written before start */
} proc_clone_args_t;
long proc_clone(const arch_frame_t *frame, const proc_clone_args_t *args);
/* execve: replaces the calling process's program with the one at path, rewriting
 * frame so the syscall returns into the new program's entry. Returns 0 (the caller
 * must leave through IRET) or a negative errno with the old program intact. */
long proc_exec(arch_frame_t *frame, const char *path, const char *const *argv,
               const char *const *envp);
/* A no-op after each successful execve, for debuggers to break on. */
void proc_exec_done(process_t *p);
/* Waits for a child of the calling process to end and reaps it: pid > 0 that child,
 * -1 any, 0 any in the caller's process group, < -1 any in group -pid. Returns
 * its pid, 0 with nohang when none has ended, or -VK_ECHILD when there is no such child.
 * Called from the kernel's main thread it waits for processes with no parent. */
long proc_wait(long pid, int *status, bool nohang);
/* The same with wait4's options: PROC_WAIT_NOHANG, and PROC_WAIT_UNTRACED and
 * PROC_WAIT_CONTINUED to report a child that stopped ((sig << 8) | 0x7f) or continued
 * (0xffff), once each. */
#define PROC_WAIT_NOHANG    1
#define PROC_WAIT_UNTRACED  2
#define PROC_WAIT_CONTINUED 8
long proc_wait_options(long pid, int *status, int options);
/* p stopped or continued: SIGCHLD to its parent and a wake-up of waiters in wait4. */
void proc_child_changed(process_t *p);
/* Ends the calling thread (exit); the process ends with its last thread, with this
 * wait4-style status. Never returns. */
__attribute__((noreturn)) void proc_thread_exit(int wait_status);
/* Ends the whole process (exit_group, fatal signals): every other thread is stopped
 * at its next return to ring 3 or from its blocking call. Never returns. */
__attribute__((noreturn)) void proc_exit(int wait_status);
/* On a return to ring 3 (syscall or interrupt): ends the calling thread when its
 * process is exiting and it is not the survivor. */
void proc_check_group_exit(void);

/* clone(CLONE_VM|CLONE_THREAD|...): a new thread of the calling process, starting with
 * the caller's registers on `stack`, RAX = 0. Returns its tid or a negative errno. */
long proc_thread_clone(const arch_frame_t *frame, const proc_clone_args_t *args);
/* The current process faulted in ring 3: report it, end it with signal `sig`. */
__attribute__((noreturn)) void proc_kill_on_fault(const arch_frame_t *f, int sig, const char *what);
/* Installs the scheduler switch hook; called once after sched_init. */
void proc_init(void);
unsigned proc_snapshot(void *out, unsigned max);

/* The calling process's own times (its live threads and those that ended), or those
 * of its reaped children. */
void proc_self_times(proc_cpu_times_t *out);
void proc_children_times(proc_cpu_times_t *out);

/* What KObj shows of a process (or of the process a scheduler thread belongs to). */
typedef struct {
    uint32_t pid, tid;          /* tid: of the thread asked about; 0 for a process */
    bool zombie;
    char name[PROC_NAME_MAX];
    uint64_t resident_pages;    /* frames of its address space */
} proc_info_t;
/* The process at position (newest first) or with pid: false if none. */
bool proc_info_at(unsigned position, proc_info_t *out);
bool proc_info_by_pid(uint32_t pid, proc_info_t *out);
/* The process whose thread runs on scheduler thread sched_id: false for kernel threads. */
bool proc_info_by_thread(uint64_t sched_id, proc_info_t *out);
/* A live (running or suspended, not zombie) process by pid, or NULL. The pointer is
 * not pinned: another CPU may reap the process at any time, so only the calling
 * process's own pid is safe to look up this way (use proc_signal to signal others). */
process_t *proc_find(long pid);
/* Raises sig (0: only checks) in the live process pid, under the process lock so it
 * cannot be reaped meanwhile. 0 or -VK_ESRCH. */
int proc_signal(long pid, int sig);
/* The same for thread tid only (of process tgid, unless 0). */
int proc_signal_thread(long tgid, long tid, int sig);
unsigned proc_live_count(void);
/* Runs fn on the live thread tid (0: the caller) with the process table and its
 * process locked, so it cannot end meanwhile: fn must not block. fn's result, or
 * -VK_ESRCH when there is no such thread. */
int proc_with_thread(long tid, int (*fn)(proc_thread_t *t, void *arg), void *arg);
/* True when p is ancestor or one of its descendants (children, their children...).
 * Call with the process table locked, as proc_with_thread's fn is (session.c). */
bool proc_is_self_or_descendant_locked(const process_t *ancestor, const process_t *p);

/* ---- process groups and sessions (session.c, docs/tty.md) ------------------------ */

/* setpgid, getpgid, setsid, getsid with the Linux errors; pid 0 is the caller. */
long proc_setpgid(long pid, long pgid);
long proc_getpgid(long pid);
long proc_setsid(void);
long proc_getsid(long pid);
/* Raises sig in every live process of group pgid: 0, or -VK_ESRCH when it has none. */
int proc_signal_group(long pgid, int sig);
/* kill(-1): every live process but the caller and pid 1. 0 or -VK_ESRCH. */
int proc_signal_all(int sig);
/* True when p's process group is orphaned (POSIX: no member has a parent in another
 * group of the session). Its members ignore SIGTSTP, SIGTTIN and SIGTTOU whose
 * action is the default, and a background read or write gets EIO instead. */
bool proc_group_orphaned(const process_t *p);
/* True when a live process of session sid is in group pgid. */
bool proc_group_in_session(long pgid, uint32_t sid);
/* TIOCSCTTY: the calling session leader takes t as its controlling terminal (steal:
 * also from another session). TIOCNOTTY: the caller gives it up. 0 or -VK_E*. */
long proc_set_controlling_tty(tty_t *t, bool steal);
long proc_drop_controlling_tty(tty_t *t);
/* A process started by the kernel itself (init): leader of a new session with t as
 * its controlling terminal, in the foreground. */
void proc_start_session_on(process_t *p, tty_t *t);
/* The caller's controlling terminal, after hold(t) said yes under the process table's
 * lock (t cannot be freed meanwhile: see proc_forget_tty). NULL when there is none or
 * hold refused. */
tty_t *proc_controlling_tty(bool (*hold)(tty_t *t));
/* t is hung up or about to be freed: no process keeps it as controlling terminal. */
void proc_forget_tty(tty_t *t);

#endif
