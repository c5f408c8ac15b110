/* SPDX-License-Identifier: MIT */
/*
 * KTESTs of the lockup watchdog. Each lowers the threshold to 300 ms for its own run (so
 * the suite does not wait ten seconds), provokes one lockup of 1.5 s and puts the
 * threshold back. The hard lockup needs a second CPU to watch the stuck one; on one CPU
 * that test says so and checks nothing.
 */
#include "core/watchdog.h"
#include "core/log.h"
#include "sched/sched.h"
#include "test/ktest.h"
#include "time/time.h"

#define TEST_THRESHOLD_MS 300
#define STALL_US          1500000
#define SETTLE_LIMIT_NS   2000000000ull

static void spin_with_interrupts_off(void *arg)
{
    (void)arg;
    arch_irq_disable();
    time_delay_us(STALL_US);
    arch_irq_enable();
}

static void spin_without_preemption(void *arg)
{
    (void)arg;
    sched_preempt_disable();
    time_delay_us(STALL_US);
    sched_preempt_enable();
}

/* Runs entry on a thread pinned to cpu, more urgent than "main", and waits for it. */
static void stall(sched_entry_t entry, unsigned cpu)
{
    sched_thread_params_t p = { .name = "wd-stall", .entry = entry, .priority = 50,
                                .affinity = 1ull << cpu };
    sched_thread_t *t = sched_thread_spawn(&p);
    KTEST_EXPECT(t != NULL);
    if (t)
        sched_thread_join(t);
}

KTEST(watchdog_reports_a_cpu_spinning_with_interrupts_off)
{
    if (arch_cpu_count() < 2) {
        log_printf("ktest:   one CPU online: nothing can watch it\n");
        return;
    }
    uint64_t old = watchdog_threshold_ms();
    watchdog_set_threshold_ms(TEST_THRESHOLD_MS);
    uint64_t reports = watchdog_hard_reports_of(1);
    stall(spin_with_interrupts_off, 1);
    /* CPU 0 reports from its tick, which may come after the join. */
    uint64_t start = time_monotonic_ns();
    while (watchdog_hard_reports_of(1) == reports && time_monotonic_ns() - start < SETTLE_LIMIT_NS)
        sched_sleep_ns(10000000);
    watchdog_set_threshold_ms(old);
    KTEST_EXPECT_EQ(watchdog_hard_reports_of(1), reports + 1);
    watchdog_stats_t s;
    watchdog_stats(&s);
    KTEST_EXPECT(s.last_frames > 0); /* the NMI answered with a backtrace */
}

KTEST(watchdog_reports_a_thread_that_keeps_its_cpu_from_waiting_threads)
{
    uint64_t old = watchdog_threshold_ms();
    watchdog_set_threshold_ms(TEST_THRESHOLD_MS);
    watchdog_stats_t before, after;
    watchdog_stats(&before);
    /* "main" is pinned to CPU 0 and stays queued there while the stall runs. */
    stall(spin_without_preemption, 0);
    watchdog_set_threshold_ms(old);
    watchdog_stats(&after);
    KTEST_EXPECT_EQ(after.soft_reports, before.soft_reports + 1);
    KTEST_EXPECT_EQ(after.last_cpu, 0);
}
