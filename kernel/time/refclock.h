/* SPDX-License-Identifier: MIT */
/*
 * Reference clocks used by time.c to calibrate the TSC and the LAPIC timer: the HPET
 * main counter (hpet.c) and PIT channel 2 (pit.c). Private to kernel/time/.
 */
#ifndef KERNEL_TIME_REFCLOCK_H
#define KERNEL_TIME_REFCLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Map the HPET named by the ACPI HPET table and make sure its main counter runs.
 * False when there is no usable HPET. */
bool hpet_init(void);
uint64_t hpet_counter(void);       /* main counter, already masked to its width */
uint64_t hpet_counter_mask(void);  /* 0xffffffff for a 32-bit counter, else ~0 */
uint64_t hpet_period_fs(void);     /* femtoseconds per counter tick */

#define PIT_HZ 1193182u /* 8254 input clock: 14.31818 MHz / 12 */
/* Start a one-shot countdown of count PIT clocks on channel 2 (speaker off). False when
 * no PIT answers. */
bool pit_oneshot_start(uint16_t count);
/* True once the countdown has reached zero. */
bool pit_oneshot_done(void);

#endif
