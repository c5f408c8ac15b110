/* SPDX-License-Identifier: MIT */
/*
 * Capability-list walks and message-signalled interrupts (MSI and MSI-X) for drivers.
 *
 * Register layouts: PCI Local Bus 3.0, §6.8.1 (MSI capability) and §6.8.2 (MSI-X
 * capability and table). Message address and data for x86: Intel SDM Vol. 3A, §11.11
 * "Message Signalled Interrupts": address 0xFEE00000 | destination APIC ID << 12
 * (physical destination, no redirection hint), data = vector with fixed delivery and
 * edge trigger (all other bits zero).
 */
#include "pci/pci.h"
#include "pci/pci_internal.h"
#include "arch/x86_64/lapic.h"
#include "core/log.h"
#include "mm/mm.h"
#include <vk/errno.h>

/* MSI capability (§6.8.1). */
#define MSI_CONTROL        2
#define MSI_ADDRESS_LO     4
#define MSI_ADDRESS_HI     8   /* 64-bit capable only */
#define MSI_DATA_32        8
#define MSI_DATA_64        12
#define MSI_CTRL_ENABLE    (1u << 0)
#define MSI_CTRL_MME_MASK  (7u << 4) /* multiple message enable */
#define MSI_CTRL_64BIT     (1u << 7)

/* MSI-X capability and table (§6.8.2). */
#define MSIX_CONTROL       2
#define MSIX_TABLE         4   /* BIR in bits 2:0, offset in the rest */
#define MSIX_CTRL_SIZE     0x7ffu /* table size - 1 */
#define MSIX_CTRL_MASK_ALL (1u << 14)
#define MSIX_CTRL_ENABLE   (1u << 15)
#define MSIX_ENTRY_BYTES   16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA    8
#define MSIX_ENTRY_CONTROL 12
#define MSIX_ENTRY_MASKED  1u

#define MSI_ADDRESS_BASE   0xfee00000u

uint8_t pci_capability_next(const pci_device_t *dev, uint8_t id, uint8_t after)
{
    if (!(pci_read16(dev, PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint16_t head = dev->header_type == 2 ? PCI_CFG_CARDBUS_CAP : PCI_CFG_CAP_PTR;
    uint8_t ptr = pci_read8(dev, head) & 0xfc;
    bool passed = after == 0;
    for (int n = 0; ptr >= 0x40 && n < PCI_MAX_CAPS; n++) {
        if (passed && pci_read8(dev, ptr) == id)
            return ptr;
        if (ptr == after)
            passed = true;
        ptr = pci_read8(dev, (uint16_t)(ptr + 1)) & 0xfc;
    }
    return 0;
}

static uint32_t msi_address(void)
{
    return MSI_ADDRESS_BASE | (lapic_id() & 0xff) << 12;
}

static void disable_intx(const pci_device_t *dev)
{
    pci_write16(dev, PCI_CFG_COMMAND, pci_read16(dev, PCI_CFG_COMMAND) | PCI_COMMAND_INTX_DISABLE);
}

int pci_msix_enable(const pci_device_t *dev, const uint8_t *vectors, unsigned count)
{
    if (!dev->has_msix)
        return -VK_ENODEV;
    uint8_t cap = dev->msix_offset;
    uint16_t control = pci_read16(dev, cap + MSIX_CONTROL);
    unsigned entries = (control & MSIX_CTRL_SIZE) + 1u;
    if (count > entries)
        return -VK_ERANGE;
    uint32_t table = pci_read32(dev, cap + MSIX_TABLE);
    unsigned bir = table & 7u;
    uint64_t offset = table & ~7u;
    if (bir >= dev->bar_count || (dev->bars[bir].type != PCI_BAR_MEM32 &&
                                  dev->bars[bir].type != PCI_BAR_MEM64) ||
        offset + (uint64_t)entries * MSIX_ENTRY_BYTES > dev->bars[bir].size) {
        log_warn("pci: %02x:%02x.%u MSI-X table in BAR%u unusable", dev->bus, dev->device,
                 dev->function, bir);
        return -VK_ENODEV;
    }
    pci_write16(dev, PCI_CFG_COMMAND, pci_read16(dev, PCI_CFG_COMMAND) | PCI_COMMAND_MEMORY);
    volatile uint8_t *t = vmm_map_mmio(dev->bars[bir].base + offset,
                                       (uint64_t)entries * MSIX_ENTRY_BYTES);
    if (!t)
        return -VK_ENOMEM;
    /* Enabled with the function masked while the entries are written (§6.8.2.3). */
    pci_write16(dev, cap + MSIX_CONTROL, control | MSIX_CTRL_ENABLE | MSIX_CTRL_MASK_ALL);
    for (unsigned i = 0; i < entries; i++) {
        volatile uint32_t *e = (volatile uint32_t *)(t + i * MSIX_ENTRY_BYTES);
        if (i < count) {
            e[MSIX_ENTRY_ADDR_LO / 4] = msi_address();
            e[MSIX_ENTRY_ADDR_HI / 4] = 0;
            e[MSIX_ENTRY_DATA / 4] = vectors[i];
            e[MSIX_ENTRY_CONTROL / 4] = 0;
        } else {
            e[MSIX_ENTRY_CONTROL / 4] = MSIX_ENTRY_MASKED;
        }
    }
    disable_intx(dev);
    pci_write16(dev, cap + MSIX_CONTROL, (control | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASK_ALL);
    /* FIXME: the mapping stays for the life of the system (no vmm_unmap_mmio yet). */
    return 0;
}

int pci_msi_enable(const pci_device_t *dev, uint8_t vector)
{
    if (!dev->has_msi)
        return -VK_ENODEV;
    uint8_t cap = dev->msi_offset;
    uint16_t control = pci_read16(dev, cap + MSI_CONTROL);
    pci_write32(dev, cap + MSI_ADDRESS_LO, msi_address());
    if (control & MSI_CTRL_64BIT) {
        pci_write32(dev, cap + MSI_ADDRESS_HI, 0);
        pci_write16(dev, cap + MSI_DATA_64, vector);
    } else {
        pci_write16(dev, cap + MSI_DATA_32, vector);
    }
    disable_intx(dev);
    pci_write16(dev, cap + MSI_CONTROL, (control & ~MSI_CTRL_MME_MASK) | MSI_CTRL_ENABLE);
    return 0;
}

void pci_msi_disable(const pci_device_t *dev)
{
    if (dev->has_msix) {
        uint16_t c = pci_read16(dev, dev->msix_offset + MSIX_CONTROL);
        pci_write16(dev, dev->msix_offset + MSIX_CONTROL, c & ~MSIX_CTRL_ENABLE);
    }
    if (dev->has_msi) {
        uint16_t c = pci_read16(dev, dev->msi_offset + MSI_CONTROL);
        pci_write16(dev, dev->msi_offset + MSI_CONTROL, c & ~MSI_CTRL_ENABLE);
    }
}
