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
 *   - Several CPUs: a walk gathers what it unmaps, shoots the TLBs down once
 *     (aspace_flush: batched invlpg, or a full flush past
 *     CONFIG_TLB_SHOOTDOWN_MAX_PAGES or when tables were freed) and only then frees.
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

/* A range walk. Frames and tables it unmaps are only gathered, and freed after the TLB
 * flush (gather_flush): until every CPU has dropped the old entries one of them could
 * still write through a stale translation into a frame that has a new owner. */
#define GATHER_MAX 64

typedef struct {
    aspace_t *as;
    bool unmap;          /* else re-protect */
    unsigned prot;
    bool tables_freed;   /* paging-structure caches may hold freed tables */
    uint64_t lo, hi;     /* span of present entries changed since the last flush */
    unsigned count;      /* gathered frames */
    uint64_t frames[GATHER_MAX];
} walk_t;

static void gather_flush(walk_t *w)
{
    if (w->hi > w->lo) {
        uint64_t pages = (w->hi - w->lo) / PAGE_SIZE;
        aspace_flush(w->as, w->lo, w->tables_freed ? 0 : pages);
    } else if (w->tables_freed) {
        aspace_flush(w->as, 0, 0);
    }
    for (unsigned i = 0; i < w->count; i++)
        aspace_pt_frame_free(w->frames[i]);
    w->count = 0;
    w->lo = w->hi = 0;
    w->tables_freed = false;
}

static void gather_frame(walk_t *w, uint64_t frame)
{
    if (w->count == GATHER_MAX)
        gather_flush(w);
    w->frames[w->count++] = frame;
}

static void walk_leaf(walk_t *w, uint64_t *e, uint64_t va)
{
    uint64_t old = *e;
    if (!(old & ASPACE_PTE_ADDR))
        return;
    if (w->unmap) {
        *e = 0;
        if (aspace_cow_release(old & ASPACE_PTE_ADDR)) /* shared after fork: keep it */
            gather_frame(w, old & ASPACE_PTE_ADDR);
        w->as->resident_pages--;
    } else {
        *e = aspace_pt_make(old & ASPACE_PTE_ADDR, w->prot) | (old & ASPACE_PTE_SHARED);
        if (old & ASPACE_PTE_COW) /* still shared: writes must fault and copy */
            *e = (*e & ~ASPACE_PTE_W) | ASPACE_PTE_COW;
    }
    if (old & ASPACE_PTE_P) {
        if (w->hi == w->lo)
            w->lo = va;
        w->hi = va + PAGE_SIZE;
    }
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
            w->tables_freed = true;
            gather_frame(w, child);
        }
    }
}

static void walk_range(aspace_t *as, uint64_t start, uint64_t end, bool unmap, unsigned prot)
{
    walk_t w = { .as = as, .unmap = unmap, .prot = prot };
    if (start >= end)
        return;
    walk(&w, phys_to_virt(as->root_phys), 3, 0, start, end);
    /* invlpg drops paging-structure cache entries, but a freed table with no present
     * leaf got none: tables_freed flushes everything (user pages are not global). */
    gather_flush(&w);
}

void aspace_pt_unmap(aspace_t *as, uint64_t start, uint64_t end)
{
    walk_range(as, start, end, true, 0);
}

void aspace_pt_protect(aspace_t *as, uint64_t start, uint64_t end, unsigned prot)
{
    walk_range(as, start, end, false, prot);
}
