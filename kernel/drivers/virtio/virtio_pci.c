/* SPDX-License-Identifier: MIT */
/*
 * The virtio PCI transport: finding the register blocks (modern capabilities or the
 * legacy I/O BAR), status and feature negotiation, device configuration reads and
 * interrupt set-up. The virtqueue ring itself is in virtqueue.c.
 */
#include "drivers/virtio/virtio.h"
#include "drivers/virtio/virtio_internal.h"
#include "arch/x86_64/arch.h"
#include "config.h"
#include "core/log.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include "time/time.h"
#include <vk/errno.h>

/* virtio_pci_cap (§4.1.4): where one structure lives. */
#define CAP_CFG_TYPE   3
#define CAP_BAR        4
#define CAP_OFFSET     8
#define CAP_LENGTH     12
#define CAP_NOTIFY_MULTIPLIER 16 /* virtio_pci_notify_cap only */
#define CFG_TYPE_COMMON 1
#define CFG_TYPE_NOTIFY 2
#define CFG_TYPE_ISR    3
#define CFG_TYPE_DEVICE 4

/* Legacy register block in BAR0 (§4.1.4.10). */
#define LEGACY_DEVICE_FEATURES 0
#define LEGACY_DRIVER_FEATURES 4
#define LEGACY_STATUS          18
#define LEGACY_ISR             19
#define LEGACY_CONFIG_VECTOR   20 /* with MSI-X enabled only */
#define LEGACY_CONFIG          20
#define LEGACY_CONFIG_MSIX     24

#define RESET_TIMEOUT_NS 100000000ull /* 100 ms for the device to come out of reset */

/* Which device each interrupt vector belongs to. Written at set-up, read by the
 * interrupt handler. */
static virtio_device_t *devices_by_vector[CONFIG_IRQ_VECTORS];

static uint8_t common_read8(virtio_device_t *d, unsigned off) { return d->common[off]; }
static uint16_t common_read16(virtio_device_t *d, unsigned off) { return *(volatile uint16_t *)(d->common + off); }
static uint32_t common_read32(virtio_device_t *d, unsigned off) { return *(volatile uint32_t *)(d->common + off); }
static void common_write8(virtio_device_t *d, unsigned off, uint8_t v) { d->common[off] = v; }
void virtio_common_write16(virtio_device_t *d, unsigned off, uint16_t v) { *(volatile uint16_t *)(d->common + off) = v; }
uint16_t virtio_common_read16(virtio_device_t *d, unsigned off) { return common_read16(d, off); }
static void common_write32(virtio_device_t *d, unsigned off, uint32_t v) { *(volatile uint32_t *)(d->common + off) = v; }
void virtio_common_write64(virtio_device_t *d, unsigned off, uint64_t v)
{
    /* Two 32-bit accesses, low half first (§4.1.3.1). */
    common_write32(d, off, (uint32_t)v);
    common_write32(d, off + 4, (uint32_t)(v >> 32));
}

uint8_t virtio_status(virtio_device_t *d)
{
    return d->modern ? common_read8(d, VIRTIO_COMMON_STATUS) : arch_inb(d->io_base + LEGACY_STATUS);
}

static void set_status(virtio_device_t *d, uint8_t status)
{
    if (d->modern)
        common_write8(d, VIRTIO_COMMON_STATUS, status);
    else
        arch_outb(d->io_base + LEGACY_STATUS, status);
}

static void add_status(virtio_device_t *d, uint8_t bits)
{
    set_status(d, virtio_status(d) | bits);
}

void virtio_reset(virtio_device_t *d)
{
    set_status(d, 0);
    /* §4.1.4.3.2: the reset is complete when the status reads back as zero. */
    uint64_t deadline = time_monotonic_ns() + RESET_TIMEOUT_NS;
    while (virtio_status(d) != 0) {
        if (time_monotonic_ns() > deadline) {
            log_warn("virtio %s: device did not finish its reset", d->location);
            return;
        }
        arch_pause();
    }
}

void virtio_fail(virtio_device_t *d, const char *why)
{
    log_error("virtio %s: %s; device reset and left unused", d->location, why);
    add_status(d, VIRTIO_STATUS_FAILED);
    virtio_reset(d);
    if (d->irq_mode != VIRTIO_IRQ_POLL)
        pci_msi_disable(d->pci);
    if (d->vector)
        __atomic_store_n(&devices_by_vector[d->vector], NULL, __ATOMIC_RELEASE);
}

/* Maps the structure a modern capability describes; NULL when it is not usable. */
static volatile uint8_t *map_capability(const pci_device_t *pci, uint8_t cap, uint32_t min_length)
{
    uint8_t bar = pci_read8(pci, cap + CAP_BAR);
    uint32_t offset = pci_read32(pci, cap + CAP_OFFSET);
    uint32_t length = pci_read32(pci, cap + CAP_LENGTH);
    if (bar >= pci->bar_count || length < min_length)
        return NULL;
    const pci_bar_t *b = &pci->bars[bar];
    if ((b->type != PCI_BAR_MEM32 && b->type != PCI_BAR_MEM64) || !b->base ||
        (uint64_t)offset + length > b->size)
        return NULL;
    return vmm_map_mmio(b->base + offset, length);
}

/* Modern transport: the four structures we use, each from the first capability of its
 * type that points into a usable memory BAR (§4.1.4: "the driver SHOULD use the first
 * one it can"). */
static bool find_modern(virtio_device_t *d)
{
    const pci_device_t *pci = d->pci;
    for (uint8_t cap = pci_capability_next(pci, PCI_CAP_VENDOR, 0); cap;
         cap = pci_capability_next(pci, PCI_CAP_VENDOR, cap)) {
        uint8_t type = pci_read8(pci, cap + CAP_CFG_TYPE);
        if (type == CFG_TYPE_COMMON && !d->common) {
            d->common = map_capability(pci, cap, VIRTIO_COMMON_SIZE);
        } else if (type == CFG_TYPE_NOTIFY && !d->notify) {
            d->notify = map_capability(pci, cap, 2);
            d->notify_multiplier = pci_read32(pci, cap + CAP_NOTIFY_MULTIPLIER);
        } else if (type == CFG_TYPE_ISR && !d->isr) {
            d->isr = map_capability(pci, cap, 1);
        } else if (type == CFG_TYPE_DEVICE && !d->device_config) {
            d->device_config = map_capability(pci, cap, 1);
        }
    }
    return d->common && d->notify && d->isr && d->device_config;
}

int virtio_pci_init(virtio_device_t *d, const pci_device_t *pci)
{
    d->pci = pci;
    fmt_snprintf(d->location, sizeof(d->location), "%04x:%02x:%02x.%u", pci->segment, pci->bus,
                 pci->device, pci->function);
    uint16_t cmd = pci_read16(pci, PCI_CFG_COMMAND);
    pci_write16(pci, PCI_CFG_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
                                          PCI_COMMAND_BUS_MASTER);
    if (find_modern(d)) {
        d->modern = true;
    } else if (pci->bars[0].type == PCI_BAR_IO && pci->bars[0].base &&
               pci->device_id < VIRTIO_PCI_DEVICE_MODERN_BASE) {
        d->modern = false;
        d->io_base = (uint16_t)pci->bars[0].base;
        d->legacy_config_offset = LEGACY_CONFIG;
    } else {
        log_warn("virtio %s: neither modern capabilities nor a legacy I/O BAR", d->location);
        return -VK_ENODEV;
    }
    /* §3.1.1 steps 1-3. */
    virtio_reset(d);
    add_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
    add_status(d, VIRTIO_STATUS_DRIVER);
    return 0;
}

int virtio_negotiate(virtio_device_t *d, uint64_t wanted)
{
    uint64_t offered;
    if (d->modern) {
        common_write32(d, VIRTIO_COMMON_DEVICE_FEATURE_SELECT, 0);
        offered = common_read32(d, VIRTIO_COMMON_DEVICE_FEATURE);
        common_write32(d, VIRTIO_COMMON_DEVICE_FEATURE_SELECT, 1);
        offered |= (uint64_t)common_read32(d, VIRTIO_COMMON_DEVICE_FEATURE) << 32;
        if (!(offered & (1ull << VIRTIO_F_VERSION_1)))
            return -VK_EIO; /* a modern interface without VERSION_1 is broken */
        wanted |= 1ull << VIRTIO_F_VERSION_1;
    } else {
        offered = arch_inl(d->io_base + LEGACY_DEVICE_FEATURES);
        wanted &= 0xffffffffull; /* the legacy register has 32 bits */
    }
    /* Never what we do not implement, whatever the device offers. */
    wanted &= ~((1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX));
    d->features = offered & wanted;
    if (!d->modern) {
        arch_outl(d->io_base + LEGACY_DRIVER_FEATURES, (uint32_t)d->features);
        return 0; /* legacy has no FEATURES_OK step */
    }
    common_write32(d, VIRTIO_COMMON_DRIVER_FEATURE_SELECT, 0);
    common_write32(d, VIRTIO_COMMON_DRIVER_FEATURE, (uint32_t)d->features);
    common_write32(d, VIRTIO_COMMON_DRIVER_FEATURE_SELECT, 1);
    common_write32(d, VIRTIO_COMMON_DRIVER_FEATURE, (uint32_t)(d->features >> 32));
    /* §3.1.1 steps 5-6: the device may still refuse the subset. */
    add_status(d, VIRTIO_STATUS_FEATURES_OK);
    return (virtio_status(d) & VIRTIO_STATUS_FEATURES_OK) ? 0 : -VK_EIO;
}

bool virtio_has_feature(const virtio_device_t *d, unsigned bit)
{
    return bit < 64 && (d->features >> bit) & 1;
}

void virtio_driver_ok(virtio_device_t *d)
{
    add_status(d, VIRTIO_STATUS_DRIVER_OK);
}

/* ---- device configuration ------------------------------------------------------- */

static uint32_t config_read(virtio_device_t *d, uint32_t offset, unsigned width)
{
    if (d->modern) {
        volatile uint8_t *p = d->device_config + offset;
        return width == 1 ? *p : width == 2 ? *(volatile uint16_t *)p : *(volatile uint32_t *)p;
    }
    uint16_t port = (uint16_t)(d->io_base + d->legacy_config_offset + offset);
    return width == 1 ? arch_inb(port) : width == 2 ? arch_inw(port) : arch_inl(port);
}

uint8_t virtio_config_read8(virtio_device_t *d, uint32_t offset) { return (uint8_t)config_read(d, offset, 1); }
uint16_t virtio_config_read16(virtio_device_t *d, uint32_t offset) { return (uint16_t)config_read(d, offset, 2); }
uint32_t virtio_config_read32(virtio_device_t *d, uint32_t offset) { return config_read(d, offset, 4); }

uint64_t virtio_config_read64(virtio_device_t *d, uint32_t offset)
{
    /* §2.5.1: re-read while the generation changes under us (modern only). */
    for (;;) {
        uint8_t gen = d->modern ? common_read8(d, VIRTIO_COMMON_CONFIG_GENERATION) : 0;
        uint64_t v = config_read(d, offset, 4) | (uint64_t)config_read(d, offset + 4, 4) << 32;
        if (!d->modern || gen == common_read8(d, VIRTIO_COMMON_CONFIG_GENERATION))
            return v;
    }
}

/* ---- interrupts ------------------------------------------------------------------ */

static void virtio_interrupt(arch_frame_t *frame)
{
    virtio_device_t *d = __atomic_load_n(&devices_by_vector[frame->vector], __ATOMIC_ACQUIRE);
    if (d)
        virtio_poll(d);
}

void virtio_poll(virtio_device_t *d)
{
    /* Without MSI-X the ISR read acknowledges the interrupt (§4.1.4.5). */
    if (d->irq_mode != VIRTIO_IRQ_MSIX)
        (void)(d->modern ? *d->isr : arch_inb(d->io_base + LEGACY_ISR));
    if (d->irq_handler)
        d->irq_handler(d);
}

void virtio_irq_setup(virtio_device_t *d, virtio_irq_fn handler)
{
    d->irq_handler = handler;
    d->irq_mode = VIRTIO_IRQ_POLL;
    const pci_device_t *pci = d->pci;
    if (!pci->has_msix && !pci->has_msi) {
        /* FIXME(storage issue): legacy INTx through the IOAPIC goes here. */
        log_warn("virtio %s: no MSI-X or MSI; polling every %llu us (no INTx without an IOAPIC)",
                 d->location, (unsigned long long)(CONFIG_VBLK_POLL_NS / 1000));
        return;
    }
    uint8_t vector = arch_irq_alloc_vector();
    if (!vector) {
        log_warn("virtio %s: no interrupt vector left; polling", d->location);
        return;
    }
    __atomic_store_n(&devices_by_vector[vector], d, __ATOMIC_RELEASE);
    arch_irq_register(vector, virtio_interrupt, true);
    d->vector = vector;
    if (pci->has_msix && pci_msix_enable(pci, &vector, 1) == 0) {
        d->irq_mode = VIRTIO_IRQ_MSIX;
        if (d->modern) {
            virtio_common_write16(d, VIRTIO_COMMON_MSIX_CONFIG, VIRTIO_MSI_NO_VECTOR);
        } else {
            d->legacy_config_offset = LEGACY_CONFIG_MSIX;
            arch_outw(d->io_base + LEGACY_CONFIG_VECTOR, VIRTIO_MSI_NO_VECTOR);
        }
    } else if (pci->has_msi && pci_msi_enable(pci, vector) == 0) {
        d->irq_mode = VIRTIO_IRQ_MSI;
    } else {
        log_warn("virtio %s: MSI-X/MSI set-up failed; polling", d->location);
    }
}

const char *virtio_irq_mode_name(virtio_irq_mode_t mode)
{
    return mode == VIRTIO_IRQ_MSIX ? "msix" : mode == VIRTIO_IRQ_MSI ? "msi" : "polling";
}
