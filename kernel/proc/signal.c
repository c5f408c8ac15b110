/* SPDX-License-Identifier: MIT */
/*
 * Signal delivery. A handler is entered by building, on the user stack, the frame Linux
 * builds on x86-64 (arch/x86/include/uapi/asm/sigcontext.h and ucontext.h describe the
 * layout): the return address (the SA_RESTORER trampoline, which calls rt_sigreturn),
 * a ucontext with every register and the old signal mask, and a siginfo; the FXSAVE
 * image of the FPU follows, 64-byte aligned. rt_sigreturn reads it back.
 *
 * A signal is delivered when its process next returns to ring 3. Raising one for a
 * process blocked in an interruptible wait (pipes, poll, wait4, sleeps, the console)
 * interrupts that wait, so the call returns EINTR and the handler runs at once.
 */
#include "proc/signal.h"
#include "mm/usercopy.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "arch/x86_64/arch.h"
#include "sched/sched.h"
#include <vk/errno.h>
#include <vk/syscall.h>

#define SIG_DFL 0
#define SIG_IGN 1
#define SA_SIGINFO   0x00000004ull
#define SA_RESTART   0x10000000ull
#define SA_ONSTACK   0x08000000ull
#define SS_ONSTACK   1
#define SS_DISABLE   2
#define SA_NODEFER   0x40000000ull
#define SA_RESETHAND 0x80000000ull
#define SI_USER   0
#define SEGV_MAPERR 1
#define RED_ZONE 128

/* struct sigcontext (x86-64), 256 bytes. */
typedef struct {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;
    uint64_t reserved[8];
} sigcontext_t;
_Static_assert(sizeof(sigcontext_t) == 256, "sigcontext layout");

typedef struct {
    uint64_t uc_flags, uc_link;
    uint64_t ss_sp;
    int32_t ss_flags, _pad;
    uint64_t ss_size;
    sigcontext_t mcontext;
    uint64_t sigmask;
} ucontext_t_;
_Static_assert(sizeof(ucontext_t_) == 304, "ucontext layout");

typedef struct {
    int32_t si_signo, si_errno, si_code, _pad;
    union {
        struct { int32_t pid; uint32_t uid; } kill;
        struct { uint64_t addr; } fault;
        uint8_t bytes[112];
    } u;
} siginfo_t_;
_Static_assert(sizeof(siginfo_t_) == 128, "siginfo layout");

typedef struct {
    uint64_t pretcode;
    ucontext_t_ uc;
    siginfo_t_ info;
} rt_sigframe_t;

/* Signals pending for t: its own and its process's. */
static uint64_t pending_for(const proc_thread_t *t)
{
    return __atomic_load_n(&t->signal_pending, __ATOMIC_ACQUIRE) |
           __atomic_load_n(&t->process->signal_pending, __ATOMIC_ACQUIRE);
}

/* SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: their default action stops the process. */
#define STOP_SIGNALS (signal_bit(19) | signal_bit(20) | signal_bit(21) | signal_bit(22))

static bool default_ignores(int sig)
{
    /* SIGCHLD, SIGCONT, SIGURG, SIGWINCH */
    return sig == 17 || sig == SIG_CONT || sig == 23 || sig == 28;
}

static bool default_stops(int sig)
{
    return sig >= 19 && sig <= 22;
}

/* SIGCONT continues p whatever its mask and handler say, and cancels pending stops; a
 * stop signal cancels a pending SIGCONT. Called before the signal is marked pending. */
static void job_control_on_raise(process_t *p, int sig)
{
    if (sig == SIG_CONT) {
        uint64_t f = spinlock_lock_irqsave(&p->lock);
        __atomic_fetch_and(&p->signal_pending, ~STOP_SIGNALS, __ATOMIC_ACQ_REL);
        for (proc_thread_t *t = p->threads; t; t = t->next)
            __atomic_fetch_and(&t->signal_pending, ~STOP_SIGNALS, __ATOMIC_ACQ_REL);
        if (p->stopped) {
            p->stopped = false;
            p->wait_report = PROC_REPORT_CONTINUED;
            p->continue_notify = true; /* the parent is told by the first thread out */
            sched_wake_all(&p->continued);
        }
        spinlock_unlock_irqrestore(&p->lock, f);
    } else if (default_stops(sig)) {
        __atomic_fetch_and(&p->signal_pending, ~signal_bit(SIG_CONT), __ATOMIC_ACQ_REL);
    }
}

/* The calling thread waits while its process is stopped; SIGKILL and an exit of the
 * process end the wait too. The first thread out after a SIGCONT tells the parent. */
static void wait_while_stopped(proc_thread_t *t)
{
    process_t *p = t->process;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    while (p->stopped && !(pending_for(t) & signal_bit(SIG_KILL)) && !p->group_exit) {
        if (sched_wait_interruptible(&p->continued, &p->lock, SCHED_WAIT_FOREVER) == -VK_EINTR)
            sched_interrupt_clear(); /* other signals wait for the continue */
    }
    bool notify = p->continue_notify;
    p->continue_notify = false;
    spinlock_unlock_irqrestore(&p->lock, f);
    if (notify)
        proc_child_changed(p);
}

/* The default action of a stop signal: the whole process stops (every thread, at its
 * next return to ring 3), its parent hears of it, and this thread waits. */
static void stop_process(proc_thread_t *t, int sig)
{
    process_t *p = t->process;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    p->stopped = true;
    p->stop_signal = sig;
    p->wait_report = PROC_REPORT_STOPPED;
    for (proc_thread_t *o = p->threads; o; o = o->next)
        if (o != t && o->sched)
            sched_thread_interrupt(o->sched); /* out of blocking calls, to stop */
    spinlock_unlock_irqrestore(&p->lock, f);
    proc_child_changed(p);
    wait_while_stopped(t);
}

/* As on Linux, init (pid 1) receives only the signals it has a handler for: one whose
 * action is the default (or SIGKILL, SIGSTOP) is discarded, so no program can end or
 * stop the system by signalling init. A fault in init still ends it (those do not come
 * through here). The handler is read without p->lock (a caller may hold it): a
 * handler installed at the same moment may or may not count, as with any race. */
static bool init_discards(process_t *p, int sig)
{
    if (p->pid != 1)
        return false;
    bool discard = sig == SIG_KILL || sig == SIG_STOP ||
                   __atomic_load_n(&p->actions[sig - 1].handler, __ATOMIC_RELAXED) == SIG_DFL;
    if (discard && !default_ignores(sig)) {
        process_t *from = proc_current();
        log_write_ratelimited(LOG_LEVEL_INFO, "signal %d to init discarded (sent by %s[%u])",
                              sig, from ? from->name : "the kernel", from ? from->pid : 0);
    }
    return discard;
}

void signal_raise(process_t *p, int sig)
{
    if (sig < 1 || sig > PROC_SIGNALS || init_discards(p, sig))
        return;
    job_control_on_raise(p, sig);
    /* Atomic: the sender runs on another CPU than the target, which clears bits. */
    __atomic_fetch_or(&p->signal_pending, signal_bit(sig), __ATOMIC_RELEASE);
    /* A blocking call of a thread that takes it ends with EINTR, so the signal is seen
     * at once: every such thread is interrupted, and the first to return takes it. */
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    for (proc_thread_t *t = p->threads; t; t = t->next)
        if (t->sched && signal_deliverable(t))
            sched_thread_interrupt(t->sched);
    spinlock_unlock_irqrestore(&p->lock, f);
}

bool signal_on_altstack(const proc_thread_t *t, uint64_t sp)
{
    return t->altstack_size && sp > t->altstack_sp && sp <= t->altstack_sp + t->altstack_size;
}

void signal_raise_thread(proc_thread_t *t, int sig)
{
    if (sig < 1 || sig > PROC_SIGNALS || init_discards(t->process, sig))
        return;
    __atomic_fetch_or(&t->signal_pending, signal_bit(sig), __ATOMIC_RELEASE);
    if (t->sched && signal_deliverable(t))
        sched_thread_interrupt(t->sched);
}


bool signal_deliverable(const proc_thread_t *t)
{
    return (pending_for(t) & (~t->signal_mask | signal_bit(SIG_KILL))) != 0;
}

static void fill_context(sigcontext_t *c, const arch_frame_t *f, uint64_t oldmask)
{
    memset(c, 0, sizeof(*c));
    c->r8 = f->r8; c->r9 = f->r9; c->r10 = f->r10; c->r11 = f->r11;
    c->r12 = f->r12; c->r13 = f->r13; c->r14 = f->r14; c->r15 = f->r15;
    c->rdi = f->rdi; c->rsi = f->rsi; c->rbp = f->rbp; c->rbx = f->rbx;
    c->rdx = f->rdx; c->rax = f->rax; c->rcx = f->rcx; c->rsp = f->rsp;
    c->rip = f->rip; c->eflags = f->rflags;
    c->cs = (uint16_t)f->cs; c->ss = (uint16_t)f->ss;
    c->err = f->vector < 32 ? f->error_code : 0;
    c->trapno = f->vector < 32 ? f->vector : 0;
    c->oldmask = oldmask;
    c->cr2 = f->vector == 14 ? arch_read_cr2() : 0;
}

/* SA_RESETHAND: the action goes back to the default as the handler is entered, unless
 * another thread has set a new one since `act` was read. */
static void reset_handler(process_t *p, int sig, const proc_sigaction_t *act)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    if (p->actions[sig - 1].handler == act->handler)
        p->actions[sig - 1].handler = SIG_DFL;
    spinlock_unlock_irqrestore(&p->lock, f);
}

/* Builds the handler frame for act (a copy of sig's action); false if the user stack
 * cannot take it. */
static bool enter_handler(proc_thread_t *t, arch_frame_t *f, int sig, const proc_sigaction_t *act,
                          const siginfo_t_ *info)
{
    process_t *p = t->process;
    /* SA_ONSTACK handlers start at the top of the alternate stack, unless already on it
     * (a nested signal continues below, as on Linux). */
    bool on_alt = signal_on_altstack(t, f->rsp);
    uint64_t sp = (act->flags & SA_ONSTACK) && t->altstack_size && !on_alt
                      ? t->altstack_sp + t->altstack_size
                      : f->rsp - RED_ZONE;
    uint64_t fpstate = (sp - sizeof(arch_fpu_state_t)) & ~63ull;
    uint64_t frame = ((fpstate - sizeof(rt_sigframe_t)) & ~15ull) - 8; /* as after a call */

    /* t->fpu is this thread's own save slot: a switch in between rewrites it with the
     * same registers. */
    arch_fpu_save(&t->fpu);
    if (usercopy_to(fpstate, &t->fpu, sizeof(t->fpu)))
        return false;

    rt_sigframe_t sf;
    memset(&sf, 0, sizeof(sf));
    sf.pretcode = act->restorer;
    sf.uc.ss_sp = t->altstack_sp;
    sf.uc.ss_size = t->altstack_size;
    sf.uc.ss_flags = !t->altstack_size ? SS_DISABLE : on_alt ? SS_ONSTACK : 0;
    /* After rt_sigsuspend the handler's return restores the mask from before it. */
    uint64_t restore_mask = t->sigsuspend_active ? t->sigsuspend_saved : t->signal_mask;
    fill_context(&sf.uc.mcontext, f, restore_mask);
    sf.uc.mcontext.fpstate = fpstate;
    sf.uc.sigmask = restore_mask;
    sf.info = *info;
    if (usercopy_to(frame, &sf, sizeof(sf)))
        return false;

    t->signal_mask |= act->mask | ((act->flags & SA_NODEFER) ? 0 : signal_bit(sig));
    t->signal_mask &= ~(signal_bit(SIG_KILL) | signal_bit(SIG_STOP));
    f->rsp = frame;
    f->rip = act->handler;
    f->rdi = (uint64_t)sig;
    f->rsi = frame + __builtin_offsetof(rt_sigframe_t, info);
    f->rdx = frame + __builtin_offsetof(rt_sigframe_t, uc);
    f->rax = 0;
    f->rflags &= ~(1ull << 10); /* DF clear on entry, as the ABI requires */
    if (act->flags & SA_RESETHAND)
        reset_handler(p, sig, act);
    arch_fpu_reset();
    return true;
}

/* Calls a handler always ends with EINTR, SA_RESTART or not (as on Linux). */
static bool never_restarted(uint64_t nr)
{
    return nr == VK_SYS_nanosleep || nr == VK_SYS_clock_nanosleep || nr == VK_SYS_poll ||
           nr == VK_SYS_ppoll || nr == VK_SYS_select || nr == VK_SYS_pselect6 ||
           nr == VK_SYS_vk_sleep_ns || nr == VK_SYS_rt_sigsuspend;
}

static void restart_syscall(arch_frame_t *f, uint64_t nr)
{
    f->rax = nr;
    f->rip -= 2; /* SYSCALL is 0f 05 */
}

bool signal_deliver_pending(arch_frame_t *f, bool interrupted, uint64_t nr)
{
    proc_thread_t *t = proc_thread_current();
    process_t *p = t->process;
    for (;;) {
        if (__atomic_load_n(&p->stopped, __ATOMIC_ACQUIRE))
            wait_while_stopped(t); /* another thread took the stop signal */
        uint64_t ready = pending_for(t) & ~t->signal_mask;
        if (!ready) {
            if (interrupted)
                restart_syscall(f, nr); /* interrupted by signals that were ignored */
            /* A temporary mask (rt_sigsuspend, ppoll, pselect6) ends with the call; a
             * restarted call sets it again. */
            if (t->sigsuspend_active)
                t->signal_mask = t->sigsuspend_saved;
            t->sigsuspend_active = false;
            return false;
        }
        int sig = __builtin_ctzll(ready) + 1;
        /* The thread's own first. Another thread may take a process signal at the same
         * moment: only the one that clears the bit delivers it. */
        uint64_t *from = (__atomic_load_n(&t->signal_pending, __ATOMIC_ACQUIRE) &
                          signal_bit(sig)) ? &t->signal_pending : &p->signal_pending;
        uint64_t before = __atomic_fetch_and(from, ~signal_bit(sig), __ATOMIC_ACQ_REL);
        if (!(before & signal_bit(sig)))
            continue;
        proc_sigaction_t action = proc_signal_action(p, sig), *act = &action;
        if (act->handler == SIG_IGN || (act->handler == SIG_DFL && default_ignores(sig)))
            continue;
        if (act->handler == SIG_DFL && default_stops(sig)) {
            /* POSIX: in an orphaned group nobody could continue it; SIGSTOP still
             * stops. */
            if (sig != SIG_STOP && proc_group_orphaned(p))
                continue;
            stop_process(t, sig);
            continue; /* continued: an interrupted call restarts, as for an ignored one */
        }
        if (act->handler == SIG_DFL) {
            /* Signals people send on purpose (^C, kill) are not news on the console. */
            bool asked = sig == 1 || sig == 2 || sig == 9 || sig == 13 || sig == 15;
            if (asked)
                log_debug("%s[%u] terminated by signal %d", p->name, p->pid, sig);
            else
                log_write_ratelimited(LOG_LEVEL_INFO, "%s[%u] terminated by signal %d",
                                      p->name, p->pid, sig);
            proc_exit(sig);
        }
        if (interrupted && (act->flags & SA_RESTART) && !never_restarted(nr))
            restart_syscall(f, nr);
        siginfo_t_ info;
        memset(&info, 0, sizeof(info));
        info.si_signo = sig;
        info.si_code = SI_USER;
        info.u.kill.pid = (int32_t)p->pid;
        if (!enter_handler(t, f, sig, act, &info))
            proc_kill_on_fault(f, 11, "cannot write a signal frame");
        t->sigsuspend_active = false;
        return true;
    }
}

void signal_on_interrupt_return(arch_frame_t *f)
{
    proc_thread_t *t = proc_thread_current();
    if (!t)
        return;
    process_t *p = t->process;
    bool exiting = __atomic_load_n(&p->group_exit, __ATOMIC_ACQUIRE) && p->survivor != t;
    if (!exiting && !signal_deliverable(t) && !__atomic_load_n(&p->stopped, __ATOMIC_ACQUIRE))
        return;
    arch_irq_enable(); /* as in a syscall: writing the frame may fault the stack in */
    proc_check_group_exit();
    signal_deliver_pending(f, false, 0);
    arch_irq_disable();
}

void signal_deliver_fault(const arch_frame_t *cf, int sig, const char *what)
{
    arch_frame_t *f = (arch_frame_t *)cf; /* the frame we return through */
    proc_thread_t *t = proc_thread_current();
    proc_sigaction_t action = proc_signal_action(t->process, sig), *act = &action;
    /* A blocked or ignored fault signal cannot be delivered: Linux kills then too. */
    bool catchable = act->handler != SIG_DFL && act->handler != SIG_IGN &&
                     !(t->signal_mask & signal_bit(sig));
    if (catchable) {
        siginfo_t_ info;
        memset(&info, 0, sizeof(info));
        info.si_signo = sig;
        info.si_code = SEGV_MAPERR;
        info.u.fault.addr = f->vector == 14 ? arch_read_cr2() : f->rip;
        if (enter_handler(t, f, sig, act, &info))
            return;
    }
    proc_kill_on_fault(f, sig, what);
}

int signal_return(arch_frame_t *f)
{
    proc_thread_t *t = proc_thread_current();
    uint64_t at = f->rsp; /* the restorer was entered by `ret`: rsp points at uc */
    ucontext_t_ uc;
    if (usercopy_from(&uc, at, sizeof(uc)))
        return -VK_EFAULT;
    const sigcontext_t *c = &uc.mcontext;
    if (c->rip >= 0x0000800000000000ull)
        return -VK_EFAULT;
    if (c->fpstate) {
        arch_fpu_state_t *image = kmalloc(sizeof(*image));
        if (!image)
            return -VK_ENOMEM;
        if (usercopy_from(image, c->fpstate, sizeof(*image))) {
            kfree(image);
            return -VK_EFAULT;
        }
        /* The image is user data: reserved MXCSR bits would make FXRSTOR raise #GP,
         * which the fixup turns into -EFAULT instead of a kernel fault. */
        int ok = 1;
        __asm__ volatile("1: fxrstor64 %1\n\t"
                         "jmp 2f\n"
                         "3: movl $0, %0\n"
                         "2:\n\t" ARCH_FIXUP(1b, 3b)
                         : "+r"(ok)
                         : "m"(*image));
        kfree(image);
        if (!ok)
            return -VK_EFAULT;
    }
    f->r8 = c->r8; f->r9 = c->r9; f->r10 = c->r10; f->r11 = c->r11;
    f->r12 = c->r12; f->r13 = c->r13; f->r14 = c->r14; f->r15 = c->r15;
    f->rdi = c->rdi; f->rsi = c->rsi; f->rbp = c->rbp; f->rbx = c->rbx;
    f->rdx = c->rdx; f->rax = c->rax; f->rcx = c->rcx; f->rsp = c->rsp;
    f->rip = c->rip; f->rflags = c->eflags; /* sanitised on the way out */
    t->signal_mask = uc.sigmask & ~(signal_bit(SIG_KILL) | signal_bit(SIG_STOP));
    return 0;
}
