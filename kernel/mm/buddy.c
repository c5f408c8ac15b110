/* SPDX-License-Identifier: MIT */
/*
 * Binary buddy allocator (see buddy.h for the design). Pure logic: no kernel headers, no
 * locks, never dereferences a frame's memory, so the host tests run it unchanged.
 *
 * Allocation pops the head of the smallest non-empty free list at or above the wanted
 * order and splits it, keeping the lower half and pushing each upper half back. Free
 * validates the block, then merges upward while the buddy is a free block of the same
 * order. Lists are LIFO so recently freed (cache-warm) blocks are reused first.
 */
#include "buddy.h"

/* ---- small helpers ---------------------------------------------------------------- */

static inline uint64_t order_pages(unsigned order) { return 1ull << order; }

static inline bool pfn_in_span(const buddy_t *b, uint64_t pfn)
{
    return pfn >= b->base_pfn && pfn - b->base_pfn < b->page_count;
}

static inline buddy_page_t *page_of(const buddy_t *b, uint64_t pfn)
{
    return &b->pages[pfn - b->base_pfn];
}

static inline uint32_t index_of(const buddy_t *b, uint64_t pfn)
{
    return (uint32_t)(pfn - b->base_pfn);
}

static void list_push(buddy_t *b, uint64_t pfn, unsigned order)
{
    uint32_t idx = index_of(b, pfn);
    buddy_page_t *p = &b->pages[idx];
    uint32_t head = b->free_blocks[order] ? b->free_head[order] : BUDDY_NIL;

    p->state = BUDDY_PAGE_FREE;
    p->order = (uint8_t)order;
    p->prev = BUDDY_NIL;
    p->next = head;
    if (head != BUDDY_NIL)
        b->pages[head].prev = idx;
    b->free_head[order] = idx;
    b->free_blocks[order]++;
}

static void list_remove(buddy_t *b, uint32_t idx)
{
    buddy_page_t *p = &b->pages[idx];
    unsigned order = p->order;

    if (p->prev != BUDDY_NIL)
        b->pages[p->prev].next = p->next;
    else
        b->free_head[order] = p->next;
    if (p->next != BUDDY_NIL)
        b->pages[p->next].prev = p->prev;
    p->next = p->prev = BUDDY_NIL;
    b->free_blocks[order]--;
}

/*
 * Put an ALLOCATED block (already validated) back and merge it with free buddies.
 * The frame that stops being a block head becomes TAIL, which keeps the "every non-head
 * frame of a block is TAIL" invariant at O(1) cost per merge.
 */
static void free_block(buddy_t *b, uint64_t pfn, unsigned order)
{
    b->free_pages += order_pages(order);
    while (order < b->max_order) {
        uint64_t buddy_pfn = pfn ^ order_pages(order);
        if (!pfn_in_span(b, buddy_pfn))
            break;
        buddy_page_t *bp = page_of(b, buddy_pfn);
        if (bp->state != BUDDY_PAGE_FREE || bp->order != order)
            break;
        list_remove(b, index_of(b, buddy_pfn));
        uint64_t high = pfn > buddy_pfn ? pfn : buddy_pfn;
        page_of(b, high)->state = BUDDY_PAGE_TAIL;
        pfn = pfn < buddy_pfn ? pfn : buddy_pfn;
        order++;
    }
    list_push(b, pfn, order);
}

/*
 * The block (FREE or ALLOCATED head) that contains a TAIL frame. Blocks nest like the
 * bits of the PFN, so the first head found while widening the alignment whose order
 * reaches that width is the container. Only used on error paths and by buddy_check.
 */
static bool find_container(const buddy_t *b, uint64_t pfn, uint64_t *head_pfn)
{
    for (unsigned o = 1; o <= b->max_order; o++) {
        uint64_t h = pfn & ~(order_pages(o) - 1);
        if (!pfn_in_span(b, h))
            return false;
        const buddy_page_t *p = page_of(b, h);
        if ((p->state == BUDDY_PAGE_FREE || p->state == BUDDY_PAGE_ALLOCATED) && p->order >= o) {
            *head_pfn = h;
            return true;
        }
    }
    return false;
}

/* ---- public API --------------------------------------------------------------------- */

size_t buddy_metadata_bytes(uint64_t page_count)
{
    if (page_count > BUDDY_MAX_SPAN_PAGES || page_count > SIZE_MAX / sizeof(buddy_page_t))
        return 0;
    return (size_t)page_count * sizeof(buddy_page_t);
}

int buddy_init(buddy_t *b, void *metadata, size_t metadata_bytes, uint64_t base_pfn,
               uint64_t page_count, unsigned max_order)
{
    if (max_order > BUDDY_ORDER_LIMIT || page_count > BUDDY_MAX_SPAN_PAGES)
        return -BUDDY_EINVAL;
    if (base_pfn + page_count < base_pfn)
        return -BUDDY_ERANGE;
    if (page_count && (!metadata || metadata_bytes < buddy_metadata_bytes(page_count)))
        return -BUDDY_EINVAL;
    if ((uintptr_t)metadata % _Alignof(buddy_page_t))
        return -BUDDY_EINVAL;

    b->pages = metadata;
    b->base_pfn = base_pfn;
    b->page_count = page_count;
    b->max_order = max_order;
    b->total_pages = 0;
    b->free_pages = 0;
    for (unsigned o = 0; o < BUDDY_ORDER_COUNT; o++) {
        b->free_head[o] = BUDDY_NIL;
        b->free_blocks[o] = 0;
    }
    for (uint64_t i = 0; i < page_count; i++) {
        b->pages[i] = (buddy_page_t){ .next = BUDDY_NIL, .prev = BUDDY_NIL,
                                      .state = BUDDY_PAGE_ABSENT };
    }
    return 0;
}

int buddy_add_range(buddy_t *b, uint64_t pfn, uint64_t count)
{
    if (count == 0)
        return 0;
    if (pfn + count < pfn || !pfn_in_span(b, pfn) || !pfn_in_span(b, pfn + count - 1))
        return -BUDDY_ERANGE;
    /* Check first so a bad range (overlapping map entries) changes nothing. */
    for (uint64_t i = 0; i < count; i++) {
        if (page_of(b, pfn + i)->state != BUDDY_PAGE_ABSENT)
            return -BUDDY_EOVERLAP;
    }

    uint64_t end = pfn + count;
    while (pfn < end) {
        /* Largest naturally aligned block that starts here and fits before end. */
        unsigned order = 0;
        while (order < b->max_order && (pfn & order_pages(order)) == 0 &&
               pfn + order_pages(order + 1) <= end)
            order++;
        for (uint64_t i = 1; i < order_pages(order); i++)
            page_of(b, pfn + i)->state = BUDDY_PAGE_TAIL;
        buddy_page_t *head = page_of(b, pfn);
        head->state = BUDDY_PAGE_ALLOCATED;
        head->order = (uint8_t)order;
        b->total_pages += order_pages(order);
        free_block(b, pfn, order);
        pfn += order_pages(order);
    }
    return 0;
}

int buddy_alloc(buddy_t *b, unsigned order, uint64_t *pfn_out)
{
    if (order > b->max_order)
        return -BUDDY_EINVAL;

    unsigned o = order;
    while (o <= b->max_order && b->free_blocks[o] == 0)
        o++;
    if (o > b->max_order)
        return -BUDDY_ENOMEM;

    uint32_t idx = b->free_head[o];
    uint64_t pfn = b->base_pfn + idx;
    list_remove(b, idx);
    while (o > order) {
        o--;
        list_push(b, pfn + order_pages(o), o); /* upper half: TAIL -> FREE head */
    }
    buddy_page_t *p = &b->pages[idx];
    p->state = BUDDY_PAGE_ALLOCATED;
    p->order = (uint8_t)order;
    b->free_pages -= order_pages(order);
    *pfn_out = pfn;
    return 0;
}

int buddy_free(buddy_t *b, uint64_t pfn, unsigned order)
{
    if (!pfn_in_span(b, pfn))
        return -BUDDY_ERANGE;
    if (order > b->max_order)
        return -BUDDY_EINVAL;
    if (pfn & (order_pages(order) - 1))
        return -BUDDY_EMISALIGNED;

    const buddy_page_t *p = page_of(b, pfn);
    uint64_t head;
    switch (p->state) {
    case BUDDY_PAGE_ALLOCATED:
        if (p->order != order)
            return -BUDDY_EWRONGORDER;
        free_block(b, pfn, order);
        return 0;
    case BUDDY_PAGE_FREE:
        return -BUDDY_EDOUBLEFREE;
    case BUDDY_PAGE_TAIL:
        /* Freed earlier and merged into a bigger free block, or an interior frame. */
        if (find_container(b, pfn, &head) && page_of(b, head)->state == BUDDY_PAGE_FREE)
            return -BUDDY_EDOUBLEFREE;
        return -BUDDY_ENOTALLOCATED;
    default:
        return -BUDDY_ENOTALLOCATED;
    }
}

void buddy_get_stats(const buddy_t *b, buddy_stats_t *stats)
{
    stats->total_pages = b->total_pages;
    stats->free_pages = b->free_pages;
    stats->max_order = b->max_order;
    for (unsigned o = 0; o < BUDDY_ORDER_COUNT; o++)
        stats->free_blocks[o] = b->free_blocks[o];
}

int buddy_check(const buddy_t *b)
{
    uint64_t free_pages = 0, total_pages = 0, free_heads = 0, listed = 0;

    /* Free lists: well-linked, FREE heads of the right order, aligned, counted. */
    for (unsigned o = 0; o < BUDDY_ORDER_COUNT; o++) {
        if (o > b->max_order) {
            if (b->free_blocks[o])
                return -BUDDY_ECORRUPT;
            continue;
        }
        uint32_t prev = BUDDY_NIL;
        uint32_t idx = b->free_blocks[o] ? b->free_head[o] : BUDDY_NIL;
        uint64_t n = 0;
        while (idx != BUDDY_NIL) {
            if (idx >= b->page_count || n >= b->free_blocks[o])
                return -BUDDY_ECORRUPT;
            const buddy_page_t *p = &b->pages[idx];
            uint64_t pfn = b->base_pfn + idx;
            if (p->state != BUDDY_PAGE_FREE || p->order != o || p->prev != prev ||
                (pfn & (order_pages(o) - 1)))
                return -BUDDY_ECORRUPT;
            prev = idx;
            idx = p->next;
            n++;
        }
        if (n != b->free_blocks[o])
            return -BUDDY_ECORRUPT;
        free_pages += n * order_pages(o);
        listed += n;
    }

    /* Linear walk: every block head is followed by exactly its TAIL frames. */
    for (uint64_t i = 0; i < b->page_count;) {
        const buddy_page_t *p = &b->pages[i];
        uint64_t pfn = b->base_pfn + i;
        if (p->state == BUDDY_PAGE_ABSENT) {
            i++;
            continue;
        }
        if (p->state == BUDDY_PAGE_TAIL || p->order > b->max_order ||
            (pfn & (order_pages(p->order) - 1)) || i + order_pages(p->order) > b->page_count)
            return -BUDDY_ECORRUPT;
        for (uint64_t t = 1; t < order_pages(p->order); t++) {
            if (b->pages[i + t].state != BUDDY_PAGE_TAIL)
                return -BUDDY_ECORRUPT;
        }
        if (p->state == BUDDY_PAGE_FREE) {
            free_heads++;
            /* A free block whose buddy is free with the same order should have merged. */
            uint64_t bud = pfn ^ order_pages(p->order);
            if (p->order < b->max_order && pfn_in_span(b, bud)) {
                const buddy_page_t *bp = page_of(b, bud);
                if (bp->state == BUDDY_PAGE_FREE && bp->order == p->order)
                    return -BUDDY_ECORRUPT;
            }
        }
        total_pages += order_pages(p->order);
        i += order_pages(p->order);
    }

    if (free_heads != listed || free_pages != b->free_pages || total_pages != b->total_pages)
        return -BUDDY_ECORRUPT;
    return 0;
}

const char *buddy_strerror(int error)
{
    switch (error < 0 ? -error : error) {
    case 0: return "success";
    case BUDDY_EINVAL: return "invalid argument";
    case BUDDY_ENOMEM: return "out of memory";
    case BUDDY_ERANGE: return "frame outside the managed span";
    case BUDDY_EOVERLAP: return "range overlaps managed frames";
    case BUDDY_EMISALIGNED: return "frame not aligned to the block order";
    case BUDDY_EDOUBLEFREE: return "double free";
    case BUDDY_ENOTALLOCATED: return "not the start of an allocated block";
    case BUDDY_EWRONGORDER: return "block freed with the wrong order";
    case BUDDY_ECORRUPT: return "allocator state corrupt";
    default: return "unknown error";
    }
}
