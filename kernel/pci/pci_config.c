/* SPDX-License-Identifier: MIT */
/*
 * PCI configuration-space accessors: ECAM (memory-mapped, PCI Express Base 4.0 §7.2.2)
 * when the device has a mapped window, else configuration mechanism #1 through ports
 * 0xCF8/0xCFC (PCI Local Bus 3.0 §3.2.2.3.2).
 *
 * Mechanism #1 takes two port accesses (address, then data), so it runs with
 * interrupts off to keep an interrupt handler's access from slipping in between.
 * FIXME: with SMP this needs a spinlock as well; ECAM needs neither.
 */
#include "arch/x86_64/arch.h"
#include "pci/pci.h"
#include "pci/pci_internal.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define CONFIG_ENABLE      0x80000000u /* bit 31 of CONFIG_ADDRESS */
#define ECAM_SPACE_BYTES   4096u
#define LEGACY_SPACE_BYTES 256u

static bool offset_ok(const pci_device_t *d, uint16_t off, unsigned width)
{
    unsigned limit = d->config ? ECAM_SPACE_BYTES : LEGACY_SPACE_BYTES;
    return (off & (width - 1)) == 0 && (unsigned)off + width <= limit;
}

/* CONFIG_ADDRESS layout: enable 31, bus 23:16, device 15:11, function 10:8,
 * register 7:2. */
static uint32_t legacy_address(const pci_device_t *d, uint16_t off)
{
    return CONFIG_ENABLE | ((uint32_t)d->bus << 16) | ((uint32_t)(d->device & 31) << 11) |
           ((uint32_t)(d->function & 7) << 8) | (off & 0xfcu);
}

static uint32_t legacy_read(const pci_device_t *d, uint16_t off, unsigned width)
{
    bool irqs = arch_irq_enabled();
    arch_irq_disable();
    arch_outl(PCI_CONFIG_ADDRESS, legacy_address(d, off));
    uint32_t v;
    if (width == 1)
        v = arch_inb((uint16_t)(PCI_CONFIG_DATA + (off & 3)));
    else if (width == 2)
        v = arch_inw((uint16_t)(PCI_CONFIG_DATA + (off & 2)));
    else
        v = arch_inl(PCI_CONFIG_DATA);
    if (irqs)
        arch_irq_enable();
    return v;
}

static void legacy_write(const pci_device_t *d, uint16_t off, unsigned width, uint32_t v)
{
    bool irqs = arch_irq_enabled();
    arch_irq_disable();
    arch_outl(PCI_CONFIG_ADDRESS, legacy_address(d, off));
    if (width == 1)
        arch_outb((uint16_t)(PCI_CONFIG_DATA + (off & 3)), (uint8_t)v);
    else if (width == 2)
        arch_outw((uint16_t)(PCI_CONFIG_DATA + (off & 2)), (uint16_t)v);
    else
        arch_outl(PCI_CONFIG_DATA, v);
    if (irqs)
        arch_irq_enable();
}

bool pci_legacy_present(void)
{
    /* Mechanism #1 latches CONFIG_ADDRESS; a write of just the enable bit reads back. */
    bool irqs = arch_irq_enabled();
    arch_irq_disable();
    uint32_t saved = arch_inl(PCI_CONFIG_ADDRESS);
    arch_outl(PCI_CONFIG_ADDRESS, CONFIG_ENABLE);
    bool present = arch_inl(PCI_CONFIG_ADDRESS) == CONFIG_ENABLE;
    arch_outl(PCI_CONFIG_ADDRESS, saved);
    if (irqs)
        arch_irq_enable();
    return present;
}

uint32_t pci_read32(const pci_device_t *d, uint16_t off)
{
    if (!offset_ok(d, off, 4))
        return 0xffffffffu;
    return d->config ? *(volatile uint32_t *)(d->config + off) : legacy_read(d, off, 4);
}

uint16_t pci_read16(const pci_device_t *d, uint16_t off)
{
    if (!offset_ok(d, off, 2))
        return 0xffffu;
    return d->config ? *(volatile uint16_t *)(d->config + off) : (uint16_t)legacy_read(d, off, 2);
}

uint8_t pci_read8(const pci_device_t *d, uint16_t off)
{
    if (!offset_ok(d, off, 1))
        return 0xffu;
    return d->config ? d->config[off] : (uint8_t)legacy_read(d, off, 1);
}

void pci_write32(const pci_device_t *d, uint16_t off, uint32_t v)
{
    if (!offset_ok(d, off, 4))
        return;
    if (d->config)
        *(volatile uint32_t *)(d->config + off) = v;
    else
        legacy_write(d, off, 4, v);
}

void pci_write16(const pci_device_t *d, uint16_t off, uint16_t v)
{
    if (!offset_ok(d, off, 2))
        return;
    if (d->config)
        *(volatile uint16_t *)(d->config + off) = v;
    else
        legacy_write(d, off, 2, v);
}

void pci_write8(const pci_device_t *d, uint16_t off, uint8_t v)
{
    if (!offset_ok(d, off, 1))
        return;
    if (d->config)
        d->config[off] = v;
    else
        legacy_write(d, off, 1, v);
}
