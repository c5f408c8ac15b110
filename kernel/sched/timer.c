/* SPDX-License-Identifier: MIT */
/*
 * Sleeping with nanosecond deadlines: a per-CPU list of armed threads sorted by deadline,
 * checked on every tick of that CPU. A thread has at most one timer (a sleep, or the
 * time limit of a wait), stored in the thread itself.
 *
 * Design notes:
 *  - Sorted insertion is O(sleepers); expiry only looks at the head. Equal deadlines stay
 *    in arming order, so threads with the same deadline and priority wake FIFO.
 *  - Expiry wakes the thread under timer_lock, and a thread cancels its timer under the
 *    same lock before it can start another wait: a timer can never wake a later wait.
 *  - Each CPU's earliest deadline is handed to time_event_at, which sets the CPU's
 *    one-shot LAPIC timer for it, so a sleeper wakes within microseconds of its
 *    deadline (never before it), not on the next tick. A deadline armed for a thread
 *    of another CPU (not done today: threads arm their own) would wait for that CPU's
 *    next tick or event.
 */
#include "sched/sched_internal.h"
#include "core/panic.h"
#include "time/time.h"

void sched_timer_arm(sched_thread_t *t, uint64_t deadline_ns)
{
    sched_cpu_t *cpu = &sched_cpus[t->cpu];
    uint64_t f = sched_irq_save();
    spinlock_lock(&cpu->timer_lock);
    KASSERT(!t->timer_armed);
    t->timer_armed = true;
    t->timer_cpu = t->cpu;
    t->timer_deadline_ns = deadline_ns;
    sched_thread_t *prev = NULL, *at = cpu->timer_first;
    while (at && at->timer_deadline_ns <= deadline_ns) {
        prev = at;
        at = at->timer_next;
    }
    t->timer_prev = prev;
    t->timer_next = at;
    if (prev)
        prev->timer_next = t;
    else
        cpu->timer_first = t;
    if (at)
        at->timer_prev = t;
    spinlock_unlock(&cpu->timer_lock);
    if (!prev && t->timer_cpu == arch_cpu_index())
        time_event_at(deadline_ns); /* the new earliest deadline here */
    sched_irq_restore(f);
}

/* timer_lock of cpu held. */
static void unlink_timer(sched_cpu_t *cpu, sched_thread_t *t)
{
    if (t->timer_prev)
        t->timer_prev->timer_next = t->timer_next;
    else
        cpu->timer_first = t->timer_next;
    if (t->timer_next)
        t->timer_next->timer_prev = t->timer_prev;
    t->timer_next = t->timer_prev = NULL;
    t->timer_armed = false;
}

void sched_timer_cancel(sched_thread_t *t)
{
    sched_cpu_t *cpu = &sched_cpus[t->timer_cpu];
    uint64_t f = sched_irq_save();
    spinlock_lock(&cpu->timer_lock);
    if (t->timer_armed)
        unlink_timer(cpu, t);
    spinlock_unlock(&cpu->timer_lock);
    sched_irq_restore(f);
}

void sched_timer_expire(sched_cpu_t *cpu, uint64_t now_ns)
{
    spinlock_lock(&cpu->timer_lock);
    sched_thread_t *t;
    while ((t = cpu->timer_first) && t->timer_deadline_ns <= now_ns) {
        unlink_timer(cpu, t);
        sched_wake_thread(t, SCHED_WAKE_TIMEOUT);
    }
    uint64_t next = t ? t->timer_deadline_ns : 0;
    spinlock_unlock(&cpu->timer_lock);
    if (next && cpu == sched_this_cpu())
        time_event_at(next);
}

void sched_sleep_until(uint64_t deadline_ns)
{
    KASSERT(sched_ready());
    sched_thread_t *cur = sched_current();
    KASSERT(!cur->is_idle && cur->preempt_count == 0);
    uint64_t f = sched_irq_save();
    if (time_monotonic_ns() >= deadline_ns) {
        sched_irq_restore(f);
        sched_yield();
        return;
    }
    sched_set_current_state(SCHED_THREAD_SLEEPING);
    sched_timer_arm(cur, deadline_ns);
    sched_switch(SCHED_SWITCH_BLOCK);
    /* Only the timer wakes a sleeper, so it has fired; cancel anyway, cheaply. */
    sched_timer_cancel(cur);
    sched_irq_restore(f);
}

void sched_sleep_ns(uint64_t ns)
{
    uint64_t now = time_monotonic_ns();
    sched_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}
