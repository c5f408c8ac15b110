/* SPDX-License-Identifier: MIT */
/*
 * PCI: one enumeration at boot, then configuration-space access for drivers.
 *
 * pci_init scans every bus/device/function of every ECAM segment in the ACPI MCFG (or,
 * without an MCFG, bus 0..255 through the legacy 0xCF8/0xCFC mechanism), and records
 * IDs, class, BARs (sized), interrupt line/pin and the MSI / MSI-X / PCI Express
 * capability offsets. Call after acpi_init. The device table is fixed after pci_init
 * (no hot-plug), so pointers from pci_device_get/pci_find stay valid forever.
 */
#ifndef KERNEL_PCI_PCI_H
#define KERNEL_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* BAR kinds (PCI Local Bus Specification 3.0, §6.2.5.1 "Address Maps"). */
#define PCI_BAR_NONE  0u /* not implemented, or the upper half of the previous 64-bit BAR */
#define PCI_BAR_MEM32 1u
#define PCI_BAR_MEM64 2u
#define PCI_BAR_IO    3u

typedef struct {
    uint64_t base; /* physical address (memory) or port number (I/O) as firmware set it */
    uint64_t size; /* bytes decoded; 0 when the BAR is not implemented */
    uint8_t  type; /* PCI_BAR_* */
    bool     prefetchable;
} pci_bar_t;

/* Standard configuration header offsets (PCI Local Bus 3.0, §6.1). */
#define PCI_CFG_VENDOR_ID   0x00
#define PCI_CFG_DEVICE_ID   0x02
#define PCI_CFG_COMMAND     0x04
#define PCI_CFG_STATUS      0x06
#define PCI_CFG_REVISION    0x08
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0        0x10
#define PCI_CFG_IRQ_LINE    0x3c
#define PCI_CFG_IRQ_PIN     0x3d
/* Command register bits (§6.2.2). */
#define PCI_COMMAND_IO           (1u << 0)
#define PCI_COMMAND_MEMORY       (1u << 1)
#define PCI_COMMAND_BUS_MASTER   (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)

/* Capability IDs (PCI Code and ID Assignment Specification, §2). */
#define PCI_CAP_MSI    0x05
#define PCI_CAP_VENDOR 0x09 /* vendor-specific: virtio keeps its structures' locations here */
#define PCI_CAP_PCIE   0x10
#define PCI_CAP_MSIX   0x11

typedef struct {
    /* Location. */
    uint16_t segment;
    uint8_t  bus, device, function;
    /* Identity. */
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id; /* header type 0 only, else 0 */
    uint8_t  class_code, subclass, prog_if, revision;
    uint8_t  header_type;   /* 0 device, 1 PCI-PCI bridge, 2 CardBus bridge */
    bool     multifunction;
    uint8_t  secondary_bus, subordinate_bus; /* header type 1 only */
    /* Interrupts: legacy line/pin (pin 1 = INTA#, 0 = none) and capabilities. */
    uint8_t  irq_line, irq_pin;
    bool     has_msi, has_msix;
    uint8_t  msi_offset, msix_offset, pcie_offset; /* 0 when absent */
    /* Resources. */
    uint8_t   bar_count; /* BAR registers in this header type (6, 2 or 1) */
    pci_bar_t bars[6];
    /* Configuration space of this function in the ECAM window; NULL for port I/O. */
    volatile uint8_t *config;
} pci_device_t;

void pci_init(void);

unsigned pci_device_count(void);
const pci_device_t *pci_device_get(unsigned i);             /* NULL when i is out of range */
const pci_device_t *pci_find(uint16_t vendor, uint16_t device); /* first match or NULL */
/* The index-th function with this class and subclass, or NULL. */
const pci_device_t *pci_find_class(uint8_t class_code, uint8_t subclass, unsigned index);

/* Configuration space access. offset must be naturally aligned and inside the space
 * (4096 bytes with ECAM, 256 with port I/O); otherwise reads return all ones and
 * writes are dropped. Safe from any context; port I/O runs with interrupts off. */
uint32_t pci_read32(const pci_device_t *dev, uint16_t offset);
uint16_t pci_read16(const pci_device_t *dev, uint16_t offset);
uint8_t  pci_read8(const pci_device_t *dev, uint16_t offset);
void pci_write32(const pci_device_t *dev, uint16_t offset, uint32_t value);
void pci_write16(const pci_device_t *dev, uint16_t offset, uint16_t value);
void pci_write8(const pci_device_t *dev, uint16_t offset, uint8_t value);

/* The configuration-space offset of the first capability with this ID that comes after
 * the one at `after` (0: from the start of the list); 0 when there is none. Bounded
 * against looping lists. */
uint8_t pci_capability_next(const pci_device_t *dev, uint8_t id, uint8_t after);

/* Message-signalled interrupts (PCI Local Bus 3.0, §6.8), delivered as fixed, edge
 * interrupts to the calling CPU's LAPIC. Both disable legacy INTx on success.
 * FIXME(issue 4): with SMP, let the caller pick the target CPU.
 *  pci_msix_enable: table entries 0..count-1 raise vectors[0..count-1] and are
 *    unmasked; the rest stay masked. -VK_ENODEV without MSI-X or a usable table BAR,
 *    -VK_ERANGE when the table has fewer than count entries.
 *  pci_msi_enable: one message (multiple-message disabled). -VK_ENODEV without MSI. */
int pci_msix_enable(const pci_device_t *dev, const uint8_t *vectors, unsigned count);
int pci_msi_enable(const pci_device_t *dev, uint8_t vector);
/* Turns MSI and MSI-X off again (device reset paths). */
void pci_msi_disable(const pci_device_t *dev);

#endif
