/* SPDX-License-Identifier: MIT */
/*
 * User address spaces: creation, activation and the region list that mmap, munmap,
 * mprotect, brk and the ELF loader edit (public interface in mm/aspace.h).
 *
 * Design notes:
 *   - Regions live in a sorted array grown by doubling. Lookups are binary searches;
 *     edits shift the tail, which is cheap at CONFIG_ASPACE_MAX_REGIONS entries.
 *   - After every edit adjacent regions with equal prot, flags and name merge, so a brk
 *     heap grown page by page stays one region.
 *   - The region limit is checked against the count an edit leaves behind, before
 *     anything changes. The array keeps two spare slots for the splits an edit makes on
 *     its way there (a FIXED map in the middle of a region: split, insert, merge).
 *   - The kernel's root is captured from CR3 the first time a space is created (the
 *     kernel's own root is loaded then). Kernel-half PML4 entries are copied at creation;
 *     entries the kernel adds later are copied in on activation and, as a safety net, on
 *     a kernel-mode fault (aspace_sync_kernel_entry). FIXME: have vmm preallocate all 256
 *     kernel PDPTs at boot so the kernel half can never diverge.
 */
#include "mm/aspace_internal.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"

#define PAGE_MASK (PAGE_SIZE - 1)
#define REGION_SLACK 2

/* Guarded by running with interrupts off (single CPU). FIXME: per-CPU with SMP. */
static aspace_t *current;
static uint64_t kernel_cr3; /* 0 until the first aspace_create */

static void capture_kernel_root(void)
{
    if (!kernel_cr3 && !current)
        kernel_cr3 = arch_read_cr3();
}

static uint64_t *kernel_pml4(void)
{
    return phys_to_virt(kernel_cr3 & ASPACE_PTE_ADDR);
}

aspace_t *aspace_current(void)
{
    return current;
}

bool aspace_is_active(aspace_t *as)
{
    return as && as == current;
}

aspace_t *aspace_create(void)
{
    capture_kernel_root();
    aspace_t *as = kzalloc(sizeof(*as));
    if (!as)
        goto fail;
    as->lock = (spinlock_t)SPINLOCK_INIT;
    as->region_capacity = 8;
    as->regions = kmalloc(as->region_capacity * sizeof(aspace_region_t));
    if (!as->regions)
        goto free_struct;
    as->root_phys = aspace_pt_frame_alloc();
    if (!as->root_phys)
        goto free_regions;
    uint64_t *root = phys_to_virt(as->root_phys);
    memcpy(&root[256], &kernel_pml4()[256], 256 * sizeof(uint64_t));
    return as;

free_regions:
    kfree(as->regions);
free_struct:
    kfree(as);
fail:
    log_warn("aspace: out of memory creating an address space");
    return NULL;
}

void aspace_destroy(aspace_t *as)
{
    if (!as)
        return;
    if (as == current)
        panic("aspace_destroy: %p is the active address space", (void *)as);
    aspace_pt_unmap(as, 0, ASPACE_LOWER_HALF_END);
    KASSERT(as->resident_pages == 0);
    aspace_pt_frame_free(as->root_phys);
    kfree(as->regions);
    kfree(as);
}

/* Copies kernel-half entries the kernel added after `as` was created. Interrupts off. */
static void sync_kernel_half(aspace_t *as)
{
    uint64_t *root = phys_to_virt(as->root_phys), *kroot = kernel_pml4();
    for (unsigned i = 256; i < 512; i++)
        if (root[i] != kroot[i])
            root[i] = kroot[i];
}

void aspace_activate(aspace_t *as)
{
    bool irq = arch_irq_enabled();
    arch_irq_disable();
    capture_kernel_root();
    if (as != current) {
        if (as) {
            spinlock_lock(&as->lock);
            sync_kernel_half(as);
            spinlock_unlock(&as->lock);
            arch_write_cr3(as->root_phys);
        } else {
            arch_write_cr3(kernel_cr3);
        }
        current = as;
    }
    if (irq)
        arch_irq_enable();
}

bool aspace_sync_kernel_entry(uint64_t addr)
{
    aspace_t *as = current;
    if (!as || !kernel_cr3 || addr < 0xffff800000000000ull)
        return false;
    unsigned i = (addr >> 39) & 511;
    uint64_t *root = phys_to_virt(as->root_phys), k = kernel_pml4()[i];
    if (!(k & ASPACE_PTE_P) || root[i] == k)
        return false;
    root[i] = k;
    return true;
}

/* ---- regions (as->lock held) ---- */

unsigned aspace_region_index(aspace_t *as, uint64_t addr)
{
    unsigned lo = 0, hi = as->region_count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (as->regions[mid].end > addr)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

aspace_region_t *aspace_region_at(aspace_t *as, uint64_t addr)
{
    unsigned i = aspace_region_index(as, addr);
    if (i < as->region_count && as->regions[i].start <= addr)
        return &as->regions[i];
    return NULL;
}

static bool same_kind(const aspace_region_t *a, const aspace_region_t *b)
{
    return a->prot == b->prot && a->flags == b->flags &&
           strncmp(a->name, b->name, ASPACE_NAME_MAX) == 0;
}

static int reserve(aspace_t *as, unsigned count)
{
    if (count <= as->region_capacity)
        return 0;
    unsigned cap = as->region_capacity * 2;
    if (cap < count)
        cap = count;
    if (cap > CONFIG_ASPACE_MAX_REGIONS + REGION_SLACK)
        cap = CONFIG_ASPACE_MAX_REGIONS + REGION_SLACK;
    if (count > cap)
        return -VK_ENOMEM;
    aspace_region_t *r = kmalloc(cap * sizeof(*r));
    if (!r)
        return -VK_ENOMEM;
    memcpy(r, as->regions, as->region_count * sizeof(*r));
    kfree(as->regions);
    as->regions = r;
    as->region_capacity = cap;
    return 0;
}

static void insert_at(aspace_t *as, unsigned i, const aspace_region_t *r)
{
    memmove(&as->regions[i + 1], &as->regions[i], (as->region_count - i) * sizeof(*r));
    as->regions[i] = *r;
    as->region_count++;
}

static void remove_at(aspace_t *as, unsigned i, unsigned n)
{
    memmove(&as->regions[i], &as->regions[i + n],
            (as->region_count - i - n) * sizeof(aspace_region_t));
    as->region_count -= n;
}

/* Cuts the region strictly containing addr in two. Capacity was reserved. */
static void split_at(aspace_t *as, uint64_t addr)
{
    unsigned i = aspace_region_index(as, addr);
    if (i >= as->region_count || as->regions[i].start >= addr)
        return;
    aspace_region_t upper = as->regions[i];
    upper.start = addr;
    as->regions[i].end = addr;
    insert_at(as, i + 1, &upper);
}

static void merge_all(aspace_t *as)
{
    for (unsigned i = 1; i < as->region_count;) {
        aspace_region_t *a = &as->regions[i - 1], *b = &as->regions[i];
        if (a->end == b->start && same_kind(a, b)) {
            a->end = b->end;
            remove_at(as, i, 1);
        } else {
            i++;
        }
    }
}

/* Regions left after removing [start, end): whole regions go, one containing both ends
 * becomes two. */
static unsigned count_after_remove(aspace_t *as, uint64_t start, uint64_t end)
{
    unsigned i = aspace_region_index(as, start), n = as->region_count;
    if (i < n && as->regions[i].start < start && as->regions[i].end > end)
        return n + 1;
    if (i < n && as->regions[i].start < start)
        i++;
    unsigned j = i;
    while (j < n && as->regions[j].end <= end)
        j++;
    return n - (j - i);
}

static void remove_range(aspace_t *as, uint64_t start, uint64_t end)
{
    split_at(as, start);
    split_at(as, end);
    unsigned i = aspace_region_index(as, start), j = i;
    while (j < as->region_count && as->regions[j].end <= end)
        j++;
    remove_at(as, i, j - i);
}

/* The checks every range operation shares; rounds *len up to pages. */
static int check_range(uint64_t start, uint64_t *len)
{
    if ((start & PAGE_MASK) || *len == 0 || *len > ASPACE_USER_LIMIT)
        return -VK_EINVAL;
    *len = (*len + PAGE_MASK) & ~PAGE_MASK;
    if (start >= ASPACE_USER_LIMIT || *len > ASPACE_USER_LIMIT - start)
        return -VK_EINVAL;
    return 0;
}

static int region_limit(unsigned count)
{
    static bool warned;
    if (count <= CONFIG_ASPACE_MAX_REGIONS)
        return 0;
    if (!__atomic_exchange_n(&warned, true, __ATOMIC_RELAXED))
        log_warn("aspace: CONFIG_ASPACE_MAX_REGIONS (%u) reached (warned once)",
                 (unsigned)CONFIG_ASPACE_MAX_REGIONS);
    return -VK_ENOMEM;
}

int aspace_map(aspace_t *as, uint64_t start, uint64_t len, unsigned prot, unsigned flags,
               const char *name)
{
    int err = check_range(start, &len);
    if (err)
        return err;
    if ((prot & ~7u) || (flags & ~(ASPACE_ANON | ASPACE_STACK | ASPACE_FIXED)))
        return -VK_EINVAL;
    if (start < CONFIG_USER_MIN_ADDR)
        return -VK_EPERM;
    uint64_t end = start + len;
    aspace_region_t r = { start, end, prot, flags & ~ASPACE_FIXED, { 0 } };
    strlcpy(r.name, name ? name : "", sizeof(r.name));

    uint64_t f = spinlock_lock_irqsave(&as->lock);
    unsigned i = aspace_region_index(as, start);
    if (!(flags & ASPACE_FIXED) && i < as->region_count && as->regions[i].start < end) {
        err = -VK_EEXIST;
        goto unlock;
    }
    unsigned n = count_after_remove(as, start, end);
    /* Merges with neighbours of the same kind do not count against the limit. */
    aspace_region_t *below = start ? aspace_region_at(as, start - 1) : NULL;
    aspace_region_t *above = aspace_region_at(as, end);
    unsigned final = n + 1 - (below && same_kind(below, &r)) - (above && same_kind(above, &r));
    if ((err = region_limit(final)) || (err = reserve(as, as->region_count + REGION_SLACK)))
        goto unlock;
    remove_range(as, start, end);
    aspace_pt_unmap(as, start, end);
    insert_at(as, aspace_region_index(as, start), &r);
    merge_all(as);
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

int aspace_unmap(aspace_t *as, uint64_t start, uint64_t len)
{
    int err = check_range(start, &len);
    if (err)
        return err;
    uint64_t end = start + len;
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    unsigned n = count_after_remove(as, start, end);
    if ((err = region_limit(n)) || (err = reserve(as, as->region_count + REGION_SLACK)))
        goto unlock;
    remove_range(as, start, end);
    aspace_pt_unmap(as, start, end);
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

int aspace_protect(aspace_t *as, uint64_t start, uint64_t len, unsigned prot)
{
    int err = check_range(start, &len);
    if (err)
        return err;
    if (prot & ~7u)
        return -VK_EINVAL;
    uint64_t end = start + len;
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    /* The range must be covered without holes. */
    unsigned i = aspace_region_index(as, start);
    uint64_t at = start;
    for (unsigned j = i; at < end; j++) {
        if (j >= as->region_count || as->regions[j].start > at) {
            err = -VK_ENOMEM;
            goto unlock;
        }
        at = as->regions[j].end;
    }
    const aspace_region_t *first = &as->regions[i];
    const aspace_region_t *last = aspace_region_at(as, end - 1);
    unsigned splits = (first->start < start && first->prot != prot) +
                      (last->end > end && last->prot != prot);
    if ((err = region_limit(as->region_count + splits)) ||
        (err = reserve(as, as->region_count + REGION_SLACK)))
        goto unlock;
    split_at(as, start);
    split_at(as, end);
    for (unsigned j = aspace_region_index(as, start);
         j < as->region_count && as->regions[j].start < end; j++)
        as->regions[j].prot = prot;
    aspace_pt_protect(as, start, end, prot);
    merge_all(as);
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

/* Where a region's neighbourhood starts: stacks keep a guard page below them. */
static uint64_t guarded_start(const aspace_region_t *r)
{
    return (r->flags & ASPACE_STACK) && r->start >= PAGE_SIZE ? r->start - PAGE_SIZE : r->start;
}

static bool range_free(aspace_t *as, uint64_t start, uint64_t end)
{
    unsigned i = aspace_region_index(as, start);
    /* Regions further up start above this one's end, guard page included. */
    return !(i < as->region_count && guarded_start(&as->regions[i]) < end);
}

uint64_t aspace_find_free(aspace_t *as, uint64_t len, uint64_t hint, uint64_t min, uint64_t max)
{
    if (len == 0 || len > ASPACE_USER_LIMIT)
        return 0;
    len = (len + PAGE_MASK) & ~PAGE_MASK;
    min = (min + PAGE_MASK) & ~PAGE_MASK;
    if (min < CONFIG_USER_MIN_ADDR)
        min = CONFIG_USER_MIN_ADDR;
    if (max > ASPACE_USER_LIMIT)
        max = ASPACE_USER_LIMIT;
    max &= ~PAGE_MASK;
    if (min >= max || len > max - min)
        return 0;

    uint64_t found = 0;
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    if (hint && !(hint & PAGE_MASK) && hint >= min && hint <= max - len &&
        range_free(as, hint, hint + len)) {
        found = hint;
        goto unlock;
    }
    /* Gaps from the top: gap k lies between region k-1 and region k. */
    for (unsigned k = as->region_count + 1; k-- > 0;) {
        uint64_t lo = k > 0 ? as->regions[k - 1].end : 0;
        uint64_t hi = k < as->region_count ? guarded_start(&as->regions[k]) : max;
        if (hi > max)
            hi = max;
        if (lo < min)
            lo = min;
        if (hi > lo && hi - lo >= len) {
            found = hi - len;
            break;
        }
        if (lo <= min)
            break;
    }
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return found;
}

const aspace_region_t *aspace_find(aspace_t *as, uint64_t addr)
{
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    const aspace_region_t *r = aspace_region_at(as, addr);
    spinlock_unlock_irqrestore(&as->lock, f);
    return r;
}

unsigned aspace_region_count(aspace_t *as)
{
    return __atomic_load_n(&as->region_count, __ATOMIC_RELAXED);
}

uint64_t aspace_resident_pages(aspace_t *as)
{
    return __atomic_load_n(&as->resident_pages, __ATOMIC_RELAXED);
}
