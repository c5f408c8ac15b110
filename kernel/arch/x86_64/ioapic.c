/* SPDX-License-Identifier: MIT */
/*
 * I/O APIC driver (see ioapic.h for the model). Each I/O APIC is reached through two
 * registers (datasheet 3.1): IOREGSEL selects a register, IOWIN reads or writes it, so
 * every access is a pair and one lock serialises them all.
 */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/cpu.h"
#include "acpi/acpi.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "mm/mm.h"
#include "config.h"
#include <vk/errno.h>

#define IOREGSEL        0x00
#define IOWIN           0x10
#define REG_ID          0x00
#define REG_VERSION     0x01 /* bits 23:16: highest redirection entry */
#define REG_REDIRECTION 0x10 /* entry n: low word at 0x10 + 2n, high word at 0x11 + 2n */
#define ISA_IRQS        16

typedef struct {
    volatile uint32_t *mmio;
    uint32_t id;
    uint32_t gsi_base;
    unsigned lines;
} ioapic_t;

/* Filled by ioapic_init before the other CPUs start; the registers are guarded by lock. */
static ioapic_t ioapics[CONFIG_ACPI_MAX_IOAPICS];
static unsigned ioapic_count;
static spinlock_t lock = SPINLOCK_INIT;

static uint32_t reg_read(ioapic_t *io, uint32_t reg)
{
    io->mmio[IOREGSEL / 4] = reg;
    return io->mmio[IOWIN / 4];
}

static void reg_write(ioapic_t *io, uint32_t reg, uint32_t value)
{
    io->mmio[IOREGSEL / 4] = reg;
    io->mmio[IOWIN / 4] = value;
}

/* Writes entry `line`; the masked low word goes first and the final low word last, so
 * the line is never live with a half-written destination. Lock held. */
static void write_entry(ioapic_t *io, unsigned line, uint64_t entry)
{
    reg_write(io, REG_REDIRECTION + 2 * line, (uint32_t)IOAPIC_ENTRY_MASKED);
    reg_write(io, REG_REDIRECTION + 2 * line + 1, (uint32_t)(entry >> 32));
    reg_write(io, REG_REDIRECTION + 2 * line, (uint32_t)entry);
}

static ioapic_t *serving(uint32_t gsi, unsigned *line)
{
    for (unsigned i = 0; i < ioapic_count; i++) {
        ioapic_t *io = &ioapics[i];
        if (gsi >= io->gsi_base && gsi < io->gsi_base + io->lines) {
            *line = gsi - io->gsi_base;
            return io;
        }
    }
    return NULL;
}

void ioapic_init(void)
{
    const acpi_madt_t *m = acpi_madt();
    if (!m || m->ioapic_count == 0) {
        log_warn("ioapic: none in the MADT; device interrupts need MSI");
        return;
    }
    for (unsigned i = 0; i < m->ioapic_count && i < CONFIG_ACPI_MAX_IOAPICS; i++) {
        ioapic_t *io = &ioapics[ioapic_count];
        io->mmio = vmm_map_mmio(m->ioapics[i].address, PAGE_SIZE);
        if (!io->mmio) {
            log_warn("ioapic: cannot map the registers at 0x%x", m->ioapics[i].address);
            continue;
        }
        io->id = m->ioapics[i].id;
        io->gsi_base = m->ioapics[i].gsi_base;
        io->lines = ((reg_read(io, REG_VERSION) >> 16) & 0xff) + 1;
        for (unsigned line = 0; line < io->lines; line++)
            write_entry(io, line, IOAPIC_ENTRY_MASKED);
        log_info("ioapic: id %u at 0x%x, GSIs %u-%u, all masked", io->id,
                 m->ioapics[i].address, io->gsi_base, io->gsi_base + io->lines - 1);
        ioapic_count++;
    }
}

unsigned ioapic_gsi_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ioapic_count; i++)
        n += ioapics[i].lines;
    return n;
}

bool ioapic_isa_to_gsi(unsigned irq, uint32_t *gsi, bool *level, bool *active_low)
{
    if (irq >= ISA_IRQS)
        return false;
    /* ISA defaults: identity, edge, active high. "Conforms to the bus" (00) keeps them. */
    *gsi = irq;
    *level = false;
    *active_low = false;
    const acpi_madt_t *m = acpi_madt();
    for (unsigned i = 0; m && i < m->override_count; i++) {
        const acpi_madt_override_t *o = &m->overrides[i];
        if (o->bus != 0 || o->source != irq)
            continue;
        *gsi = o->gsi;
        if ((o->flags & ACPI_MPS_POLARITY_MASK) == ACPI_MPS_POLARITY_LOW)
            *active_low = true;
        if ((o->flags & ACPI_MPS_TRIGGER_MASK) == ACPI_MPS_TRIGGER_LEVEL)
            *level = true;
    }
    return true;
}

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, unsigned cpu, bool level, bool active_low)
{
    if (vector < 0x30 || vector == 0xff || cpu >= arch_cpu_count())
        return -VK_EINVAL;
    unsigned line;
    ioapic_t *io = serving(gsi, &line);
    if (!io)
        return -VK_ENODEV;
    uint64_t entry = vector | ((uint64_t)cpu_get(cpu)->apic_id << 56);
    if (level)
        entry |= IOAPIC_ENTRY_LEVEL;
    if (active_low)
        entry |= IOAPIC_ENTRY_ACTIVE_LOW;
    uint64_t f = spinlock_lock_irqsave(&lock);
    write_entry(io, line, entry);
    spinlock_unlock_irqrestore(&lock, f);
    return 0;
}

int ioapic_route_isa(unsigned irq, uint8_t vector, unsigned cpu)
{
    uint32_t gsi;
    bool level, active_low;
    if (!ioapic_isa_to_gsi(irq, &gsi, &level, &active_low))
        return -VK_EINVAL;
    return ioapic_route_gsi(gsi, vector, cpu, level, active_low);
}

int ioapic_mask_gsi(uint32_t gsi)
{
    unsigned line;
    ioapic_t *io = serving(gsi, &line);
    if (!io)
        return -VK_ENODEV;
    uint64_t f = spinlock_lock_irqsave(&lock);
    uint32_t low = reg_read(io, REG_REDIRECTION + 2 * line);
    reg_write(io, REG_REDIRECTION + 2 * line, low | (uint32_t)IOAPIC_ENTRY_MASKED);
    spinlock_unlock_irqrestore(&lock, f);
    return 0;
}

uint64_t ioapic_read_entry(uint32_t gsi)
{
    unsigned line;
    ioapic_t *io = serving(gsi, &line);
    if (!io)
        return 0;
    uint64_t f = spinlock_lock_irqsave(&lock);
    uint64_t entry = reg_read(io, REG_REDIRECTION + 2 * line) |
                     ((uint64_t)reg_read(io, REG_REDIRECTION + 2 * line + 1) << 32);
    spinlock_unlock_irqrestore(&lock, f);
    return entry;
}
