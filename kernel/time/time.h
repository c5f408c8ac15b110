/* SPDX-License-Identifier: MIT */
/*
 * Time: TSC-based monotonic clock, busy-wait delays, the tick and timer events.
 *
 * time_init learns the TSC frequency (CPUID when it is exact and agrees with a
 * measurement, else a measurement against the HPET, else against PIT channel 2),
 * calibrates the LAPIC timer against the same reference, and starts a tick at
 * CONFIG_TIMER_HZ. The LAPIC timer runs one-shot: between ticks it also fires for the
 * earliest deadline asked for with time_event_at. Call time_init after acpi_init and
 * lapic_init, with interrupts off; the tick runs once interrupts are enabled.
 *
 * The monotonic clock assumes the TSC is constant-rate and (once SMP arrives)
 * synchronised between CPUs; the boot line says whether the CPU claims an invariant TSC.
 */
#ifndef KERNEL_TIME_TIME_H
#define KERNEL_TIME_TIME_H

#include <stdint.h>

void time_init(void);

/* Nanoseconds since time_init (0 before it). Never goes backwards on one CPU. */
uint64_t time_monotonic_ns(void);
/* Busy-wait at least us microseconds. Before time_init it assumes a fast (4 GHz) TSC,
 * so early delays are at least as long as asked on any current CPU. */
void time_delay_us(uint64_t us);

uint64_t time_tsc_hz(void);
/* A span of TSC cycles in ns (0 before time_init), for accounting kept in cycles. */
uint64_t time_cycles_to_ns(uint64_t cycles);
/* LAPIC timer input clock (before its divider), in Hz. */
uint64_t time_lapic_hz(void);
/* Periodic ticks counted on the boot CPU since the tick started. */
uint64_t time_ticks(void);
/* The vector the tick arrives on (0 when there is no tick). */
uint8_t time_tick_vector(void);
/* Start the tick on the calling CPU with the boot CPU's calibration (for
 * secondary CPUs, after their lapic_init). */
void time_tick_start_cpu(void);

/* Called from the tick interrupt on every CPU that runs the tick, interrupts off. The
 * default does nothing; the kernel overrides it (e.g. for the scheduler). */
void time_tick_hook(void);
/* Asks for a timer interrupt on the calling CPU at deadline_ns (monotonic), or a little
 * after it; one earlier than the next tick then calls time_event_hook instead of the
 * tick hook. A later deadline than one already asked for changes nothing: the hook
 * asks again for whatever is still pending. */
void time_event_at(uint64_t deadline_ns);
void time_event_hook(void);

#endif
