/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the clocks. QEMU under TCG runs on host wall time and can be
 * descheduled at any moment, so every bound here is a lower bound or a very loose
 * upper bound: a busy host may make things slower, never faster.
 */
#include "arch/x86_64/arch.h"
#include "time/time.h"
#include "test/ktest.h"

#define NS_PER_MS 1000000ull

KTEST(time_frequencies_plausible)
{
    KTEST_EXPECT(time_tsc_hz() >= 100000000ull);
    KTEST_EXPECT(time_tsc_hz() <= 10000000000ull);
    KTEST_EXPECT(time_lapic_hz() != 0);
    KTEST_EXPECT(time_tick_vector() >= 32);
}

KTEST(time_monotonic_never_goes_back)
{
    uint64_t prev = time_monotonic_ns();
    for (int i = 0; i < 10000; i++) {
        uint64_t now = time_monotonic_ns();
        KTEST_EXPECT(now >= prev);
        if (now < prev)
            return;
        prev = now;
    }
    /* ... and moves: within ~a second of busy reads it must have advanced. */
    uint64_t start = time_monotonic_ns(), now = start;
    for (long i = 0; i < 100000000 && now == start; i++)
        now = time_monotonic_ns();
    KTEST_EXPECT(now > start);
}

KTEST(time_delay_advances_monotonic_clock)
{
    uint64_t t0 = time_monotonic_ns();
    time_delay_us(10000);
    uint64_t elapsed = time_monotonic_ns() - t0;
    KTEST_EXPECT(elapsed >= 10 * NS_PER_MS);
    KTEST_EXPECT(elapsed < 10000 * NS_PER_MS); /* only catches a wildly wrong scale */
}

KTEST(time_ticks_advance_with_interrupts_on)
{
    bool was_enabled = arch_irq_enabled();
    uint64_t before = time_ticks();
    uint64_t deadline = time_monotonic_ns() + 2000 * NS_PER_MS; /* 200 ticks' worth */
    arch_irq_enable();
    while (time_ticks() == before && time_monotonic_ns() < deadline)
        arch_pause();
    uint64_t after = time_ticks();
    if (!was_enabled)
        arch_irq_disable();
    KTEST_EXPECT(after > before);
}
