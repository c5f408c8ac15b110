/* SPDX-License-Identifier: MIT */
/*
 * Host tests for the buddy allocator (kernel/mm/buddy.c, included whole). The metadata
 * array comes from malloc; the frames themselves are never touched, as in the kernel.
 * The randomized test drives tens of thousands of operations against a shadow model of
 * every frame (unusable / free / allocated) to catch overlap and accounting errors.
 */
#include "htest.h"
#include "../../kernel/mm/buddy.c"

typedef struct {
    buddy_t b;
    void *meta;
} arena_t;

static void arena_init(arena_t *a, uint64_t base_pfn, uint64_t span, unsigned max_order)
{
    size_t bytes = buddy_metadata_bytes(span);
    a->meta = malloc(bytes ? bytes : 1);
    int rc = buddy_init(&a->b, a->meta, bytes, base_pfn, span, max_order);
    HTEST_EXPECT_EQ(rc, 0);
}

static void arena_fini(arena_t *a)
{
    HTEST_EXPECT_EQ(buddy_check(&a->b), 0);
    free(a->meta);
}

static bool stats_equal(const buddy_stats_t *x, const buddy_stats_t *y)
{
    /* Field by field: the struct has padding. */
    if (x->total_pages != y->total_pages || x->free_pages != y->free_pages ||
        x->max_order != y->max_order)
        return false;
    return memcmp(x->free_blocks, y->free_blocks, sizeof(x->free_blocks)) == 0;
}

/* Deterministic xorshift64* so failures reproduce. */
static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

HTEST(empty_allocator_returns_enomem)
{
    buddy_t zero = { 0 };
    uint64_t pfn = 0;
    HTEST_EXPECT_EQ(buddy_alloc(&zero, 0, &pfn), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_free(&zero, 0, 0), -BUDDY_ERANGE);

    arena_t a;
    arena_init(&a, 100, 64, 4);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &pfn), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 4, &pfn), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 5, &pfn), -BUDDY_EINVAL);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 100, 0), -BUDDY_ENOTALLOCATED);
    HTEST_EXPECT_EQ(a.b.total_pages, 0);
    arena_fini(&a);
}

HTEST(init_rejects_bad_arguments)
{
    buddy_t b;
    buddy_page_t meta[16];
    HTEST_EXPECT_EQ(buddy_init(&b, meta, sizeof(meta) - 1, 0, 16, 3), -BUDDY_EINVAL);
    HTEST_EXPECT_EQ(buddy_init(&b, meta, sizeof(meta), 0, 16, BUDDY_ORDER_LIMIT + 1),
                    -BUDDY_EINVAL);
    HTEST_EXPECT_EQ(buddy_init(&b, (char *)meta + 1, sizeof(meta) - 12, 0, 8, 3), -BUDDY_EINVAL);
    HTEST_EXPECT_EQ(buddy_init(&b, meta, sizeof(meta), UINT64_MAX - 4, 16, 3), -BUDDY_ERANGE);
    HTEST_EXPECT_EQ(buddy_metadata_bytes(BUDDY_MAX_SPAN_PAGES + 1), 0);
    HTEST_EXPECT_EQ(buddy_init(&b, meta, sizeof(meta), 0, 16, 3), 0);
}

HTEST(aligned_range_is_one_block)
{
    arena_t a;
    arena_init(&a, 0, 1024, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0, 1024), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[10], 1);
    HTEST_EXPECT_EQ(a.b.total_pages, 1024);
    uint64_t pfn = 1;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 10, &pfn), 0);
    HTEST_EXPECT_EQ(pfn, 0);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &pfn), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 0, 10), 0);
    HTEST_EXPECT_EQ(a.b.free_pages, 1024);
    arena_fini(&a);
}

HTEST(max_order_caps_block_size)
{
    arena_t a;
    arena_init(&a, 0, 4096, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0, 4096), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[10], 4);
    HTEST_EXPECT_EQ(a.b.free_blocks[11], 0);
    arena_fini(&a);
}

HTEST(split_and_coalesce_restore_state)
{
    arena_t a;
    arena_init(&a, 0, 64, 6);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0, 64), 0);
    uint64_t p0, p1, p2;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &p0), 0);
    /* One order-0 allocation splits the order-6 block into one free block per order. */
    for (unsigned o = 0; o < 6; o++)
        HTEST_EXPECT_EQ(a.b.free_blocks[o], 1);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &p1), 0);
    HTEST_EXPECT_EQ(p1, p0 ^ 1);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 3, &p2), 0);
    HTEST_EXPECT_EQ(p2 % 8, 0);
    HTEST_EXPECT_EQ(buddy_check(&a.b), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, p1, 0), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, p2, 3), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, p0, 0), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[6], 1);
    HTEST_EXPECT_EQ(a.b.free_pages, 64);
    arena_fini(&a);
}

HTEST(odd_aligned_range_round_trips)
{
    arena_t a;
    arena_init(&a, 0, 1100, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 3, 1000), 0);
    HTEST_EXPECT_EQ(buddy_check(&a.b), 0);
    buddy_stats_t before, after;
    buddy_get_stats(&a.b, &before);
    HTEST_EXPECT_EQ(before.total_pages, 1000);
    HTEST_EXPECT_EQ(before.free_pages, 1000);

    static uint8_t seen[1100];
    memset(seen, 0, sizeof(seen));
    uint64_t pfn, n = 0;
    while (buddy_alloc(&a.b, 0, &pfn) == 0) {
        HTEST_EXPECT(pfn >= 3 && pfn < 1003);
        HTEST_EXPECT(!seen[pfn]);
        seen[pfn] = 1;
        n++;
    }
    HTEST_EXPECT_EQ(n, 1000);
    for (uint64_t p = 3; p < 1003; p++)
        HTEST_EXPECT_EQ(buddy_free(&a.b, p, 0), 0);
    buddy_get_stats(&a.b, &after);
    HTEST_EXPECT(stats_equal(&before, &after));
    arena_fini(&a);
}

HTEST(holes_never_merge)
{
    arena_t a;
    arena_init(&a, 0, 0x400, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0x100, 0x80), 0);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0x200, 0x100), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[7], 1);
    HTEST_EXPECT_EQ(a.b.free_blocks[8], 1);
    uint64_t p;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 9, &p), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 8, &p), 0);
    HTEST_EXPECT_EQ(p, 0x200);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 7, &p), 0);
    HTEST_EXPECT_EQ(p, 0x100);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 0x180, 0), -BUDDY_ENOTALLOCATED); /* the hole */
    HTEST_EXPECT_EQ(buddy_free(&a.b, 0x100, 7), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 0x200, 8), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[7], 1);
    HTEST_EXPECT_EQ(a.b.free_blocks[8], 1);
    arena_fini(&a);
}

HTEST(adjacent_ranges_coalesce)
{
    arena_t a;
    arena_init(&a, 0, 1024, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 512, 512), 0);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 1, 511), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[10], 0);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0, 1), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[10], 1);
    HTEST_EXPECT_EQ(a.b.free_pages, 1024);
    arena_fini(&a);
}

HTEST(ranges_above_4gib)
{
    /* Straddle PFN 2^32 (16 TiB) and use a span base far from index 0. */
    uint64_t base = (1ull << 32) - 512;
    arena_t a;
    arena_init(&a, base, 2048, 12);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, base, 1024), 0);
    HTEST_EXPECT_EQ(a.b.free_blocks[9], 2); /* 2^32-512 and 2^32 are not buddies at order 9 */
    HTEST_EXPECT_EQ(a.b.free_blocks[10], 0);
    uint64_t p;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 9, &p), 0);
    HTEST_EXPECT_EQ(p % 512, 0);
    HTEST_EXPECT(p == base || p == (1ull << 32));
    HTEST_EXPECT_EQ(buddy_free(&a.b, p, 9), 0);

    /* 4 GiB physical = PFN 0x100000, with an unaligned start. */
    arena_t c;
    arena_init(&c, 0x100000, 0x10000, 10);
    HTEST_EXPECT_EQ(buddy_add_range(&c.b, 0x100005, 0xfff0), 0);
    HTEST_EXPECT_EQ(buddy_alloc(&c.b, 10, &p), 0);
    HTEST_EXPECT_EQ(p % 1024, 0);
    HTEST_EXPECT(p >= 0x100005 && p + 1024 <= 0x100005 + 0xfff0);
    HTEST_EXPECT_EQ(buddy_free(&c.b, p, 10), 0);
    arena_fini(&a);
    arena_fini(&c);
}

HTEST(overlapping_or_outside_ranges_rejected)
{
    arena_t a;
    arena_init(&a, 1000, 200, 5);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 1000, 100), 0);
    buddy_stats_t before, after;
    buddy_get_stats(&a.b, &before);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 1050, 100), -BUDDY_EOVERLAP);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 999, 2), -BUDDY_ERANGE);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 1150, 51), -BUDDY_ERANGE);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, UINT64_MAX, 2), -BUDDY_ERANGE);
    buddy_get_stats(&a.b, &after);
    HTEST_EXPECT(stats_equal(&before, &after));
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 1100, 100), 0);
    HTEST_EXPECT_EQ(a.b.total_pages, 200);
    arena_fini(&a);
}

HTEST(bad_frees_are_reported_and_change_nothing)
{
    arena_t a;
    arena_init(&a, 0, 256, 8);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 0, 128), 0);
    uint64_t x, y, big;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &x), 0);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &y), 0);
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 3, &big), 0);
    HTEST_EXPECT(x == 0 && y == 1 && big == 8);
    buddy_stats_t before, after;
    buddy_get_stats(&a.b, &before);

    HTEST_EXPECT_EQ(buddy_free(&a.b, big + 1, 3), -BUDDY_EMISALIGNED);
    HTEST_EXPECT_EQ(buddy_free(&a.b, big + 4, 2), -BUDDY_ENOTALLOCATED); /* interior */
    HTEST_EXPECT_EQ(buddy_free(&a.b, big + 1, 0), -BUDDY_ENOTALLOCATED);
    HTEST_EXPECT_EQ(buddy_free(&a.b, big, 2), -BUDDY_EWRONGORDER);
    HTEST_EXPECT_EQ(buddy_free(&a.b, x, 9), -BUDDY_EINVAL);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 200, 0), -BUDDY_ENOTALLOCATED); /* never added */
    HTEST_EXPECT_EQ(buddy_free(&a.b, 256, 0), -BUDDY_ERANGE);
    /* x = 0, y = 1, big = 8: frames 2-3 (order 1) and 16-31 (order 4) are free. */
    HTEST_EXPECT_EQ(buddy_free(&a.b, 16, 4), -BUDDY_EDOUBLEFREE);
    HTEST_EXPECT_EQ(buddy_free(&a.b, 18, 1), -BUDDY_EDOUBLEFREE); /* inside a free block */
    HTEST_EXPECT_EQ(buddy_free(&a.b, 2, 1), -BUDDY_EDOUBLEFREE);
    buddy_get_stats(&a.b, &after);
    HTEST_EXPECT(stats_equal(&before, &after));
    HTEST_EXPECT_EQ(buddy_check(&a.b), 0);

    /* Double free straight away, and after the block merged into a bigger one. */
    HTEST_EXPECT_EQ(buddy_free(&a.b, x, 0), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, x, 0), -BUDDY_EDOUBLEFREE);
    HTEST_EXPECT_EQ(buddy_free(&a.b, y, 0), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, x, 0), -BUDDY_EDOUBLEFREE);
    HTEST_EXPECT_EQ(buddy_free(&a.b, y, 0), -BUDDY_EDOUBLEFREE);
    HTEST_EXPECT_EQ(buddy_free(&a.b, big, 4), -BUDDY_EMISALIGNED);
    HTEST_EXPECT_EQ(buddy_free(&a.b, big, 3), 0);
    HTEST_EXPECT_EQ(buddy_free(&a.b, big, 3), -BUDDY_EDOUBLEFREE);
    HTEST_EXPECT_EQ(a.b.free_blocks[7], 1);
    HTEST_EXPECT_EQ(a.b.free_pages, 128);
    HTEST_EXPECT(strcmp(buddy_strerror(-BUDDY_EDOUBLEFREE), "double free") == 0);
    arena_fini(&a);
}

HTEST(exhaustion_then_free_all_restores_state)
{
    arena_t a;
    arena_init(&a, 77, 5000, 9);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 77, 1500), 0);
    HTEST_EXPECT_EQ(buddy_add_range(&a.b, 2001, 3000), 0);
    buddy_stats_t before, after;
    buddy_get_stats(&a.b, &before);

    static uint64_t pfns[5000];
    static unsigned orders[5000];
    size_t n = 0;
    for (int o = 9; o >= 0; o--) {
        uint64_t p;
        while (buddy_alloc(&a.b, (unsigned)o, &p) == 0) {
            HTEST_EXPECT_EQ(p % (1ull << o), 0);
            pfns[n] = p;
            orders[n++] = (unsigned)o;
        }
    }
    HTEST_EXPECT_EQ(a.b.free_pages, 0);
    uint64_t p;
    HTEST_EXPECT_EQ(buddy_alloc(&a.b, 0, &p), -BUDDY_ENOMEM);
    HTEST_EXPECT_EQ(buddy_check(&a.b), 0);
    /* Free in a scrambled order. */
    rng_state = 12345;
    for (size_t i = n; i > 1; i--) {
        size_t j = rng() % i;
        uint64_t tp = pfns[i - 1]; pfns[i - 1] = pfns[j]; pfns[j] = tp;
        unsigned to = orders[i - 1]; orders[i - 1] = orders[j]; orders[j] = to;
    }
    for (size_t i = 0; i < n; i++)
        HTEST_EXPECT_EQ(buddy_free(&a.b, pfns[i], orders[i]), 0);
    buddy_get_stats(&a.b, &after);
    HTEST_EXPECT(stats_equal(&before, &after));
    arena_fini(&a);
}

/* ---- randomized test against a model --------------------------------------------- */

#define RAND_SPAN 40000u
#define RAND_OPS  60000u
enum { SHADOW_UNUSABLE, SHADOW_FREE, SHADOW_USED };

HTEST(randomized_against_model)
{
    const uint64_t base = 0x7fff3; /* odd base: index and PFN alignment differ */
    const struct { uint64_t off, len; } ranges[] = {
        { 1, 6999 }, { 7003, 5997 }, { 20001, 1 }, { 33000, 7000 },
    };
    static uint8_t shadow[RAND_SPAN];
    static struct { uint64_t pfn; unsigned order; } live[RAND_SPAN];
    size_t live_count = 0;
    uint64_t usable = 0, used = 0;

    arena_t a;
    arena_init(&a, base, RAND_SPAN, 10);
    memset(shadow, SHADOW_UNUSABLE, sizeof(shadow));
    for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
        HTEST_EXPECT_EQ(buddy_add_range(&a.b, base + ranges[r].off, ranges[r].len), 0);
        memset(shadow + ranges[r].off, SHADOW_FREE, ranges[r].len);
        usable += ranges[r].len;
    }
    buddy_stats_t initial, final;
    buddy_get_stats(&a.b, &initial);
    HTEST_EXPECT_EQ(initial.total_pages, usable);

    rng_state = 0x9e3779b97f4a7c15ull;
    int bad = 0;
    for (unsigned op = 0; op < RAND_OPS && !bad; op++) {
        uint64_t r = rng();
        /* Alternate filling and draining phases so the allocator runs dry repeatedly. */
        unsigned alloc_percent = (op / 8000) % 2 ? 25 : 80;
        bool do_alloc = live_count == 0 || (r % 100) < alloc_percent;
        if (do_alloc) {
            unsigned order = (unsigned)__builtin_ctzll((r >> 8) | (1ull << 7)); /* geometric */
            uint64_t pfn;
            int rc = buddy_alloc(&a.b, order, &pfn);
            if (rc == -BUDDY_ENOMEM) {
                for (unsigned o = order; o <= 10; o++)
                    if (a.b.free_blocks[o]) bad = 1;
                continue;
            }
            if (rc != 0 || pfn % (1ull << order) || pfn < base ||
                pfn - base + (1ull << order) > RAND_SPAN) {
                bad = 2;
                break;
            }
            for (uint64_t i = 0; i < (1ull << order); i++) {
                if (shadow[pfn - base + i] != SHADOW_FREE)
                    bad = 3;
                shadow[pfn - base + i] = SHADOW_USED;
            }
            live[live_count].pfn = pfn;
            live[live_count++].order = order;
            used += 1ull << order;
        } else {
            size_t k = (size_t)(r >> 16) % live_count;
            uint64_t pfn = live[k].pfn;
            unsigned order = live[k].order;
            buddy_stats_t before, after;
            if (op % 7 == 0) {
                /* Wrong order or interior frame: must fail and change nothing. */
                buddy_get_stats(&a.b, &before);
                if (order > 0 && buddy_free(&a.b, pfn, order - 1) != -BUDDY_EWRONGORDER)
                    bad = 4;
                if (order > 0 && buddy_free(&a.b, pfn + 1, 0) != -BUDDY_ENOTALLOCATED)
                    bad = 5;
                if (order > 0 && buddy_free(&a.b, pfn + (1ull << order) - 1, order) == 0)
                    bad = 6;
                buddy_get_stats(&a.b, &after);
                if (!stats_equal(&before, &after))
                    bad = 7;
            }
            if (buddy_free(&a.b, pfn, order) != 0)
                bad = 8;
            if (op % 5 == 0 && buddy_free(&a.b, pfn, order) != -BUDDY_EDOUBLEFREE)
                bad = 9;
            for (uint64_t i = 0; i < (1ull << order); i++)
                shadow[pfn - base + i] = SHADOW_FREE;
            live[k] = live[--live_count];
            used -= 1ull << order;
        }
        if (a.b.free_pages != usable - used)
            bad = 10;
        if (op % 1000 == 0 && buddy_check(&a.b) != 0)
            bad = 11;
    }
    HTEST_EXPECT_EQ(bad, 0);

    while (live_count) {
        live_count--;
        HTEST_EXPECT_EQ(buddy_free(&a.b, live[live_count].pfn, live[live_count].order), 0);
    }
    buddy_get_stats(&a.b, &final);
    HTEST_EXPECT(stats_equal(&initial, &final));
    arena_fini(&a);
}

HTEST_MAIN()
