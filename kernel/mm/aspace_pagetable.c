/* SPDX-License-Identifier: MIT */
/*
 * Page tables of user address spaces (Intel SDM vol. 3A, 4.5 "4-Level Paging"): lookup
 * with on-demand table allocation, range unmapping and re-protection.
 *
 * Design notes:
 *   - Tables are reached through the direct map, so a space can be edited while another
 *     one is loaded in CR3.
 *   - Range walks skip absent upper-level entries, so unmapping 64 TiB of mostly empty
 *     space costs only the tables that exist.
 *   - A table is freed when a range covers its whole span. Tables left empty by partial
 *     unmaps stay until aspace_destroy (bounded by the space's own use).
 *   - Every frame and table page is counted in aspace_frames_in_use, so tests can prove
 *     destroy gives everything back.
 */
#include "mm/aspace_internal.h"
#include "core/string.h"

static uint64_t frames_allocated; /* atomic */
static uint64_t frames_freed;     /* atomic */

uint64_t aspace_frames_in_use(void)
{
    return __atomic_load_n(&frames_allocated, __ATOMIC_RELAXED) -
           __atomic_load_n(&frames_freed, __ATOMIC_RELAXED);
}

uint64_t aspace_pt_frame_alloc(void)
{
    uint64_t frame = pmm_alloc_pages(0);
    if (!frame)
        return 0;
    memset(phys_to_virt(frame), 0, PAGE_SIZE);
    __atomic_fetch_add(&frames_allocated, 1, __ATOMIC_RELAXED);
    return frame;
}

void aspace_pt_frame_free(uint64_t frame)
{
    pmm_free_pages(frame, 0);
    __atomic_fetch_add(&frames_freed, 1, __ATOMIC_RELAXED);
}

uint64_t aspace_pt_make(uint64_t frame, unsigned prot)
{
    if (!prot)
        return frame | ASPACE_PTE_NX; /* not present: the frame is only kept */
    uint64_t e = frame | ASPACE_PTE_P | ASPACE_PTE_U;
    if (prot & ASPACE_PROT_WRITE)
        e |= ASPACE_PTE_W;
    if (!(prot & ASPACE_PROT_EXEC))
        e |= ASPACE_PTE_NX;
    return e;
}

static unsigned index_at(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

uint64_t *aspace_pt_entry(aspace_t *as, uint64_t va, bool create)
{
    uint64_t *table = phys_to_virt(as->root_phys);
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &table[index_at(va, level)];
        if (!(*e & ASPACE_PTE_P)) {
            if (!create)
                return NULL;
            uint64_t page = aspace_pt_frame_alloc();
            if (!page)
                return NULL;
            *e = page | ASPACE_PTE_P | ASPACE_PTE_W | ASPACE_PTE_U;
        }
        table = phys_to_virt(*e & ASPACE_PTE_ADDR);
    }
    return &table[index_at(va, 0)];
}

typedef struct {
    aspace_t *as;
    bool unmap;          /* else re-protect */
    unsigned prot;
    bool active;         /* flush the TLB as entries change */
    bool tables_freed;   /* paging-structure caches may hold freed tables */
} walk_t;

static void walk_leaf(walk_t *w, uint64_t *e, uint64_t va)
{
    uint64_t old = *e;
    if (!(old & ASPACE_PTE_ADDR))
        return;
    if (w->unmap) {
        *e = 0;
        if (aspace_cow_release(old & ASPACE_PTE_ADDR)) /* shared after fork: keep it */
            aspace_pt_frame_free(old & ASPACE_PTE_ADDR);
        w->as->resident_pages--;
    } else {
        *e = aspace_pt_make(old & ASPACE_PTE_ADDR, w->prot);
        if (old & ASPACE_PTE_COW) /* still shared: writes must fault and copy */
            *e = (*e & ~ASPACE_PTE_W) | ASPACE_PTE_COW;
    }
    if (w->active && (old & ASPACE_PTE_P))
        arch_invlpg(va);
}

/* Visits [start, end) inside the table at `level` whose span begins at base. */
static void walk(walk_t *w, uint64_t *table, int level, uint64_t base, uint64_t start,
                 uint64_t end)
{
    uint64_t span = 1ull << (12 + 9 * level);
    unsigned first = (unsigned)((start - base) / span);
    for (unsigned i = first; i < 512; i++) {
        uint64_t lo = base + i * span, hi = lo + span;
        if (lo >= end)
            break;
        if (level == 0) {
            walk_leaf(w, &table[i], lo);
            continue;
        }
        if (!(table[i] & ASPACE_PTE_P))
            continue;
        uint64_t child = table[i] & ASPACE_PTE_ADDR;
        walk(w, phys_to_virt(child), level - 1, lo, lo > start ? lo : start,
             hi < end ? hi : end);
        if (w->unmap && start <= lo && hi <= end) {
            table[i] = 0; /* every entry below was just cleared */
            aspace_pt_frame_free(child);
            w->tables_freed = true;
        }
    }
}

static void walk_range(aspace_t *as, uint64_t start, uint64_t end, bool unmap, unsigned prot)
{
    walk_t w = { as, unmap, prot, aspace_is_active(as), false };
    if (start >= end)
        return;
    walk(&w, phys_to_virt(as->root_phys), 3, 0, start, end);
    /* invlpg drops paging-structure cache entries, but a freed table with no present
     * leaf got none: reload CR3 (user pages are not global). */
    if (w.active && w.tables_freed)
        arch_write_cr3(arch_read_cr3());
}

void aspace_pt_unmap(aspace_t *as, uint64_t start, uint64_t end)
{
    walk_range(as, start, end, true, 0);
}

void aspace_pt_protect(aspace_t *as, uint64_t start, uint64_t end, unsigned prot)
{
    walk_range(as, start, end, false, prot);
}
