/* SPDX-License-Identifier: MIT */
/*
 * virtio over PCI: the transport (modern virtio 1.x and legacy/transitional), feature
 * negotiation, interrupts and split virtqueues. Device drivers (virtio_blk, later
 * others) sit on top. References are to the virtio 1.2 specification (OASIS, 2022).
 *
 *  - Modern devices (§4.1.4) describe their register blocks with vendor capabilities
 *    (common, notify, ISR, device config) inside memory BARs; VIRTIO_F_VERSION_1 is
 *    required there. Legacy devices (§4.1.4.10, "Legacy Interfaces") expose one I/O BAR
 *    with fixed offsets and 32 feature bits; transitional devices offer both and the
 *    modern interface is preferred.
 *  - Interrupts: MSI-X (one vector, table entry 0, for every queue; configuration
 *    changes are not signalled), else MSI, else polling with a warning.
 *    FIXME(storage issue): legacy INTx through the IOAPIC belongs between MSI and
 *    polling once the kernel has an IOAPIC driver.
 *  - Split virtqueues (§2.7) without indirect descriptors or event suppression: the
 *    driver features VIRTIO_F_INDIRECT_DESC and VIRTIO_F_EVENT_IDX are never accepted.
 *    Free descriptors are chained through their own next fields.
 *
 * Locking: each queue has a spinlock (taken with interrupts off) guarding its free
 * list, avail ring and last-seen used index; the rest of a virtio_device_t is written
 * during set-up only.
 */
#ifndef KERNEL_DRIVERS_VIRTIO_VIRTIO_H
#define KERNEL_DRIVERS_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include "core/spinlock.h"
#include "pci/pci.h"

#define VIRTIO_PCI_VENDOR 0x1af4
/* Device IDs (§4.1.2.1): transitional 0x1000 + n, modern 0x1040 + virtio device id. */
#define VIRTIO_PCI_DEVICE_LEGACY_BASE 0x1000
#define VIRTIO_PCI_DEVICE_MODERN_BASE 0x1040
#define VIRTIO_ID_BLOCK 2

/* Device status bits (§2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE        1u
#define VIRTIO_STATUS_DRIVER             2u
#define VIRTIO_STATUS_DRIVER_OK          4u
#define VIRTIO_STATUS_FEATURES_OK        8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED             128u

/* Feature bits that are not device-specific (§6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

typedef enum {
    VIRTIO_IRQ_POLL = 0, /* no usable interrupt: waiters poll */
    VIRTIO_IRQ_MSI = 1,
    VIRTIO_IRQ_MSIX = 2,
} virtio_irq_mode_t;

typedef struct virtio_device virtio_device_t;
typedef void (*virtio_irq_fn)(virtio_device_t *dev);

struct virtio_device {
    const pci_device_t *pci;
    char location[16];              /* "0000:00:03.0", for log lines */
    bool modern;
    /* Modern transport: the mapped structures of §4.1.4.3-4.1.4.6. */
    volatile uint8_t *common;
    volatile uint8_t *notify;
    uint32_t notify_multiplier;
    volatile uint8_t *isr;
    volatile uint8_t *device_config;
    /* Legacy transport: the I/O BAR, and where the device config starts in it (20, or
     * 24 once MSI-X is on). */
    uint16_t io_base;
    uint16_t legacy_config_offset;
    /* Set by virtio_negotiate. */
    uint64_t features;
    /* Set by virtio_irq_setup. */
    virtio_irq_mode_t irq_mode;
    uint8_t vector;
    virtio_irq_fn irq_handler;
    void *driver;                   /* the driver's per-device state */
};

/* One buffer of a request: physical address, length, and whether the device writes it
 * (device-writable buffers must follow all device-readable ones, §2.7.4.2). */
typedef struct {
    uint64_t phys;
    uint32_t length;
    bool device_writes;
} virtio_buffer_t;

typedef struct {
    virtio_device_t *dev;
    uint16_t index;
    uint16_t size;
    /* The ring in one physically contiguous, zeroed allocation (legacy layout, §2.7.2
     * legacy note: used ring on the next 4 KiB boundary), which modern devices accept
     * too. */
    uint64_t ring_phys;
    unsigned ring_order;
    volatile void *desc, *avail, *used;
    volatile uint16_t *notify_address; /* modern */
    spinlock_t lock;
    /* Guarded by lock. */
    uint16_t free_head;
    uint16_t free_count;
    uint16_t last_used;
    void **tokens;                      /* per chain head: the caller's token */
    uint64_t submitted, completed;
} virtio_queue_t;

/* Finds the transport (modern preferred), enables memory/I/O decoding and bus
 * mastering, resets the device and sets ACKNOWLEDGE | DRIVER. 0 or -VK_ENODEV. */
int virtio_pci_init(virtio_device_t *dev, const pci_device_t *pci);
/* Accepts offered & wanted (plus VIRTIO_F_VERSION_1 on modern, where it is required),
 * never a feature outside `wanted`; on modern, sets and checks FEATURES_OK. 0, or
 * -VK_EIO when the device refuses. */
int virtio_negotiate(virtio_device_t *dev, uint64_t wanted);
bool virtio_has_feature(const virtio_device_t *dev, unsigned bit);
/* Interrupt set-up, before any queue: MSI-X, else MSI, else polling (warns). The
 * handler runs in interrupt context (or from virtio_poll) and must not block. */
void virtio_irq_setup(virtio_device_t *dev, virtio_irq_fn handler);
const char *virtio_irq_mode_name(virtio_irq_mode_t mode); /* "msix", "msi", "polling" */
/* Runs the handler as if an interrupt came (polling mode, stall recovery). */
void virtio_poll(virtio_device_t *dev);
/* Sets up queue `index` with at most max_size descriptors. 0, -VK_ENODEV (no such
 * queue), -VK_ENOMEM, or -VK_EIO (the device refused the MSI-X vector). */
int virtio_queue_setup(virtio_device_t *dev, virtio_queue_t *q, uint16_t index,
                       uint16_t max_size);
void virtio_queue_free(virtio_queue_t *q);
/* Sets DRIVER_OK: the device may use its queues from now on. */
void virtio_driver_ok(virtio_device_t *dev);
/* Writes 0 to the status and waits for the device to acknowledge the reset. */
void virtio_reset(virtio_device_t *dev);
/* Set-up failed: logs why, sets FAILED, then resets the device so it stops DMA. */
void virtio_fail(virtio_device_t *dev, const char *why);
uint8_t virtio_status(virtio_device_t *dev);

/* Device-specific configuration (§4.1.4.6 / legacy §4.1.4.10), little-endian. Reads
 * wider than 32 bits are retried until config_generation is stable (modern). */
uint8_t virtio_config_read8(virtio_device_t *dev, uint32_t offset);
uint16_t virtio_config_read16(virtio_device_t *dev, uint32_t offset);
uint32_t virtio_config_read32(virtio_device_t *dev, uint32_t offset);
uint64_t virtio_config_read64(virtio_device_t *dev, uint32_t offset);

/* Queues a chain of count buffers with an opaque non-NULL token; does not notify.
 * 0, or -VK_ENOSPC when fewer than count descriptors are free, -VK_EINVAL for an empty
 * or misordered chain. Any context. */
int virtio_queue_add(virtio_queue_t *q, const virtio_buffer_t *buffers, unsigned count,
                     void *token);
/* Tells the device new buffers are available. */
void virtio_queue_kick(virtio_queue_t *q);
/* The token of the next chain the device has finished (its descriptors freed), with
 * the bytes it wrote in *written; NULL when none. Any context. */
void *virtio_queue_pop(virtio_queue_t *q, uint32_t *written);
uint16_t virtio_queue_free_count(virtio_queue_t *q);

#endif
