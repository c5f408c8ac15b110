/* SPDX-License-Identifier: MIT */
/*
 * Copy-on-write for fork. aspace_clone() gives the child the parent's regions and, for
 * every page that holds a frame, an entry pointing at the same frame. Both entries lose
 * their write bit and gain ASPACE_PTE_COW, and the frame's share count goes up by one.
 * The first write from either side faults. If the frame is still shared, the writer gets
 * a private copy and the count goes down (after the copy: see aspace_cow_break). If it
 * was the last sharer, it simply takes the frame back writable.
 *
 * Shared memory objects (kernel/ipc/shm.c) use the same counts: the object owns its
 * frames, each mapping adds an owner, and ASPACE_PTE_SHARED keeps fork from marking
 * them copy-on-write.
 *
 * Share counts are extra owners: 0 means one owner. They live in one uint16 per
 * physical page of the direct map, allocated when the first fork happens.
 * CONFIG_PROC_MAX keeps them far below 65535.
 */
#include "mm/aspace_internal.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include <vk/errno.h>

/* Guarded by shares_lock (taken inside an address space's lock, never the reverse). */
static spinlock_t shares_lock = SPINLOCK_INIT;
static uint16_t *shares;
static uint64_t shares_pages;

static bool shares_init(void)
{
    if (shares)
        return true;
    uint64_t pages = kernel_boot_info()->direct_map_size / PAGE_SIZE;
    uint64_t bytes = pages * sizeof(uint16_t);
    unsigned order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    uint64_t phys = pmm_alloc_pages(order);
    if (!phys)
        return false;
    memset(phys_to_virt(phys), 0, PAGE_SIZE << order);
    shares_pages = pages;
    shares = phys_to_virt(phys);
    return true;
}

/* True when the caller held the last reference and must free the frame. */
bool aspace_cow_release(uint64_t frame)
{
    uint64_t pfn = frame / PAGE_SIZE;
    if (!shares || pfn >= shares_pages)
        return true;
    uint64_t f = spinlock_lock_irqsave(&shares_lock);
    bool last = shares[pfn] == 0;
    if (!last)
        shares[pfn]--;
    spinlock_unlock_irqrestore(&shares_lock, f);
    return last;
}

void aspace_cow_share(uint64_t frame)
{
    uint64_t pfn = frame / PAGE_SIZE;
    KASSERT(pfn < shares_pages);
    uint64_t f = spinlock_lock_irqsave(&shares_lock);
    KASSERT(shares[pfn] < 0xffff);
    shares[pfn]++;
    spinlock_unlock_irqrestore(&shares_lock, f);
}

/* True when another space still maps frame. */
static bool shared_with_others(uint64_t frame)
{
    uint64_t pfn = frame / PAGE_SIZE;
    if (!shares || pfn >= shares_pages)
        return false;
    uint64_t f = spinlock_lock_irqsave(&shares_lock);
    bool shared = shares[pfn] != 0;
    spinlock_unlock_irqrestore(&shares_lock, f);
    return shared;
}

int aspace_cow_break(aspace_t *as, uint64_t *pte, uint64_t va, unsigned prot)
{
    uint64_t frame = *pte & ASPACE_PTE_ADDR;
    uint64_t own = frame;
    /* Copy while this space still holds its share. Two CPUs can break the same frame
     * at once (parent and child under their own locks); had this side dropped its share
     * first, the other could take the frame as its last owner and write to it while this
     * copy is still being made. The share goes only once nothing here maps the frame. */
    if (shared_with_others(frame)) {
        own = aspace_pt_frame_alloc();
        if (!own)
            return -VK_ENOMEM;
        memcpy(phys_to_virt(own), phys_to_virt(frame), PAGE_SIZE);
    }
    bool present = (*pte & ASPACE_PTE_P) != 0;
    *pte = aspace_pt_make(own, prot);
    /* Every CPU with the space loaded must drop the read-only translation of the shared
     * frame before this one writes its private copy. */
    if (present)
        aspace_flush(as, va, 1);
    if (own != frame && aspace_cow_release(frame)) /* the others let go meanwhile */
        aspace_pt_frame_free(frame);
    return 0;
}

static int clone_range(aspace_t *src, aspace_t *dst, uint64_t *table, int level, uint64_t base)
{
    uint64_t span = 1ull << (12 + 9 * level);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t va = base + i * span;
        if (va >= ASPACE_LOWER_HALF_END)
            break;
        uint64_t e = table[i];
        if (level > 0) {
            if (e & ASPACE_PTE_P) {
                int err = clone_range(src, dst, phys_to_virt(e & ASPACE_PTE_ADDR), level - 1, va);
                if (err)
                    return err;
            }
            continue;
        }
        uint64_t frame = e & ASPACE_PTE_ADDR;
        if (!frame)
            continue;
        uint64_t *d = aspace_pt_entry(dst, va, true);
        if (!d)
            return -VK_ENOMEM;
        /* A shared object's page stays shared: both sides write to the same frame. */
        if (!(e & ASPACE_PTE_SHARED)) {
            e = (e & ~ASPACE_PTE_W) | ASPACE_PTE_COW;
            table[i] = e;
        }
        *d = e;
        aspace_cow_share(frame);
        dst->resident_pages++;
    }
    return 0;
}

uint64_t aspace_shared_frame_alloc(void)
{
    uint64_t f = spinlock_lock_irqsave(&shares_lock);
    bool ready = shares_init();
    spinlock_unlock_irqrestore(&shares_lock, f);
    return ready ? aspace_pt_frame_alloc() : 0;
}

void aspace_shared_frame_put(uint64_t frame)
{
    if (aspace_cow_release(frame))
        aspace_pt_frame_free(frame);
}

aspace_t *aspace_clone(aspace_t *src)
{
    aspace_t *dst = aspace_create();
    if (!dst)
        return NULL;
    uint64_t f = spinlock_lock_irqsave(&src->lock);
    uint64_t sf = spinlock_lock_irqsave(&shares_lock);
    bool ready = shares_init();
    spinlock_unlock_irqrestore(&shares_lock, sf);
    int err = ready ? 0 : -VK_ENOMEM;
    if (!err && src->region_count > dst->region_capacity) {
        aspace_region_t *r = kmalloc(src->region_capacity * sizeof(*r));
        if (r) {
            kfree(dst->regions);
            dst->regions = r;
            dst->region_capacity = src->region_capacity;
        } else {
            err = -VK_ENOMEM;
        }
    }
    if (!err) {
        memcpy(dst->regions, src->regions, src->region_count * sizeof(aspace_region_t));
        dst->region_count = src->region_count;
        err = clone_range(src, dst, phys_to_virt(src->root_phys), 3, 0);
    }
    /* The parent's entries lost their write bit: stale writable TLB entries must go, on
     * every CPU that has the parent loaded. */
    aspace_flush(src, 0, 0);
    spinlock_unlock_irqrestore(&src->lock, f);
    if (err) {
        log_warn("aspace: fork ran out of memory (error %d)", err);
        aspace_destroy(dst); /* drops the shares it took */
        return NULL;
    }
    return dst;
}
