/* SPDX-License-Identifier: MIT */
/*
 * Scheduler internals shared by the files of kernel/sched (nothing outside includes this):
 * the thread and per-CPU structures, the run queue, and the calls between the files.
 *
 * Lock order (outer first): a caller's lock (mutex, semaphore, join lock, ...) ->
 * wait-queue lock -> a CPU's timer_lock -> a CPU's lock. sched_threads_lock -> a CPU's
 * lock. Two CPU locks (moving a thread between CPUs) are taken lower index first. The
 * stack-pool lock is a leaf. Every one of them is taken with interrupts off.
 *
 * A thread's scheduling fields are guarded by the lock of the CPU named by its `cpu`
 * field, and `cpu` itself changes only with the locks of both the old and the new CPU
 * held. So whoever wants a thread's lock takes sched_cpus[t->cpu].lock and checks that
 * t->cpu did not change meanwhile (sched_lock_thread_cpu).
 *
 * A CPU's lock is held across the context switch: the thread that switches takes it,
 * the thread switched to releases it (sched_finish_switch), xv6-style. So whoever holds
 * it sees a consistent "current" and no half-switched thread.
 */
#ifndef KERNEL_SCHED_SCHED_INTERNAL_H
#define KERNEL_SCHED_SCHED_INTERNAL_H

#include "sched/sched.h"
#include "core/spinlock.h"
#include "config.h"
#include "arch/x86_64/cpu.h"

/* Slices per class (tunables, not limits). The tick is 1/CONFIG_TIMER_HZ, so a slice
 * ends on the first tick at or after it runs out. */
#define SCHED_SLICE_REALTIME_NS    100000000ull /* round-robin real-time */
#define SCHED_SLICE_INTERACTIVE_NS 20000000ull
#define SCHED_SLICE_BATCH_NS       200000000ull
#define SCHED_SLICE_UNLIMITED      UINT64_MAX   /* FIFO real-time */
/* Levels an interactive thread rises when it wakes from a block; it keeps them until it
 * uses up a whole slice. */
#define SCHED_INTERACTIVE_BOOST    5

/* Periodic balancing: each CPU looks every SCHED_BALANCE_TICKS of its ticks (staggered
 * by CPU index) and pulls one thread from the busiest CPU when that one has at least
 * SCHED_BALANCE_IMBALANCE more runnable threads. */
#define SCHED_BALANCE_TICKS        4
#define SCHED_BALANCE_IMBALANCE    2
/* Real-time throttling, as Linux's sched_rt_runtime_us/sched_rt_period_us defaults:
 * per CPU and period, real-time threads get at most the runtime while a lower class
 * waits there; the rest of the period goes to the lower classes. Tick-sampled. */
#define SCHED_RT_PERIOD_NS         1000000000ull
#define SCHED_RT_RUNTIME_NS        950000000ull

#define SCHED_BITMAP_WORDS ((SCHED_PRIORITY_LEVELS + 63) / 64)

typedef enum {
    SCHED_WAKE_NONE = 0,
    SCHED_WAKE_SIGNALLED = 1, /* by a wait queue */
    SCHED_WAKE_TIMEOUT = 2,   /* by the timer list */
    SCHED_WAKE_INTERRUPTED = 3, /* by sched_thread_interrupt */
} sched_wake_reason_t;

typedef enum {
    SCHED_SWITCH_YIELD,   /* to the back of its level, fresh slice */
    SCHED_SWITCH_PREEMPT, /* to the front if slice left, else the back with a fresh one */
    SCHED_SWITCH_BLOCK,   /* state already BLOCKED/SLEEPING/DEAD: off the run queue */
} sched_switch_reason_t;

struct sched_thread {
    /* Set at creation, read-only afterwards. */
    uint64_t id;
    char name[SCHED_NAME_MAX];
    sched_entry_t entry;
    void *arg;
    void *stack_top;            /* NULL for "main", which keeps its boot-time stack */
    bool is_main, is_idle;
    void *owner;                /* for kernel/proc; never touched by sched */

    /* Only the thread itself reads or writes these (or the switch code, with the thread
     * off every CPU). */
    unsigned preempt_count;
#ifdef KERNEL_DEBUG
    lockdep_held_t lockdep;     /* mutexes it holds, for the lock-order checker */
#endif
    uint64_t context_rsp;       /* saved by arch_context_switch */
    /* User time, in TSC cycles (converted on read-out). Written by the thread on its own
     * CPU with interrupts off, and by the switch code; readers on other CPUs may lag by
     * the interval in progress. */
    bool in_user;               /* between sched_account_user_return and the next entry */
    uint64_t user_since_tsc;    /* when it last went to ring 3 (or was switched to there) */
    uint64_t user_tsc;
    uint64_t kernel_rsp;        /* cpu->kernel_rsp / TSS rsp0 while this thread runs */

    /* Guarded by the lock of sched_cpus[cpu]. */
    sched_thread_state_t state;
    int priority;               /* base */
    int boost;                  /* interactive only: levels above the base */
    sched_policy_t policy;
    uint32_t cpu;
    uint64_t affinity;
    struct sched_thread *rq_next, *rq_prev;
    int rq_level;               /* level it is queued at, -1 when not queued */
    uint64_t slice_left_ns, slice_start_ns;
    bool slice_expired;
    sched_wake_reason_t wake_reason;
    bool interruptible;         /* blocked in sched_wait_interruptible */
    uint64_t run_ns, voluntary_switches, involuntary_switches, wakeups;
    uint64_t last_wake_ns, last_wake_tick;

    /* Atomic: set by sched_thread_interrupt, cleared by the thread itself. */
    bool interrupt_pending;

    /* Guarded by the lock of the wait queue it is on (wait_queue). */
    sched_wait_queue_t *wait_queue;
    struct sched_thread *wait_next, *wait_prev;

    /* Guarded by sched_cpus[timer_cpu].timer_lock. */
    bool timer_armed;
    uint32_t timer_cpu;
    uint64_t timer_deadline_ns;
    struct sched_thread *timer_next, *timer_prev;

    /* Guarded by join_lock. */
    spinlock_t join_lock;
    bool exited;                /* switched away for the last time: safe to free */
    bool detached;
    sched_wait_queue_t join_waiters;

    /* Guarded by sched_threads_lock. */
    struct sched_thread *all_next, *all_prev;
};

/* One FIFO per priority level and a bitmap of the non-empty ones. */
typedef struct {
    sched_thread_t *head[SCHED_PRIORITY_LEVELS], *tail[SCHED_PRIORITY_LEVELS];
    uint64_t bitmap[SCHED_BITMAP_WORDS];
    unsigned count;
} sched_runqueue_t;

typedef struct {
    spinlock_t lock;
    /* Guarded by lock. */
    sched_runqueue_t rq;
    sched_thread_t *current;
    sched_thread_t *idle;
    sched_thread_t *switch_from; /* handed across arch_context_switch */
    bool switch_migrate;         /* switch_from must move to a CPU its affinity allows */
    bool running_idle;           /* also read without the lock, as a load hint */
    bool need_resched;
    bool online;
    uint64_t last_switch_ns;
    uint64_t idle_ns, busy_ns, context_switches, preemptions, ticks;
    uint64_t migrations_in, steals;
    uint64_t wakeups;            /* threads woken onto this CPU's queue (wake_locked) */
    uint64_t balance_pulls;      /* threads the periodic balancer pulled here */
    uint64_t handoffs;           /* directed switches (sched_handoff_switch) */
    /* Real-time throttling: real-time run time in the current period and its start. */
    uint64_t rt_period_start_ns, rt_used_ns;
    bool rt_throttled;           /* budget used up: lower classes run until the period ends */
    uint64_t rt_throttle_count;
    /* Ring 3 time of this CPU's threads, in TSC cycles; only this CPU writes it. */
    uint64_t user_tsc;

    spinlock_t timer_lock;
    /* Guarded by timer_lock: sleeping threads sorted by deadline (equal deadlines FIFO).
     * FIXME(issue 4): a heap or timer wheel once thousands of sleepers are usual. */
    sched_thread_t *timer_first;
} sched_cpu_t;

extern sched_cpu_t sched_cpus[CONFIG_MAX_CPUS];
extern spinlock_t sched_threads_lock;
extern sched_thread_t *sched_threads_first, *sched_threads_last; /* guarded by it */

/* The calling CPU's scheduler state (interrupts off, or the answer may be stale). */
static inline sched_cpu_t *sched_this_cpu(void) { return &sched_cpus[arch_cpu_index()]; }

static inline uint64_t sched_irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}
static inline void sched_irq_restore(uint64_t flags)
{
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}

/* runqueue.c: pure data structure, no locking (callers hold the CPU lock). */
void sched_rq_init(sched_runqueue_t *rq);
void sched_rq_push_back(sched_runqueue_t *rq, sched_thread_t *t, int level);
void sched_rq_push_front(sched_runqueue_t *rq, sched_thread_t *t, int level);
void sched_rq_remove(sched_runqueue_t *rq, sched_thread_t *t);
sched_thread_t *sched_rq_pop(sched_runqueue_t *rq);
/* The same, from levels >= min_level only (real-time throttling); NULL if none. */
sched_thread_t *sched_rq_pop_from(sched_runqueue_t *rq, int min_level);
int sched_rq_best_level_from(const sched_runqueue_t *rq, int min_level);
/* Most urgent queued level, or -1 when empty. */
int sched_rq_best_level(const sched_runqueue_t *rq);
/* The most urgent queued thread whose affinity has cpu_bit, or NULL. */
sched_thread_t *sched_rq_find_allowed(const sched_runqueue_t *rq, uint64_t cpu_bit);
int sched_effective_priority(const sched_thread_t *t);
uint64_t sched_slice_ns(const sched_thread_t *t);

/* sched.c */
extern bool sched_is_ready;
/* Switch with interrupts already off and no lock held; returns when the thread runs
 * again (at once for yield/preempt when nothing better waits). */
void sched_switch(sched_switch_reason_t reason);
/* Make t runnable if it is blocked or sleeping. Interrupts off. True if it was. */
bool sched_wake_thread(sched_thread_t *t, sched_wake_reason_t reason);
/* Put a runnable thread on its CPU's run queue (creation). Interrupts off. */
void sched_make_runnable(sched_thread_t *t);
/* Set the blocking state of the current thread under its CPU lock. */
void sched_set_current_state(sched_thread_state_t state);
/* Same for an interruptible block: false (and nothing changed) when an interrupt is
 * already pending. */
bool sched_set_current_blocked_interruptible(void);
/* The directed switch, for wait.c's sched_wait_handoff (docs/sched.md). Interrupts
 * off, the current thread BLOCKED. claim: when t (a thread the caller has just unlinked
 * from a wait queue, still BLOCKED) can run here at once with nothing differing from a
 * normal wake-up and pick, it is woken, moved to this CPU and marked RUNNING, and this
 * CPU comes back locked; otherwise NULL, nothing changed and no lock held (the caller
 * then wakes t normally). switch: with that lock held, switches to t; returns, the lock
 * released, when the current thread runs again. The caller may release its own locks
 * in between, not take any. */
sched_cpu_t *sched_handoff_claim(sched_thread_t *t);
void sched_handoff_switch(sched_cpu_t *cpu, sched_thread_t *next);
/* The CPU a new thread starts on: the least loaded one its affinity allows. */
uint32_t sched_pick_cpu(uint64_t affinity);
/* Ring-3 time of t in ns, the interval in progress included. t's CPU lock held. */
uint64_t sched_user_ns_locked(sched_thread_t *t);
/* Test hook (sched_smp_test.c): idle CPUs do not steal, so only the periodic balancer
 * moves queued threads. */
extern bool sched_steal_disabled;
/* Locks and returns the CPU that t belongs to (see the lock rules above). Interrupts
 * off. */
sched_cpu_t *sched_lock_thread_cpu(sched_thread_t *t);

/* thread.c */
void sched_thread_dead(sched_thread_t *t); /* after its last switch: join or free */
sched_thread_t *sched_thread_alloc(const sched_thread_params_t *p);
void sched_thread_init_main(uint32_t cpu); /* the calling context becomes "main" */
/* The calling context (a secondary CPU's start-up stack) becomes that CPU's idle
 * thread, RUNNING; NULL when out of memory. */
sched_thread_t *sched_thread_adopt_idle(uint32_t cpu);
extern sched_thread_t sched_main_thread;

/* timer.c */
void sched_timer_arm(sched_thread_t *t, uint64_t deadline_ns);
void sched_timer_cancel(sched_thread_t *t);
void sched_timer_expire(sched_cpu_t *cpu, uint64_t now_ns);

/* wait.c: wake the first waiter that is still blocked; wq->lock held. */
sched_thread_t *sched_wake_first_locked(sched_wait_queue_t *wq);

/* sched.c, called by arch_thread_trampoline (switch.S) */
void sched_thread_first_run(void);

/* switch.S */
void arch_context_switch(uint64_t *save_rsp, uint64_t load_rsp);
void arch_thread_trampoline(void);
/* The words arch_context_switch pops, lowest address first (see switch.S). */
typedef struct {
    uint64_t r15, r14, r13, r12, rbx, rbp, rflags, rip;
} arch_switch_frame_t;

#endif
