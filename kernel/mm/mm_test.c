/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests for the physical page allocator and the kernel heap (run with
 * test=kernel). They use only the public mm.h API and measure everything relative to a
 * baseline taken at the start of each test, so they work whatever else booted first.
 * They assume nothing else allocates concurrently (tests run single-threaded). The
 * exhaustion test really takes every free page for a moment: it records results in
 * locals and checks them only after giving everything back.
 */
#include "mm/mm.h"
#include "config.h"
#include "core/string.h"
#include "test/ktest.h"

/* ---- physical pages ----------------------------------------------------------------- */

KTEST(mm_pmm_alloc_free_returns_to_baseline)
{
    static const unsigned orders[] = { 0, 1, 3, 0, 5, 2, 9, 0 };
    uint64_t blocks[sizeof(orders) / sizeof(orders[0])];
    uint64_t base = pmm_free_bytes();
    uint64_t taken = 0;

    KTEST_EXPECT(pmm_total_bytes() >= base);
    for (unsigned i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        blocks[i] = pmm_alloc_pages(orders[i]);
        KTEST_EXPECT(blocks[i] != 0);
        if (blocks[i])
            taken += PAGE_SIZE << orders[i];
        KTEST_EXPECT_EQ(pmm_free_bytes(), base - taken);
    }
    for (unsigned i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
        pmm_free_pages(blocks[i], orders[i]);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

KTEST(mm_pmm_blocks_are_aligned_to_their_order)
{
    uint64_t base = pmm_free_bytes();
    for (unsigned order = 0; order <= 10; order++) {
        uint64_t p = pmm_alloc_pages(order);
        KTEST_EXPECT(p != 0);
        if (!p)
            continue;
        KTEST_EXPECT_EQ(p & ((PAGE_SIZE << order) - 1), 0);
        KTEST_EXPECT(p >= (1ull << 20)); /* the low megabyte is never handed out */
        /* Both ends are reachable through the direct map. */
        volatile uint8_t *v = phys_to_virt(p);
        v[0] = 0x5a;
        v[(PAGE_SIZE << order) - 1] = 0xa5;
        KTEST_EXPECT(v[0] == 0x5a && v[(PAGE_SIZE << order) - 1] == 0xa5);
        pmm_free_pages(p, order);
    }
    KTEST_EXPECT_EQ(pmm_alloc_pages(CONFIG_BUDDY_MAX_ORDER + 1), 0);
    pmm_free_pages(0, 0); /* no-op */
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

#define MM_TEST_PAGES 512
static uint64_t mm_test_pages[MM_TEST_PAGES];

KTEST(mm_pmm_pages_are_distinct)
{
    uint64_t base = pmm_free_bytes();
    unsigned n = 0;
    for (; n < MM_TEST_PAGES; n++) {
        uint64_t p = pmm_alloc_pages(0);
        if (!p)
            break;
        mm_test_pages[n] = p;
        uint64_t *v = phys_to_virt(p);
        for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
            v[w] = p ^ w; /* every word, so any overlap shows up below */
    }
    KTEST_EXPECT_EQ(n, MM_TEST_PAGES);
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint64_t *v = phys_to_virt(mm_test_pages[i]);
        for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
            bad += v[w] != (mm_test_pages[i] ^ w);
    }
    KTEST_EXPECT_EQ(bad, 0);
    /* Free in an interleaved order to exercise coalescing out of sequence. */
    for (unsigned i = 0; i < n; i += 2)
        pmm_free_pages(mm_test_pages[i], 0);
    for (unsigned i = 1; i < n; i += 2)
        pmm_free_pages(mm_test_pages[i], 0);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

KTEST(mm_pmm_exhaustion_returns_zero_and_recovers)
{
    uint64_t base = pmm_free_bytes();
    uint64_t chain = 0, blocks = 0;

    /* Largest blocks first; each block stores the previous one (and its order) at its
     * start, so no array of unknown size is needed. */
    for (int order = CONFIG_BUDDY_MAX_ORDER; order >= 0; order--) {
        uint64_t p;
        while ((p = pmm_alloc_pages((unsigned)order)) != 0) {
            uint64_t *v = phys_to_virt(p);
            v[0] = chain;
            v[1] = (uint64_t)order;
            chain = p;
            blocks++;
        }
    }
    uint64_t free_when_empty = pmm_free_bytes();
    uint64_t alloc_when_empty = pmm_alloc_pages(0);
    uint64_t total_taken = 0;

    while (chain) {
        const uint64_t *v = phys_to_virt(chain);
        uint64_t next = v[0];
        unsigned order = (unsigned)v[1];
        total_taken += PAGE_SIZE << order;
        pmm_free_pages(chain, order);
        chain = next;
    }

    KTEST_EXPECT(blocks > 0);
    KTEST_EXPECT_EQ(free_when_empty, 0);
    KTEST_EXPECT_EQ(alloc_when_empty, 0);
    KTEST_EXPECT_EQ(total_taken, base);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
    /* The allocator still works after running dry. */
    uint64_t p = pmm_alloc_pages(4);
    KTEST_EXPECT(p != 0);
    pmm_free_pages(p, 4);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

/* ---- kernel heap -------------------------------------------------------------------- */

static const size_t mm_test_sizes[] = {
    0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256,
    257, 500, 511, 512, 513, 1000, 1023, 1024, 1025, 2000, 2047, 2048, 2049, 3000, 4079,
    4080, 4081, 4096, 5000, 8192, 10000, 65536, 100000, 1u << 20,
};
#define MM_TEST_SIZE_COUNT (sizeof(mm_test_sizes) / sizeof(mm_test_sizes[0]))
#define MM_TEST_ROUNDS 4
static uint8_t *mm_test_ptrs[MM_TEST_SIZE_COUNT * MM_TEST_ROUNDS];

static uint8_t mm_test_pattern(unsigned i, size_t byte) { return (uint8_t)(i * 37 + byte * 7 + 1); }

KTEST(mm_kmalloc_many_sizes_without_overlap)
{
    const unsigned n = MM_TEST_SIZE_COUNT * MM_TEST_ROUNDS;
    for (unsigned i = 0; i < n; i++) {
        size_t size = mm_test_sizes[i % MM_TEST_SIZE_COUNT];
        uint8_t *p = kmalloc(size);
        mm_test_ptrs[i] = p;
        KTEST_EXPECT(p != NULL);
        if (!p)
            continue;
        KTEST_EXPECT_EQ((uintptr_t)p % 16, 0);
        for (size_t b = 0; b < size; b++) /* every byte: overruns hit a neighbour */
            p[b] = mm_test_pattern(i, b);
    }
    unsigned corrupt = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t size = mm_test_sizes[i % MM_TEST_SIZE_COUNT];
        for (size_t b = 0; mm_test_ptrs[i] && b < size; b++)
            corrupt += mm_test_ptrs[i][b] != mm_test_pattern(i, b);
    }
    KTEST_EXPECT_EQ(corrupt, 0);
    /* Free from both ends towards the middle. */
    for (unsigned i = 0; i < n / 2; i++) {
        kfree(mm_test_ptrs[i]);
        kfree(mm_test_ptrs[n - 1 - i]);
    }
    if (n % 2)
        kfree(mm_test_ptrs[n / 2]);
}

KTEST(mm_kzalloc_returns_zeroed_memory)
{
    for (unsigned i = 0; i < MM_TEST_SIZE_COUNT; i++) {
        size_t size = mm_test_sizes[i];
        /* Dirty an object of this size first so kzalloc is likely to get it back. */
        uint8_t *dirty = kmalloc(size);
        KTEST_EXPECT(dirty != NULL);
        if (dirty)
            memset(dirty, 0xa5, size);
        kfree(dirty);
        uint8_t *p = kzalloc(size);
        KTEST_EXPECT(p != NULL);
        size_t nonzero = 0;
        for (size_t b = 0; p && b < size; b++)
            nonzero += p[b] != 0;
        KTEST_EXPECT_EQ(nonzero, 0);
        kfree(p);
    }
}

KTEST(mm_kfree_null_is_a_noop)
{
    uint64_t base = pmm_free_bytes();
    kfree(NULL);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

KTEST(mm_kmalloc_impossible_sizes_fail)
{
    KTEST_EXPECT(kmalloc((size_t)-1) == NULL);
    KTEST_EXPECT(kmalloc((size_t)(PAGE_SIZE << CONFIG_BUDDY_MAX_ORDER)) == NULL);
}

KTEST(mm_large_kmalloc_returns_pages_to_pmm)
{
    uint64_t base = pmm_free_bytes();
    void *a = kmalloc(64 * 1024);
    void *b = kmalloc(3 * 1024 * 1024);
    KTEST_EXPECT(a != NULL && b != NULL);
    KTEST_EXPECT(pmm_free_bytes() < base);
    kfree(a);
    kfree(b);
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}

#define MM_TEST_OBJECTS 2000
static void *mm_test_objects[MM_TEST_OBJECTS];

static void mm_test_fill_and_drain(size_t size)
{
    for (unsigned i = 0; i < MM_TEST_OBJECTS; i++)
        mm_test_objects[i] = kmalloc(size);
    for (unsigned i = 0; i < MM_TEST_OBJECTS; i++)
        kfree(mm_test_objects[i]);
}

KTEST(mm_slab_pages_are_reused_not_leaked)
{
    /* The first round may leave one empty slab cached per class; later rounds must not
     * take any more pages. */
    mm_test_fill_and_drain(48);
    mm_test_fill_and_drain(700);
    uint64_t base = pmm_free_bytes();
    for (unsigned round = 0; round < 3; round++) {
        mm_test_fill_and_drain(48);
        mm_test_fill_and_drain(700);
    }
    KTEST_EXPECT_EQ(pmm_free_bytes(), base);
}
