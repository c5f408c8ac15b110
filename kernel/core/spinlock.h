/* SPDX-License-Identifier: MIT */
/*
 * Ticket spinlocks. spinlock_lock_irqsave disables interrupts on this CPU for as long as
 * the lock is held, so an interrupt handler that takes the same lock cannot deadlock
 * against the code it interrupted. Fair (FIFO) under contention.
 *
 * Debug builds (KERNEL_DEBUG) give each lock the name of the place that initialised it
 * (SPINLOCK_INIT records "file:line") and tell the lock-order checker (core/lockdep.h)
 * about every lock and unlock. Release builds compile exactly the code below without it.
 */
#ifndef KERNEL_CORE_SPINLOCK_H
#define KERNEL_CORE_SPINLOCK_H

#include <stdint.h>
#include "core/lockdep.h"

typedef struct {
    uint32_t next;    /* ticket handed to the next arrival */
    uint32_t serving; /* ticket now allowed in */
#ifdef KERNEL_DEBUG
    const char *lockdep_name; /* lock class: init site or a given name; NULL if zeroed */
#endif
} spinlock_t;

#ifdef KERNEL_DEBUG
#define SPINLOCK_INIT             { 0, 0, LOCKDEP_SITE }
#define SPINLOCK_INIT_NAMED(name) { 0, 0, name }
#else
#define SPINLOCK_INIT             { 0, 0 }
#define SPINLOCK_INIT_NAMED(name) { 0, 0 }
#endif

static inline void spinlock_lock(spinlock_t *l)
{
#ifdef KERNEL_DEBUG
    lockdep_spin_acquire(l, l->lockdep_name);
#endif
    uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != me)
        __asm__ volatile("pause");
}

static inline void spinlock_unlock(spinlock_t *l)
{
#ifdef KERNEL_DEBUG
    lockdep_spin_release(l);
#endif
    __atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

static inline uint64_t spinlock_lock_irqsave(spinlock_t *l)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    spinlock_lock(l);
    return flags;
}

static inline void spinlock_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
    spinlock_unlock(l);
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}

#endif
