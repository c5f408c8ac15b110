/* SPDX-License-Identifier: MIT */
/*
 * Kernel mutexes and counting semaphores on top of wait queues.
 *
 * The mutex hands itself over: unlock makes the longest waiter the owner before waking
 * it, so a thread that keeps re-locking cannot starve the others, and a woken waiter
 * never finds the mutex taken again. The price is a switch per hand-over under
 * contention. FIXME(issue 4): priority inheritance (a real-time waiter behind a batch
 * owner waits as long as the batch thread is kept off the CPU).
 */
#include "sched/sched_internal.h"
#include "core/panic.h"
#include "time/time.h"
#include <vk/errno.h>

#ifdef KERNEL_DEBUG
/* The class of a mutex or semaphore for the lock-order checker: the name its init site
 * gave its internal lock, or NULL (a zero-initialised one: static ones get a class from
 * their address). */
static const char *class_name(const spinlock_t *l) { return l->lockdep_name; }
/* Where the lock call came from (these functions are never inlined across files). */
#define caller() ((uint64_t)(uintptr_t)__builtin_return_address(0))

void sched_mutex_init_named(sched_mutex_t *m, const char *name)
{
    m->lock = (spinlock_t)SPINLOCK_INIT_NAMED(name);
#else
void sched_mutex_init(sched_mutex_t *m)
{
    m->lock = (spinlock_t)SPINLOCK_INIT;
#endif
    m->owner = NULL;
    m->contended = 0;
    sched_wait_queue_init(&m->waiters);
}

void sched_mutex_lock(sched_mutex_t *m)
{
    sched_thread_t *cur = sched_current();
#ifdef KERNEL_DEBUG
    lockdep_mutex_acquire(&cur->lockdep, m, class_name(&m->lock), false, caller());
#endif
    uint64_t f = spinlock_lock_irqsave(&m->lock);
    if (m->owner == cur)
        panic("sched: \"%s\" locks a mutex it already holds", cur->name);
    if (m->owner) {
        m->contended++;
        while (m->owner != cur)
            sched_wait(&m->waiters, &m->lock);
    } else {
        m->owner = cur;
    }
    spinlock_unlock_irqrestore(&m->lock, f);
}

bool sched_mutex_trylock(sched_mutex_t *m)
{
    sched_thread_t *cur = sched_current();
    uint64_t f = spinlock_lock_irqsave(&m->lock);
    bool got = m->owner == NULL;
    if (got)
        m->owner = cur;
    spinlock_unlock_irqrestore(&m->lock, f);
#ifdef KERNEL_DEBUG
    if (got)
        lockdep_mutex_acquire(&cur->lockdep, m, class_name(&m->lock), true, caller());
#endif
    return got;
}

void sched_mutex_unlock(sched_mutex_t *m)
{
    sched_thread_t *cur = sched_current();
    uint64_t f = spinlock_lock_irqsave(&m->lock);
    if (m->owner != cur)
        panic("sched: \"%s\" unlocks a mutex it does not hold", cur->name);
    spinlock_lock(&m->waiters.lock);
    m->owner = sched_wake_first_locked(&m->waiters);
    spinlock_unlock(&m->waiters.lock);
    spinlock_unlock_irqrestore(&m->lock, f);
#ifdef KERNEL_DEBUG
    lockdep_mutex_release(&cur->lockdep, m, class_name(&m->lock));
#endif
    sched_preempt_point();
}

bool sched_mutex_held(sched_mutex_t *m)
{
    return __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == sched_current();
}

#ifdef KERNEL_DEBUG
void sched_sem_init_named(sched_sem_t *s, uint64_t count, const char *name)
{
    s->lock = (spinlock_t)SPINLOCK_INIT_NAMED(name);
#else
void sched_sem_init(sched_sem_t *s, uint64_t count)
{
    s->lock = (spinlock_t)SPINLOCK_INIT;
#endif
    s->count = count;
    sched_wait_queue_init(&s->waiters);
}

int sched_sem_down_deadline(sched_sem_t *s, uint64_t deadline_ns)
{
#ifdef KERNEL_DEBUG
    lockdep_sem_wait(&sched_current()->lockdep, s, class_name(&s->lock), caller());
#endif
    uint64_t f = spinlock_lock_irqsave(&s->lock);
    int err = 0;
    while (s->count == 0 && err == 0)
        err = sched_wait_deadline(&s->waiters, &s->lock, deadline_ns);
    /* A wake-up may race with the deadline: take a unit that is there anyway. */
    if (s->count > 0) {
        s->count--;
        err = 0;
    }
    spinlock_unlock_irqrestore(&s->lock, f);
    return err;
}

void sched_sem_down(sched_sem_t *s)
{
    sched_sem_down_deadline(s, SCHED_WAIT_FOREVER);
}

bool sched_sem_trydown(sched_sem_t *s)
{
    uint64_t f = spinlock_lock_irqsave(&s->lock);
    bool got = s->count > 0;
    if (got)
        s->count--;
    spinlock_unlock_irqrestore(&s->lock, f);
    return got;
}

void sched_sem_up(sched_sem_t *s)
{
    uint64_t f = spinlock_lock_irqsave(&s->lock);
    s->count++;
    spinlock_lock(&s->waiters.lock);
    sched_wake_first_locked(&s->waiters);
    spinlock_unlock(&s->waiters.lock);
    spinlock_unlock_irqrestore(&s->lock, f);
    sched_preempt_point();
}
