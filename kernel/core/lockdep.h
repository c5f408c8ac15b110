/* SPDX-License-Identifier: MIT */
/*
 * Lock-order checking for debug builds (make DEBUG=1, -DKERNEL_DEBUG): "lockdep-lite".
 * Every spinlock and mutex belongs to a class; the checker records "class A was held
 * while class B was taken" edges and reports, once per new edge, an acquisition that
 * closes a cycle (B -> ... -> A recorded earlier), then carries on. docs/sched.md, "Lock
 * order checking", has the rules and what is not checked.
 *
 * In a release build every hook below is an empty inline function and the lock structs
 * carry no extra field, so the checker costs nothing there.
 *
 * This header is included by core/spinlock.h and must not include it back.
 */
#ifndef KERNEL_CORE_LOCKDEP_H
#define KERNEL_CORE_LOCKDEP_H

#include <stdbool.h>
#include <stdint.h>

/* "file:line" of the place that initialises a lock: its class name. */
#define LOCKDEP_STR2(x) #x
#define LOCKDEP_STR(x)  LOCKDEP_STR2(x)
#define LOCKDEP_SITE    __FILE__ ":" LOCKDEP_STR(__LINE__)

/* Locks a thread may hold at once (mutexes), or a CPU (spinlocks). Past it, further
 * acquisitions are not tracked (counted in lockdep_stats_t.overflows). */
#define LOCKDEP_HELD_MAX 16

typedef struct {
    const void *lock;
    uint16_t class_index;
    uint64_t ip; /* where it was taken */
} lockdep_held_entry_t;

/* A stack of held locks: one per CPU for spinlocks (kept inside lockdep.c), one per
 * thread for mutexes (sched_thread_t.lockdep, debug builds only). */
typedef struct {
    uint32_t count;
    lockdep_held_entry_t entries[LOCKDEP_HELD_MAX];
} lockdep_held_t;

typedef struct {
    uint64_t classes, edges, reports;
    uint64_t untracked;  /* acquisitions of dynamic locks that have no class (no init site) */
    uint64_t overflows;  /* a table or a held stack was full */
    uint64_t unbalanced; /* a release of a lock the CPU or thread was not seen to take */
} lockdep_stats_t;

#ifdef KERNEL_DEBUG

/* Arms the checker; before it (the boot CPU before its per-CPU block exists) the hooks
 * do nothing. */
void lockdep_init(void);
/* Stops all checking for good (panic calls it before reporting). */
void lockdep_disable(void);

/* Spinlocks (core/spinlock.h): name is the init site or NULL (zero-initialised). */
void lockdep_spin_acquire(const void *lock, const char *name);
void lockdep_spin_release(const void *lock);
/* Mutexes (sched/sync.c) on the owner thread's stack; ip is the caller of the lock
 * call. trylock: recorded as held but adds no ordering edge (a trylock never waits, so it
 * cannot close a deadlock). */
void lockdep_mutex_acquire(lockdep_held_t *held, const void *lock, const char *name,
                           bool trylock, uint64_t ip);
void lockdep_mutex_release(lockdep_held_t *held, const void *lock, const char *name);
/* A wait for a semaphore: records "held -> sem" edges and checks them, but a semaphore
 * is never held (its units have no owner). */
void lockdep_sem_wait(lockdep_held_t *held, const void *sem, const char *name, uint64_t ip);

void lockdep_stats(lockdep_stats_t *out);
/* The first line of the most recent report ("" if none), for tests. */
void lockdep_last_report(char *buf, unsigned size);

#else

static inline void lockdep_init(void) {}
static inline void lockdep_disable(void) {}

#endif /* KERNEL_DEBUG */

#endif
