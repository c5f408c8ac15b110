/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.2, §5.2) over the virtio PCI transport: every virtio block
 * function found by PCI becomes a block device "vda", "vdb", ... registered with
 * kernel/block (which also registers its GPT partitions).
 *
 * Requests: IN, OUT, FLUSH (when VIRTIO_BLK_F_FLUSH is offered) and GET_ID (the serial).
 * Up to CONFIG_VBLK_QUEUE_DEPTH requests are in flight per disk, from any number of
 * threads; each caller sleeps on its own request's wait queue until the interrupt
 * handler completes it. I/O larger than CONFIG_VBLK_MAX_REQUEST_BYTES is split. A
 * status other than OK is logged and returned as -VK_EIO; a request past the capacity
 * is refused before it reaches the device; VIRTIO_BLK_F_RO makes writes fail with
 * -VK_EROFS.
 */
#ifndef KERNEL_DRIVERS_VIRTIO_BLK_VIRTIO_BLK_H
#define KERNEL_DRIVERS_VIRTIO_BLK_VIRTIO_BLK_H

#include "block/block.h"
#include "drivers/virtio/virtio.h"

/* Probes every virtio-blk PCI function. Call after pci_init, with interrupts on and
 * the scheduler running (it waits for the GET_ID and GPT reads). Returns the number
 * of disks registered. */
unsigned vblk_init(void);

/* For tests and diagnostics: facts about a disk vblk registered (NULL/false for any
 * other block device). */
bool vblk_owns(const blockdev_t *dev);
virtio_irq_mode_t vblk_irq_mode(const blockdev_t *dev);
bool vblk_is_modern(const blockdev_t *dev);
/* Requests handed to the device since boot (for "refused before the device" checks). */
uint64_t vblk_requests_submitted(const blockdev_t *dev);
/* The most requests that were in flight at once since boot. */
unsigned vblk_peak_in_flight(const blockdev_t *dev);

#endif
