/* SPDX-License-Identifier: MIT */
/*
 * The lockup watchdog (docs/sched.md, "Watchdog"): reports a CPU whose timer tick stopped
 * (hard lockup: interrupts off for too long) with its backtrace taken by NMI, and a CPU
 * that kept one thread running while others waited (soft lockup). It only reports.
 */
#ifndef KERNEL_CORE_WATCHDOG_H
#define KERNEL_CORE_WATCHDOG_H

#include <stdint.h>
#include "arch/x86_64/arch.h"

/* From every CPU's timer tick, interrupts off; frame is the interrupted context. */
void watchdog_tick(const arch_frame_t *frame);

/* How long a CPU may go without a tick (or a switch) before it is reported; 0 turns
 * the watchdog off. Default CONFIG_WATCHDOG_MS. */
void watchdog_set_threshold_ms(uint64_t ms);
uint64_t watchdog_threshold_ms(void);

typedef struct {
    uint64_t hard_reports, soft_reports;
    uint32_t last_cpu;    /* the CPU of the latest report */
    uint32_t last_frames; /* frames in the latest hard report's backtrace (0: no answer) */
} watchdog_stats_t;
void watchdog_stats(watchdog_stats_t *out);
/* Hard lockups reported for one CPU. */
uint64_t watchdog_hard_reports_of(unsigned cpu);

#endif
