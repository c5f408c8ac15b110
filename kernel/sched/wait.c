/* SPDX-License-Identifier: MIT */
/*
 * Wait queues: FIFO lists of blocked threads, linked through the threads themselves (a
 * thread waits on at most one queue at a time).
 *
 * The lost-wake-up rule: the waiter queues itself and sets its state BLOCKED while it
 * still holds the caller's lock, and only then releases that lock and switches away. A
 * waker changes the condition under the caller's lock and wakes afterwards, so it either
 * runs before the waiter checked the condition (the waiter sees the change) or after it
 * queued (the waiter is woken). A waiter woken between releasing the lock and switching
 * (possible once other CPUs run) finds itself RUNNABLE and does not sleep at all.
 *
 * A waiter with a deadline may be woken by its timer while still on the queue; it takes
 * itself off before returning. Until then a waker that finds it already woken skips it
 * and wakes the next one, so sched_wake_one never wastes its wake-up.
 */
#include "sched/sched_internal.h"
#include "core/panic.h"
#include "time/time.h"
#include <vk/errno.h>

void sched_wait_queue_init(sched_wait_queue_t *wq)
{
    wq->lock = (spinlock_t)SPINLOCK_INIT;
    wq->first = wq->last = NULL;
}

/* wq->lock held. */
static void append(sched_wait_queue_t *wq, sched_thread_t *t)
{
    t->wait_queue = wq;
    t->wait_next = NULL;
    t->wait_prev = wq->last;
    if (wq->last)
        wq->last->wait_next = t;
    else
        wq->first = t;
    wq->last = t;
}

/* wq->lock held. */
static void unlink_waiter(sched_wait_queue_t *wq, sched_thread_t *t)
{
    if (t->wait_prev)
        t->wait_prev->wait_next = t->wait_next;
    else
        wq->first = t->wait_next;
    if (t->wait_next)
        t->wait_next->wait_prev = t->wait_prev;
    else
        wq->last = t->wait_prev;
    t->wait_next = t->wait_prev = NULL;
    t->wait_queue = NULL;
}

/* Wakes every thread on handoff except the first, which it unlinks and returns (NULL if
 * none): the candidate for the directed switch. handoff->lock held. */
static sched_thread_t *take_handoff_target(sched_wait_queue_t *handoff)
{
    sched_thread_t *t = handoff->first;
    if (!t)
        return NULL;
    unlink_waiter(handoff, t);
    while (sched_wake_first_locked(handoff))
        ;
    return t;
}

/* Waits on wq. With a handoff queue: its threads are all woken, and the first, when
 * sched_handoff_claim allows, gets this CPU directly (sched_wait_handoff). Inlined into
 * each caller, so the plain waits compile without the handoff code (its constant NULL
 * folds it away): it cost the plain channel round trip 150 instructions otherwise. */
static inline __attribute__((always_inline)) int
wait_common(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns, bool interruptible,
            sched_wait_queue_t *handoff)
{
    KASSERT(sched_ready() && lock && lock != &wq->lock);
    sched_thread_t *cur = sched_current();
    KASSERT(!cur->is_idle);
    if (cur->preempt_count)
        panic("sched: \"%s\" waits with preemption disabled (%u)", cur->name, cur->preempt_count);
    uint64_t f = sched_irq_save();
    spinlock_lock(&wq->lock);
    if (interruptible && !sched_set_current_blocked_interruptible()) {
        spinlock_unlock(&wq->lock);
        if (handoff)
            sched_wake_all(handoff); /* the work the caller made is not lost */
        sched_irq_restore(f);
        return -VK_EINTR; /* an interrupt came before the wait: the caller keeps its lock */
    }
    append(wq, cur);
    if (!interruptible)
        sched_set_current_state(SCHED_THREAD_BLOCKED);
    spinlock_unlock(&wq->lock);
    if (deadline_ns != SCHED_WAIT_FOREVER)
        sched_timer_arm(cur, deadline_ns);

    /* The directed switch. This thread is on wq and BLOCKED already, so a wake-up that
     * the target sends back (a reply) finds it, on this CPU or another: the lost
     * wake-up rule above holds as for any waker. The target is claimed while `lock` is
     * still held, so the object it was waiting on cannot go away meanwhile. */
    sched_cpu_t *claimed = NULL;
    sched_thread_t *target = NULL;
    if (handoff) {
        spinlock_lock(&handoff->lock);
        target = take_handoff_target(handoff);
        if (target && !(claimed = sched_handoff_claim(target)))
            sched_wake_thread(target, SCHED_WAKE_SIGNALLED);
        spinlock_unlock(&handoff->lock);
    }
    spinlock_unlock(lock);

    if (claimed)
        sched_handoff_switch(claimed, target);
    else
        sched_switch(SCHED_SWITCH_BLOCK);

    spinlock_lock(&wq->lock);
    if (cur->wait_queue == wq)
        unlink_waiter(wq, cur); /* the timer or an interrupt woke us */
    spinlock_unlock(&wq->lock);
    if (deadline_ns != SCHED_WAIT_FOREVER)
        sched_timer_cancel(cur);
    sched_wake_reason_t reason = cur->wake_reason;
    spinlock_lock(lock);
    sched_irq_restore(f);
    if (reason == SCHED_WAKE_INTERRUPTED)
        return -VK_EINTR;
    return reason == SCHED_WAKE_TIMEOUT ? -VK_ETIMEDOUT : 0;
}

int sched_wait_deadline(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns)
{
    return wait_common(wq, lock, deadline_ns, false, NULL);
}

int sched_wait_interruptible(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns)
{
    return wait_common(wq, lock, deadline_ns, true, NULL);
}

int sched_wait_handoff(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns,
                       sched_wait_queue_t *handoff)
{
    KASSERT(handoff != wq && (!handoff || &handoff->lock != lock));
    return wait_common(wq, lock, deadline_ns, true, handoff);
}

int sched_sleep_interruptible(uint64_t deadline_ns)
{
    sched_wait_queue_t nobody = SCHED_WAIT_QUEUE_INIT;
    spinlock_t lock = SPINLOCK_INIT;
    uint64_t f = spinlock_lock_irqsave(&lock);
    int r = 0;
    while (r == 0 && time_monotonic_ns() < deadline_ns)
        r = wait_common(&nobody, &lock, deadline_ns, true, NULL);
    spinlock_unlock_irqrestore(&lock, f);
    return r == -VK_EINTR ? r : 0;
}

void sched_wait(sched_wait_queue_t *wq, spinlock_t *lock)
{
    sched_wait_deadline(wq, lock, SCHED_WAIT_FOREVER);
}

int sched_wait_timeout(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t timeout_ns)
{
    uint64_t now = time_monotonic_ns();
    uint64_t deadline = timeout_ns >= SCHED_WAIT_FOREVER - now ? SCHED_WAIT_FOREVER : now + timeout_ns;
    return sched_wait_deadline(wq, lock, deadline);
}

sched_thread_t *sched_wake_first_locked(sched_wait_queue_t *wq)
{
    sched_thread_t *t;
    while ((t = wq->first)) {
        unlink_waiter(wq, t);
        if (sched_wake_thread(t, SCHED_WAKE_SIGNALLED))
            return t;
    }
    return NULL;
}

bool sched_wake_one(sched_wait_queue_t *wq)
{
    uint64_t f = sched_irq_save();
    spinlock_lock(&wq->lock);
    bool woke = sched_wake_first_locked(wq) != NULL;
    spinlock_unlock(&wq->lock);
    sched_irq_restore(f);
    if (woke)
        sched_preempt_point();
    return woke;
}

unsigned sched_wake_all(sched_wait_queue_t *wq)
{
    uint64_t f = sched_irq_save();
    spinlock_lock(&wq->lock);
    unsigned n = 0;
    while (sched_wake_first_locked(wq))
        n++;
    spinlock_unlock(&wq->lock);
    sched_irq_restore(f);
    if (n)
        sched_preempt_point();
    return n;
}

unsigned sched_wait_queue_length(sched_wait_queue_t *wq)
{
    uint64_t f = sched_irq_save();
    spinlock_lock(&wq->lock);
    unsigned n = 0;
    for (sched_thread_t *t = wq->first; t; t = t->wait_next)
        n++;
    spinlock_unlock(&wq->lock);
    sched_irq_restore(f);
    return n;
}
