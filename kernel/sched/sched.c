/* SPDX-License-Identifier: MIT */
/*
 * The scheduler core: the per-CPU state, choosing and switching threads, the tick,
 * wake-ups and preemption. See docs/sched.md for the model; the rules in brief:
 *
 *  - Preemptible kernel. Any code that runs with interrupts on and a zero preempt count
 *    may be switched away at the end of a tick or when it wakes a more urgent thread.
 *    Spinlocks are always taken with interrupts off (spinlock_lock_irqsave), so no
 *    thread is ever preempted while holding one.
 *  - Preemption from the tick happens inside time_tick_hook, i.e. inside the tick's
 *    interrupt handler, before arch_interrupt_dispatch sends the LAPIC EOI. The hook
 *    therefore sends the EOI itself before switching, or the tick's in-service bit would
 *    block every interrupt of its priority class while other threads run. The second EOI
 *    that dispatch sends when this thread later returns from the interrupt finds no
 *    in-service bit (handlers never nest and no other handler switches) and is ignored
 *    by the LAPIC (SDM vol. 3A, 11.8.5: EOI clears the highest ISR bit, if any).
 *    FIXME(issue 4): an "interrupt exit" hook in arch_interrupt_dispatch after the EOI
 *    would remove this subtlety and let device interrupts preempt without waiting for
 *    the next tick; today a wake-up from a device handler takes effect at the next tick
 *    or preemption point.
 *  - Ring 3: cpu->kernel_rsp (= TSS rsp0, the stack SYSCALL and interrupts from ring 3
 *    land on) belongs to the thread. The switch saves it in the outgoing thread and
 *    loads the incoming one's, so a process preempted in ring 3 or in a syscall finds
 *    its stack again. CR3, FS base and FPU state follow the owning process through the
 *    switch hook that kernel/proc installs.
 */
#include "sched/sched_internal.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/lapic.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "time/time.h"
#include "lib/fmt.h"
#include <vk/errno.h>

sched_cpu_t sched_cpus[CONFIG_MAX_CPUS];
bool sched_is_ready;
static sched_switch_hook_t switch_hook; /* atomic */

sched_switch_hook_t sched_set_switch_hook(sched_switch_hook_t hook)
{
    return __atomic_exchange_n(&switch_hook, hook, __ATOMIC_ACQ_REL);
}

bool sched_ready(void)
{
    return __atomic_load_n(&sched_is_ready, __ATOMIC_ACQUIRE);
}

sched_thread_t *sched_current(void)
{
    if (!sched_ready())
        return &sched_main_thread;
    /* Interrupts off so the CPU cannot change under us once migration exists. */
    uint64_t f = sched_irq_save();
    sched_thread_t *t = sched_this_cpu()->current;
    sched_irq_restore(f);
    return t;
}

static void set_need_resched(sched_cpu_t *cpu)
{
    __atomic_store_n(&cpu->need_resched, true, __ATOMIC_RELEASE);
}

static bool need_resched(sched_cpu_t *cpu)
{
    return __atomic_load_n(&cpu->need_resched, __ATOMIC_ACQUIRE);
}

static uint8_t resched_vector; /* the reschedule IPI; 0 before sched_init */

static uint32_t cpu_index_of(const sched_cpu_t *cpu) { return (uint32_t)(cpu - sched_cpus); }

/* Would t, once queued on cpu, be more urgent than what runs there? Then cpu must
 * reschedule: at its next preemption point if it is this CPU, through a reschedule IPI
 * if it is another one (unless one is already on its way). CPU lock held. */
static void check_preempt(sched_cpu_t *cpu, sched_thread_t *t)
{
    if (t == cpu->current ||
        sched_effective_priority(t) >= sched_effective_priority(cpu->current))
        return;
    bool already = __atomic_exchange_n(&cpu->need_resched, true, __ATOMIC_ACQ_REL);
    if (!already && cpu != sched_this_cpu() && resched_vector)
        arch_ipi_send(cpu_index_of(cpu), resched_vector);
}

/* Runnable threads queued or running on cpu: a hint read without its lock. */
static unsigned cpu_load(sched_cpu_t *cpu)
{
    return __atomic_load_n(&cpu->rq.count, __ATOMIC_RELAXED) +
           (__atomic_load_n(&cpu->running_idle, __ATOMIC_RELAXED) ? 0 : 1);
}

static uint64_t online_mask(void);

/* The least loaded online CPU in `allowed`, `prefer` when it ties for least. */
static uint32_t least_loaded(uint64_t allowed, uint32_t prefer)
{
    allowed &= online_mask();
    if (!allowed)
        return prefer;
    uint32_t best = prefer;
    unsigned best_load = (allowed & (1ull << prefer)) ? cpu_load(&sched_cpus[prefer]) : ~0u;
    for (uint64_t m = allowed; m; m &= m - 1) {
        uint32_t i = (uint32_t)__builtin_ctzll(m);
        unsigned load = cpu_load(&sched_cpus[i]);
        if (load < best_load) {
            best = i;
            best_load = load;
        }
    }
    return best;
}

static void lock_two(sched_cpu_t *a, sched_cpu_t *b)
{
    if (a == b) {
        spinlock_lock(&a->lock);
    } else if (a < b) {
        spinlock_lock(&a->lock);
        spinlock_lock(&b->lock);
    } else {
        spinlock_lock(&b->lock);
        spinlock_lock(&a->lock);
    }
}

static void unlock_two(sched_cpu_t *a, sched_cpu_t *b)
{
    spinlock_unlock(&a->lock);
    if (a != b)
        spinlock_unlock(&b->lock);
}

sched_cpu_t *sched_lock_thread_cpu(sched_thread_t *t)
{
    for (;;) {
        sched_cpu_t *cpu = &sched_cpus[__atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE)];
        spinlock_lock(&cpu->lock);
        if (&sched_cpus[t->cpu] == cpu)
            return cpu;
        spinlock_unlock(&cpu->lock);
    }
}

/* Locks t's CPU and `to_index` (chosen by pick(t, from)), retrying if t moved. */
static void lock_thread_and_target(sched_thread_t *t, uint32_t (*pick)(sched_thread_t *, uint32_t),
                                   sched_cpu_t **from, sched_cpu_t **to)
{
    for (;;) {
        uint32_t f = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        *from = &sched_cpus[f];
        *to = &sched_cpus[pick(t, f)];
        lock_two(*from, *to);
        if (t->cpu == f)
            return;
        unlock_two(*from, *to);
    }
}

static void enqueue(sched_cpu_t *cpu, sched_thread_t *t, bool front);

/* t, queued on `from` or on no queue, goes to `to`'s queue. Both locks held. */
static void move_and_enqueue(sched_cpu_t *from, sched_cpu_t *to, sched_thread_t *t)
{
    if (t->rq_level >= 0)
        sched_rq_remove(&from->rq, t);
    if (from != to) {
        __atomic_store_n(&t->cpu, cpu_index_of(to), __ATOMIC_RELEASE);
        to->migrations_in++;
    }
    enqueue(to, t, false);
    check_preempt(to, t);
}

static void enqueue(sched_cpu_t *cpu, sched_thread_t *t, bool front)
{
    if (!front) {
        t->slice_left_ns = sched_slice_ns(t);
        t->slice_expired = false;
        sched_rq_push_back(&cpu->rq, t, sched_effective_priority(t));
    } else {
        sched_rq_push_front(&cpu->rq, t, sched_effective_priority(t));
    }
}

/* The part of the switch that runs in the thread switched to, with the CPU lock still
 * held by the thread that switched: release it, then deal with a dead predecessor. */
static uint32_t pick_for_affinity(sched_thread_t *t, uint32_t from)
{
    uint64_t allowed = t->affinity & online_mask();
    return least_loaded(allowed, allowed ? (uint32_t)__builtin_ctzll(allowed) : from);
}

static void finish_switch(void)
{
    sched_cpu_t *cpu = sched_this_cpu();
    sched_thread_t *prev = cpu->switch_from;
    bool migrate = cpu->switch_migrate;
    cpu->switch_from = NULL;
    cpu->switch_migrate = false;
    bool prev_dead = prev && prev->state == SCHED_THREAD_DEAD;
    spinlock_unlock(&cpu->lock);
    if (prev_dead)
        sched_thread_dead(prev);
    if (migrate) {
        /* prev is RUNNABLE on no queue: its context is saved now, so another CPU may run
         * it. Wakers leave a RUNNABLE thread alone, so nobody else queues it. */
        sched_cpu_t *from, *to;
        lock_thread_and_target(prev, pick_for_affinity, &from, &to);
        move_and_enqueue(from, to, prev);
        unlock_two(from, to);
    }
}

static inline __attribute__((always_inline)) void
switch_to(sched_cpu_t *cpu, sched_thread_t *prev, sched_thread_t *next, uint64_t now,
          sched_switch_reason_t reason, bool migrate);

/* Pick and switch; CPU lock held, interrupts off. Returns with the lock released, when
 * this thread runs again. */
static void switch_locked(sched_cpu_t *cpu, sched_switch_reason_t reason)
{
    sched_thread_t *prev = cpu->current;
    uint64_t now = time_monotonic_ns();

    /* Charge the slice, then requeue a thread that is still runnable. */
    uint64_t ran = now - prev->slice_start_ns;
    prev->slice_left_ns = ran >= prev->slice_left_ns ? 0 : prev->slice_left_ns - ran;
    prev->slice_start_ns = now;
    bool migrate = false;
    if (prev->is_idle) {
        prev->state = SCHED_THREAD_RUNNABLE; /* never queued: picked when nothing else is */
    } else if ((prev->state == SCHED_THREAD_RUNNING || prev->state == SCHED_THREAD_RUNNABLE) &&
               !(prev->affinity & (1ull << cpu_index_of(cpu)))) {
        /* Its affinity changed while it ran: finish_switch moves it. */
        prev->state = SCHED_THREAD_RUNNABLE;
        migrate = true;
    } else if (prev->state == SCHED_THREAD_RUNNING || prev->state == SCHED_THREAD_RUNNABLE) {
        /* RUNNABLE here means it was woken between setting its blocking state and this
         * switch: it simply keeps going. */
        bool front = prev->state == SCHED_THREAD_RUNNABLE ||
                     (reason == SCHED_SWITCH_PREEMPT && !prev->slice_expired);
        /* A yield hands the CPU to equals: a kept wake-up boost would put the yielder
         * above them again, and with a fresh slice on every yield it would never run
         * out (a yield loop starved its equals). */
        if (reason == SCHED_SWITCH_YIELD)
            prev->boost = 0;
        prev->state = SCHED_THREAD_RUNNABLE;
        enqueue(cpu, prev, front);
    }

    /* A throttled CPU runs the lower classes; real-time only when nothing else waits. */
    sched_thread_t *next = cpu->rt_throttled
                               ? sched_rq_pop_from(&cpu->rq, SCHED_PRIORITY_INTERACTIVE_MIN)
                               : NULL;
    if (!next)
        next = sched_rq_pop(&cpu->rq);
    if (!next)
        next = cpu->idle;
    __atomic_store_n(&cpu->need_resched, false, __ATOMIC_RELAXED);
    next->state = SCHED_THREAD_RUNNING;
    if (next == prev) {
        spinlock_unlock(&cpu->lock);
        return;
    }
    switch_to(cpu, prev, next, now, reason, migrate);
}

/* The second half of a switch, shared by switch_locked and the directed switch: prev
 * has been charged its slice and requeued (or not), next is RUNNING and off every run
 * queue. CPU lock held, interrupts off. Returns with the lock released, when prev runs
 * again. */
static inline __attribute__((always_inline)) void
switch_to(sched_cpu_t *cpu, sched_thread_t *prev, sched_thread_t *next, uint64_t now,
          sched_switch_reason_t reason, bool migrate)
{
    /* Accounting: the interval since the last switch belongs to prev. */
    uint64_t delta = now - cpu->last_switch_ns;
    cpu->last_switch_ns = now;
    prev->run_ns += delta;
    if (prev->is_idle)
        cpu->idle_ns += delta;
    else
        cpu->busy_ns += delta;
    cpu->context_switches++;
    if (reason == SCHED_SWITCH_PREEMPT && !prev->is_idle &&
        prev->state == SCHED_THREAD_RUNNABLE) {
        prev->involuntary_switches++;
        cpu->preemptions++;
    } else if (!prev->is_idle) {
        prev->voluntary_switches++;
    }
    next->slice_start_ns = now;
    /* A thread preempted on its way back to ring 3 (after sched_account_user_return)
     * counts as in ring 3: charge that to here, and restart its interval on resuming. */
    uint64_t tsc = arch_rdtsc();
    if (prev->in_user) {
        uint64_t d = tsc - prev->user_since_tsc;
        __atomic_store_n(&prev->user_tsc, prev->user_tsc + d, __ATOMIC_RELAXED);
        __atomic_store_n(&cpu->user_tsc, cpu->user_tsc + d, __ATOMIC_RELAXED);
        prev->user_since_tsc = tsc;
    }
    if (next->in_user)
        next->user_since_tsc = tsc;

    cpu->current = next;
    __atomic_store_n(&cpu->running_idle, next->is_idle, __ATOMIC_RELAXED);
    cpu->switch_from = prev;
    cpu->switch_migrate = migrate;
    sched_switch_hook_t hook = __atomic_load_n(&switch_hook, __ATOMIC_ACQUIRE);
    if (hook)
        hook(prev, next);
    prev->kernel_rsp = arch_kernel_stack();
    arch_set_kernel_stack(next->kernel_rsp);
    arch_context_switch(&prev->context_rsp, next->context_rsp);
    finish_switch();
}

/* Something more urgent may have become runnable while this thread was away (a joiner
 * woken by finish_switch, say): serve it before going back to the thread's code. */
static void switch_while_needed(void)
{
    for (;;) {
        sched_cpu_t *cpu = sched_this_cpu();
        if (!need_resched(cpu) || cpu->current->preempt_count != 0)
            return;
        spinlock_lock(&cpu->lock);
        switch_locked(cpu, SCHED_SWITCH_PREEMPT);
    }
}

void sched_switch(sched_switch_reason_t reason)
{
    KASSERT(!arch_irq_enabled());
    sched_cpu_t *cpu = sched_this_cpu();
    spinlock_lock(&cpu->lock);
    switch_locked(cpu, reason);
    switch_while_needed();
}

/* First code of every new thread, called by arch_thread_trampoline before it turns
 * interrupts on and calls the entry function. */
void sched_thread_first_run(void)
{
    finish_switch();
    switch_while_needed();
}

void sched_preempt_point(void)
{
    if (!sched_ready() || !arch_irq_enabled())
        return;
    arch_irq_disable();
    sched_cpu_t *cpu = sched_this_cpu();
    if (need_resched(cpu) && cpu->current->preempt_count == 0)
        sched_switch(SCHED_SWITCH_PREEMPT);
    arch_irq_enable();
}

void sched_preempt_disable(void)
{
    sched_thread_t *t = sched_current();
    t->preempt_count++;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

void sched_preempt_enable(void)
{
    sched_thread_t *t = sched_current();
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    KASSERT(t->preempt_count > 0);
    if (--t->preempt_count == 0)
        sched_preempt_point();
}

void sched_yield(void)
{
    if (!sched_ready())
        return;
    uint64_t f = sched_irq_save();
    sched_switch(SCHED_SWITCH_YIELD);
    sched_irq_restore(f);
}

void sched_set_current_state(sched_thread_state_t state)
{
    sched_cpu_t *cpu = sched_this_cpu();
    spinlock_lock(&cpu->lock);
    cpu->current->state = state;
    cpu->current->wake_reason = SCHED_WAKE_NONE;
    spinlock_unlock(&cpu->lock);
}

/* Where a woken thread goes: back to its CPU when that one idles, else the least
 * loaded CPU it may use (its own CPU on a tie, for a warm cache). */
static uint32_t pick_for_wake(sched_thread_t *t, uint32_t from)
{
    sched_cpu_t *own = &sched_cpus[from];
    if ((t->affinity & (1ull << from)) && cpu_load(own) == 0)
        return from;
    return least_loaded(t->affinity, from);
}

/* The bookkeeping of a wake-up of t (on cpu) to run on `to`: both locks held. */
static void note_wake(sched_cpu_t *cpu, sched_cpu_t *to, sched_thread_t *t,
                      sched_wake_reason_t reason, uint64_t now)
{
    t->wake_reason = reason;
    t->interruptible = false;
    t->wakeups++;
    to->wakeups++;
    t->last_wake_ns = now;
    t->last_wake_tick = cpu->ticks;
    if (sched_priority_class(t->priority) == SCHED_CLASS_INTERACTIVE)
        t->boost = SCHED_INTERACTIVE_BOOST;
}

/* With t's CPU and the target CPU locked (lock_thread_and_target): wakes t if it is
 * blocked or sleeping (and, when only_interruptible, blocked in an interruptible wait). */
static bool wake_locked(sched_cpu_t *cpu, sched_cpu_t *to, sched_thread_t *t,
                        sched_wake_reason_t reason, bool only_interruptible)
{
    if (t->state != SCHED_THREAD_BLOCKED && t->state != SCHED_THREAD_SLEEPING)
        return false;
    if (only_interruptible && (t->state != SCHED_THREAD_BLOCKED || !t->interruptible))
        return false;
    note_wake(cpu, to, t, reason, time_monotonic_ns());
    t->state = SCHED_THREAD_RUNNABLE;
    /* Still current: it set its blocking state but has not switched yet (another CPU is
     * waking it). switch_locked sees RUNNABLE and lets it continue there. Otherwise its
     * context is saved (its CPU's lock is held across a switch), so any CPU may run it. */
    if (t != cpu->current)
        move_and_enqueue(cpu, to, t);
    return true;
}

bool sched_wake_thread(sched_thread_t *t, sched_wake_reason_t reason)
{
    sched_cpu_t *cpu, *to;
    lock_thread_and_target(t, pick_for_wake, &cpu, &to);
    bool woke = wake_locked(cpu, to, t, reason, false);
    unlock_two(cpu, to);
    return woke;
}

/* ---- the directed switch (docs/sched.md, "Directed switch") ------------------------ */

/* Would t, woken now, be what this CPU picks next once its current thread blocks? Both
 * CPU locks held; t's boost is the one it would have after the wake-up. */
static bool handoff_allowed(sched_cpu_t *self, sched_cpu_t *from, sched_thread_t *t)
{
    sched_thread_t *cur = self->current;
    if (cur->state != SCHED_THREAD_BLOCKED || t->state != SCHED_THREAD_BLOCKED ||
        t == from->current || !(t->affinity & (1ull << cpu_index_of(self))) ||
        __atomic_load_n(&t->interrupt_pending, __ATOMIC_ACQUIRE))
        return false;
    if (self->rq.count == 0)
        return true; /* the usual case: nothing else waits here */
    /* A throttled CPU serves a waiting lower class before real-time. */
    if (self->rt_throttled && sched_priority_class(t->priority) == SCHED_CLASS_REALTIME &&
        sched_rq_best_level_from(&self->rq, SCHED_PRIORITY_INTERACTIVE_MIN) >= 0)
        return false;
    int best = sched_rq_best_level(&self->rq);
    return best < 0 || best >= sched_effective_priority(t);
}

sched_cpu_t *sched_handoff_claim(sched_thread_t *t)
{
    sched_cpu_t *self = sched_this_cpu();
    uint32_t index = cpu_index_of(self);
    /* Cheap refusals first; all of them are checked again under the locks. */
    if (t->is_idle || t == self->current || !(t->affinity & (1ull << index)))
        return NULL;
    sched_cpu_t *from;
    for (;;) {
        uint32_t f = __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
        from = &sched_cpus[f];
        lock_two(from, self);
        if (t->cpu == f)
            break;
        unlock_two(from, self);
    }
    int boost = t->boost;
    if (sched_priority_class(t->priority) == SCHED_CLASS_INTERACTIVE)
        t->boost = SCHED_INTERACTIVE_BOOST; /* as the wake-up would */
    if (!handoff_allowed(self, from, t)) {
        t->boost = boost;
        unlock_two(from, self);
        return NULL;
    }
    note_wake(from, self, t, SCHED_WAKE_SIGNALLED, time_monotonic_ns());
    t->state = SCHED_THREAD_RUNNING;
    t->slice_left_ns = sched_slice_ns(t); /* the fresh slice enqueue would give */
    t->slice_expired = false;
    if (from != self) {
        __atomic_store_n(&t->cpu, index, __ATOMIC_RELEASE);
        self->migrations_in++;
        spinlock_unlock(&from->lock);
    }
    return self;
}

void sched_handoff_switch(sched_cpu_t *cpu, sched_thread_t *next)
{
    sched_thread_t *prev = cpu->current;
    KASSERT(prev->state == SCHED_THREAD_BLOCKED && next->state == SCHED_THREAD_RUNNING);
    uint64_t now = next->last_wake_ns; /* read by sched_handoff_claim a moment ago */
    uint64_t ran = now - prev->slice_start_ns;
    prev->slice_left_ns = ran >= prev->slice_left_ns ? 0 : prev->slice_left_ns - ran;
    prev->slice_start_ns = now;
    /* The claim checked that nothing queued here is more urgent than next: this is the
     * pick switch_locked would have made. */
    __atomic_store_n(&cpu->need_resched, false, __ATOMIC_RELAXED);
    cpu->handoffs++;
    switch_to(cpu, prev, next, now, SCHED_SWITCH_BLOCK, false);
    switch_while_needed();
}

bool sched_set_current_blocked_interruptible(void)
{
    sched_cpu_t *cpu = sched_this_cpu();
    spinlock_lock(&cpu->lock);
    sched_thread_t *t = cpu->current;
    bool block = !__atomic_load_n(&t->interrupt_pending, __ATOMIC_ACQUIRE);
    if (block) {
        t->state = SCHED_THREAD_BLOCKED;
        t->wake_reason = SCHED_WAKE_NONE;
        t->interruptible = true;
    }
    spinlock_unlock(&cpu->lock);
    return block;
}

void sched_thread_interrupt(sched_thread_t *t)
{
    __atomic_store_n(&t->interrupt_pending, true, __ATOMIC_RELEASE);
    uint64_t f = sched_irq_save();
    sched_cpu_t *cpu, *to;
    lock_thread_and_target(t, pick_for_wake, &cpu, &to);
    bool woke = wake_locked(cpu, to, t, SCHED_WAKE_INTERRUPTED, true);
    unlock_two(cpu, to);
    sched_irq_restore(f);
    if (woke)
        sched_preempt_point();
}

void sched_interrupt_clear(void)
{
    __atomic_store_n(&sched_current()->interrupt_pending, false, __ATOMIC_RELAXED);
}

void sched_make_runnable(sched_thread_t *t)
{
    sched_cpu_t *cpu = sched_lock_thread_cpu(t);
    t->state = SCHED_THREAD_RUNNABLE;
    enqueue(cpu, t, false);
    check_preempt(cpu, t);
    spinlock_unlock(&cpu->lock);
}

int sched_set_priority(sched_thread_t *t, int priority)
{
    if (priority < 0 || priority >= SCHED_PRIORITY_LEVELS || t->is_idle)
        return -VK_EINVAL;
    uint64_t f = sched_irq_save();
    sched_cpu_t *cpu = sched_lock_thread_cpu(t);
    bool queued = t->rq_level >= 0;
    if (queued)
        sched_rq_remove(&cpu->rq, t);
    t->priority = priority;
    t->boost = 0;
    if (t->slice_left_ns > sched_slice_ns(t))
        t->slice_left_ns = sched_slice_ns(t);
    if (queued) {
        enqueue(cpu, t, false);
        check_preempt(cpu, t);
    } else if (t == cpu->current) {
        int best = sched_rq_best_level(&cpu->rq);
        if (best >= 0 && best < sched_effective_priority(t))
            set_need_resched(cpu);
    }
    spinlock_unlock(&cpu->lock);
    sched_irq_restore(f);
    sched_preempt_point();
    return 0;
}

int sched_set_policy(sched_thread_t *t, sched_policy_t policy)
{
    if (policy != SCHED_POLICY_RR && policy != SCHED_POLICY_FIFO)
        return -VK_EINVAL;
    uint64_t f = sched_irq_save();
    sched_cpu_t *cpu = sched_lock_thread_cpu(t);
    t->policy = policy;
    t->slice_left_ns = sched_slice_ns(t);
    spinlock_unlock(&cpu->lock);
    sched_irq_restore(f);
    return 0;
}

/* Bit n set once CPU n has its idle thread and takes work (atomic). */
static uint64_t online_cpus;

static uint64_t online_mask(void)
{
    return __atomic_load_n(&online_cpus, __ATOMIC_ACQUIRE);
}

uint64_t sched_online_mask(void) { return online_mask(); }

int sched_set_affinity(sched_thread_t *t, uint64_t mask)
{
    if (!(mask & online_mask()) || t->is_idle)
        return -VK_EINVAL;
    uint64_t f = sched_irq_save();
    sched_cpu_t *cpu = sched_lock_thread_cpu(t);
    t->affinity = mask;
    uint32_t index = cpu_index_of(cpu);
    bool off = !(mask & (1ull << index));
    bool self = t == cpu->current && cpu == sched_this_cpu();
    if (off && t == cpu->current) {
        /* Running: it moves at its next switch (switch_locked sees the mask). */
        bool already = __atomic_exchange_n(&cpu->need_resched, true, __ATOMIC_ACQ_REL);
        if (!self && !already && resched_vector)
            arch_ipi_send(index, resched_vector);
        off = false;
    }
    spinlock_unlock(&cpu->lock);
    if (off) {
        /* Queued, blocked or sleeping: move it now (a blocked one is simply woken on an
         * allowed CPU later; a RUNNABLE thread on no queue is finish_switch's). */
        sched_cpu_t *from, *to;
        lock_thread_and_target(t, pick_for_affinity, &from, &to);
        if (!(t->affinity & (1ull << cpu_index_of(from))) && t != from->current) {
            if (t->rq_level >= 0) {
                move_and_enqueue(from, to, t);
            } else if (t->state == SCHED_THREAD_BLOCKED || t->state == SCHED_THREAD_SLEEPING) {
                __atomic_store_n(&t->cpu, cpu_index_of(to), __ATOMIC_RELEASE);
            }
        }
        unlock_two(from, to);
    }
    sched_irq_restore(f);
    if (self)
        sched_preempt_point();
    return 0;
}

uint32_t sched_pick_cpu(uint64_t affinity)
{
    uint32_t self = arch_cpu_index();
    uint64_t allowed = affinity & online_mask();
    return least_loaded(allowed, (allowed & (1ull << self)) || !allowed
                                     ? self : (uint32_t)__builtin_ctzll(allowed));
}

/* ---- the tick and the idle thread ---------------------------------------------- */

bool sched_steal_disabled;
static void steal(sched_cpu_t *self);

/* Periodic balancing between busy CPUs (stealing only helps idle ones). Every
 * SCHED_BALANCE_TICKS ticks, staggered by CPU index so the CPUs do not all look at
 * once, pull one queued thread whose affinity allows this CPU from the most loaded
 * CPU when it has SCHED_BALANCE_IMBALANCE or more runnable threads than this one. A
 * queued thread is never running, so its context is saved and any CPU may take it.
 * An idle CPU leaves this to steal(), which it runs itself on waking. Interrupts off,
 * no lock held. */
static void balance_tick(sched_cpu_t *self)
{
    uint32_t index = cpu_index_of(self);
    if ((self->ticks + index) % SCHED_BALANCE_TICKS != 0)
        return;
    if (__atomic_load_n(&self->running_idle, __ATOMIC_RELAXED) && !sched_steal_disabled)
        return;
    unsigned mine = cpu_load(self), most = 0;
    sched_cpu_t *busiest = NULL;
    for (uint64_t m = online_mask() & ~(1ull << index); m; m &= m - 1) {
        sched_cpu_t *c = &sched_cpus[__builtin_ctzll(m)];
        unsigned load = cpu_load(c);
        if (load > most && __atomic_load_n(&c->rq.count, __ATOMIC_RELAXED)) {
            most = load;
            busiest = c;
        }
    }
    if (!busiest || most < mine + SCHED_BALANCE_IMBALANCE)
        return;
    lock_two(self, busiest);
    /* The loads were hints: check again under the locks. */
    unsigned mine_now = self->rq.count + (self->current->is_idle ? 0 : 1);
    unsigned theirs_now = busiest->rq.count + (busiest->current->is_idle ? 0 : 1);
    sched_thread_t *t = theirs_now >= mine_now + SCHED_BALANCE_IMBALANCE
                            ? sched_rq_find_allowed(&busiest->rq, 1ull << index) : NULL;
    if (t) {
        move_and_enqueue(busiest, self, t);
        self->balance_pulls++;
    }
    unlock_two(self, busiest);
}

/* Real-time throttling (tick-sampled): each tick that finds a real-time thread running
 * charges a tick to the CPU's real-time budget. Once the budget of the period is used
 * while a lower-class thread waits here, the CPU is throttled: switch_locked picks from
 * the lower classes first until the period ends. CPU lock held. */
static void rt_throttle_tick(sched_cpu_t *cpu, sched_thread_t *cur, uint64_t now)
{
    if (now - cpu->rt_period_start_ns >= SCHED_RT_PERIOD_NS) {
        cpu->rt_period_start_ns = now;
        cpu->rt_used_ns = 0;
        if (cpu->rt_throttled) {
            cpu->rt_throttled = false;
            if (sched_rq_best_level(&cpu->rq) >= 0 &&
                sched_rq_best_level(&cpu->rq) < sched_effective_priority(cur))
                set_need_resched(cpu);
        }
    }
    if (cur->is_idle || sched_priority_class(cur->priority) != SCHED_CLASS_REALTIME)
        return;
    cpu->rt_used_ns += 1000000000ull / CONFIG_TIMER_HZ;
    /* Over budget and a lower-class thread waits here (also one that arrived after the
     * throttle began while real-time ran for want of anything else). */
    if (cpu->rt_used_ns < SCHED_RT_RUNTIME_NS ||
        sched_rq_best_level_from(&cpu->rq, SCHED_PRIORITY_INTERACTIVE_MIN) < 0)
        return;
    if (!cpu->rt_throttled) {
        cpu->rt_throttled = true;
        cpu->rt_throttle_count++;
    }
    set_need_resched(cpu);
}

void time_tick_hook(void)
{
    if (!sched_ready())
        return;
    sched_cpu_t *cpu = sched_this_cpu();
    uint64_t now = time_monotonic_ns();
    spinlock_lock(&cpu->lock);
    cpu->ticks++;
    spinlock_unlock(&cpu->lock);

    sched_timer_expire(cpu, now);
    balance_tick(cpu);

    spinlock_lock(&cpu->lock);
    sched_thread_t *cur = cpu->current;
    rt_throttle_tick(cpu, cur, now);
    if (!cur->is_idle && now - cur->slice_start_ns >= cur->slice_left_ns) {
        cur->boost = 0; /* a whole slice used: no longer "interactive" */
        int best = sched_rq_best_level(&cpu->rq);
        if (best >= 0 && best <= sched_effective_priority(cur)) {
            cur->slice_expired = true;
            set_need_resched(cpu);
        } else {
            /* Nobody to take turns with: a fresh slice in place. */
            cur->slice_left_ns = sched_slice_ns(cur);
            cur->slice_start_ns = now;
        }
    }
    bool preempt = need_resched(cpu) && cur->preempt_count == 0;
    spinlock_unlock(&cpu->lock);
    if (preempt) {
        lapic_eoi(); /* see the file comment */
        sched_switch(SCHED_SWITCH_PREEMPT);
    }
}

/* A timer interrupt between ticks, asked for by sched_timer_arm: wake the sleepers
 * that are due, and run one of them at once when it outranks the current thread. */
void time_event_hook(void)
{
    if (!sched_ready())
        return;
    sched_cpu_t *cpu = sched_this_cpu();
    sched_timer_expire(cpu, time_monotonic_ns());
    spinlock_lock(&cpu->lock);
    bool preempt = need_resched(cpu) && cpu->current->preempt_count == 0;
    spinlock_unlock(&cpu->lock);
    if (preempt) {
        lapic_eoi();
        sched_switch(SCHED_SWITCH_PREEMPT);
    }
}

/* Idle-time balancing: take the most urgent thread this CPU may run from the CPU with
 * the longest run queue. Its thread there is waiting while that CPU runs something
 * else, so even one queued thread is worth taking. Interrupts off. */
static void steal(sched_cpu_t *self)
{
    sched_cpu_t *busiest = NULL;
    unsigned most = 0;
    for (uint64_t m = online_mask() & ~(1ull << cpu_index_of(self)); m; m &= m - 1) {
        sched_cpu_t *c = &sched_cpus[__builtin_ctzll(m)];
        unsigned queued = __atomic_load_n(&c->rq.count, __ATOMIC_RELAXED);
        if (queued > most) {
            most = queued;
            busiest = c;
        }
    }
    if (!busiest)
        return;
    lock_two(self, busiest);
    sched_thread_t *t = sched_rq_find_allowed(&busiest->rq, 1ull << cpu_index_of(self));
    if (t) {
        move_and_enqueue(busiest, self, t);
        self->steals++;
    }
    unlock_two(self, busiest);
}

static void idle_loop(void *arg)
{
    sched_cpu_t *cpu = arg;
    for (;;) {
        arch_irq_disable();
        if (!__atomic_load_n(&cpu->rq.count, __ATOMIC_RELAXED) && !sched_steal_disabled)
            steal(cpu);
        if (need_resched(cpu) || __atomic_load_n(&cpu->rq.count, __ATOMIC_RELAXED)) {
            sched_switch(SCHED_SWITCH_PREEMPT);
            arch_irq_enable();
        } else {
            arch_wait_for_interrupt(); /* sti; hlt: no wake-up slips in between */
        }
    }
}

/* The reschedule IPI: a thread more urgent than ours was queued here by another CPU.
 * Switch as the tick does (EOI first, see the file comment); the idle thread simply
 * wakes from hlt and finds its queue non-empty. */
static void resched_interrupt(arch_frame_t *frame)
{
    (void)frame;
    sched_cpu_t *cpu = sched_this_cpu();
    if (need_resched(cpu) && cpu->current->preempt_count == 0) {
        lapic_eoi();
        sched_switch(SCHED_SWITCH_PREEMPT);
    }
}

/* Bring the scheduler state of CPU `index` up with its idle thread. */
static void init_cpu(uint32_t index)
{
    sched_cpu_t *cpu = &sched_cpus[index];
    sched_rq_init(&cpu->rq);
    char name[SCHED_NAME_MAX];
    fmt_snprintf(name, sizeof(name), "idle%u", index);
    sched_thread_params_t p = {
        .name = name, .entry = idle_loop, .arg = cpu, .priority = SCHED_PRIORITY_BATCH_MAX,
        .affinity = 1ull << index,
    };
    sched_thread_t *idle = sched_thread_alloc(&p);
    if (!idle)
        panic("sched: no memory for the idle thread of CPU %u", index);
    idle->is_idle = true;
    idle->cpu = index;
    idle->state = SCHED_THREAD_RUNNABLE; /* never on the run queue */
    cpu->idle = idle;
    cpu->last_switch_ns = time_monotonic_ns();
    cpu->online = true;
    __atomic_fetch_or(&online_cpus, 1ull << index, __ATOMIC_RELEASE);
}

void sched_start_cpu(void)
{
    KASSERT(!arch_irq_enabled() && sched_ready());
    uint32_t index = arch_cpu_index();
    sched_cpu_t *cpu = &sched_cpus[index];
    sched_rq_init(&cpu->rq);
    sched_thread_t *idle = sched_thread_adopt_idle(index);
    if (!idle)
        panic("sched: no memory for the idle thread of CPU %u", index);
    spinlock_lock(&cpu->lock);
    cpu->idle = idle;
    cpu->current = idle;
    cpu->running_idle = true;
    cpu->last_switch_ns = time_monotonic_ns();
    cpu->online = true;
    spinlock_unlock(&cpu->lock);
    __atomic_fetch_or(&online_cpus, 1ull << index, __ATOMIC_RELEASE);
    arch_smp_cpu_ready();
    idle_loop(cpu);
    __builtin_unreachable();
}

void sched_init(void)
{
    KASSERT(!arch_irq_enabled());
    KASSERT(!sched_ready());
    uint32_t index = arch_cpu_index();
    sched_cpu_t *cpu = &sched_cpus[index];
    sched_thread_t *m = &sched_main_thread;
    sched_thread_init_main(index);
    cpu->current = m;
    init_cpu(index);
    resched_vector = arch_irq_alloc_vector();
    if (resched_vector)
        arch_irq_register(resched_vector, resched_interrupt, true);
    else
        log_warn("sched: no vector for the reschedule IPI; other CPUs react at their tick");
    __atomic_store_n(&sched_is_ready, true, __ATOMIC_RELEASE);
    log_info("sched: thread 0 \"main\" (priority %d) and %s on CPU %u; slices %llu/%llu/%llu ms "
             "(real-time RR/interactive/batch), tick %u Hz",
             m->priority, cpu->idle->name, index,
             (unsigned long long)(SCHED_SLICE_REALTIME_NS / 1000000),
             (unsigned long long)(SCHED_SLICE_INTERACTIVE_NS / 1000000),
             (unsigned long long)(SCHED_SLICE_BATCH_NS / 1000000), (unsigned)CONFIG_TIMER_HZ);
}

/* ---- accounting ------------------------------------------------------------------ */

bool sched_cpu_info(unsigned index, sched_cpu_info_t *out)
{
    memset(out, 0, sizeof(*out));
    if (index >= CONFIG_MAX_CPUS || !sched_cpus[index].online)
        return false;
    sched_cpu_t *cpu = &sched_cpus[index];
    uint64_t f = sched_irq_save();
    spinlock_lock(&cpu->lock);
    uint64_t running = time_monotonic_ns() - cpu->last_switch_ns;
    out->online = true;
    out->idle_ns = cpu->idle_ns + (cpu->current->is_idle ? running : 0);
    out->busy_ns = cpu->busy_ns + (cpu->current->is_idle ? 0 : running);
    uint64_t user_tsc = __atomic_load_n(&cpu->user_tsc, __ATOMIC_RELAXED);
    sched_thread_t *cur = cpu->current;
    if (__atomic_load_n(&cur->in_user, __ATOMIC_RELAXED))
        user_tsc += arch_rdtsc() - cur->user_since_tsc;
    out->user_ns = time_cycles_to_ns(user_tsc);
    if (out->user_ns > out->busy_ns)
        out->user_ns = out->busy_ns;
    out->kernel_ns = out->busy_ns - out->user_ns;
    out->balance_pulls = cpu->balance_pulls;
    out->rt_throttled = cpu->rt_throttle_count;
    out->context_switches = cpu->context_switches;
    out->preemptions = cpu->preemptions;
    out->ticks = cpu->ticks;
    out->runnable = cpu->rq.count;
    out->migrations_in = cpu->migrations_in;
    out->wakeups = cpu->wakeups;
    out->steals = cpu->steals;
    out->handoffs = cpu->handoffs;
    out->current_id = cpu->current->id;
    spinlock_unlock(&cpu->lock);
    sched_irq_restore(f);
    return true;
}

/* ---- user/kernel accounting -------------------------------------------------------- */

/* Both run only once processes exist, long after sched_init, with interrupts off. */
void sched_account_kernel_entry(void)
{
    sched_cpu_t *cpu = sched_this_cpu();
    sched_thread_t *t = cpu->current;
    if (!t->in_user)
        return;
    uint64_t d = arch_rdtsc() - t->user_since_tsc;
    __atomic_store_n(&t->in_user, false, __ATOMIC_RELAXED);
    __atomic_store_n(&t->user_tsc, t->user_tsc + d, __ATOMIC_RELAXED);
    __atomic_store_n(&cpu->user_tsc, cpu->user_tsc + d, __ATOMIC_RELAXED);
}

void sched_account_user_return(void)
{
    sched_thread_t *t = sched_this_cpu()->current;
    t->user_since_tsc = arch_rdtsc();
    __atomic_store_n(&t->in_user, true, __ATOMIC_RELAXED);
}

uint64_t sched_user_ns_locked(sched_thread_t *t)
{
    uint64_t tsc = __atomic_load_n(&t->user_tsc, __ATOMIC_RELAXED);
    if (sched_cpus[t->cpu].current == t && __atomic_load_n(&t->in_user, __ATOMIC_RELAXED))
        tsc += arch_rdtsc() - t->user_since_tsc;
    return time_cycles_to_ns(tsc);
}
