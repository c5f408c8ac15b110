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

/* Interprocessor interrupts (SDM Vol. 3A, "Issuing Interprocessor Interrupts"): the low
 * word of the Interrupt Command Register. Physical destination, no shorthand. */
#define LAPIC_ICR_FIXED   (0u << 8)  /* | vector */
#define LAPIC_ICR_NMI     (4u << 8)
#define LAPIC_ICR_INIT    (5u << 8)
#define LAPIC_ICR_STARTUP (6u << 8)  /* | start page (physical address >> 12) */
#define LAPIC_ICR_ASSERT  (1u << 14)
/* Sends `command` to the LAPIC with `apic_id` and waits until it has been accepted (the
 * delivery-status bit in xAPIC mode). Safe from any context, NMI handlers excepted. */
void lapic_send_ipi(uint32_t apic_id, uint32_t command);

/* Timer (Intel SDM Vol. 3A, "APIC Timer"). divide is the input clock divisor: 1, 2, 4,
 * ..., 128 (anything else is treated as 16); counts are in divided clocks. */
/* A one-shot countdown with the interrupt masked, for calibration against another clock. */
void lapic_timer_start_countdown(uint32_t initial_count, unsigned divide);
/* One interrupt on vector after initial_count timer clocks; lapic_timer_rearm sets a
 * new count for the next one. */
void lapic_timer_start_oneshot(uint8_t vector, uint32_t initial_count, unsigned divide);
void lapic_timer_rearm(uint32_t initial_count);
void lapic_timer_stop(void);
uint32_t lapic_timer_current(void);

#endif
