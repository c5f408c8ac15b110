/* SPDX-License-Identifier: MIT */
/*
 * PCI enumeration: brute-force scan of every bus/device/function, BAR sizing and
 * capability walk, into a fixed table of CONFIG_PCI_MAX_DEVICES entries.
 *
 * Design notes:
 *  - Brute force (rather than following bridges from bus 0) also finds functions on
 *    extra root buses that only the AML namespace would describe. Each ECAM segment is
 *    mapped once as a whole (at most 256 MiB of uncached virtual space).
 *  - BARs are sized by writing all ones and reading back (PCI Local Bus 3.0 §6.2.5.1)
 *    with I/O and memory decode switched off meanwhile, so the transiently bogus
 *    address never decodes; interrupts are off so no handler touches the device.
 *    Host bridges keep decoding on: some hang when it is switched off, and they have
 *    no BARs worth sizing that firmware did not already place.
 *  - Runs once on the boot CPU before SMP and before drivers; the table is read-only
 *    afterwards and needs no lock.
 */
#include "pci/pci.h"
#include "acpi/acpi.h"
#include "arch/x86_64/arch.h"
#include "config.h"
#include "core/log.h"
#include "mm/mm.h"
#include "pci/pci_internal.h"

#define PCI_HEADER_MULTIFUNC  0x80
#define PCI_CFG_CLASS_REV     0x08 /* revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_CFG_SUBSYS_VENDOR 0x2c /* header type 0 */
#define PCI_CFG_SUBSYS_ID     0x2e
#define PCI_CFG_SECONDARY_BUS 0x19 /* header type 1 */
#define PCI_CFG_SUBORD_BUS    0x1a
#define ECAM_BUS_SHIFT 20 /* 1 MiB per bus: device 19:15, function 14:12 */

/* Written by pci_init only (boot CPU, before SMP); read-only afterwards. */
static pci_device_t devices[CONFIG_PCI_MAX_DEVICES];
static unsigned device_count;
static unsigned devices_skipped; /* functions past CONFIG_PCI_MAX_DEVICES */
static unsigned bridge_count;
static unsigned bus_count;        /* buses with at least one function */

static void size_bars(pci_device_t *d)
{
    bool irqs = arch_irq_enabled();
    arch_irq_disable();
    bool host_bridge = d->class_code == 0x06 && d->subclass == 0x00;
    uint16_t cmd = pci_read16(d, PCI_CFG_COMMAND);
    if (!host_bridge)
        pci_write16(d, PCI_CFG_COMMAND,
                    (uint16_t)(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY)));

    for (unsigned i = 0; i < d->bar_count; i++) {
        uint16_t off = (uint16_t)(PCI_CFG_BAR0 + 4 * i);
        pci_bar_t *bar = &d->bars[i];
        uint32_t orig = pci_read32(d, off);
        pci_write32(d, off, 0xffffffffu);
        uint32_t probe = pci_read32(d, off);
        pci_write32(d, off, orig);

        if (orig & 1) {
            /* I/O BAR: bits 1:0 are flags. Devices decoding only 16 bits of I/O read
             * back zeros above bit 15; the lowest writable bit is the size either way. */
            uint32_t mask = probe & ~3u;
            if (mask == 0)
                continue;
            *bar = (pci_bar_t){ .base = orig & ~3u, .size = mask & (~mask + 1), .type = PCI_BAR_IO };
            continue;
        }
        bool prefetch = (orig & 8) != 0;
        if (((orig >> 1) & 3) == 2) {
            /* 64-bit memory BAR: the next register is the upper half. */
            if (i + 1 >= d->bar_count)
                continue; /* malformed: no room for the upper half */
            uint32_t orig_hi = pci_read32(d, off + 4);
            pci_write32(d, off + 4, 0xffffffffu);
            uint32_t probe_hi = pci_read32(d, off + 4);
            pci_write32(d, off + 4, orig_hi);
            uint64_t mask = ((uint64_t)probe_hi << 32) | (probe & ~0xfu);
            if (mask != 0)
                *bar = (pci_bar_t){ .base = ((uint64_t)orig_hi << 32) | (orig & ~0xfu),
                                    .size = mask & (~mask + 1), .type = PCI_BAR_MEM64,
                                    .prefetchable = prefetch };
            i++; /* bars[i + 1] stays PCI_BAR_NONE */
            continue;
        }
        uint32_t mask = probe & ~0xfu;
        if (mask != 0)
            *bar = (pci_bar_t){ .base = orig & ~0xfu, .size = mask & (~mask + 1),
                                .type = PCI_BAR_MEM32, .prefetchable = prefetch };
    }

    if (!host_bridge)
        pci_write16(d, PCI_CFG_COMMAND, cmd);
    if (irqs)
        arch_irq_enable();
}

static void walk_capabilities(pci_device_t *d)
{
    if (!(pci_read16(d, PCI_CFG_STATUS) & PCI_STATUS_CAP_LIST))
        return;
    uint16_t ptr_off = d->header_type == 2 ? PCI_CFG_CARDBUS_CAP : PCI_CFG_CAP_PTR;
    uint8_t ptr = pci_read8(d, ptr_off) & 0xfc;
    int n;
    for (n = 0; ptr >= 0x40 && n < PCI_MAX_CAPS; n++) {
        uint8_t id = pci_read8(d, ptr);
        if (id == PCI_CAP_MSI && !d->has_msi) {
            d->has_msi = true;
            d->msi_offset = ptr;
        } else if (id == PCI_CAP_MSIX && !d->has_msix) {
            d->has_msix = true;
            d->msix_offset = ptr;
        } else if (id == PCI_CAP_PCIE && !d->pcie_offset) {
            d->pcie_offset = ptr;
        }
        ptr = pci_read8(d, (uint16_t)(ptr + 1)) & 0xfc;
    }
    if (n == PCI_MAX_CAPS && ptr >= 0x40)
        log_warn("pci: %02x:%02x.%u capability list does not end (loop?); stopped after %d",
                 d->bus, d->device, d->function, PCI_MAX_CAPS);
}

/* Fill in everything about the function at d's location (vendor already known). */
static void probe_function(pci_device_t *d, uint16_t vendor)
{
    uint32_t class_rev = pci_read32(d, PCI_CFG_CLASS_REV);
    uint8_t header = pci_read8(d, PCI_CFG_HEADER_TYPE);
    d->vendor_id = vendor;
    d->device_id = pci_read16(d, PCI_CFG_DEVICE_ID);
    d->revision = (uint8_t)class_rev;
    d->prog_if = (uint8_t)(class_rev >> 8);
    d->subclass = (uint8_t)(class_rev >> 16);
    d->class_code = (uint8_t)(class_rev >> 24);
    d->header_type = header & 0x7f;
    d->multifunction = (header & PCI_HEADER_MULTIFUNC) != 0;
    d->irq_line = pci_read8(d, PCI_CFG_IRQ_LINE);
    d->irq_pin = pci_read8(d, PCI_CFG_IRQ_PIN);
    switch (d->header_type) {
    case 0:
        d->bar_count = 6;
        d->subsystem_vendor_id = pci_read16(d, PCI_CFG_SUBSYS_VENDOR);
        d->subsystem_id = pci_read16(d, PCI_CFG_SUBSYS_ID);
        break;
    case 1:
        d->bar_count = 2;
        d->secondary_bus = pci_read8(d, PCI_CFG_SECONDARY_BUS);
        d->subordinate_bus = pci_read8(d, PCI_CFG_SUBORD_BUS);
        bridge_count++;
        break;
    case 2:
        d->bar_count = 1;
        break;
    default:
        d->bar_count = 0; /* unknown layout: touch nothing beyond the common header */
        break;
    }
    size_bars(d);
    if (d->header_type <= 2)
        walk_capabilities(d);
}

/* Look at one function; returns its header type byte (0xff when absent). */
static uint8_t scan_function(uint16_t segment, volatile uint8_t *bus_window, uint8_t bus,
                             uint8_t dev, uint8_t fn)
{
    pci_device_t probe = {
        .segment = segment, .bus = bus, .device = dev, .function = fn,
        .config = bus_window ? bus_window + ((uint32_t)dev << 15) + ((uint32_t)fn << 12) : NULL,
    };
    uint16_t vendor = pci_read16(&probe, PCI_CFG_VENDOR_ID);
    if (vendor == 0xffff)
        return 0xff;
    if (device_count == CONFIG_PCI_MAX_DEVICES) {
        if (devices_skipped++ == 0)
            log_warn("pci: more than CONFIG_PCI_MAX_DEVICES (%d) functions; the rest are ignored",
                     CONFIG_PCI_MAX_DEVICES);
        return pci_read8(&probe, PCI_CFG_HEADER_TYPE);
    }
    pci_device_t *d = &devices[device_count++];
    *d = probe;
    probe_function(d, vendor);
    pci_describe(d);
    return pci_read8(d, PCI_CFG_HEADER_TYPE);
}

/* bus_window: the bus's 1 MiB ECAM window, or NULL for port I/O. */
static void scan_bus(uint16_t segment, volatile uint8_t *bus_window, uint8_t bus)
{
    unsigned before = device_count + devices_skipped;
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint8_t header = scan_function(segment, bus_window, bus, dev, 0);
        if (header == 0xff || !(header & PCI_HEADER_MULTIFUNC))
            continue;
        for (uint8_t fn = 1; fn < 8; fn++)
            scan_function(segment, bus_window, bus, dev, fn);
    }
    if (device_count + devices_skipped != before)
        bus_count++;
}

static void scan_ecam(const acpi_mcfg_entry_t *seg)
{
    if (seg->bus_end < seg->bus_start) {
        log_warn("pci: MCFG segment %u has bus range %u..%u; skipped", seg->segment,
                 seg->bus_start, seg->bus_end);
        return;
    }
    /* The MCFG base corresponds to bus 0 even when the range starts higher. */
    uint64_t first = seg->base + ((uint64_t)seg->bus_start << ECAM_BUS_SHIFT);
    uint64_t size = (uint64_t)(seg->bus_end - seg->bus_start + 1) << ECAM_BUS_SHIFT;
    volatile uint8_t *window = vmm_map_mmio(first, size);
    if (!window) {
        log_warn("pci: cannot map ECAM segment %u (0x%llx, %llu MiB); skipped", seg->segment,
                 (unsigned long long)first, (unsigned long long)(size >> 20));
        return;
    }
    for (unsigned bus = seg->bus_start; bus <= seg->bus_end; bus++)
        scan_bus(seg->segment, window + ((uint64_t)(bus - seg->bus_start) << ECAM_BUS_SHIFT),
                 (uint8_t)bus);
}

void pci_init(void)
{
    unsigned segments = 0;
    const acpi_mcfg_entry_t *mcfg = acpi_mcfg(&segments);
    const char *method;
    if (mcfg) {
        for (unsigned i = 0; i < segments; i++)
            scan_ecam(&mcfg[i]);
        method = "ECAM";
    } else if (pci_legacy_present()) {
        for (unsigned bus = 0; bus < 256; bus++)
            scan_bus(0, NULL, (uint8_t)bus);
        method = "port 0xcf8";
    } else {
        log_warn("pci: no MCFG and no configuration mechanism #1: no PCI devices");
        return;
    }
    log_info("pci: %u functions (%u bridges) on %u buses via %s%s", device_count, bridge_count,
             bus_count, method, devices_skipped ? " (table full, see warning)" : "");
}

unsigned pci_device_count(void) { return device_count; }

const pci_device_t *pci_device_get(unsigned i)
{
    return i < device_count ? &devices[i] : NULL;
}

const pci_device_t *pci_find(uint16_t vendor, uint16_t device)
{
    for (unsigned i = 0; i < device_count; i++)
        if (devices[i].vendor_id == vendor && devices[i].device_id == device)
            return &devices[i];
    return NULL;
}

const pci_device_t *pci_find_class(uint8_t class_code, uint8_t subclass, unsigned index)
{
    for (unsigned i = 0; i < device_count; i++)
        if (devices[i].class_code == class_code && devices[i].subclass == subclass &&
            index-- == 0)
            return &devices[i];
    return NULL;
}
