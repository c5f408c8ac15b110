/* SPDX-License-Identifier: MIT */
/*
 * I/O APICs: the routing of device interrupt lines (global system interrupts, GSIs) to
 * a vector on one CPU's local APIC. Intel 82093AA I/O APIC datasheet, 3.2 "Register
 * Description"; ACPI 6.5, 5.2.12.5 "Interrupt Source Override Structure" for how ISA
 * IRQs map to GSIs.
 *
 * ioapic_init (boot CPU, after acpi_init and lapic_init) finds every I/O APIC of the
 * MADT and masks all of their lines; nothing is delivered until a driver routes a line.
 * ISA IRQ n is GSI n, edge-triggered and active-high, unless the MADT overrides it
 * (QEMU and most PCs move the timer, IRQ 0, to GSI 2, and the ACPI SCI to level).
 * Physical destination mode, fixed delivery. The legacy 8259 PICs stay masked
 * (lapic_init).
 */
#ifndef KERNEL_ARCH_X86_64_IOAPIC_H
#define KERNEL_ARCH_X86_64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

void ioapic_init(void);
/* GSIs served by all I/O APICs found (0 without any). */
unsigned ioapic_gsi_count(void);

/* The GSI of ISA IRQ irq (0..15) and how it is triggered, after MADT overrides. false
 * for an IRQ outside 0..15. */
bool ioapic_isa_to_gsi(unsigned irq, uint32_t *gsi, bool *level, bool *active_low);

/* Delivers gsi as `vector` (0x30..0xfe, from arch_irq_alloc_vector) to CPU `cpu` (an
 * index, see arch_cpu_count), unmasked. 0, or -VK_EINVAL for a bad vector or CPU,
 * -VK_ENODEV when no I/O APIC serves gsi. */
int ioapic_route_gsi(uint32_t gsi, uint8_t vector, unsigned cpu, bool level, bool active_low);
/* The same for ISA IRQ irq, with the polarity and trigger of the MADT. */
int ioapic_route_isa(unsigned irq, uint8_t vector, unsigned cpu);
/* Masks (stops delivering) gsi. */
int ioapic_mask_gsi(uint32_t gsi);
/* Redirection entry of gsi as the I/O APIC holds it (for tests and diagnostics); 0 when
 * no I/O APIC serves gsi. */
uint64_t ioapic_read_entry(uint32_t gsi);

/* Redirection-entry bits (datasheet 3.2.4 "IOREDTBL"). */
#define IOAPIC_ENTRY_ACTIVE_LOW (1ull << 13)
#define IOAPIC_ENTRY_LEVEL      (1ull << 15)
#define IOAPIC_ENTRY_MASKED     (1ull << 16)

#endif
