/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2, §2.7): set-up on either transport, adding descriptor
 * chains, notifying, and reaping the used ring.
 *
 * Memory ordering on x86-64 (TSO): the device reads what we stored in program order,
 * so a compiler barrier between filling descriptors/ring slots and publishing the
 * index is enough; a full fence precedes the notification so the index is visible
 * before the device looks (§2.7.13.3.1, §2.7.13.4).
 */
#include "drivers/virtio/virtio.h"
#include "drivers/virtio/virtio_internal.h"
#include "arch/x86_64/arch.h"
#include "config.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

/* Ring structures (§2.7.5, §2.7.6, §2.7.8), little-endian like the CPU. */
typedef struct {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} virtq_desc_t;
#define VIRTQ_DESC_F_NEXT  1u
#define VIRTQ_DESC_F_WRITE 2u

typedef struct {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];
} virtq_avail_t;

typedef struct {
    uint32_t id;
    uint32_t len;
} virtq_used_elem_t;

typedef struct {
    uint16_t flags;
    uint16_t idx;
    virtq_used_elem_t ring[];
} virtq_used_t;

_Static_assert(sizeof(virtq_desc_t) == 16, "§2.7.5");
_Static_assert(sizeof(virtq_used_elem_t) == 8, "§2.7.8");

#define barrier() __asm__ volatile("" ::: "memory")

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Bytes of the legacy layout for n descriptors (§2.7.2 legacy note); the used ring
 * starts at used_offset. */
static uint64_t ring_bytes(uint16_t n, uint64_t *used_offset)
{
    uint64_t avail_end = 16ull * n + 6 + 2ull * n;
    *used_offset = align_up(avail_end, VIRTIO_LEGACY_QUEUE_ALIGN);
    return *used_offset + align_up(6 + 8ull * n, VIRTIO_LEGACY_QUEUE_ALIGN);
}

static int alloc_ring(virtio_queue_t *q, uint16_t size)
{
    uint64_t used_offset;
    uint64_t bytes = ring_bytes(size, &used_offset);
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    q->tokens = kzalloc(sizeof(void *) * size);
    uint64_t phys = q->tokens ? pmm_alloc_pages(order) : 0;
    if (!phys) {
        kfree(q->tokens);
        q->tokens = NULL;
        return -VK_ENOMEM;
    }
    uint8_t *base = phys_to_virt(phys);
    memset(base, 0, PAGE_SIZE << order);
    q->ring_phys = phys;
    q->ring_order = order;
    q->size = size;
    q->desc = base;
    q->avail = base + 16ull * size;
    q->used = base + used_offset;
    /* Every descriptor starts on the free list, chained in order. */
    virtq_desc_t *desc = (virtq_desc_t *)q->desc;
    for (uint16_t i = 0; i < size; i++)
        desc[i].next = (uint16_t)(i + 1 < size ? i + 1 : 0);
    q->free_head = 0;
    q->free_count = size;
    q->last_used = 0;
    return 0;
}

void virtio_queue_free(virtio_queue_t *q)
{
    if (q->ring_phys)
        pmm_free_pages(q->ring_phys, q->ring_order);
    kfree(q->tokens);
    q->ring_phys = 0;
    q->tokens = NULL;
}

static int setup_modern(virtio_device_t *d, virtio_queue_t *q, uint16_t index, uint16_t max_size)
{
    virtio_common_write16(d, VIRTIO_COMMON_QUEUE_SELECT, index);
    uint16_t size = virtio_common_read16(d, VIRTIO_COMMON_QUEUE_SIZE);
    if (size == 0)
        return -VK_ENODEV;
    /* Ours may be smaller; split rings want a power of two (§2.7). */
    if (size > max_size)
        size = max_size;
    while (size & (size - 1))
        size &= (uint16_t)(size - 1);
    int err = alloc_ring(q, size);
    if (err)
        return err;
    virtio_common_write16(d, VIRTIO_COMMON_QUEUE_SIZE, size);
    if (d->irq_mode == VIRTIO_IRQ_MSIX) {
        virtio_common_write16(d, VIRTIO_COMMON_QUEUE_MSIX_VECTOR, 0);
        if (virtio_common_read16(d, VIRTIO_COMMON_QUEUE_MSIX_VECTOR) != 0)
            goto refused;
    }
    virtio_common_write64(d, VIRTIO_COMMON_QUEUE_DESC, q->ring_phys);
    virtio_common_write64(d, VIRTIO_COMMON_QUEUE_DRIVER, q->ring_phys + 16ull * size);
    virtio_common_write64(d, VIRTIO_COMMON_QUEUE_DEVICE,
                          q->ring_phys + (uint64_t)((volatile uint8_t *)q->used -
                                                    (volatile uint8_t *)q->desc));
    uint16_t off = virtio_common_read16(d, VIRTIO_COMMON_QUEUE_NOTIFY_OFF);
    q->notify_address = (volatile uint16_t *)(d->notify + (uint64_t)off * d->notify_multiplier);
    virtio_common_write16(d, VIRTIO_COMMON_QUEUE_ENABLE, 1);
    return 0;
refused:
    virtio_queue_free(q);
    return -VK_EIO;
}

static int setup_legacy(virtio_device_t *d, virtio_queue_t *q, uint16_t index)
{
    arch_outw(d->io_base + VIRTIO_LEGACY_QUEUE_SELECT, index);
    /* Legacy queue sizes are the device's, not ours to choose. */
    uint16_t size = arch_inw(d->io_base + VIRTIO_LEGACY_QUEUE_SIZE);
    if (size == 0 || (size & (size - 1)))
        return -VK_ENODEV;
    int err = alloc_ring(q, size);
    if (err)
        return err;
    if (q->ring_phys / VIRTIO_LEGACY_QUEUE_ALIGN > 0xffffffffull) {
        virtio_queue_free(q);
        return -VK_ENOMEM; /* the PFN register has 32 bits */
    }
    if (d->irq_mode == VIRTIO_IRQ_MSIX) {
        arch_outw(d->io_base + VIRTIO_LEGACY_QUEUE_VECTOR, 0);
        if (arch_inw(d->io_base + VIRTIO_LEGACY_QUEUE_VECTOR) != 0) {
            virtio_queue_free(q);
            return -VK_EIO;
        }
    }
    arch_outl(d->io_base + VIRTIO_LEGACY_QUEUE_PFN,
              (uint32_t)(q->ring_phys / VIRTIO_LEGACY_QUEUE_ALIGN));
    return 0;
}

int virtio_queue_setup(virtio_device_t *d, virtio_queue_t *q, uint16_t index, uint16_t max_size)
{
    memset(q, 0, sizeof(*q));
    q->dev = d;
    q->index = index;
    if (max_size > CONFIG_VIRTIO_QUEUE_SIZE_MAX)
        max_size = CONFIG_VIRTIO_QUEUE_SIZE_MAX;
    return d->modern ? setup_modern(d, q, index, max_size) : setup_legacy(d, q, index);
}

int virtio_queue_add(virtio_queue_t *q, const virtio_buffer_t *bufs, unsigned count, void *token)
{
    if (count == 0 || !token)
        return -VK_EINVAL;
    for (unsigned i = 1; i < count; i++)
        if (bufs[i - 1].device_writes && !bufs[i].device_writes)
            return -VK_EINVAL; /* readable after writable (§2.7.4.2) */
    virtq_desc_t *desc = (virtq_desc_t *)q->desc;
    virtq_avail_t *avail = (virtq_avail_t *)q->avail;
    uint64_t f = spinlock_lock_irqsave(&q->lock);
    if (q->free_count < count) {
        spinlock_unlock_irqrestore(&q->lock, f);
        return -VK_ENOSPC;
    }
    uint16_t head = q->free_head, i = head, last = head;
    for (unsigned k = 0; k < count; k++) {
        last = i;
        desc[i].addr = bufs[k].phys;
        desc[i].len = bufs[k].length;
        desc[i].flags = (uint16_t)((bufs[k].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
                                   (k + 1 < count ? VIRTQ_DESC_F_NEXT : 0));
        i = desc[i].next; /* the free list's link doubles as the chain's */
    }
    q->free_head = desc[last].next;
    q->free_count = (uint16_t)(q->free_count - count);
    q->tokens[head] = token;
    avail->ring[avail->idx % q->size] = head;
    barrier(); /* the slot before the index that publishes it */
    avail->idx = (uint16_t)(avail->idx + 1);
    q->submitted++;
    spinlock_unlock_irqrestore(&q->lock, f);
    return 0;
}

void virtio_queue_kick(virtio_queue_t *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (q->dev->modern)
        *q->notify_address = q->index;
    else
        arch_outw(q->dev->io_base + VIRTIO_LEGACY_QUEUE_NOTIFY, q->index);
}

void *virtio_queue_pop(virtio_queue_t *q, uint32_t *written)
{
    virtq_desc_t *desc = (virtq_desc_t *)q->desc;
    volatile virtq_used_t *used = (volatile virtq_used_t *)q->used;
    void *token = NULL;
    uint64_t f = spinlock_lock_irqsave(&q->lock);
    while (!token && q->last_used != used->idx) {
        barrier(); /* the index before the element it covers */
        virtq_used_elem_t e = used->ring[q->last_used % q->size];
        q->last_used++;
        if (e.id >= q->size || !q->tokens[e.id]) {
            log_error("virtio %s: queue %u: device returned descriptor %u it does not own",
                      q->dev->location, q->index, e.id);
            continue;
        }
        token = q->tokens[e.id];
        q->tokens[e.id] = NULL;
        if (written)
            *written = e.len;
        /* Give the chain back to the free list. */
        uint16_t n = 1, last = (uint16_t)e.id;
        while ((desc[last].flags & VIRTQ_DESC_F_NEXT) && n < q->size) {
            last = desc[last].next;
            n++;
        }
        desc[last].next = q->free_head;
        q->free_head = (uint16_t)e.id;
        q->free_count = (uint16_t)(q->free_count + n);
        q->completed++;
    }
    spinlock_unlock_irqrestore(&q->lock, f);
    return token;
}

uint16_t virtio_queue_free_count(virtio_queue_t *q)
{
    uint64_t f = spinlock_lock_irqsave(&q->lock);
    uint16_t n = q->free_count;
    spinlock_unlock_irqrestore(&q->lock, f);
    return n;
}
