/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the scheduler (test=kernel; they run in "main" with interrupts on).
 *
 * QEMU under TCG follows host wall time and can stall at any moment, so no test asserts
 * a tight upper time bound: "within one tick" is checked by counting ticks (which the
 * guest cannot skip while interrupts are off), and the only wall-clock upper bounds are
 * the multi-second limits that keep a broken scheduler from hanging the suite.
 *
 * The tests below check what happens on one CPU (interleaving, preemption within a tick,
 * per-CPU accounting), so they pin their threads to the CPU "main" runs on (the runner
 * pins main to CPU 0): with several CPUs online they would otherwise spread out. The
 * tests of several CPUs are in sched_smp_test.c.
 */
#include "sched/sched_internal.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "arch/x86_64/arch.h"
#include "test/ktest.h"
#include "sched/sched_test_util.h"
#include "time/time.h"
#include <vk/errno.h>

#define NS_PER_MS     SCHED_TEST_NS_PER_MS
#define HANG_LIMIT_NS SCHED_TEST_HANG_LIMIT_NS

/* A thread pinned to the calling CPU, so a test sees one CPU's scheduling. */
static uint64_t here(void)
{
    return 1ull << arch_cpu_index();
}

static sched_thread_t *create_here(const char *name, sched_entry_t entry, void *arg, int priority)
{
    return sched_test_spawn(name, entry, arg, priority, here());
}

/* ---- the run queue as a data structure ------------------------------------------ */

static sched_runqueue_t test_rq;
static sched_thread_t fake_threads[8];

static sched_thread_t *fake(unsigned i, int priority)
{
    sched_thread_t *t = &fake_threads[i];
    memset(t, 0, sizeof(*t));
    t->id = i;
    t->priority = priority;
    t->rq_level = -1;
    return t;
}

KTEST(sched_runqueue_orders_class_then_priority_then_fifo)
{
    static const int prio[8] = { 170, 120, 40, 120, 5, 199, 140, 99 };
    static const unsigned expect[8] = { 4, 2, 7, 1, 3, 6, 0, 5 };
    sched_rq_init(&test_rq);
    for (unsigned i = 0; i < 8; i++) {
        sched_thread_t *t = fake(i, prio[i]);
        sched_rq_push_back(&test_rq, t, sched_effective_priority(t));
    }
    KTEST_EXPECT_EQ(test_rq.count, 8);
    KTEST_EXPECT_EQ(sched_rq_best_level(&test_rq), 5);
    for (unsigned i = 0; i < 8; i++) {
        sched_thread_t *t = sched_rq_pop(&test_rq);
        KTEST_EXPECT(t != NULL);
        if (!t)
            return;
        KTEST_EXPECT_EQ(t->id, expect[i]);
        KTEST_EXPECT_EQ(t->rq_level, -1);
    }
    KTEST_EXPECT(sched_rq_pop(&test_rq) == NULL);
    KTEST_EXPECT_EQ(sched_rq_best_level(&test_rq), -1);
    KTEST_EXPECT_EQ(test_rq.count, 0);
}

KTEST(sched_runqueue_front_and_remove_keep_round_robin_order)
{
    sched_rq_init(&test_rq);
    sched_thread_t *a = fake(0, 130), *b = fake(1, 130), *c = fake(2, 130), *d = fake(3, 130);
    sched_rq_push_back(&test_rq, a, 130);
    sched_rq_push_back(&test_rq, b, 130);
    sched_rq_push_back(&test_rq, c, 130);
    sched_rq_push_front(&test_rq, d, 130); /* a preempted thread goes first */
    sched_rq_remove(&test_rq, b);          /* a thread leaving from the middle */
    KTEST_EXPECT(sched_rq_pop(&test_rq) == d);
    KTEST_EXPECT(sched_rq_pop(&test_rq) == a);
    KTEST_EXPECT(sched_rq_pop(&test_rq) == c);
    KTEST_EXPECT(sched_rq_pop(&test_rq) == NULL);
    /* The bitmap word boundary (levels 63, 64, 127, 128). */
    int levels[4] = { 128, 64, 127, 63 };
    for (unsigned i = 0; i < 4; i++)
        sched_rq_push_back(&test_rq, fake(i, levels[i]), levels[i]);
    KTEST_EXPECT_EQ(sched_rq_pop(&test_rq)->priority, 63);
    KTEST_EXPECT_EQ(sched_rq_pop(&test_rq)->priority, 64);
    KTEST_EXPECT_EQ(sched_rq_pop(&test_rq)->priority, 127);
    KTEST_EXPECT_EQ(sched_rq_pop(&test_rq)->priority, 128);
}

KTEST(sched_classes_slices_and_interactive_boost)
{
    KTEST_EXPECT_EQ(sched_priority_class(0), SCHED_CLASS_REALTIME);
    KTEST_EXPECT_EQ(sched_priority_class(99), SCHED_CLASS_REALTIME);
    KTEST_EXPECT_EQ(sched_priority_class(100), SCHED_CLASS_INTERACTIVE);
    KTEST_EXPECT_EQ(sched_priority_class(139), SCHED_CLASS_INTERACTIVE);
    KTEST_EXPECT_EQ(sched_priority_class(140), SCHED_CLASS_BATCH);
    KTEST_EXPECT_EQ(sched_priority_class(199), SCHED_CLASS_BATCH);
    sched_thread_t *t = fake(0, 120);
    t->boost = SCHED_INTERACTIVE_BOOST;
    KTEST_EXPECT_EQ(sched_effective_priority(t), 120 - SCHED_INTERACTIVE_BOOST);
    t->priority = 101; /* the boost never leaves the class */
    KTEST_EXPECT_EQ(sched_effective_priority(t), 100);
    t->priority = 50;  /* real-time and batch ignore it */
    KTEST_EXPECT_EQ(sched_effective_priority(t), 50);
    t->priority = 150;
    KTEST_EXPECT_EQ(sched_effective_priority(t), 150);
    KTEST_EXPECT(sched_slice_ns(t) > SCHED_SLICE_INTERACTIVE_NS); /* batch: longest */
    t->priority = 10;
    t->policy = SCHED_POLICY_FIFO;
    KTEST_EXPECT_EQ(sched_slice_ns(t), SCHED_SLICE_UNLIMITED);
}

/* ---- switching ------------------------------------------------------------------ */

static struct {
    spinlock_t lock;
    char text[64];
    unsigned length;
} trace;

static void trace_add(char c)
{
    uint64_t f = spinlock_lock_irqsave(&trace.lock);
    if (trace.length < sizeof(trace.text) - 1)
        trace.text[trace.length++] = c;
    spinlock_unlock_irqrestore(&trace.lock, f);
}

static void yielder(void *arg)
{
    for (int i = 0; i < 5; i++) {
        trace_add((char)(uintptr_t)arg);
        sched_yield();
    }
}

static unsigned hook_calls;
static bool hook_saw_pair;

static sched_switch_hook_t previous_hook;

static void count_switches(sched_thread_t *prev, sched_thread_t *next)
{
    if (previous_hook)
        previous_hook(prev, next);
    __atomic_fetch_add(&hook_calls, 1, __ATOMIC_RELAXED);
    if (strcmp(prev->name, "yield-a") == 0 && strcmp(next->name, "yield-b") == 0)
        hook_saw_pair = true;
}

KTEST(sched_two_threads_yielding_interleave_exactly)
{
    memset(&trace, 0, sizeof(trace));
    hook_calls = 0;
    hook_saw_pair = false;
    /* Chains to kernel/proc's hook, put back afterwards: without it a process thread
     * that another CPU picks up would run with that CPU's address space. */
    previous_hook = sched_set_switch_hook(count_switches);
    sched_thread_t *self = sched_current();
    int saved = sched_thread_priority(self);
    /* Above both while creating them, so neither starts before the other exists. FIFO so
     * the tick never reorders them: only the yields do. */
    KTEST_EXPECT_EQ(sched_set_priority(self, 10), 0);
    sched_thread_params_t p = { .name = "yield-a", .entry = yielder, .arg = (void *)'A',
                                .priority = 50, .policy = SCHED_POLICY_FIFO,
                                .affinity = here() };
    sched_thread_t *a = sched_thread_spawn(&p);
    p.name = "yield-b";
    p.arg = (void *)'B';
    sched_thread_t *b = sched_thread_spawn(&p);
    KTEST_EXPECT(a && b);
    KTEST_EXPECT_EQ(trace.length, 0);
    sched_set_priority(self, saved); /* both run to the end here */
    if (a)
        sched_thread_join(a);
    if (b)
        sched_thread_join(b);
    sched_set_switch_hook(previous_hook);
    KTEST_EXPECT(hook_calls >= 10); /* every A->B and B->A switch at least */
    KTEST_EXPECT(hook_saw_pair);
    KTEST_EXPECT(strcmp(trace.text, "ABABABABAB") == 0);
    if (strcmp(trace.text, "ABABABABAB") != 0)
        log_printf("ktest:   trace was \"%s\"\n", trace.text);
}

static volatile bool spin_stop;
static volatile uint64_t spin_counts[2];
static sched_thread_t *batch_thread;

static void spinner(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    while (!spin_stop)
        spin_counts[i]++;
}

static struct {
    uint64_t wake_tick, run_tick, spins;
    sched_thread_state_t batch_state;
    sched_thread_info_t batch;
} rt_seen;

static void rt_sleeper(void *arg)
{
    sched_sleep_ns(30 * NS_PER_MS);
    /* Interrupts off: these readings belong to the same instant. */
    uint64_t f = sched_irq_save();
    rt_seen.run_tick = sched_this_cpu()->ticks;
    rt_seen.wake_tick = sched_current()->last_wake_tick;
    sched_irq_restore(f);
    rt_seen.spins = spin_counts[0];
    rt_seen.batch_state = sched_thread_state(batch_thread);
    sched_thread_info(batch_thread, &rt_seen.batch);
    spin_stop = true;
}

KTEST(sched_realtime_preempts_batch_busy_loop_within_one_tick)
{
    spin_stop = false;
    spin_counts[0] = 0;
    memset(&rt_seen, 0, sizeof(rt_seen));
    batch_thread = create_here("busy-batch", spinner, (void *)0, 170);
    /* Runs at once (more urgent than main) and goes to sleep. */
    sched_thread_t *rt = create_here("rt-sleeper", rt_sleeper, NULL, 20);
    KTEST_EXPECT(batch_thread && rt);
    if (!batch_thread || !rt)
        return;
    /* main blocks: from now on only the busy loop wants the CPU, until the sleeper's
     * timer fires in a tick and the tick preempts the loop. */
    sched_thread_join(rt);
    sched_thread_join(batch_thread);
    KTEST_EXPECT(rt_seen.spins > 0);
    KTEST_EXPECT_EQ(rt_seen.batch_state, SCHED_THREAD_RUNNABLE);
    KTEST_EXPECT(rt_seen.batch.involuntary_switches >= 1);
    KTEST_EXPECT(rt_seen.run_tick - rt_seen.wake_tick <= 1);
    if (rt_seen.run_tick - rt_seen.wake_tick > 1)
        log_printf("ktest:   woken at tick %llu, ran at tick %llu\n",
                   (unsigned long long)rt_seen.wake_tick, (unsigned long long)rt_seen.run_tick);
}

KTEST(sched_equal_threads_share_the_cpu_through_the_tick)
{
    spin_stop = false;
    spin_counts[0] = spin_counts[1] = 0;
    sched_thread_t *a = create_here("spin-a", spinner, (void *)0, 130);
    sched_thread_t *b = create_here("spin-b", spinner, (void *)1, 130);
    KTEST_EXPECT(a && b);
    if (!a || !b)
        return;
    /* 10 slices' worth: each must have been preempted in favour of the other. */
    sched_sleep_ns(10 * SCHED_SLICE_INTERACTIVE_NS);
    sched_thread_info_t ia, ib;
    sched_thread_info(a, &ia);
    sched_thread_info(b, &ib);
    spin_stop = true;
    sched_thread_join(a);
    sched_thread_join(b);
    KTEST_EXPECT(spin_counts[0] > 0 && spin_counts[1] > 0);
    KTEST_EXPECT(ia.involuntary_switches >= 1 && ib.involuntary_switches >= 1);
}

/* ---- sleeping --------------------------------------------------------------------- */

static struct {
    spinlock_t lock;
    unsigned order[3];
    unsigned count;
} wakes;

static void sleeper(void *arg)
{
    unsigned ms = (unsigned)(uintptr_t)arg;
    sched_sleep_ns(ms * NS_PER_MS);
    uint64_t f = spinlock_lock_irqsave(&wakes.lock);
    if (wakes.count < 3)
        wakes.order[wakes.count] = ms;
    wakes.count++;
    spinlock_unlock_irqrestore(&wakes.lock, f);
}

KTEST(sched_sleeps_of_30_10_20_ms_wake_in_deadline_order)
{
    memset(&wakes, 0, sizeof(wakes));
    static const unsigned ms[3] = { 30, 10, 20 };
    sched_thread_t *t[3];
    for (unsigned i = 0; i < 3; i++)
        t[i] = create_here("sleeper", sleeper, (void *)(uintptr_t)ms[i],
                                   SCHED_PRIORITY_DEFAULT);
    for (unsigned i = 0; i < 3; i++)
        if (t[i])
            sched_thread_join(t[i]);
    KTEST_EXPECT_EQ(wakes.count, 3);
    KTEST_EXPECT_EQ(wakes.order[0], 10);
    KTEST_EXPECT_EQ(wakes.order[1], 20);
    KTEST_EXPECT_EQ(wakes.order[2], 30);
}

KTEST(sched_sleep_10ms_never_returns_early)
{
    uint64_t worst = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t t0 = time_monotonic_ns();
        sched_sleep_ns(10 * NS_PER_MS);
        uint64_t elapsed = time_monotonic_ns() - t0;
        KTEST_EXPECT(elapsed >= 10 * NS_PER_MS);
        KTEST_EXPECT(elapsed < HANG_LIMIT_NS);
        if (elapsed > worst)
            worst = elapsed;
    }
    /* Wall time under TCG follows the host, so lateness is reported, not asserted
     * (test-sched asserts it under -icount). */
    log_info("ktest: sleep(10 ms) late by at most %llu us", (unsigned long long)(worst - 10 * NS_PER_MS) / 1000);
    uint64_t deadline = time_monotonic_ns() + 15 * NS_PER_MS;
    sched_sleep_until(deadline);
    KTEST_EXPECT(time_monotonic_ns() >= deadline);
    sched_sleep_ns(0); /* a yield, not a hang */
}

/* ---- wait queues ------------------------------------------------------------------- */

static struct {
    spinlock_t lock;
    sched_wait_queue_t queue;
    unsigned waiting, woken;
    bool flag;
} wq_test;

static void queue_waiter(void *arg)
{
    uint64_t f = spinlock_lock_irqsave(&wq_test.lock);
    __atomic_fetch_add(&wq_test.waiting, 1, __ATOMIC_RELEASE);
    sched_wait(&wq_test.queue, &wq_test.lock);
    __atomic_fetch_add(&wq_test.woken, 1, __ATOMIC_RELEASE);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
}

KTEST(sched_wake_one_wakes_one_and_wake_all_the_rest)
{
    memset(&wq_test, 0, sizeof(wq_test));
    sched_thread_t *t[3];
    for (unsigned i = 0; i < 3; i++)
        t[i] = create_here("waiter", queue_waiter, NULL, SCHED_PRIORITY_DEFAULT);
    /* `waiting` is raised under the lock that sched_wait releases only once queued. */
    KTEST_EXPECT(sched_test_wait_for_count(&wq_test.waiting, 3));
    uint64_t f = spinlock_lock_irqsave(&wq_test.lock);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(sched_wait_queue_length(&wq_test.queue), 3);

    KTEST_EXPECT(sched_wake_one(&wq_test.queue));
    KTEST_EXPECT(sched_test_wait_for_count(&wq_test.woken, 1));
    sched_sleep_ns(20 * NS_PER_MS); /* room for a wrong second wake-up to show */
    KTEST_EXPECT_EQ(wq_test.woken, 1);
    KTEST_EXPECT_EQ(sched_wait_queue_length(&wq_test.queue), 2);

    KTEST_EXPECT_EQ(sched_wake_all(&wq_test.queue), 2);
    for (unsigned i = 0; i < 3; i++)
        if (t[i])
            sched_thread_join(t[i]);
    KTEST_EXPECT_EQ(wq_test.woken, 3);
    KTEST_EXPECT(!sched_wake_one(&wq_test.queue));
    KTEST_EXPECT_EQ(sched_wake_all(&wq_test.queue), 0);
}

static void late_waker(void *arg)
{
    sched_sleep_ns(10 * NS_PER_MS);
    uint64_t f = spinlock_lock_irqsave(&wq_test.lock);
    wq_test.flag = true;
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    sched_wake_one(&wq_test.queue);
}

KTEST(sched_wait_with_timeout_times_out_or_is_woken)
{
    memset(&wq_test, 0, sizeof(wq_test));
    uint64_t t0 = time_monotonic_ns();
    uint64_t f = spinlock_lock_irqsave(&wq_test.lock);
    int r = sched_wait_timeout(&wq_test.queue, &wq_test.lock, 20 * NS_PER_MS);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(r, -VK_ETIMEDOUT);
    KTEST_EXPECT(time_monotonic_ns() - t0 >= 20 * NS_PER_MS);
    KTEST_EXPECT_EQ(sched_wait_queue_length(&wq_test.queue), 0);

    sched_thread_t *w = create_here("late-waker", late_waker, NULL, SCHED_PRIORITY_DEFAULT);
    KTEST_EXPECT(w != NULL);
    f = spinlock_lock_irqsave(&wq_test.lock);
    r = 0;
    while (!wq_test.flag && r == 0)
        r = sched_wait_timeout(&wq_test.queue, &wq_test.lock, HANG_LIMIT_NS);
    bool flag = wq_test.flag;
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(r, 0);
    KTEST_EXPECT(flag);
    if (w)
        sched_thread_join(w);
}

static void late_interrupter(void *arg)
{
    sched_sleep_ns(10 * NS_PER_MS);
    sched_thread_interrupt(arg);
}

KTEST(sched_interruptible_wait_ends_with_eintr_and_plain_waits_ignore_it)
{
    memset(&wq_test, 0, sizeof(wq_test));
    /* An interrupt that came first ends the next interruptible wait at once. */
    sched_thread_interrupt(sched_current());
    uint64_t f = spinlock_lock_irqsave(&wq_test.lock);
    int r = sched_wait_interruptible(&wq_test.queue, &wq_test.lock, SCHED_WAIT_FOREVER);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(r, -VK_EINTR);
    /* ... but not a plain wait, which only a wake-up or its deadline ends. */
    f = spinlock_lock_irqsave(&wq_test.lock);
    r = sched_wait_timeout(&wq_test.queue, &wq_test.lock, 5 * NS_PER_MS);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(r, -VK_ETIMEDOUT);
    sched_interrupt_clear();

    /* An interrupt during the wait wakes it; the queue is left empty. */
    sched_thread_t *w = sched_thread_create("interrupter", late_interrupter, sched_current(),
                                            SCHED_PRIORITY_DEFAULT);
    KTEST_EXPECT(w != NULL);
    uint64_t t0 = time_monotonic_ns();
    f = spinlock_lock_irqsave(&wq_test.lock);
    r = sched_wait_interruptible(&wq_test.queue, &wq_test.lock, t0 + HANG_LIMIT_NS);
    spinlock_unlock_irqrestore(&wq_test.lock, f);
    KTEST_EXPECT_EQ(r, -VK_EINTR);
    KTEST_EXPECT(time_monotonic_ns() - t0 >= 10 * NS_PER_MS);
    KTEST_EXPECT_EQ(sched_wait_queue_length(&wq_test.queue), 0);
    if (w)
        sched_thread_join(w);
    sched_interrupt_clear();

    /* A cleared interrupt is forgotten: the sleep runs to its deadline. */
    t0 = time_monotonic_ns();
    KTEST_EXPECT_EQ(sched_sleep_interruptible(t0 + 5 * NS_PER_MS), 0);
    KTEST_EXPECT(time_monotonic_ns() - t0 >= 5 * NS_PER_MS);
}

/* ---- mutex and semaphore ------------------------------------------------------------ */

#define MUTEX_THREADS 4
#define MUTEX_ROUNDS  2000

static sched_mutex_t test_mutex;
static uint64_t mutex_counter;

static void mutex_worker(void *arg)
{
    for (unsigned i = 0; i < MUTEX_ROUNDS; i++) {
        sched_mutex_lock(&test_mutex);
        uint64_t v = mutex_counter;
        if (i % 50 == 0)
            sched_yield(); /* let the others run into the held mutex */
        mutex_counter = v + 1;
        sched_mutex_unlock(&test_mutex);
    }
}

KTEST(sched_mutex_under_contention_from_4_threads_counts_exactly)
{
    sched_mutex_init(&test_mutex);
    mutex_counter = 0;
    sched_thread_t *t[MUTEX_THREADS];
    for (unsigned i = 0; i < MUTEX_THREADS; i++)
        t[i] = create_here("mutex-worker", mutex_worker, NULL, SCHED_PRIORITY_DEFAULT);
    for (unsigned i = 0; i < MUTEX_THREADS; i++)
        if (t[i])
            sched_thread_join(t[i]);
    KTEST_EXPECT_EQ(mutex_counter, MUTEX_THREADS * MUTEX_ROUNDS);
    KTEST_EXPECT(test_mutex.contended > 0);
    KTEST_EXPECT(test_mutex.owner == NULL);
    KTEST_EXPECT(sched_mutex_trylock(&test_mutex));
    KTEST_EXPECT(sched_mutex_held(&test_mutex));
    sched_mutex_unlock(&test_mutex);
}

#define SEM_ITEMS 100
static sched_sem_t test_sem;
static volatile unsigned produced;

static void producer(void *arg)
{
    for (unsigned i = 0; i < SEM_ITEMS; i++) {
        __atomic_fetch_add(&produced, 1, __ATOMIC_RELEASE);
        sched_sem_up(&test_sem);
        if (i % 7 == 0)
            sched_sleep_ns(NS_PER_MS);
    }
}

KTEST(sched_semaphore_hands_over_every_unit)
{
    sched_sem_init(&test_sem, 0);
    produced = 0;
    uint64_t t0 = time_monotonic_ns();
    KTEST_EXPECT_EQ(sched_sem_down_deadline(&test_sem, t0 + 10 * NS_PER_MS), -VK_ETIMEDOUT);
    KTEST_EXPECT(time_monotonic_ns() - t0 >= 10 * NS_PER_MS);
    sched_thread_t *p = create_here("producer", producer, NULL, SCHED_PRIORITY_DEFAULT);
    KTEST_EXPECT(p != NULL);
    unsigned consumed = 0;
    for (unsigned i = 0; i < SEM_ITEMS; i++) {
        if (sched_sem_down_deadline(&test_sem, time_monotonic_ns() + HANG_LIMIT_NS) != 0)
            break;
        consumed++;
        KTEST_EXPECT(consumed <= produced);
    }
    if (p)
        sched_thread_join(p);
    KTEST_EXPECT_EQ(consumed, SEM_ITEMS);
    KTEST_EXPECT(!sched_sem_trydown(&test_sem));
}

/* ---- lifecycle and memory ------------------------------------------------------------ */

static void count_and_return(void *arg)
{
    __atomic_fetch_add((unsigned *)arg, 1, __ATOMIC_RELAXED);
}

#define BATCH 10

static void run_batch(unsigned *ran)
{
    sched_thread_t *t[BATCH];
    for (unsigned i = 0; i < BATCH; i++)
        t[i] = create_here("short", count_and_return, ran, SCHED_PRIORITY_DEFAULT);
    for (unsigned i = 0; i < BATCH; i++)
        if (t[i])
            sched_thread_join(t[i]);
}

KTEST(sched_200_short_threads_leave_memory_at_baseline)
{
    unsigned ran = 0;
    /* Warm-up: the stack pool and the slab caches reach their steady state. */
    run_batch(&ran);
    uint64_t baseline = pmm_free_bytes();
    unsigned threads = sched_thread_count();
    unsigned pool = sched_stack_pool_size();
    for (unsigned i = 0; i < 200 / BATCH; i++)
        run_batch(&ran);
    KTEST_EXPECT_EQ(ran, 200 + BATCH);
    KTEST_EXPECT_EQ(pmm_free_bytes(), baseline);
    KTEST_EXPECT_EQ(sched_thread_count(), threads);
    KTEST_EXPECT_EQ(sched_stack_pool_size(), pool);
}

static volatile bool exit_flag, after_exit_flag;
static volatile uint64_t exit_ns;

static __attribute__((noinline)) void leave_from_nested_call(void)
{
    sched_thread_exit();
}

static void slow_exit(void *arg)
{
    sched_sleep_ns(20 * NS_PER_MS);
    exit_ns = time_monotonic_ns();
    exit_flag = true;
    if (arg) {
        leave_from_nested_call();
        after_exit_flag = true; /* never reached */
    }
}

KTEST(sched_join_returns_after_the_thread_has_exited)
{
    for (uintptr_t explicit_exit = 0; explicit_exit < 2; explicit_exit++) {
        exit_flag = after_exit_flag = false;
        sched_thread_t *t = create_here("slow-exit", slow_exit, (void *)explicit_exit,
                                                SCHED_PRIORITY_DEFAULT);
        KTEST_EXPECT(t != NULL);
        if (!t)
            return;
        KTEST_EXPECT(!exit_flag);
        sched_thread_join(t);
        KTEST_EXPECT(exit_flag);
        KTEST_EXPECT(!after_exit_flag);
        KTEST_EXPECT(time_monotonic_ns() >= exit_ns);
    }
}

KTEST(sched_detached_thread_is_freed_when_it_exits)
{
    unsigned before = sched_thread_count();
    unsigned ran = 0;
    sched_thread_params_t p = { .name = "detached", .entry = count_and_return, .arg = &ran,
                                .priority = SCHED_PRIORITY_DEFAULT, .detached = true };
    KTEST_EXPECT(sched_thread_spawn(&p) != NULL);
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    while (sched_thread_count() != before && time_monotonic_ns() < give_up)
        sched_sleep_ns(NS_PER_MS);
    KTEST_EXPECT_EQ(sched_thread_count(), before);
    KTEST_EXPECT_EQ(ran, 1);
}

/* ---- accounting ----------------------------------------------------------------------- */

static sched_thread_info_t self_info;

static void busy_then_sleep(void *arg)
{
    time_delay_us(20000);
    sched_sleep_ns(10 * NS_PER_MS);
    sched_thread_info(sched_current(), &self_info);
}

KTEST(sched_accounting_counts_run_time_switches_and_wakeups)
{
    sched_cpu_info_t before, after;
    KTEST_EXPECT(sched_cpu_info(0, &before));
    KTEST_EXPECT(!sched_cpu_info(CONFIG_MAX_CPUS, &after));
    memset(&self_info, 0, sizeof(self_info));
    sched_thread_t *t = create_here("accounted", busy_then_sleep, NULL, 110);
    KTEST_EXPECT(t != NULL);
    if (!t)
        return;
    uint64_t id = sched_thread_id(t);
    sched_thread_join(t);
    KTEST_EXPECT_EQ(self_info.id, id);
    KTEST_EXPECT(self_info.run_ns >= 20 * NS_PER_MS);
    KTEST_EXPECT(self_info.voluntary_switches >= 1);
    KTEST_EXPECT(self_info.wakeups >= 1);
    KTEST_EXPECT(self_info.last_wake_ns != 0);
    KTEST_EXPECT_EQ(self_info.class_id, SCHED_CLASS_INTERACTIVE);
    KTEST_EXPECT(sched_cpu_info(0, &after));
    KTEST_EXPECT(after.context_switches >= before.context_switches + 2);
    KTEST_EXPECT(after.busy_ns >= before.busy_ns + 20 * NS_PER_MS);
    KTEST_EXPECT(after.idle_ns + after.busy_ns > before.idle_ns + before.busy_ns);
    KTEST_EXPECT_EQ(after.current_id, 0); /* main */

    sched_thread_info_t all[8];
    unsigned n = sched_snapshot(all, 8);
    KTEST_EXPECT(n >= 2);
    KTEST_EXPECT_EQ(all[0].id, 0);
    KTEST_EXPECT(strcmp(all[0].name, "main") == 0);
    KTEST_EXPECT_EQ(all[0].state, SCHED_THREAD_RUNNING);
    KTEST_EXPECT_EQ(all[1].class_id, SCHED_CLASS_IDLE);
}

/* ---- ring 3 ------------------------------------------------------------------------ */

static volatile bool ticker_stop;
static volatile unsigned ticker_runs;

static void ticker(void *arg)
{
    while (!ticker_stop) {
        sched_sleep_ns(NS_PER_MS); /* wakes on every tick and preempts whatever runs */
        ticker_runs++;
    }
}

/* A process runs on its own thread. A real-time thread that wakes on every tick preempts
 * it while the program is in ring 3, in syscalls and in page faults; if a switch left
 * rsp0 (or CR3, FS, FPU) behind, the program would crash or compute wrong results. */
KTEST(sched_preempts_a_ring3_program_and_its_syscalls)
{
    ticker_stop = false;
    ticker_runs = 0;
    sched_thread_info_t before, after;
    sched_thread_info(sched_current(), &before);
    uint64_t kernel_stack = arch_kernel_stack();
    sched_thread_t *t = create_here("ticker", ticker, NULL, 10);
    KTEST_EXPECT(t != NULL);
    /* test-basic: syscalls, sleeps, and page faults over tens of MiB. */
    static const char *const argv[] = { "test-basic.vbin", NULL };
    static const char *const envp[] = { NULL };
    int status = -1;
    long pid = proc_spawn("/bin/test-basic.vbin", argv, envp);
    if (pid > 0)
        KTEST_EXPECT_EQ(proc_wait(pid, &status, false), pid);
    ticker_stop = true;
    if (t)
        sched_thread_join(t);
    sched_thread_info(sched_current(), &after);
    KTEST_EXPECT(pid > 0);
    KTEST_EXPECT_EQ(status, 0);
    KTEST_EXPECT(ticker_runs > 0);
    (void)before;
    (void)after;
    KTEST_EXPECT_EQ(arch_kernel_stack(), kernel_stack);
    log_printf("ktest:   program preempted %llu times, ticker ran %u times\n",
               (unsigned long long)(after.involuntary_switches - before.involuntary_switches),
               ticker_runs);
}
