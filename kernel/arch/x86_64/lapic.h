/* SPDX-License-Identifier: MIT */
/*
 * Local APIC of the calling CPU: enable, end-of-interrupt, ID, and its timer.
 *
 * Every function acts on "this CPU's" LAPIC (the register window is at the same address
 * on every CPU), so each CPU calls lapic_init for itself; the boot CPU's call also
 * masks the legacy 8259 PICs. xAPIC MMIO mode is used, unless the firmware already
 * switched the CPU to x2APIC mode, in which case the x2APIC MSRs are used (leaving
 * x2APIC mode is not allowed without disabling the APIC).
 */
#ifndef KERNEL_ARCH_X86_64_LAPIC_H
#define KERNEL_ARCH_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* The spurious-interrupt vector (SVR). A spurious interrupt sets no ISR bit, so it
 * must not be acknowledged: arch_interrupt_dispatch ignores this vector without EOI,
 * and arch_irq_alloc_vector never hands it out (interrupts.c VECTOR_SPURIOUS). */
#define LAPIC_SPURIOUS_VECTOR 0xff

/* Enable this CPU's LAPIC: software enable with the spurious vector, TPR 0, all LVT
 * entries masked except LINT NMIs described by the MADT (LINT1 as NMI when there is no
 * MADT). On the boot CPU it first remaps the 8259 PICs to 0x20/0x28 and masks them. */
void lapic_init(void);
/* True once lapic_init has run on some CPU (the register window is set up). */
bool lapic_ready(void);

void lapic_eoi(void);
/* APIC ID of the calling CPU (CPUID's initial APIC ID before lapic_init). */
uint32_t lapic_id(void);

/* Timer (Intel SDM Vol. 3A, "APIC Timer"). divide is the input clock divisor: 1, 2, 4,
 * ..., 128 (anything else is treated as 16). The periodic timer raises vector every
 * initial_count divided clocks. */
void lapic_timer_start_periodic(uint8_t vector, uint32_t initial_count, unsigned divide);
/* A one-shot countdown with the interrupt masked, for calibration against another clock. */
void lapic_timer_start_countdown(uint32_t initial_count, unsigned divide);
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);

#endif
