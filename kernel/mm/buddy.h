/* SPDX-License-Identifier: MIT */
/*
 * Binary buddy allocator over page frames (pure logic: compiles for the host tests).
 *
 * Design notes:
 * - A buddy_t manages one span of page frame numbers [base_pfn, base_pfn + page_count).
 *   Every frame in the span has a buddy_page_t in a metadata array the caller provides
 *   (the kernel carves it out of usable RAM, host tests malloc it). Frames start out
 *   absent; buddy_add_range() hands usable ranges in, so holes, unaligned starts and
 *   ranges above 4 GiB need no special treatment: absent frames simply never merge.
 * - Blocks are aligned by physical frame number (an order-n block starts at a PFN that is
 *   a multiple of 2^n), so the buddy of a block is pfn ^ (1 << n).
 * - Free lists are doubly linked through 32-bit indices inside the metadata array, never
 *   through the free frames themselves: the allocator works without the memory being
 *   mapped. That limits a span to BUDDY_MAX_SPAN_PAGES frames (16 TiB of 4 KiB pages).
 * - Every frame is in one state: ABSENT (not managed), FREE or ALLOCATED (first frame of
 *   a block, `order` valid) or TAIL (any other frame of a block). Keeping tails marked
 *   costs O(1) per split/merge and lets buddy_free() tell a double free, a misaligned
 *   pointer, an interior pointer and a wrong order apart without touching anything.
 * - No locking here: the owner (kernel/mm/pmm.c) serialises every call.
 */
#ifndef KERNEL_MM_BUDDY_H
#define KERNEL_MM_BUDDY_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Size of the per-order arrays; the largest usable max_order is one less. */
#define BUDDY_ORDER_COUNT    32u
#define BUDDY_ORDER_LIMIT    (BUDDY_ORDER_COUNT - 1u)
/* Metadata indices are 32-bit and UINT32_MAX marks the end of a list. */
#define BUDDY_MAX_SPAN_PAGES 0xffffffffull
#define BUDDY_NIL            0xffffffffu

/* Frame states (buddy_page_t.state). */
#define BUDDY_PAGE_ABSENT    0u /* hole, reserved, or never handed to the allocator */
#define BUDDY_PAGE_FREE      1u /* first frame of a free block */
#define BUDDY_PAGE_ALLOCATED 2u /* first frame of an allocated block */
#define BUDDY_PAGE_TAIL      3u /* inside a block, not its first frame */

/* Errors, returned negated (0 = success). */
#define BUDDY_EINVAL       1 /* bad argument: order above max_order, bad metadata, ... */
#define BUDDY_ENOMEM       2 /* no free block large enough */
#define BUDDY_ERANGE       3 /* frame or range outside the span */
#define BUDDY_EOVERLAP     4 /* buddy_add_range: some frame is already managed */
#define BUDDY_EMISALIGNED  5 /* buddy_free: pfn not a multiple of 2^order */
#define BUDDY_EDOUBLEFREE  6 /* buddy_free: the frame is already free */
#define BUDDY_ENOTALLOCATED 7 /* buddy_free: not the first frame of an allocated block */
#define BUDDY_EWRONGORDER  8 /* buddy_free: allocated block has a different order */
#define BUDDY_ECORRUPT     9 /* buddy_check: an internal invariant does not hold */

/* Per-frame metadata, the allocator's "struct page". 12 bytes per 4 KiB frame. */
typedef struct {
    uint32_t next;   /* free-list link (metadata index) while FREE, else BUDDY_NIL */
    uint32_t prev;
    uint8_t order;   /* block order while FREE or ALLOCATED */
    uint8_t state;   /* BUDDY_PAGE_* */
    uint16_t _reserved;
} buddy_page_t;

typedef struct {
    /* Fixed by buddy_init(). */
    buddy_page_t *pages;     /* pages[i] describes frame base_pfn + i */
    uint64_t base_pfn;
    uint64_t page_count;     /* span length, including holes */
    unsigned max_order;

    /* Changed by every call; the owner's lock guards them. */
    uint32_t free_head[BUDDY_ORDER_COUNT];   /* first free block of each order */
    uint64_t free_blocks[BUDDY_ORDER_COUNT]; /* length of each free list */
    uint64_t total_pages;    /* frames handed in through buddy_add_range() */
    uint64_t free_pages;
} buddy_t;

typedef struct {
    uint64_t total_pages;
    uint64_t free_pages;
    unsigned max_order;
    uint64_t free_blocks[BUDDY_ORDER_COUNT];
} buddy_stats_t;

/* Bytes of metadata buddy_init() needs for a span of page_count frames (0 on overflow). */
size_t buddy_metadata_bytes(uint64_t page_count);

/* Set up an empty allocator for [base_pfn, base_pfn + page_count). metadata must hold
 * buddy_metadata_bytes(page_count) bytes, aligned for buddy_page_t; it is fully written
 * here (O(page_count)). max_order <= BUDDY_ORDER_LIMIT. A zero-filled buddy_t that was
 * never initialised behaves as an empty allocator. */
int buddy_init(buddy_t *buddy, void *metadata, size_t metadata_bytes, uint64_t base_pfn,
               uint64_t page_count, unsigned max_order);

/* Hand frames [pfn, pfn + count) to the allocator as free memory. They merge with
 * neighbouring free blocks added earlier. All-or-nothing: on -BUDDY_EOVERLAP or
 * -BUDDY_ERANGE nothing changes. */
int buddy_add_range(buddy_t *buddy, uint64_t pfn, uint64_t count);

/* Allocate 2^order contiguous frames aligned to 2^order; the first frame goes to *pfn. */
int buddy_alloc(buddy_t *buddy, unsigned order, uint64_t *pfn);

/* Free a block from buddy_alloc() with the same order. On error nothing changes. */
int buddy_free(buddy_t *buddy, uint64_t pfn, unsigned order);

void buddy_get_stats(const buddy_t *buddy, buddy_stats_t *stats);

/* Walk the whole allocator and verify every invariant (lists, states, counts, no two
 * free buddies left unmerged). O(page_count): for tests and debug self-checks. */
int buddy_check(const buddy_t *buddy);

/* Short text for a BUDDY_E* code (positive or negated). */
const char *buddy_strerror(int error);

#endif
