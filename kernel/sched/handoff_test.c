/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the directed switch (sched_wait_handoff, docs/sched.md "Directed
 * switch"): a client and a server kernel thread play call and reply through two wait
 * queues, as kernel/ipc's calls do. The direct path must be taken when nothing argues
 * against it, and every fallback must still wake the target: a more urgent thread
 * queued here, a pending interrupt, a target pinned to another CPU. A target that last
 * ran on another CPU but may run here is pulled over.
 */
#include "sched/sched_internal.h"
#include "core/log.h"
#include "arch/x86_64/arch.h"
#include "test/ktest.h"
#include "sched/sched_test_util.h"
#include "time/time.h"
#include <vk/errno.h>

#define ROUNDS        100
#define HANG_LIMIT_NS SCHED_TEST_HANG_LIMIT_NS

/* One call channel: the lock guards the fields, each side waits on its own queue. */
static struct {
    spinlock_t lock;
    sched_wait_queue_t server_wq, client_wq;
    unsigned request, reply;   /* request n is answered by reply n * 2 + 1 */
    bool has_request, has_reply, stop;
    unsigned wrong_cpu;        /* replies sent from a CPU other than expect_cpu */
    int expect_cpu;            /* -1: any */
    bool server_blocked;       /* the server is waiting for its first request */
    char order[8];             /* who ran first in the fallback test */
    unsigned order_len;
} ch;

static void reset_channel(int expect_cpu)
{
    ch.lock = (spinlock_t)SPINLOCK_INIT;
    sched_wait_queue_init(&ch.server_wq);
    sched_wait_queue_init(&ch.client_wq);
    ch.request = ch.reply = 0;
    ch.has_request = ch.has_reply = ch.stop = false;
    ch.wrong_cpu = 0;
    ch.expect_cpu = expect_cpu;
    ch.server_blocked = false;
    ch.order_len = 0;
}

static uint64_t handoffs_total(void)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < CONFIG_MAX_CPUS; i++) {
        sched_cpu_info_t info;
        if (sched_cpu_info(i, &info))
            sum += info.handoffs;
    }
    return sum;
}

static void note_order(char who)
{
    uint64_t f = spinlock_lock_irqsave(&ch.lock);
    if (ch.order_len < sizeof(ch.order))
        ch.order[ch.order_len++] = who;
    spinlock_unlock_irqrestore(&ch.lock, f);
}

/* Waits for a request; answers it and waits for the next one in one step, handing the
 * CPU to the client (reply_read's shape). */
static void server(void *arg)
{
    (void)arg;
    uint64_t f = spinlock_lock_irqsave(&ch.lock);
    sched_wait_queue_t *handoff = NULL;
    for (;;) {
        while (!ch.has_request && !ch.stop) {
            ch.server_blocked = true;
            sched_wait_handoff(&ch.server_wq, &ch.lock, SCHED_WAIT_FOREVER, handoff);
            handoff = NULL;
        }
        if (handoff)
            sched_wake_all(handoff);
        handoff = NULL;
        if (ch.stop)
            break;
        if (ch.order_len < sizeof(ch.order))
            ch.order[ch.order_len++] = 'S';
        if (ch.expect_cpu >= 0 && arch_cpu_index() != (unsigned)ch.expect_cpu)
            ch.wrong_cpu++;
        sched_interrupt_clear(); /* the interrupt test leaves one pending */
        ch.has_request = false;
        ch.reply = ch.request * 2 + 1;
        ch.has_reply = true;
        handoff = &ch.client_wq;
    }
    spinlock_unlock_irqrestore(&ch.lock, f);
}

/* One call: the request, then the wait for the reply handing the CPU to the server. */
static bool call(unsigned value)
{
    uint64_t f = spinlock_lock_irqsave(&ch.lock);
    ch.request = value;
    ch.has_request = true;
    ch.has_reply = false;
    sched_wait_queue_t *handoff = &ch.server_wq;
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    int err = 0;
    while (!ch.has_reply && err != -VK_ETIMEDOUT) {
        err = sched_wait_handoff(&ch.client_wq, &ch.lock, give_up, handoff);
        handoff = NULL;
    }
    if (handoff)
        sched_wake_all(handoff);
    bool ok = ch.has_reply && ch.reply == value * 2 + 1;
    spinlock_unlock_irqrestore(&ch.lock, f);
    return ok;
}

/* Until t waits for its first request and is off its CPU (its context saved). */
static void wait_server_blocked(sched_thread_t *t)
{
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    for (;;) {
        sched_thread_info_t info;
        sched_cpu_info_t cpu;
        sched_thread_info(t, &info);
        bool off = sched_cpu_info(info.cpu, &cpu) && cpu.current_id != info.id;
        if ((__atomic_load_n(&ch.server_blocked, __ATOMIC_ACQUIRE) &&
             info.state == SCHED_THREAD_BLOCKED && off) ||
            time_monotonic_ns() > give_up)
            return;
        sched_sleep_ns(SCHED_TEST_NS_PER_MS);
    }
}

static void stop_server(sched_thread_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&ch.lock);
    ch.stop = true;
    spinlock_unlock_irqrestore(&ch.lock, f);
    sched_wake_all(&ch.server_wq);
    sched_thread_join(t);
}

/* A server thread of the given priority on the CPUs of `affinity`, waiting for its
 * first request; NULL (a failed expectation) when out of memory. */
static sched_thread_t *start_server(const char *name, int priority, uint64_t affinity)
{
    sched_thread_t *t = sched_test_spawn(name, server, NULL, priority, affinity);
    KTEST_EXPECT(t != NULL);
    if (t)
        wait_server_blocked(t);
    return t;
}


static unsigned run_rounds(void)
{
    unsigned ok = 0;
    for (unsigned i = 0; i < ROUNDS; i++)
        ok += call(i);
    return ok;
}

KTEST(sched_handoff_switches_directly_both_ways_on_one_cpu)
{
    unsigned cpu = sched_test_this_cpu();
    reset_channel((int)cpu);
    sched_thread_t *t = start_server("handoff-server", SCHED_PRIORITY_DEFAULT, 1ull << cpu);
    if (!t)
        return;
    sched_cpu_info_t before, after;
    sched_cpu_info(cpu, &before);
    unsigned ok = run_rounds();
    sched_cpu_info(cpu, &after);
    stop_server(t);
    KTEST_EXPECT_EQ(ok, ROUNDS);
    KTEST_EXPECT_EQ(ch.wrong_cpu, 0);
    /* Each round: the call to the server, the reply back. A tick landing between them
     * may send one through the normal path; allow a few. */
    uint64_t direct = after.handoffs - before.handoffs;
    log_printf("ktest:   %llu directed switches in %u round trips\n",
               (unsigned long long)direct, ROUNDS);
    KTEST_EXPECT(direct >= 2 * ROUNDS - 4);
    /* They are wake-ups and switches like any other in the figures. */
    KTEST_EXPECT(after.wakeups - before.wakeups >= direct);
    KTEST_EXPECT(after.context_switches - before.context_switches >= direct);
}

KTEST(sched_handoff_to_a_lower_priority_server_still_switches_directly)
{
    unsigned cpu = sched_test_this_cpu();
    reset_channel((int)cpu);
    sched_thread_t *t = start_server("handoff-batch", SCHED_PRIORITY_BATCH_MIN + 10,
                                     1ull << cpu);
    if (!t)
        return;
    uint64_t before = handoffs_total();
    unsigned ok = run_rounds();
    uint64_t direct = handoffs_total() - before;
    stop_server(t);
    KTEST_EXPECT_EQ(ok, ROUNDS);
    /* Nothing else waits here: the blocked caller leaves the CPU to the batch server. */
    KTEST_EXPECT(direct >= 2 * ROUNDS - 4);
}

static volatile unsigned urgent_ran;
static sched_wait_queue_t urgent_wq;
static spinlock_t urgent_lock;
static bool urgent_go;

static void urgent(void *arg)
{
    (void)arg;
    uint64_t f = spinlock_lock_irqsave(&urgent_lock);
    while (!urgent_go)
        sched_wait(&urgent_wq, &urgent_lock);
    spinlock_unlock_irqrestore(&urgent_lock, f);
    note_order('U');
    __atomic_store_n(&urgent_ran, 1, __ATOMIC_RELEASE);
}

KTEST(sched_handoff_falls_back_when_a_more_urgent_thread_is_queued_here)
{
    unsigned cpu = sched_test_this_cpu();
    reset_channel((int)cpu);
    sched_wait_queue_init(&urgent_wq);
    urgent_lock = (spinlock_t)SPINLOCK_INIT;
    urgent_go = false;
    urgent_ran = 0;
    sched_thread_t *s = sched_test_spawn("handoff-server", server, NULL, SCHED_PRIORITY_DEFAULT,
                                         1ull << cpu);
    sched_thread_t *u = sched_test_spawn("handoff-urgent", urgent, NULL,
                                         SCHED_PRIORITY_REALTIME_MAX, 1ull << cpu);
    KTEST_EXPECT(s != NULL && u != NULL);
    if (!s || !u)
        return;
    wait_server_blocked(s);
    sched_sleep_ns(SCHED_TEST_NS_PER_MS); /* the urgent thread blocks too */
    uint64_t before = handoffs_total();
    /* With interrupts off, wake the urgent thread: it is queued here, not run yet. */
    uint64_t f = spinlock_lock_irqsave(&urgent_lock);
    urgent_go = true;
    sched_wake_all(&urgent_wq);
    spinlock_unlock(&urgent_lock);
    bool ok = call(7); /* irqs stay off until the wait switches away */
    sched_irq_restore(f);
    uint64_t after = handoffs_total();
    sched_thread_join(u);
    stop_server(s);
    KTEST_EXPECT(ok);
    KTEST_EXPECT_EQ(urgent_ran, 1);
    /* The urgent thread ran before the server: the call did not jump it. The reply
     * may still switch straight back to the caller. */
    KTEST_EXPECT(ch.order_len >= 2 && ch.order[0] == 'U' && ch.order[1] == 'S');
    KTEST_EXPECT(after - before <= 1);
}

KTEST(sched_handoff_falls_back_when_the_target_has_an_interrupt_pending)
{
    unsigned cpu = sched_test_this_cpu();
    reset_channel((int)cpu);
    sched_thread_t *t = start_server("handoff-server", SCHED_PRIORITY_DEFAULT, 1ull << cpu);
    if (!t)
        return;
    /* An interrupt for the server while it is not in an interruptible wait is only
     * noted; make it arrive between its waits by setting the flag as
     * sched_thread_interrupt does first. */
    __atomic_store_n(&t->interrupt_pending, true, __ATOMIC_RELEASE);
    uint64_t before = handoffs_total();
    bool ok = call(3);
    uint64_t direct = handoffs_total() - before;
    stop_server(t);
    KTEST_EXPECT(ok);
    /* The call went the normal way (the server cleared its interrupt, then the reply
     * could switch back directly). */
    KTEST_EXPECT(direct <= 1);
}

KTEST(smp_handoff_to_a_thread_pinned_elsewhere_falls_back)
{
    if (!sched_test_several_cpus())
        return;
    unsigned other = arch_cpu_count() - 1;
    reset_channel((int)other);
    sched_thread_t *t = start_server("handoff-far", SCHED_PRIORITY_DEFAULT, 1ull << other);
    if (!t)
        return;
    uint64_t before = handoffs_total();
    unsigned ok = run_rounds();
    uint64_t direct = handoffs_total() - before;
    stop_server(t);
    KTEST_EXPECT_EQ(ok, ROUNDS);
    KTEST_EXPECT_EQ(ch.wrong_cpu, 0);
    KTEST_EXPECT_EQ(direct, 0);
}

KTEST(smp_handoff_pulls_a_blocked_thread_from_another_cpu)
{
    if (!sched_test_several_cpus())
        return;
    unsigned cpu = sched_test_this_cpu(), other = cpu == 0 ? 1 : 0;
    reset_channel((int)cpu);
    /* The server blocks on the other CPU, then may run anywhere. */
    sched_thread_t *t = start_server("handoff-moved", SCHED_PRIORITY_DEFAULT, 1ull << other);
    if (!t)
        return;
    KTEST_EXPECT_EQ(sched_set_affinity(t, sched_online_mask()), 0);
    sched_cpu_info_t before, after;
    sched_cpu_info(cpu, &before);
    bool ok = call(1);
    sched_cpu_info(cpu, &after);
    stop_server(t);
    KTEST_EXPECT(ok);
    KTEST_EXPECT_EQ(ch.wrong_cpu, 0); /* it answered from this CPU */
    KTEST_EXPECT(after.handoffs - before.handoffs >= 1);
    KTEST_EXPECT(after.migrations_in - before.migrations_in >= 1);
}
