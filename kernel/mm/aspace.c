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
 *     entries the kernel adds later (vmm's windows, rarely) are copied in on activation
 *     when vmm_root_generation moved since the space last looked and, as a safety net,
 *     on a kernel-mode fault (aspace_sync_kernel_entry).
 *   - Several CPUs: each CPU has its own active space (kernel threads keep the last
 *     process's space loaded, so a space can be loaded on CPUs that run none of its
 *     threads). The space's `cpus` mask says where, and page-table changes shoot down
 *     exactly those CPUs (aspace_flush). aspace_destroy first makes every CPU drop the
 *     space with an IPI, so no CPU is left with a freed root in CR3.
 */
#include "mm/aspace_internal.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"

#define PAGE_MASK (PAGE_SIZE - 1)
#define REGION_SLACK 2

/* active[n]: the space in CR3 on CPU n; written only by CPU n with interrupts off. */
static aspace_t *active[CONFIG_MAX_CPUS];
static uint64_t kernel_cr3;   /* set by aspace_init, read-only afterwards */
static uint8_t evict_vector;  /* the IPI that asks a CPU to drop a dying space */

static uint64_t *kernel_pml4(void)
{
    return phys_to_virt(kernel_cr3 & ASPACE_PTE_ADDR);
}

aspace_t *aspace_current(void)
{
    bool irq = arch_irq_enabled();
    arch_irq_disable();
    aspace_t *as = active[arch_cpu_index()];
    if (irq)
        arch_irq_enable();
    return as;
}

bool aspace_is_active(aspace_t *as)
{
    return as && as == active[arch_cpu_index()];
}

/* The evict IPI: drop the space loaded here if aspace_destroy is waiting for it. The
 * interrupted code is a kernel thread (a space's own threads are gone before it dies),
 * and the switch hook runs with interrupts off, so nothing here is half-done. */
static void evict_interrupt(arch_frame_t *frame)
{
    (void)frame;
    aspace_t *as = active[arch_cpu_index()];
    if (as && __atomic_load_n(&as->dying, __ATOMIC_ACQUIRE))
        aspace_activate(NULL);
}

void aspace_init(void)
{
    kernel_cr3 = arch_read_cr3();
    evict_vector = arch_irq_alloc_vector();
    if (!evict_vector)
        panic("aspace: no interrupt vector for address-space eviction");
    arch_irq_register(evict_vector, evict_interrupt, true);
}

/* Until the space is loaded nowhere: drop it here, ask the other CPUs by IPI. Called
 * with interrupts on and no lock held, so those CPUs' own requests still get served. */
static void evict_everywhere(aspace_t *as)
{
    __atomic_store_n(&as->dying, true, __ATOMIC_SEQ_CST);
    uint64_t sent = 0;
    for (;;) {
        uint64_t mask = __atomic_load_n(&as->cpus, __ATOMIC_ACQUIRE);
        if (!mask)
            return;
        bool irq = arch_irq_enabled();
        arch_irq_disable();
        unsigned me = arch_cpu_index();
        if (active[me] == as)
            aspace_activate(NULL);
        for (unsigned i = 0; i < CONFIG_MAX_CPUS; i++)
            if (i != me && (mask & ~sent & (1ull << i))) {
                arch_ipi_send(i, evict_vector);
                sent |= 1ull << i;
            }
        if (irq)
            arch_irq_enable();
        arch_pause();
    }
}

void aspace_flush(aspace_t *as, uint64_t start, uint64_t pages)
{
    /* The entries were written before this: order those stores before reading the mask
     * (a CPU that sets its bit later loads CR3 later, and so sees the new entries). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint64_t mask = __atomic_load_n(&as->cpus, __ATOMIC_ACQUIRE);
    uint64_t self = 1ull << arch_cpu_index();
    if (mask & self)
        arch_tlb_flush_local(start, pages);
    if (mask & ~self)
        arch_tlb_shootdown(mask & ~self, start, pages);
}

aspace_t *aspace_create(void)
{
    KASSERT(kernel_cr3 != 0);
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
    as->kernel_generation = vmm_root_generation(); /* read before the copy */
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
    evict_everywhere(as);
    aspace_pt_unmap(as, 0, ASPACE_LOWER_HALF_END);
    KASSERT(as->resident_pages == 0);
    aspace_pt_frame_free(as->root_phys);
    kfree(as->regions);
    kfree(as);
}

/* Copies kernel-half entries the kernel added after `as` was created. Interrupts off. */
/* Copies kernel-half root entries filled in since the space last looked; the compare
 * of all 256 is skipped when nothing changed (it cost a third of an IPC round trip). */
static void sync_kernel_half(aspace_t *as)
{
    uint64_t generation = vmm_root_generation();
    if (generation == as->kernel_generation)
        return;
    as->kernel_generation = generation; /* before the copy: a later entry syncs again */
    uint64_t *root = phys_to_virt(as->root_phys), *kroot = kernel_pml4();
    for (unsigned i = 256; i < 512; i++)
        if (root[i] != kroot[i])
            root[i] = kroot[i];
}

void aspace_activate(aspace_t *as)
{
    bool irq = arch_irq_enabled();
    arch_irq_disable();
    unsigned me = arch_cpu_index();
    aspace_t *old = active[me];
    if (as != old) {
        if (as) {
            __atomic_fetch_or(&as->cpus, 1ull << me, __ATOMIC_SEQ_CST);
            spinlock_lock(&as->lock);
            sync_kernel_half(as);
            spinlock_unlock(&as->lock);
            arch_write_cr3(as->root_phys);
        } else {
            arch_write_cr3(kernel_cr3);
        }
        active[me] = as;
        if (old)
            __atomic_fetch_and(&old->cpus, ~(1ull << me), __ATOMIC_RELEASE);
    }
    if (irq)
        arch_irq_enable();
}

bool aspace_sync_kernel_entry(uint64_t addr)
{
    aspace_t *as = active[arch_cpu_index()];
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

static int map_locked(aspace_t *as, const aspace_region_t *r, bool fixed);

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
    aspace_region_t r = { start, start + len, prot, flags & ~ASPACE_FIXED, { 0 } };
    strlcpy(r.name, name ? name : "", sizeof(r.name));
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    err = map_locked(as, &r, flags & ASPACE_FIXED);
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

/* Inserts region r (replacing what overlaps when fixed, else -VK_EEXIST). Lock held. */
static int map_locked(aspace_t *as, const aspace_region_t *r, bool fixed)
{
    uint64_t start = r->start, end = r->end;
    int err;
    unsigned i = aspace_region_index(as, start);
    if (!fixed && i < as->region_count && as->regions[i].start < end)
        return -VK_EEXIST;
    unsigned n = count_after_remove(as, start, end);
    /* Merges with neighbours of the same kind do not count against the limit. */
    aspace_region_t *below = start ? aspace_region_at(as, start - 1) : NULL;
    aspace_region_t *above = aspace_region_at(as, end);
    unsigned final = n + 1 - (below && same_kind(below, r)) - (above && same_kind(above, r));
    if ((err = region_limit(final)) || (err = reserve(as, as->region_count + REGION_SLACK)))
        return err;
    remove_range(as, start, end);
    aspace_pt_unmap(as, start, end);
    insert_at(as, aspace_region_index(as, start), r);
    merge_all(as);
    return 0;
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
        if ((as->regions[j].flags & ASPACE_NO_WRITE) && (prot & ASPACE_PROT_WRITE)) {
            err = -VK_EACCES; /* a read-only share stays read-only */
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

/* aspace_find_free with the lock held. */
static uint64_t find_free_locked(aspace_t *as, uint64_t len, uint64_t hint, uint64_t min,
                                 uint64_t max)
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
    if (hint && !(hint & PAGE_MASK) && hint >= min && hint <= max - len &&
        range_free(as, hint, hint + len))
        return hint;
    /* Gaps from the top: gap k lies between region k-1 and region k. */
    for (unsigned k = as->region_count + 1; k-- > 0;) {
        uint64_t lo = k > 0 ? as->regions[k - 1].end : 0;
        uint64_t hi = k < as->region_count ? guarded_start(&as->regions[k]) : max;
        if (hi > max)
            hi = max;
        if (lo < min)
            lo = min;
        if (hi > lo && hi - lo >= len)
            return hi - len;
        if (lo <= min)
            break;
    }
    return 0;
}

uint64_t aspace_find_free(aspace_t *as, uint64_t len, uint64_t hint, uint64_t min, uint64_t max)
{
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    uint64_t found = find_free_locked(as, len, hint, min, max);
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

int aspace_shared_word(aspace_t *as, uint64_t addr, uint64_t *phys)
{
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    const aspace_region_t *r = aspace_region_at(as, addr);
    int err = -VK_ENOENT;
    if (r && (r->flags & ASPACE_SHARED)) {
        uint64_t *pte = aspace_pt_entry(as, addr & ~(uint64_t)(PAGE_SIZE - 1), false);
        uint64_t frame = pte ? (*pte & ASPACE_PTE_ADDR) : 0;
        err = frame ? 0 : -VK_EFAULT;
        if (frame)
            *phys = frame + (addr & (PAGE_SIZE - 1));
    }
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}

unsigned aspace_region_count(aspace_t *as)
{
    return __atomic_load_n(&as->region_count, __ATOMIC_RELAXED);
}

uint64_t aspace_resident_pages(aspace_t *as)
{
    return __atomic_load_n(&as->resident_pages, __ATOMIC_RELAXED);
}

long aspace_map_shared(aspace_t *as, const uint64_t *frames, uint64_t pages, unsigned prot,
                       bool write_allowed, uint64_t min, uint64_t max, const char *name)
{
    uint64_t len = pages * PAGE_SIZE;
    if (!pages || (prot & ~7u) || (!write_allowed && (prot & ASPACE_PROT_WRITE)))
        return -VK_EINVAL;
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    long err = -VK_ENOMEM;
    uint64_t start = find_free_locked(as, len, 0, min, max);
    if (!start)
        goto unlock;
    aspace_region_t r = { start, start + len, prot,
                          ASPACE_SHARED | (write_allowed ? 0 : ASPACE_NO_WRITE), { 0 } };
    strlcpy(r.name, name ? name : "", sizeof(r.name));
    if ((err = map_locked(as, &r, false)))
        goto unlock;
    for (uint64_t p = 0; p < pages; p++) {
        uint64_t *pte = aspace_pt_entry(as, start + p * PAGE_SIZE, true);
        if (!pte) {
            /* Undo: unmapping releases the owners taken so far. */
            remove_range(as, start, start + len);
            aspace_pt_unmap(as, start, start + len);
            err = -VK_ENOMEM;
            goto unlock;
        }
        aspace_cow_share(frames[p]);
        *pte = aspace_pt_make(frames[p], prot) | ASPACE_PTE_SHARED;
        as->resident_pages++;
    }
    err = (long)start; /* the entries were empty: no TLB holds them */
unlock:
    spinlock_unlock_irqrestore(&as->lock, f);
    return err;
}
