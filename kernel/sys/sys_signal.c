/* SPDX-License-Identifier: MIT */
/* Signal syscalls: rt_sigaction, rt_sigreturn, kill, tkill, tgkill (kernel/proc/signal.c
 * does the delivery). rt_sigprocmask lives in sys_proc.c. */
#include "sys/syscall.h"
#include "proc/proc.h"
#include "proc/signal.h"
#include "mm/usercopy.h"
#include "sched/sched.h"

static bool valid_signal(uint64_t sig)
{
    return sig >= 1 && sig <= PROC_SIGNALS;
}

long sys_rt_sigaction(const syscall_args_t *a)
{
    uint64_t sig = a->arg[0];
    if (!valid_signal(sig) || a->arg[3] != 8)
        return -VK_EINVAL;
    process_t *p = proc_current();
    proc_sigaction_t act, old;
    if (a->arg[1]) {
        if (sig == SIG_KILL || sig == SIG_STOP)
            return -VK_EINVAL;
        int err = usercopy_from(&act, a->arg[1], sizeof(act));
        if (err)
            return err;
        act.mask &= ~(signal_bit(SIG_KILL) | signal_bit(SIG_STOP));
    }
    if (a->arg[2]) {
        /* Check the old action's buffer first: a bad one must leave the action alone. */
        old = proc_signal_action(p, (int)sig);
        int err = usercopy_to(a->arg[2], &old, sizeof(old));
        if (err)
            return err;
    }
    if (a->arg[1]) {
        proc_signal_action_swap(p, (int)sig, &act, a->arg[2] ? &old : NULL);
        if (a->arg[2]) /* the action another thread set in between, if one did */
            return usercopy_to(a->arg[2], &old, sizeof(old));
    }
    return 0;
}

long sys_rt_sigreturn(const syscall_args_t *a)
{
    int err = signal_return(a->frame);
    if (err)
        proc_kill_on_fault(a->frame, 11, "bad signal frame in rt_sigreturn");
    syscall_request_full_restore();
    return (long)a->frame->rax; /* the interrupted code's RAX, restored as is */
}

/* Sends to pid: the running process, or a suspended ancestor (it sees it on resume). */
static long send(uint64_t pid, uint64_t sig)
{
    if (sig > PROC_SIGNALS)
        return -VK_EINVAL;
    return proc_signal((long)(int32_t)pid, (int)sig); /* under the process lock (SMP) */
}

long sys_kill(const syscall_args_t *a)
{
    int32_t pid = (int32_t)a->arg[0];
    if (pid > 0)
        return send(a->arg[0], a->arg[1]);
    if (a->arg[1] > PROC_SIGNALS)
        return -VK_EINVAL;
    int sig = (int)a->arg[1];
    if (pid == -1)
        return proc_signal_all(sig);
    if (pid == 0)
        return proc_signal_group(proc_getpgid(0), sig);
    if (pid == INT32_MIN)
        return -VK_ESRCH; /* no group -INT32_MIN */
    return proc_signal_group(-(long)pid, sig);
}

/* Signals aimed at one thread: only that thread takes them. */
long sys_tkill(const syscall_args_t *a)
{
    if (a->arg[1] > PROC_SIGNALS || (int32_t)a->arg[0] <= 0)
        return -VK_EINVAL;
    return proc_signal_thread(0, (long)(int32_t)a->arg[0], (int)a->arg[1]);
}

long sys_tgkill(const syscall_args_t *a)
{
    if (a->arg[2] > PROC_SIGNALS || (int32_t)a->arg[0] <= 0 || (int32_t)a->arg[1] <= 0)
        return -VK_EINVAL;
    return proc_signal_thread((long)(int32_t)a->arg[0], (long)(int32_t)a->arg[1],
                              (int)a->arg[2]);
}

long sys_rt_sigsuspend(const syscall_args_t *a)
{
    if (a->arg[1] != 8)
        return -VK_EINVAL;
    uint64_t mask;
    int err = usercopy_from(&mask, a->arg[0], sizeof(mask));
    if (err)
        return err;
    proc_thread_t *t = proc_thread_current();
    if (!t->sigsuspend_active) { /* a restart keeps the mask saved the first time */
        t->sigsuspend_saved = t->signal_mask;
        t->sigsuspend_active = true;
    }
    t->signal_mask = mask & ~(signal_bit(SIG_KILL) | signal_bit(SIG_STOP));
    /* Sleeps until a signal it does not block arrives; delivery happens on the way out
     * (syscall_dispatch), which also puts the saved mask back. */
    while (!signal_deliverable(t))
        if (sched_sleep_interruptible(SCHED_WAIT_FOREVER) == -VK_EINTR && !signal_deliverable(t))
            sched_interrupt_clear();
    return -VK_EINTR;
}

/* sigaltstack(ss, old): stack_t is { void *ss_sp; int ss_flags; size_t ss_size; }. */
#define SS_ONSTACK   1
#define SS_DISABLE   2
#define MINSIGSTKSZ  2048

long sys_sigaltstack(const syscall_args_t *a)
{
    proc_thread_t *t = proc_thread_current();
    bool on = signal_on_altstack(t, a->frame->rsp);
    if (a->arg[1]) {
        uint64_t old[3] = { t->altstack_sp,
                            (uint64_t)(!t->altstack_size ? SS_DISABLE : on ? SS_ONSTACK : 0),
                            t->altstack_size };
        int err = usercopy_to(a->arg[1], old, sizeof(old));
        if (err)
            return err;
    }
    if (!a->arg[0])
        return 0;
    uint64_t ss[3];
    int err = usercopy_from(ss, a->arg[0], sizeof(ss));
    if (err)
        return err;
    if (on)
        return -VK_EPERM; /* not while running on it */
    uint32_t flags = (uint32_t)ss[1];
    if (flags & ~(uint32_t)SS_DISABLE)
        return -VK_EINVAL;
    if (flags & SS_DISABLE) {
        t->altstack_sp = t->altstack_size = 0;
        return 0;
    }
    if (ss[2] < MINSIGSTKSZ)
        return -VK_ENOMEM;
    if (ss[0] >= 0x0000800000000000ull || ss[2] > 0x0000800000000000ull - ss[0])
        return -VK_EFAULT; /* not a user range: the frame could never be written */
    t->altstack_sp = ss[0];
    t->altstack_size = ss[2];
    return 0;
}
