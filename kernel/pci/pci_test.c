/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of PCI enumeration. Device-specific checks name QEMU q35 devices and
 * are skipped when those devices are absent.
 */
#include <stddef.h>

#include "pci/pci.h"
#include "test/ktest.h"

#define Q35_HOST_BRIDGE_VENDOR 0x8086
#define Q35_HOST_BRIDGE_DEVICE 0x29c0
#define ICH9_AHCI_DEVICE       0x2922 /* 00:1f.2, always present on q35 */
#define BOCHS_VGA_VENDOR       0x1234 /* -vga std */
#define BOCHS_VGA_DEVICE       0x1111

KTEST(pci_enumerates_devices)
{
    unsigned n = pci_device_count();
    KTEST_EXPECT(n >= 1);
    KTEST_EXPECT(pci_device_get(0) != NULL);
    KTEST_EXPECT(pci_device_get(n) == NULL);
}

KTEST(pci_finds_q35_host_bridge)
{
    const pci_device_t *d = pci_find(Q35_HOST_BRIDGE_VENDOR, Q35_HOST_BRIDGE_DEVICE);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT_EQ(d->bus, 0);
    KTEST_EXPECT_EQ(d->device, 0);
    KTEST_EXPECT_EQ(d->function, 0);
    KTEST_EXPECT_EQ(d->class_code, 0x06);
    KTEST_EXPECT_EQ(d->subclass, 0x00);
    KTEST_EXPECT(pci_find_class(0x06, 0x00, 0) != NULL);
    /* The accessors reach the same function the table describes. */
    KTEST_EXPECT_EQ(pci_read16(d, PCI_CFG_VENDOR_ID), Q35_HOST_BRIDGE_VENDOR);
    KTEST_EXPECT_EQ(pci_read16(d, PCI_CFG_DEVICE_ID), Q35_HOST_BRIDGE_DEVICE);
    KTEST_EXPECT_EQ(pci_read32(d, 0), (uint32_t)Q35_HOST_BRIDGE_DEVICE << 16 | Q35_HOST_BRIDGE_VENDOR);
    /* Misaligned or out-of-range accesses read as all ones. */
    KTEST_EXPECT_EQ(pci_read32(d, 2), 0xffffffffu);
    KTEST_EXPECT_EQ(pci_read16(d, 4095), 0xffffu);
    KTEST_EXPECT_EQ(pci_read32(d, 4096), 0xffffffffu);
}

KTEST(pci_bars_are_sized_and_restored)
{
    unsigned sized = 0;
    for (unsigned i = 0; i < pci_device_count(); i++) {
        const pci_device_t *d = pci_device_get(i);
        for (unsigned b = 0; b < d->bar_count; b++) {
            const pci_bar_t *bar = &d->bars[b];
            if (bar->type == PCI_BAR_NONE)
                continue;
            sized++;
            /* A BAR decodes a power-of-two range. */
            KTEST_EXPECT(bar->size != 0 && (bar->size & (bar->size - 1)) == 0);
            /* Sizing put the firmware's address back. */
            uint32_t reg = pci_read32(d, (uint16_t)(PCI_CFG_BAR0 + 4 * b));
            uint32_t flags_mask = bar->type == PCI_BAR_IO ? 3u : 0xfu;
            KTEST_EXPECT_EQ(reg & ~flags_mask, (uint32_t)bar->base);
        }
    }
    KTEST_EXPECT(sized >= 1);

    const pci_device_t *ahci = pci_find(0x8086, ICH9_AHCI_DEVICE);
    if (ahci) {
        KTEST_EXPECT_EQ(ahci->bars[5].type, PCI_BAR_MEM32); /* ABAR */
        KTEST_EXPECT(ahci->bars[5].size >= 0x400);
    }
    const pci_device_t *vga = pci_find(BOCHS_VGA_VENDOR, BOCHS_VGA_DEVICE);
    if (vga) {
        KTEST_EXPECT(vga->bars[0].size >= 0x100000); /* framebuffer, 16 MiB by default */
        KTEST_EXPECT(vga->bars[0].prefetchable);
    }
}

KTEST(pci_capability_offsets_are_sane)
{
    for (unsigned i = 0; i < pci_device_count(); i++) {
        const pci_device_t *d = pci_device_get(i);
        if (d->has_msi)
            KTEST_EXPECT(d->msi_offset >= 0x40 && (d->msi_offset & 3) == 0);
        if (d->has_msix)
            KTEST_EXPECT(d->msix_offset >= 0x40 && (d->msix_offset & 3) == 0);
        if (d->has_msi)
            KTEST_EXPECT_EQ(pci_read8(d, d->msi_offset), 0x05);
        if (d->has_msix)
            KTEST_EXPECT_EQ(pci_read8(d, d->msix_offset), 0x11);
    }
    /* QEMU's ICH9 AHCI offers MSI. */
    const pci_device_t *ahci = pci_find(0x8086, ICH9_AHCI_DEVICE);
    if (ahci)
        KTEST_EXPECT(ahci->has_msi);
}
