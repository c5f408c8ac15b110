/* SPDX-License-Identifier: MIT */
/*
 * Host tests for the slab caches (kernel/mm/slab.c, included whole). Pages come from
 * aligned_alloc through a counting provider (which can be told to run dry); detections
 * are recorded by the report callback instead of panicking. Debug mode is switched on
 * per cache with SLAB_FLAG_DEBUG, so one binary covers both layouts.
 */
#include "htest.h"
#include "../../kernel/mm/slab.c"

/* ---- test provider and reporter ----------------------------------------------------- */

typedef struct {
    size_t outstanding; /* slabs handed out and not returned */
    size_t limit;       /* 0 = unlimited */
} provider_t;

static void *prov_alloc(void *ctx, size_t bytes)
{
    provider_t *p = ctx;
    if (p->limit && p->outstanding >= p->limit)
        return NULL;
    void *mem = aligned_alloc(bytes, bytes);
    if (mem)
        p->outstanding++;
    return mem;
}

static void prov_free(void *ctx, void *pages, size_t bytes)
{
    provider_t *p = ctx;
    (void)bytes;
    p->outstanding--;
    free(pages);
}

typedef struct {
    int count;
    int last_error;
    const void *last_object;
} reports_t;

static void record(void *ctx, const slab_cache_t *cache, int error, const void *object)
{
    reports_t *r = ctx;
    (void)cache;
    r->count++;
    r->last_error = error;
    r->last_object = object;
}

typedef struct {
    slab_cache_t cache;
    provider_t prov;
    reports_t rep;
} fixture_t;

static void fixture_init(fixture_t *f, size_t size, size_t slab_bytes, unsigned flags,
                         unsigned keep_empty)
{
    memset(f, 0, sizeof(*f));
    slab_config_t cfg = {
        .name = "test", .object_size = size, .slab_bytes = slab_bytes, .flags = flags,
        .keep_empty = keep_empty, .page_alloc = prov_alloc, .page_free = prov_free,
        .page_ctx = &f->prov, .report = record, .report_ctx = &f->rep,
    };
    HTEST_EXPECT_EQ(slab_cache_init(&f->cache, &cfg), 0);
}

static void fixture_fini(fixture_t *f)
{
    HTEST_EXPECT_EQ(slab_cache_verify(&f->cache), 0);
    HTEST_EXPECT_EQ(slab_cache_destroy(&f->cache), 0);
    HTEST_EXPECT_EQ(f->prov.outstanding, 0);
}

/* ---- configuration and layout ------------------------------------------------------- */

HTEST(init_rejects_bad_config)
{
    provider_t prov = { 0 };
    slab_cache_t c;
    slab_config_t ok = { .name = "x", .object_size = 32, .slab_bytes = 4096,
                         .page_alloc = prov_alloc, .page_free = prov_free, .page_ctx = &prov };
    slab_config_t bad;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &ok), 0);
    bad = ok; bad.object_size = 0;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
    bad = ok; bad.slab_bytes = 6000;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
    bad = ok; bad.slab_bytes = 2048;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
    bad = ok; bad.align = 24;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
    bad = ok; bad.object_size = 4090; /* no room next to the header */
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
    bad = ok; bad.page_free = NULL;
    HTEST_EXPECT_EQ(slab_cache_init(&c, &bad), -SLAB_ERR_INVALID);
}

HTEST(layout_fits_and_aligns)
{
    const size_t sizes[] = { 1, 8, 16, 24, 100, 1000, 2048, 3000 };
    const size_t slabs[] = { 4096, 16384 };
    const size_t aligns[] = { 0, 8, 64 };
    /* Every combination of debug mode, size, slab size and alignment. */
    for (unsigned combo = 0; combo < 2 * 8 * 2 * 3; combo++) {
        size_t d = combo % 2, si = combo / 2 % 8, sb = combo / 16 % 2, al = combo / 32;
        provider_t prov = { 0 };
        slab_cache_t c;
        slab_config_t cfg = { .object_size = sizes[si], .slab_bytes = slabs[sb],
                              .align = aligns[al], .flags = d ? SLAB_FLAG_DEBUG : 0,
                              .page_alloc = prov_alloc, .page_free = prov_free,
                              .page_ctx = &prov };
        HTEST_EXPECT_EQ(slab_cache_init(&c, &cfg), 0);
        size_t align = aligns[al] ? aligns[al] : SLAB_DEFAULT_ALIGN;
        HTEST_EXPECT(c.objects_per_slab >= 1);
        HTEST_EXPECT(c.first_slot >= sizeof(struct slab) + 2 * c.objects_per_slab);
        HTEST_EXPECT(c.first_slot + c.objects_per_slab * c.slot_size <= slabs[sb]);
        HTEST_EXPECT_EQ((c.first_slot + c.object_offset) % align, 0);
        HTEST_EXPECT_EQ(c.slot_size % align, 0);
        if (d)
            HTEST_EXPECT(c.slot_size - c.object_offset - sizes[si] >= SLAB_REDZONE_BYTES);
    }
    /* Non-debug small objects: a 4 KiB slab wastes less than one slot plus links. */
    fixture_t f;
    fixture_init(&f, 16, 4096, 0, 1);
    HTEST_EXPECT(f.cache.objects_per_slab >= 200);
    fixture_fini(&f);
}

/* ---- normal operation --------------------------------------------------------------- */

HTEST(alloc_free_many_objects)
{
    enum { N = 1000, SIZE = 24 };
    fixture_t f;
    fixture_init(&f, SIZE, 4096, 0, 1);
    static uint8_t *objs[N];
    for (int i = 0; i < N; i++) {
        objs[i] = slab_alloc(&f.cache);
        HTEST_EXPECT(objs[i] != NULL);
        HTEST_EXPECT_EQ((uintptr_t)objs[i] % SLAB_DEFAULT_ALIGN, 0);
        HTEST_EXPECT(slab_cache_of(objs[i], 4096) == &f.cache);
        memset(objs[i], i & 0xff, SIZE);
    }
    for (int i = 0; i < N; i++)
        for (int b = 0; b < SIZE; b++)
            if (objs[i][b] != (i & 0xff)) {
                HTEST_EXPECT(!"object overlap");
                b = SIZE;
            }
    slab_stats_t st;
    slab_cache_stats(&f.cache, &st);
    HTEST_EXPECT_EQ(st.objects_in_use, N);
    HTEST_EXPECT_EQ(st.slabs, f.prov.outstanding);
    HTEST_EXPECT_EQ(st.pages, st.slabs);
    HTEST_EXPECT_EQ(slab_cache_verify(&f.cache), 0);
    HTEST_EXPECT_EQ(slab_cache_destroy(&f.cache), -SLAB_ERR_BUSY);
    for (int i = 0; i < N; i++)
        HTEST_EXPECT_EQ(slab_free(&f.cache, objs[i]), 0);
    slab_cache_stats(&f.cache, &st);
    HTEST_EXPECT_EQ(st.objects_in_use, 0);
    HTEST_EXPECT_EQ(st.slabs, 1); /* keep_empty */
    HTEST_EXPECT_EQ(st.allocs, N);
    HTEST_EXPECT_EQ(st.frees, N);
    HTEST_EXPECT_EQ(f.rep.count, 0);
    fixture_fini(&f);
}

HTEST(slabs_move_between_lists)
{
    fixture_t f;
    fixture_init(&f, 256, 4096, 0, 2);
    unsigned per = f.cache.objects_per_slab;
    void *objs[64];
    HTEST_EXPECT(per * 3 <= 64);
    for (unsigned i = 0; i < per; i++)
        objs[i] = slab_alloc(&f.cache);
    HTEST_EXPECT_EQ(f.cache.slabs_full, 1);
    HTEST_EXPECT_EQ(f.cache.slabs_partial, 0);
    objs[per] = slab_alloc(&f.cache);
    HTEST_EXPECT_EQ(f.cache.slabs_partial, 1);
    HTEST_EXPECT_EQ(slab_free(&f.cache, objs[0]), 0);
    HTEST_EXPECT_EQ(f.cache.slabs_full, 0);
    HTEST_EXPECT_EQ(f.cache.slabs_partial, 2);
    for (unsigned i = per + 1; i < 3 * per; i++)
        objs[i] = slab_alloc(&f.cache);
    HTEST_EXPECT_EQ(f.prov.outstanding, 3);
    for (unsigned i = 1; i < 3 * per; i++)
        HTEST_EXPECT_EQ(slab_free(&f.cache, objs[i]), 0);
    /* Three empty slabs, keep_empty = 2: one went back to the provider. */
    HTEST_EXPECT_EQ(f.cache.slabs_empty, 2);
    HTEST_EXPECT_EQ(f.prov.outstanding, 2);
    HTEST_EXPECT_EQ(slab_cache_shrink(&f.cache), 2);
    HTEST_EXPECT_EQ(f.prov.outstanding, 0);
    fixture_fini(&f);
}

HTEST(provider_running_dry_returns_null)
{
    fixture_t f;
    fixture_init(&f, 512, 4096, 0, 0);
    f.prov.limit = 2;
    void *objs[64];
    unsigned n = 0;
    while (n < 64 && (objs[n] = slab_alloc(&f.cache)) != NULL)
        n++;
    HTEST_EXPECT_EQ(n, 2 * f.cache.objects_per_slab);
    HTEST_EXPECT(slab_alloc(&f.cache) == NULL);
    HTEST_EXPECT_EQ(f.cache.objects_in_use, n);
    HTEST_EXPECT_EQ(slab_free(&f.cache, objs[0]), 0);
    objs[0] = slab_alloc(&f.cache);
    HTEST_EXPECT(objs[0] != NULL);
    for (unsigned i = 0; i < n; i++)
        HTEST_EXPECT_EQ(slab_free(&f.cache, objs[i]), 0);
    HTEST_EXPECT_EQ(f.prov.outstanding, 0); /* keep_empty = 0 */
    HTEST_EXPECT_EQ(f.rep.count, 0);
    fixture_fini(&f);
}

HTEST(foreign_memory_is_not_a_slab)
{
    void *page = aligned_alloc(4096, 4096);
    memset(page, 0, 4096);
    HTEST_EXPECT(slab_cache_of((uint8_t *)page + 100, 4096) == NULL);
    HTEST_EXPECT(slab_cache_of(NULL, 4096) == NULL);
    free(page);
}

/* ---- error detection in both modes -------------------------------------------------- */

static void check_double_free(unsigned flags)
{
    fixture_t f;
    fixture_init(&f, 48, 4096, flags, 1);
    void *a = slab_alloc(&f.cache), *b = slab_alloc(&f.cache);
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), 0);
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), -SLAB_ERR_DOUBLE_FREE);
    HTEST_EXPECT_EQ(f.rep.count, 1);
    HTEST_EXPECT_EQ(f.rep.last_error, SLAB_ERR_DOUBLE_FREE);
    HTEST_EXPECT(f.rep.last_object == a);
    HTEST_EXPECT_EQ(f.cache.objects_in_use, 1);
    /* The free list is intact: the next two objects are distinct and not b. */
    void *c = slab_alloc(&f.cache), *d = slab_alloc(&f.cache);
    HTEST_EXPECT(c != d && c != b && d != b);
    HTEST_EXPECT_EQ(slab_free(&f.cache, b), 0);
    HTEST_EXPECT_EQ(slab_free(&f.cache, c), 0);
    HTEST_EXPECT_EQ(slab_free(&f.cache, d), 0);
    HTEST_EXPECT_EQ(f.rep.count, 1);
    fixture_fini(&f);
}

HTEST(double_free_detected) { check_double_free(0); }
HTEST(double_free_detected_debug) { check_double_free(SLAB_FLAG_DEBUG); }

HTEST(bad_pointers_rejected)
{
    fixture_t f, g;
    fixture_init(&f, 64, 4096, 0, 1);
    fixture_init(&g, 64, 4096, 0, 1);
    uint8_t *a = slab_alloc(&f.cache);
    uint8_t *other = slab_alloc(&g.cache);
    HTEST_EXPECT_EQ(slab_free(&f.cache, a + 1), -SLAB_ERR_BAD_POINTER);
    HTEST_EXPECT_EQ(slab_free(&f.cache, other), -SLAB_ERR_BAD_POINTER);
    HTEST_EXPECT_EQ(slab_free(&f.cache, NULL), -SLAB_ERR_BAD_POINTER);
    /* Past the last slot of the slab. */
    uint8_t *slab = (uint8_t *)((uintptr_t)a & ~(uintptr_t)4095);
    uint8_t *beyond = slab + f.cache.first_slot + f.cache.objects_per_slab * f.cache.slot_size;
    if (beyond < slab + 4096)
        HTEST_EXPECT_EQ(slab_free(&f.cache, beyond), -SLAB_ERR_BAD_POINTER);
    HTEST_EXPECT_EQ(f.rep.last_error, SLAB_ERR_BAD_POINTER);
    HTEST_EXPECT_EQ(f.cache.objects_in_use, 1);
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), 0);
    HTEST_EXPECT_EQ(slab_free(&g.cache, other), 0);
    fixture_fini(&f);
    fixture_fini(&g);
}

HTEST(debug_detects_overflow_write)
{
    enum { SIZE = 40 };
    fixture_t f;
    fixture_init(&f, SIZE, 4096, SLAB_FLAG_DEBUG, 1);
    uint8_t *a = slab_alloc(&f.cache);
    uint8_t *b = slab_alloc(&f.cache);
    memset(a, 0x11, SIZE); /* in bounds: fine */
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), 0);
    HTEST_EXPECT_EQ(f.rep.count, 0);

    a = slab_alloc(&f.cache);
    a[SIZE] = 0; /* one byte past the end */
    HTEST_EXPECT_EQ(slab_cache_verify(&f.cache), 1); /* seen while still allocated */
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), -SLAB_ERR_REDZONE);
    HTEST_EXPECT_EQ(f.rep.last_error, SLAB_ERR_REDZONE);
    HTEST_EXPECT(f.rep.last_object == a);
    HTEST_EXPECT_EQ(f.cache.objects_in_use, 1); /* freed anyway */

    int before = f.rep.count;
    b[-1] = 0; /* underflow into the left redzone */
    HTEST_EXPECT_EQ(slab_free(&f.cache, b), -SLAB_ERR_REDZONE);
    HTEST_EXPECT_EQ(f.rep.count, before + 1);
    HTEST_EXPECT(f.rep.last_object == b);
    HTEST_EXPECT_EQ(slab_cache_verify(&f.cache), 0); /* redzones were re-armed */
    fixture_fini(&f);
}

HTEST(debug_detects_use_after_free_write)
{
    enum { SIZE = 100 };
    fixture_t f;
    fixture_init(&f, SIZE, 4096, SLAB_FLAG_DEBUG, 1);
    uint8_t *a = slab_alloc(&f.cache);
    uint8_t *keep = slab_alloc(&f.cache);
    for (int i = 0; i < SIZE; i++)
        HTEST_EXPECT_EQ(a[i], SLAB_POISON_BYTE); /* fresh objects carry poison too */
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), 0);
    a[57] = 1; /* write after free */
    HTEST_EXPECT_EQ(slab_cache_verify(&f.cache), 1);
    HTEST_EXPECT_EQ(f.rep.last_error, SLAB_ERR_USE_AFTER_FREE);
    int before = f.rep.count;
    uint8_t *again = slab_alloc(&f.cache); /* quarantined: a is not handed out again */
    HTEST_EXPECT(again != a);
    HTEST_EXPECT_EQ(f.rep.count, before);
    HTEST_EXPECT_EQ(slab_quarantine_flush(&f.cache), 1); /* a leaves: its poison is checked */
    HTEST_EXPECT_EQ(f.rep.count, before + 1);
    HTEST_EXPECT_EQ(f.rep.last_error, SLAB_ERR_USE_AFTER_FREE);
    HTEST_EXPECT(f.rep.last_object == a);
    HTEST_EXPECT_EQ(slab_free(&f.cache, again), 0);
    HTEST_EXPECT_EQ(slab_free(&f.cache, keep), 0);
    HTEST_EXPECT(strcmp(slab_strerror(-SLAB_ERR_DOUBLE_FREE), "double free") == 0);
    fixture_fini(&f);
}

HTEST(debug_quarantine_holds_back_freed_objects)
{
    enum { SIZE = 64 };
    fixture_t f;
    fixture_init(&f, SIZE, 4096, SLAB_FLAG_DEBUG, 1);
    uint8_t *a = slab_alloc_at(&f.cache, 0x1234);
    uint8_t *keep = slab_alloc(&f.cache); /* a live neighbour keeps a's slab in use */
    uintptr_t alloc_site, free_site;
    HTEST_EXPECT(slab_object_sites(&f.cache, a, &alloc_site, &free_site));
    HTEST_EXPECT_EQ(alloc_site, 0x1234);
    HTEST_EXPECT_EQ(free_site, 0);
    HTEST_EXPECT_EQ(slab_free_at(&f.cache, a, 0x5678), 0);
    HTEST_EXPECT(slab_object_sites(&f.cache, a, &alloc_site, &free_site));
    HTEST_EXPECT_EQ(free_site, 0x5678);
    /* Freeing it again while it waits is a double free, and changes nothing. */
    HTEST_EXPECT_EQ(slab_free(&f.cache, a), -SLAB_ERR_DOUBLE_FREE);
    HTEST_EXPECT_EQ(f.rep.count, 1);
    /* a stays quarantined until the quarantine's bound pushes it out. Each object freed
     * here has a live partner, so its slab stays in use and it is quarantined too. */
    size_t limit = SLAB_QUARANTINE_BYTES / SIZE;
    if (limit > SLAB_QUARANTINE_SLOTS)
        limit = SLAB_QUARANTINE_SLOTS;
    static uint8_t *partners[SLAB_QUARANTINE_SLOTS + 1];
    struct slab *slab_a = slab_of(&f.cache, a);
    unsigned idx_a = slot_index(&f.cache, slab_a, a);
    int seen = 0;
    for (size_t i = 0; i < limit; i++) {
        uint8_t *p = slab_alloc(&f.cache);
        partners[i] = slab_alloc(&f.cache);
        HTEST_EXPECT(p != a && partners[i] != a);
        HTEST_EXPECT_EQ(slab_free(&f.cache, p), 0);
        seen = slab_a->link[idx_a] != SLAB_LINK_QUARANTINED;
        if (i + 2 < limit)
            HTEST_EXPECT(!seen);
    }
    for (size_t i = 0; i < limit; i++)
        HTEST_EXPECT_EQ(slab_free(&f.cache, partners[i]), 0);
    HTEST_EXPECT(seen);
    HTEST_EXPECT_EQ(f.cache.objects_in_use, 1);
    HTEST_EXPECT_EQ(slab_cache_verify(&f.cache), 0);
    HTEST_EXPECT_EQ(f.rep.count, 1);
    /* The last live object of its slab freed: the slab's quarantined objects leave. */
    HTEST_EXPECT_EQ(slab_free(&f.cache, keep), 0);
    HTEST_EXPECT_EQ(f.cache.quarantine_count, 0);
    HTEST_EXPECT_EQ(f.cache.slabs_empty, 1);
    HTEST_EXPECT_EQ(f.prov.outstanding, 1);
    fixture_fini(&f);
}

/* ---- randomized ----------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

#define RAND_LIVE 3000
#define RAND_OPS  60000

static void randomized(size_t size, size_t slab_bytes, unsigned flags, uint64_t seed)
{
    fixture_t f;
    fixture_init(&f, size, slab_bytes, flags, 1);
    static struct { uint8_t *p; uint32_t tag; } live[RAND_LIVE];
    size_t n = 0;
    int bad = 0;
    rng_state = seed;
    for (unsigned op = 0; op < RAND_OPS && !bad; op++) {
        uint64_t r = rng();
        /* Alternate growth and shrink phases so slabs are created and released. */
        unsigned alloc_percent = (op / 4000) % 2 ? 35 : 70;
        if (n < RAND_LIVE && (n == 0 || r % 100 < alloc_percent)) {
            uint8_t *p = slab_alloc(&f.cache);
            if (!p || (uintptr_t)p % SLAB_DEFAULT_ALIGN) {
                bad = 1;
                break;
            }
            uint32_t tag = (uint32_t)(r >> 32);
            for (size_t i = 0; i < size; i++)
                p[i] = (uint8_t)(tag + i);
            live[n].p = p;
            live[n++].tag = tag;
        } else {
            size_t k = (size_t)(r >> 20) % n;
            for (size_t i = 0; i < size; i++)
                if (live[k].p[i] != (uint8_t)(live[k].tag + i))
                    bad = 2; /* another object overlapped this one */
            if (slab_free(&f.cache, live[k].p) != 0)
                bad = 3;
            live[k] = live[--n];
        }
        if (f.cache.objects_in_use != n)
            bad = 4;
        if (op % 5000 == 0 && slab_cache_verify(&f.cache) != 0)
            bad = 5;
    }
    HTEST_EXPECT_EQ(bad, 0);
    HTEST_EXPECT_EQ(f.rep.count, 0);
    while (n)
        HTEST_EXPECT_EQ(slab_free(&f.cache, live[--n].p), 0);
    HTEST_EXPECT(f.cache.allocs > RAND_OPS / 3);
    fixture_fini(&f);
}

HTEST(randomized_small_objects) { randomized(24, 4096, 0, 1); }
HTEST(randomized_debug_objects) { randomized(200, 16384, SLAB_FLAG_DEBUG, 2); }
HTEST(randomized_odd_size_big_slabs) { randomized(1000, 65536, 0, 3); }

HTEST_MAIN()
