/* SPDX-License-Identifier: MIT */
/*
 * Threads of a process: starting one (the first thread of a spawned or forked process,
 * or clone with CLONE_THREAD), switching between them, and ending them.
 *
 * Ending: a thread leaves ring 3 for good through proc_thread_exit (exit, or when its
 * process is exiting). The process ends with its last thread. exit_group, a fatal
 * signal and execve set group_exit: every thread but the survivor (NULL for none) ends
 * at its next return to ring 3, and a blocking call is interrupted to get it there.
 */
#include "proc/proc_internal.h"
#include "proc/futex.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "sched/sched.h"
#include <vk/errno.h>

proc_thread_t *proc_thread_current(void)
{
    return arch_cpu_process(); /* kept equal to the running thread's owner (below) */
}

process_t *proc_current(void)
{
    proc_thread_t *t = arch_cpu_process();
    return t ? t->process : NULL;
}

/* Runs with the CPU's scheduler lock held and interrupts off: only cheap, lock-free
 * work. Kernel threads have no owner and never touch CR3-dependent or FPU state, so the
 * previous address space simply stays loaded while they run. */
static void switch_hook(sched_thread_t *prev, sched_thread_t *next)
{
    proc_thread_t *from = sched_thread_owner(prev), *to = sched_thread_owner(next);
    arch_set_cpu_process(to); /* on every switch, so it can never go stale */
    if (from == to)
        return;
    if (from)
        arch_fpu_save(&from->fpu);
    if (to) {
        if (!from || from->process != to->process)
            aspace_activate(to->process->aspace);
        arch_set_user_fs(to->fs_base);
        arch_fpu_restore(&to->fpu);
    }
}

void proc_init(void)
{
    sched_set_switch_hook(switch_hook);
}

/* Links t into p's threads. */
static void add_thread(process_t *p, proc_thread_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    t->next = p->threads;
    p->threads = t;
    p->thread_count++;
    spinlock_unlock_irqrestore(&p->lock, f);
}

/* Unlinks t; true when it was the last. */
static void add_times(proc_cpu_times_t *sum, const sched_thread_info_t *info)
{
    sum->user_ns += info->user_ns;
    sum->kernel_ns += info->kernel_ns;
    sum->voluntary_switches += info->voluntary_switches;
    sum->involuntary_switches += info->involuntary_switches;
}

void proc_self_times(proc_cpu_times_t *out)
{
    process_t *p = proc_current();
    memset(out, 0, sizeof(*out));
    if (!p)
        return;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    *out = p->exited_times;
    for (proc_thread_t *t = p->threads; t; t = t->next) {
        if (!t->sched)
            continue;
        sched_thread_info_t info;
        sched_thread_info(t->sched, &info);
        add_times(out, &info);
    }
    spinlock_unlock_irqrestore(&p->lock, f);
}

void proc_children_times(proc_cpu_times_t *out)
{
    process_t *p = proc_current();
    memset(out, 0, sizeof(*out));
    if (!p)
        return;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    *out = p->children_times;
    spinlock_unlock_irqrestore(&p->lock, f);
}

/* Takes t off its process, its times going to the process's total. */
static bool remove_thread(process_t *p, proc_thread_t *t)
{
    sched_thread_info_t info;
    sched_thread_info(sched_current(), &info);
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    add_times(&p->exited_times, &info);
    for (proc_thread_t **link = &p->threads; *link; link = &(*link)->next)
        if (*link == t) {
            *link = t->next;
            break;
        }
    bool last = --p->thread_count == 0;
    spinlock_unlock_irqrestore(&p->lock, f);
    sched_wake_all(&p->thread_ended);
    return last;
}

/* CLONE_CHILD_CLEARTID: the thread library waits on this word for the thread's end. */
static void clear_child_tid(proc_thread_t *t)
{
    if (!t->clear_child_tid)
        return;
    uint32_t zero = 0;
    futex_key_t key;
    if (!usercopy_to(t->clear_child_tid, &zero, sizeof(zero)) &&
        !futex_key(t->process->aspace, t->clear_child_tid, true, &key))
        futex_wake(&key, 1, FUTEX_BITSET_ANY); /* a shared wake, as on Linux */
}

/* The scheduler thread of a user thread: enter ring 3, and when the thread ends (its
 * proc_thread_exit resumes arch_user_enter) leave its process, ending the process too
 * if it was the last. */
static void thread_main(void *arg)
{
    proc_thread_t *t = arg;
    process_t *p = t->process; /* t->sched was set by proc_thread_start */
    sched_thread_set_owner(sched_current(), t);
    arch_set_cpu_process(t); /* the switch into this thread saw no owner yet */
    aspace_activate(p->aspace);
    arch_set_user_fs(t->fs_base);
    arch_fpu_restore(&t->fpu); /* a clean image, or the creator's registers */
    int status;
    if (t->from_frame) {
        uint32_t tid = t->tid;
        if (t->set_child_tid && usercopy_to(t->set_child_tid, &tid, sizeof(tid)))
            log_warn("proc: %s[%u]: CLONE_CHILD_SETTID address 0x%llx not writable", p->name,
                     tid, (unsigned long long)t->set_child_tid);
        arch_irq_disable(); /* arch_user_enter turns them off anyway */
        sched_account_user_return();
        status = arch_user_enter_frame(&t->start_frame, &t->resume);
    } else {
        log_debug("proc: %s[%u] starts at 0x%llx", p->name, p->pid,
                  (unsigned long long)t->entry);
        arch_irq_disable(); /* arch_user_enter turns them off anyway */
        sched_account_user_return();
        status = arch_user_enter(t->entry, t->user_stack, &t->resume);
    }

    arch_irq_enable();
    clear_child_tid(t);
    /* From here on the switch hook must not touch t. */
    sched_thread_set_owner(sched_current(), NULL);
    arch_set_cpu_process(NULL);
    bool last = remove_thread(p, t);
    kfree(t);
    if (last) {
        uint64_t f = spinlock_lock_irqsave(&p->lock);
        if (p->group_exit)
            status = p->group_exit_status;
        spinlock_unlock_irqrestore(&p->lock, f);
        aspace_activate(NULL);
        proc_last_thread_ended(p, status);
    }
}

proc_thread_t *proc_thread_new(process_t *p)
{
    proc_thread_t *t = kzalloc(sizeof(*t));
    if (t)
        t->process = p;
    return t;
}

int proc_thread_start(proc_thread_t *t, uint32_t tid)
{
    t->tid = tid;
    add_thread(t->process, t);
    /* t->sched is set before the thread can run, so the scheduling calls find it from
     * the moment fork or clone returns. A thread made by a program (fork, clone,
     * vk_spawn) inherits its creator's priority, policy and CPU affinity, as on Linux;
     * one the kernel starts (init) gets the defaults. */
    sched_thread_t *creator = proc_thread_current() ? sched_current() : NULL;
    sched_thread_params_t params = {
        .name = t->process->name, .entry = thread_main, .arg = t,
        .priority = creator ? sched_thread_priority(creator) : SCHED_PRIORITY_DEFAULT,
        .policy = creator ? sched_thread_policy(creator) : SCHED_POLICY_RR,
        .affinity = creator ? sched_thread_affinity(creator) : 0,
        .detached = true, .publish = &t->sched,
    };
    if (!sched_thread_spawn(&params)) {
        remove_thread(t->process, t);
        return -VK_ENOMEM;
    }
    return 0;
}

void proc_thread_copy_registers(proc_thread_t *t, const arch_frame_t *frame,
                                const proc_clone_args_t *args)
{
    proc_thread_t *me = proc_thread_current();
    arch_fpu_save(&t->fpu); /* the creator's live user registers */
    t->fs_base = args->set_tls ? args->tls : me->fs_base;
    t->signal_mask = me->signal_mask;
    t->from_frame = true;
    t->start_frame = *frame;
    t->start_frame.rax = 0; /* fork and clone return 0 in the child */
    t->start_frame.rflags = (frame->rflags & 0x0cd5ull) | 0x202;
    if (args->stack)
        t->start_frame.rsp = args->stack;
    if (args->set_child_tid)
        t->set_child_tid = args->child_tid;
    if (args->clear_child_tid)
        t->clear_child_tid = args->child_tid;
}

long proc_thread_clone(const arch_frame_t *frame, const proc_clone_args_t *args)
{
    process_t *p = proc_current();
    if (p->thread_count >= CONFIG_PROC_THREADS_MAX) {
        log_warn("proc: %s[%u] has CONFIG_PROC_THREADS_MAX (%d) threads; clone refused",
                 p->name, p->pid, CONFIG_PROC_THREADS_MAX);
        return -VK_EAGAIN;
    }
    proc_thread_t *t = proc_thread_new(p);
    if (!t)
        return -VK_ENOMEM;
    proc_thread_copy_registers(t, frame, args);
    uint32_t tid = proc_allocate_id();
    if (args->parent_tid)
        usercopy_to(args->parent_tid, &tid, sizeof(tid)); /* as Linux: a bad address is ignored */
    int err = proc_thread_start(t, tid);
    if (err) {
        kfree(t);
        return err;
    }
    return tid; /* t may already have run and ended: use only the tid */
}

void proc_thread_exit(int wait_status)
{
    proc_thread_t *t = proc_thread_current();
    KASSERT(t != NULL);
    arch_irq_disable();
    arch_user_resume(t->resume, wait_status);
}

/* Asks every thread of p but `survivor` to end; returns how many were asked. */
static unsigned stop_other_threads(process_t *p, proc_thread_t *survivor, int status)
{
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    unsigned n = 0;
    if (!p->group_exit || !survivor) {
        p->group_exit = true;
        p->survivor = survivor;
        p->group_exit_status = status;
    }
    for (proc_thread_t *t = p->threads; t; t = t->next)
        if (t != survivor && t->sched) {
            sched_thread_interrupt(t->sched);
            n++;
        }
    spinlock_unlock_irqrestore(&p->lock, f);
    return n;
}

void proc_exit(int wait_status)
{
    process_t *p = proc_current();
    KASSERT(p != NULL);
    stop_other_threads(p, NULL, wait_status);
    proc_thread_exit(wait_status);
}

void proc_check_group_exit(void)
{
    proc_thread_t *t = proc_thread_current();
    if (!t)
        return;
    process_t *p = t->process;
    if (__atomic_load_n(&p->group_exit, __ATOMIC_ACQUIRE) && p->survivor != t)
        proc_thread_exit(p->group_exit_status);
}

int proc_become_single_threaded(void)
{
    proc_thread_t *me = proc_thread_current();
    process_t *p = me->process;
    if (p->thread_count == 1)
        return 0;
    stop_other_threads(p, me, 0);
    /* Each of them leaves at its next return to ring 3; blocking calls were
     * interrupted, so that is soon. */
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    while (p->thread_count > 1)
        sched_wait(&p->thread_ended, &p->lock);
    bool won = p->survivor == me; /* an exit_group that came meanwhile wins */
    if (won) {
        p->group_exit = false;
        p->survivor = NULL;
    }
    spinlock_unlock_irqrestore(&p->lock, f);
    return won ? 0 : -VK_EINTR;
}
