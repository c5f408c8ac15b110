/* SPDX-License-Identifier: MIT */
/*
 * Physical memory manager: the kernel glue around the buddy allocator (buddy.c).
 *
 * pmm_init() walks the boot memory map once to find the span of usable frames, puts the
 * buddy metadata array (12 bytes per frame of the span, holes included) at the start of
 * the largest usable range, then hands every usable range, minus that array, to the
 * allocator. Frames below 1 MiB are never used: page 0 must stay invalid so 0 can mean
 * "no memory", and the low megabyte is kept for the SMP trampoline and firmware quirks.
 * Only frames inside the direct map are managed, since the kernel reaches every frame
 * through phys_to_virt().
 *
 * One spinlock, taken with interrupts disabled, guards the allocator: pmm calls may come
 * from interrupt handlers and from several CPUs.
 *
 * FIXME: the span covers the holes between ranges, so a machine with RAM far above a
 * large hole pays metadata for the hole; split into several buddy_t zones if that bites.
 */
#include "mm/mm.h"
#include "mm/buddy.h"
#include "config.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/spinlock.h"

#define PMM_LOW_LIMIT (1ull << 20) /* frames below 1 MiB are left alone */

_Static_assert(CONFIG_BUDDY_MAX_ORDER <= BUDDY_ORDER_LIMIT, "CONFIG_BUDDY_MAX_ORDER too big");

static struct {
    spinlock_t lock;      /* zero-initialised = SPINLOCK_INIT */
    /* Guarded by lock. */
    buddy_t buddy;        /* zero until pmm_init: behaves as an empty allocator */
} pmm;

static inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static inline uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

/*
 * The part of a map entry pmm may use: whole frames of a USABLE entry inside
 * [PMM_LOW_LIMIT, limit). Returns false when nothing is left.
 */
static bool usable_part(const vk_boot_mem_region_t *r, uint64_t limit, uint64_t *start,
                        uint64_t *end)
{
    if (r->type != VK_MEM_USABLE || r->length == 0)
        return false;
    uint64_t s = r->base, e = r->base + r->length;
    if (e < s)
        e = UINT64_MAX; /* entry wraps: clamp, the limit below cuts it anyway */
    if (s > UINT64_MAX - PAGE_SIZE)
        return false;
    s = align_up(s, PAGE_SIZE);
    e = align_down(e, PAGE_SIZE);
    if (s < PMM_LOW_LIMIT)
        s = PMM_LOW_LIMIT;
    if (e > limit)
        e = limit;
    if (s >= e)
        return false;
    *start = s;
    *end = e;
    return true;
}

static void add_frames(uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    int rc = buddy_add_range(&pmm.buddy, start >> PAGE_SHIFT, (end - start) >> PAGE_SHIFT);
    if (rc)
        log_warn("pmm: usable range [0x%llx, 0x%llx) skipped: %s",
                 (unsigned long long)start, (unsigned long long)end, buddy_strerror(rc));
}

void pmm_init(const vk_boot_info_t *info)
{
    const vk_boot_mem_region_t *map = phys_to_virt(info->memory_map);
    uint32_t count = info->memory_map_count;
    uint64_t limit = align_down(info->direct_map_size, PAGE_SIZE);
    uint64_t lo = UINT64_MAX, hi = 0, s, e;

    /* Pass 1: span of usable frames. */
    for (uint32_t i = 0; i < count; i++) {
        if (!usable_part(&map[i], limit, &s, &e))
            continue;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
    }
    if (lo >= hi)
        panic("pmm: no usable memory above 1 MiB inside the direct map (%u map entries)", count);
    if (((hi - lo) >> PAGE_SHIFT) > BUDDY_MAX_SPAN_PAGES) {
        log_warn("pmm: usable span exceeds BUDDY_MAX_SPAN_PAGES, ignoring memory above 0x%llx",
                 (unsigned long long)(lo + (BUDDY_MAX_SPAN_PAGES << PAGE_SHIFT)));
        hi = lo + (BUDDY_MAX_SPAN_PAGES << PAGE_SHIFT);
        limit = hi;
    }
    uint64_t span = (hi - lo) >> PAGE_SHIFT;
    size_t meta_bytes = buddy_metadata_bytes(span);
    uint64_t meta_size = align_up(meta_bytes, PAGE_SIZE);

    /* Pass 2: the metadata goes at the start of the largest range that holds it. */
    uint64_t meta = 0, best = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (usable_part(&map[i], limit, &s, &e) && e - s >= meta_size && e - s > best) {
            best = e - s;
            meta = s;
        }
    }
    if (!best)
        panic("pmm: no usable range holds the %llu KiB of page metadata",
              (unsigned long long)(meta_size >> 10));
    int rc = buddy_init(&pmm.buddy, phys_to_virt(meta), meta_bytes, lo >> PAGE_SHIFT, span,
                        CONFIG_BUDDY_MAX_ORDER);
    if (rc)
        panic("pmm: buddy_init failed: %s", buddy_strerror(rc));

    /* Pass 3: hand every usable range, minus the metadata, to the allocator. */
    uint64_t usable = 0;
    unsigned regions = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (!usable_part(&map[i], limit, &s, &e))
            continue;
        log_debug("pmm: usable [0x%llx, 0x%llx) %llu KiB", (unsigned long long)s,
                  (unsigned long long)e, (unsigned long long)((e - s) >> 10));
        regions++;
        usable += e - s;
        uint64_t meta_end = meta + meta_size;
        if (e <= meta || s >= meta_end) {
            add_frames(s, e);
        } else {
            add_frames(s, meta);
            add_frames(meta_end, e);
        }
    }

    uint64_t flags = spinlock_lock_irqsave(&pmm.lock);
    uint64_t total = pmm.buddy.total_pages << PAGE_SHIFT;
    uint64_t free_bytes = pmm.buddy.free_pages << PAGE_SHIFT;
    spinlock_unlock_irqrestore(&pmm.lock, flags);
    log_info("pmm: %llu MiB usable in %u regions (%u map entries), %llu MiB free, "
             "%llu KiB page metadata at 0x%llx",
             (unsigned long long)(usable >> 20), regions, count,
             (unsigned long long)(free_bytes >> 20), (unsigned long long)(meta_size >> 10),
             (unsigned long long)meta);
    KASSERT(total == free_bytes);
}

uint64_t pmm_alloc_pages(unsigned order)
{
    uint64_t pfn;
    if (order > CONFIG_BUDDY_MAX_ORDER)
        return 0;
    uint64_t flags = spinlock_lock_irqsave(&pmm.lock);
    int rc = buddy_alloc(&pmm.buddy, order, &pfn);
    spinlock_unlock_irqrestore(&pmm.lock, flags);
    return rc ? 0 : pfn << PAGE_SHIFT;
}

/* Freeing address 0 is a no-op (like kfree(NULL)): page 0 is never handed out, and it
 * keeps cleanup paths simple. Anything else that is not a live block is a kernel bug. */
void pmm_free_pages(uint64_t phys, unsigned order)
{
    if (phys == 0)
        return;
    if (phys & (PAGE_SIZE - 1))
        panic("pmm_free_pages(0x%llx, %u): not page aligned", (unsigned long long)phys, order);
    uint64_t flags = spinlock_lock_irqsave(&pmm.lock);
    int rc = buddy_free(&pmm.buddy, phys >> PAGE_SHIFT, order);
    spinlock_unlock_irqrestore(&pmm.lock, flags);
    if (rc)
        panic("pmm_free_pages(0x%llx, %u): %s", (unsigned long long)phys, order,
              buddy_strerror(rc));
}

uint64_t pmm_total_bytes(void)
{
    uint64_t flags = spinlock_lock_irqsave(&pmm.lock);
    uint64_t total = pmm.buddy.total_pages << PAGE_SHIFT;
    spinlock_unlock_irqrestore(&pmm.lock, flags);
    return total;
}

uint64_t pmm_free_bytes(void)
{
    uint64_t flags = spinlock_lock_irqsave(&pmm.lock);
    uint64_t free_bytes = pmm.buddy.free_pages << PAGE_SHIFT;
    spinlock_unlock_irqrestore(&pmm.lock, flags);
    return free_bytes;
}
