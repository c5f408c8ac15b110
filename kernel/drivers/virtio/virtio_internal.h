/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of kernel/drivers/virtio only; drivers use virtio.h.
 */
#ifndef KERNEL_DRIVERS_VIRTIO_VIRTIO_INTERNAL_H
#define KERNEL_DRIVERS_VIRTIO_VIRTIO_INTERNAL_H

#include "drivers/virtio/virtio.h"

/* virtio_pci_common_cfg (§4.1.4.3), byte offsets. */
#define VIRTIO_COMMON_DEVICE_FEATURE_SELECT 0
#define VIRTIO_COMMON_DEVICE_FEATURE        4
#define VIRTIO_COMMON_DRIVER_FEATURE_SELECT 8
#define VIRTIO_COMMON_DRIVER_FEATURE        12
#define VIRTIO_COMMON_MSIX_CONFIG           16
#define VIRTIO_COMMON_NUM_QUEUES            18
#define VIRTIO_COMMON_STATUS                20
#define VIRTIO_COMMON_CONFIG_GENERATION     21
#define VIRTIO_COMMON_QUEUE_SELECT          22
#define VIRTIO_COMMON_QUEUE_SIZE            24
#define VIRTIO_COMMON_QUEUE_MSIX_VECTOR     26
#define VIRTIO_COMMON_QUEUE_ENABLE          28
#define VIRTIO_COMMON_QUEUE_NOTIFY_OFF      30
#define VIRTIO_COMMON_QUEUE_DESC            32
#define VIRTIO_COMMON_QUEUE_DRIVER          40
#define VIRTIO_COMMON_QUEUE_DEVICE          48
#define VIRTIO_COMMON_SIZE                  56

/* Legacy queue registers in the I/O BAR (§4.1.4.10). */
#define VIRTIO_LEGACY_QUEUE_PFN     8
#define VIRTIO_LEGACY_QUEUE_SIZE    12
#define VIRTIO_LEGACY_QUEUE_SELECT  14
#define VIRTIO_LEGACY_QUEUE_NOTIFY  16
#define VIRTIO_LEGACY_QUEUE_VECTOR  22 /* with MSI-X enabled only */
#define VIRTIO_LEGACY_QUEUE_ALIGN   4096u

#define VIRTIO_MSI_NO_VECTOR 0xffffu

void virtio_common_write16(virtio_device_t *d, unsigned off, uint16_t v);
uint16_t virtio_common_read16(virtio_device_t *d, unsigned off);
void virtio_common_write64(virtio_device_t *d, unsigned off, uint64_t v);

#endif
