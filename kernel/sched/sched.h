/* SPDX-License-Identifier: MIT */
/*
 * The scheduler: kernel threads, per-CPU run queues with three scheduling classes,
 * preemption, wait queues, sleeping with nanosecond deadlines, kernel mutexes and
 * semaphores, and CPU accounting. docs/sched.md explains the design; in short:
 *
 *  - Priorities 0..199, a lower number runs first. 0-99 real-time (FIFO or round-robin,
 *    never starved by the classes below), 100-139 interactive (a boost on waking from a
 *    block), 140-199 batch (longest slices). Strict priority between levels, round robin
 *    among equals.
 *  - A preemptible kernel: the tick (and any wake-up of a more urgent thread) preempts
 *    whatever runs with interrupts on and a zero preempt count.
 *  - Blocking and waking follow one rule: sched_wait releases the caller's spinlock only
 *    once the thread is queued, so a waker that takes the same lock cannot be lost.
 *
 * Waiting functions (sched_wait*, sleeps, mutex, semaphore down, join) may only be called
 * from thread context, never from an interrupt handler and never with the preempt count
 * raised. Waking functions may be called from anywhere, interrupt handlers included.
 */
#ifndef KERNEL_SCHED_SCHED_H
#define KERNEL_SCHED_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include "core/spinlock.h"

/* ---- priorities and classes ------------------------------------------------------- */

#define SCHED_PRIORITY_REALTIME_MIN    0
#define SCHED_PRIORITY_REALTIME_MAX    99
#define SCHED_PRIORITY_INTERACTIVE_MIN 100
#define SCHED_PRIORITY_INTERACTIVE_MAX 139
#define SCHED_PRIORITY_BATCH_MIN       140
#define SCHED_PRIORITY_BATCH_MAX       199
#define SCHED_PRIORITY_LEVELS          200
#define SCHED_PRIORITY_DEFAULT         120 /* "main" and sched_thread_create callers' usual pick */

#define SCHED_NAME_MAX 32 /* thread names, NUL included; longer names are cut */

typedef enum {
    SCHED_CLASS_REALTIME = 0,
    SCHED_CLASS_INTERACTIVE = 1,
    SCHED_CLASS_BATCH = 2,
    SCHED_CLASS_IDLE = 3, /* the per-CPU idle threads only */
} sched_class_t;

/* Real-time threads only: FIFO runs until it blocks or yields; RR also yields to its
 * equals when its slice ends. Other classes ignore the policy. */
typedef enum { SCHED_POLICY_RR = 0, SCHED_POLICY_FIFO = 1 } sched_policy_t;

typedef enum {
    SCHED_THREAD_RUNNABLE = 0, /* on a run queue */
    SCHED_THREAD_RUNNING = 1,  /* on a CPU */
    SCHED_THREAD_BLOCKED = 2,  /* on a wait queue */
    SCHED_THREAD_SLEEPING = 3, /* on a timer list only */
    SCHED_THREAD_DEAD = 4,     /* exited; waiting for sched_thread_join (or being freed) */
} sched_thread_state_t;

typedef struct sched_thread sched_thread_t;
typedef void (*sched_entry_t)(void *arg);

sched_class_t sched_priority_class(int priority);

/* ---- set-up --------------------------------------------------------------------- */

/* Turns the calling context (kernel_main stage 2, interrupts off) into thread 0 "main"
 * and creates the boot CPU's idle thread. Call once, after time_init. */
void sched_init(void);
bool sched_ready(void);
/* On a secondary CPU, interrupts off, its tick armed: the start-up context becomes the
 * CPU's idle thread and the CPU joins the scheduler. Never returns. */
__attribute__((noreturn)) void sched_start_cpu(void);
/* CPUs that take threads (bit n = CPU n). */
uint64_t sched_online_mask(void);

/* ---- threads -------------------------------------------------------------------- */

typedef struct {
    const char *name;
    sched_entry_t entry;
    void *arg;
    int priority;          /* 0..199 */
    sched_policy_t policy; /* real-time only */
    uint64_t affinity;     /* bit n = may run on CPU n; 0 means every CPU */
    bool detached;         /* freed as soon as it exits; cannot be joined */
    sched_thread_t **publish; /* when set, *publish = the new thread before it can run */
} sched_thread_params_t;

/* Create a thread and make it runnable at once (it may run before this returns, when it
 * is more urgent than the caller). Returns NULL when out of memory or on a bad priority.
 * Its stack is CONFIG_KERNEL_STACK_PAGES with a guard page; interrupts are on when entry
 * starts; returning from entry is sched_thread_exit(). The pointer returned for a
 * detached thread may be stale at once (it can run, exit and be freed before this
 * returns): compare it with NULL, nothing more. */
sched_thread_t *sched_thread_create(const char *name, sched_entry_t entry, void *arg, int priority);
sched_thread_t *sched_thread_spawn(const sched_thread_params_t *params);
/* Ends the calling thread. "main" and the idle threads never exit. */
__attribute__((noreturn)) void sched_thread_exit(void);
/* Waits until t has exited, then frees it. At most one join per thread; never join a
 * detached thread. */
void sched_thread_join(sched_thread_t *t);
/* Nobody will join t: it is freed when it exits (at once if it already has). */
void sched_thread_detach(sched_thread_t *t);

sched_thread_t *sched_current(void);
/* Gives the CPU to the next thread of the same or a more urgent level, if any. */
void sched_yield(void);
/* Changes the base priority (and with it the class); 0 or -EINVAL. May preempt. */
int sched_set_priority(sched_thread_t *t, int priority);
int sched_set_policy(sched_thread_t *t, sched_policy_t policy);
/* Restricts t to the CPUs in mask (bits of online CPUs). 0 or -EINVAL when no CPU of
 * the mask is online. A queued or blocked thread moves at once; a running one at its
 * next switch (the calling thread itself: before this returns, unless its preempt
 * count is raised or interrupts are off). */
int sched_set_affinity(sched_thread_t *t, uint64_t mask);

uint64_t sched_thread_id(const sched_thread_t *t);
const char *sched_thread_name(const sched_thread_t *t);
int sched_thread_priority(const sched_thread_t *t);
sched_policy_t sched_thread_policy(const sched_thread_t *t);
/* The CPUs t may run on (bit n: CPU n); 0 means every CPU. */
uint64_t sched_thread_affinity(const sched_thread_t *t);
sched_thread_state_t sched_thread_state(const sched_thread_t *t);
const char *sched_state_name(sched_thread_state_t state);
/* A pointer the owner of a thread may keep in it (kernel/proc: its process). */
void sched_thread_set_owner(sched_thread_t *t, void *owner);
void *sched_thread_owner(const sched_thread_t *t);

/* Called on every switch between two different threads, on the CPU that switches, with
 * interrupts off and that CPU's scheduler lock held: it must not block, allocate or take
 * any lock. For kernel/proc: load the incoming thread's address space and FS base when
 * its owner differs. NULL removes it. One hook at a time; returns the one it replaces
 * (tests put it back). */
typedef void (*sched_switch_hook_t)(sched_thread_t *prev, sched_thread_t *next);
sched_switch_hook_t sched_set_switch_hook(sched_switch_hook_t hook);

/* ---- preemption control --------------------------------------------------------- */

/* Nestable. While the count is above zero the current thread is not preempted (the tick
 * and wake-ups only note that a switch is due); sched_preempt_enable performs it. */
void sched_preempt_disable(void);
void sched_preempt_enable(void);
/* Switches now if a more urgent thread is waiting and this is a preemptible context
 * (interrupts on, preempt count zero). Cheap when there is nothing to do. */
void sched_preempt_point(void);

/* ---- wait queues ---------------------------------------------------------------- */

/* A FIFO of blocked threads. All-zero is a valid, empty queue. */
typedef struct {
    spinlock_t lock;        /* internal; taken after the caller's lock */
    /* Guarded by lock. */
    sched_thread_t *first, *last;
} sched_wait_queue_t;

#define SCHED_WAIT_QUEUE_INIT { SPINLOCK_INIT, 0, 0 }
#define SCHED_WAIT_FOREVER UINT64_MAX

void sched_wait_queue_init(sched_wait_queue_t *wq);
/* Blocks on wq. The caller holds `lock` (the lock that guards the condition it waits
 * for); it is released once the thread is on the queue and retaken before returning, so
 * a waker that changes the condition under `lock` and then wakes wq is never lost.
 * Callers re-check their condition in a loop. */
void sched_wait(sched_wait_queue_t *wq, spinlock_t *lock);
/* Same, giving up at a time_monotonic_ns() deadline. Returns 0 when woken,
 * -VK_ETIMEDOUT when the deadline passed first. */
int sched_wait_deadline(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns);
int sched_wait_timeout(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t timeout_ns);
/* Same, but sched_thread_interrupt() of the waiter ends the wait with -VK_EINTR, also
 * when the interrupt came before the wait and the thread has not cleared it since
 * (sched_interrupt_clear). kernel/proc interrupts a thread when a signal arrives for
 * it, so blocking syscalls use this and return EINTR. */
int sched_wait_interruptible(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns);
/* sched_wait_interruptible that first wakes every thread blocked on `handoff` (its
 * caller has just made work for them under `lock`) and hands this CPU straight to the
 * first of them, without a run-queue pass, when it may run here at once: the directed
 * switch of a synchronous call (kernel/ipc). When it may not (its affinity, another CPU
 * still switching it out, a pending interrupt, a more urgent thread queued here, the
 * real-time throttle), it is woken normally and this thread blocks as usual. The
 * wake-up happens in every case, also when the wait itself ends at once with
 * -VK_EINTR. handoff may be NULL (a plain interruptible wait). */
int sched_wait_handoff(sched_wait_queue_t *wq, spinlock_t *lock, uint64_t deadline_ns,
                       sched_wait_queue_t *handoff);
/* Sleeps until the deadline or an interrupt: 0 or -VK_EINTR. */
int sched_sleep_interruptible(uint64_t deadline_ns);
/* Marks t interrupted and wakes it if it is in an interruptible wait. From anywhere. */
void sched_thread_interrupt(sched_thread_t *t);
/* The calling thread forgets a pending interrupt. */
void sched_interrupt_clear(void);
/* Wake the longest waiter / every waiter. They return true / the count woken. */
bool sched_wake_one(sched_wait_queue_t *wq);
unsigned sched_wake_all(sched_wait_queue_t *wq);
/* Number of threads on wq (a snapshot; for tests and diagnostics). */
unsigned sched_wait_queue_length(sched_wait_queue_t *wq);

/* ---- sleeping ------------------------------------------------------------------- */

/* Sleeps at least ns nanoseconds. The wake-up comes from the tick, so it is late by up to
 * one tick (1/CONFIG_TIMER_HZ) plus scheduling delay; never early. */
void sched_sleep_ns(uint64_t ns);
void sched_sleep_until(uint64_t deadline_ns);

/* ---- mutexes and semaphores ----------------------------------------------------- */

/* A sleeping lock with hand-off: unlock gives it straight to the longest waiter, so
 * waiters are served in FIFO order. All-zero is a valid, unlocked mutex. Not recursive.
 * FIXME(issue 4): no priority inheritance yet. */
typedef struct {
    spinlock_t lock;
    /* Guarded by lock. */
    sched_thread_t *owner;
    uint64_t contended;     /* lock calls that had to wait */
    sched_wait_queue_t waiters;
} sched_mutex_t;

#define SCHED_MUTEX_INIT { SPINLOCK_INIT, 0, 0, SCHED_WAIT_QUEUE_INIT }

#ifdef KERNEL_DEBUG
/* Debug builds: a mutex's lock class is the place that initialised it (core/lockdep.h). */
void sched_mutex_init_named(sched_mutex_t *m, const char *name);
#define sched_mutex_init(m) sched_mutex_init_named((m), LOCKDEP_SITE)
#else
void sched_mutex_init(sched_mutex_t *m);
#endif
void sched_mutex_lock(sched_mutex_t *m);
bool sched_mutex_trylock(sched_mutex_t *m);
void sched_mutex_unlock(sched_mutex_t *m);
bool sched_mutex_held(sched_mutex_t *m);    /* by the calling thread */

/* A counting semaphore. */
typedef struct {
    spinlock_t lock;
    /* Guarded by lock. */
    uint64_t count;
    sched_wait_queue_t waiters;
} sched_sem_t;

#define SCHED_SEM_INIT(n) { SPINLOCK_INIT, (n), SCHED_WAIT_QUEUE_INIT }

#ifdef KERNEL_DEBUG
void sched_sem_init_named(sched_sem_t *s, uint64_t count, const char *name);
#define sched_sem_init(s, count) sched_sem_init_named((s), (count), LOCKDEP_SITE)
#else
void sched_sem_init(sched_sem_t *s, uint64_t count);
#endif
void sched_sem_down(sched_sem_t *s);
/* 0, or -VK_ETIMEDOUT when the count stayed zero until the deadline. */
int sched_sem_down_deadline(sched_sem_t *s, uint64_t deadline_ns);
bool sched_sem_trydown(sched_sem_t *s);
void sched_sem_up(sched_sem_t *s); /* also from interrupt handlers */

/* ---- accounting ----------------------------------------------------------------- */

typedef struct {
    uint64_t id;
    char name[SCHED_NAME_MAX];
    sched_thread_state_t state;
    sched_class_t class_id;
    int priority;            /* base */
    int effective_priority;  /* with the interactive boost */
    sched_policy_t policy;
    uint32_t cpu;
    uint64_t affinity;
    uint64_t run_ns;         /* on a CPU, including interrupts taken meanwhile */
    uint64_t user_ns;        /* of run_ns, in ring 3 (exact: charged at each crossing) */
    uint64_t kernel_ns;      /* the rest of run_ns: syscalls, interrupts, kernel code */
    uint64_t voluntary_switches;   /* blocked, slept or yielded */
    uint64_t involuntary_switches; /* preempted */
    uint64_t wakeups;
    uint64_t last_wake_ns;   /* time_monotonic_ns of the last wake-up, 0 if never */
} sched_thread_info_t;

typedef struct {
    bool online;
    uint64_t idle_ns;        /* in the idle thread */
    uint64_t busy_ns;        /* in any other thread */
    uint64_t user_ns;        /* of busy_ns, in ring 3 */
    uint64_t kernel_ns;      /* the rest of busy_ns */
    uint64_t balance_pulls;  /* threads the periodic balancer pulled here from a busier CPU */
    uint64_t rt_throttled;   /* periods in which real-time ran out of its budget here */
    uint64_t context_switches;
    uint64_t preemptions;    /* involuntary switches */
    uint64_t ticks;          /* scheduler ticks seen on this CPU */
    unsigned runnable;       /* threads on the run queue now */
    uint64_t migrations_in;  /* threads moved here from another CPU (wake-up, affinity, steal) */
    uint64_t steals;         /* of those, taken by this CPU's idle thread from a busier one */
    uint64_t wakeups;        /* threads woken to run on this CPU */
    uint64_t handoffs;       /* of those, switched to directly (sched_wait_handoff) */
    uint64_t current_id;
} sched_cpu_info_t;

void sched_thread_info(sched_thread_t *t, sched_thread_info_t *out);
/* User/kernel split (docs/sched.md, "Accounting"). The arch and syscall code call these
 * on every crossing of the ring 3 boundary, always with interrupts off: kernel_entry on
 * a syscall, interrupt or exception that came from ring 3, user_return just before
 * going back there. Cheap: one rdtsc and a few adds. */
void sched_account_kernel_entry(void);
void sched_account_user_return(void);
/* Every thread, dead-but-unjoined ones included, in creation order; returns the count
 * written (at most max). */
unsigned sched_snapshot(sched_thread_info_t *out, unsigned max);
unsigned sched_thread_count(void);
/* One thread's info, by position in creation order or by id (KObj): false if none. */
bool sched_thread_info_at(unsigned position, sched_thread_info_t *out);
bool sched_thread_info_by_id(uint64_t id, sched_thread_info_t *out);
/* false for a CPU index that is out of range or not online. */
bool sched_cpu_info(unsigned cpu, sched_cpu_info_t *out);
/* Kernel stacks of dead threads kept for reuse (vmm cannot free stacks yet). */
unsigned sched_stack_pool_size(void);

#endif
