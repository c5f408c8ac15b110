/* SPDX-License-Identifier: MIT */
/* Helpers shared by the scheduler's KTEST files (sched_test.c, sched_smp_test.c). */
#ifndef KERNEL_SCHED_SCHED_TEST_UTIL_H
#define KERNEL_SCHED_SCHED_TEST_UTIL_H

#include "sched/sched_internal.h"
#include "arch/x86_64/arch.h"
#include "core/log.h"
#include "time/time.h"

#define SCHED_TEST_NS_PER_MS  1000000ull
#define SCHED_TEST_HANG_LIMIT_NS (5000 * SCHED_TEST_NS_PER_MS) /* "it did not hang", never a performance bound */

/* Sleeps in 1 ms steps until *counter (a word, read without a lock) reaches value;
 * false after the hang limit. */
static inline bool sched_test_wait_for_count(volatile unsigned *counter, unsigned value)
{
    uint64_t give_up = time_monotonic_ns() + SCHED_TEST_HANG_LIMIT_NS;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < value) {
        if (time_monotonic_ns() > give_up)
            return false;
        sched_sleep_ns(SCHED_TEST_NS_PER_MS);
    }
    return true;
}

/* A thread restricted to the CPUs of `affinity`. */
static inline sched_thread_t *sched_test_spawn(const char *name, sched_entry_t entry, void *arg,
                                               int priority, uint64_t affinity)
{
    sched_thread_params_t p = { .name = name, .entry = entry, .arg = arg, .priority = priority,
                                .affinity = affinity };
    return sched_thread_spawn(&p);
}

/* False, with a note in the log, when only one CPU is online (an SMP test then has
 * nothing to check). */
static inline bool sched_test_several_cpus(void)
{
    if (arch_cpu_count() > 1)
        return true;
    log_printf("ktest:   one CPU online: nothing to check\n");
    return false;
}

/* The CPU the caller runs on (it may move right after). */
static inline unsigned sched_test_this_cpu(void)
{
    uint64_t f = sched_irq_save();
    unsigned i = arch_cpu_index();
    sched_irq_restore(f);
    return i;
}

#endif
