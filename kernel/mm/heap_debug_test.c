/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests for the debug heap (KASAN-lite, make DEBUG=1): each makes one memory
 * error on purpose through kmalloc/kfree and checks it is detected and reported, naming
 * the cache and the calling function, with reports captured (heap_capture_reports)
 * instead of panicking. Built only with SLAB_DEBUG; the kernel_tests_debug suite checks
 * that they ran.
 */
#ifdef SLAB_DEBUG
#include "mm/mm.h"
#include "mm/slab.h"
#include "core/string.h"
#include "test/ktest.h"

static bool contains(const char *text, const char *part)
{
    size_t n = strlen(part);
    for (; *text; text++)
        if (strncmp(text, part, n) == 0)
            return true;
    return false;
}

static heap_report_capture_t reports;

static void capture_begin(void)
{
    memset(&reports, 0, sizeof(reports));
    heap_capture_reports(&reports);
}

__attribute__((noinline)) static uint8_t *allocate_victim(size_t size)
{
    return kmalloc(size);
}

static bool same_page(const void *a, const void *b)
{
    return ((uintptr_t)a ^ (uintptr_t)b) < PAGE_SIZE;
}

/* A victim object plus a live neighbour in its (single-page) slab: a slab whose last
 * live object is freed leaves the quarantine whole (slab.h), so the victim needs one.
 * Of the objects allocated just before and just after it, one shares its slab. */
static uint8_t *victim_with_neighbour(size_t size, void **neighbour)
{
    void *before = kmalloc(size);
    uint8_t *victim = allocate_victim(size);
    void *after = kmalloc(size);
    *neighbour = same_page(before, victim) ? before : after;
    kfree(*neighbour == before ? after : before);
    KTEST_EXPECT(same_page(*neighbour, victim));
    return victim;
}

KTEST(heap_debug_write_after_free_detected)
{
    capture_begin();
    void *neighbour;
    uint8_t *p = victim_with_neighbour(64, &neighbour);
    kfree(p);
    p[10] = 0x42; /* the bug */
    KTEST_EXPECT_EQ(reports.count, 0);
    KTEST_EXPECT(heap_quarantine_flush() >= 1); /* p leaves: its poison is checked */
    heap_capture_reports(NULL);
    kfree(neighbour);
    KTEST_EXPECT_EQ(reports.count, 1);
    KTEST_EXPECT_EQ(reports.last_error, SLAB_ERR_USE_AFTER_FREE);
    KTEST_EXPECT(reports.last_object == p);
    KTEST_EXPECT(contains(reports.last_report, "kmalloc-64: free object modified (use after free)"));
    KTEST_EXPECT(contains(reports.last_report, "allocated by allocate_victim+"));
    KTEST_EXPECT(contains(reports.last_report, "freed by ktest_fn_heap_debug_write_after_free_detected+"));
}

KTEST(heap_debug_freed_object_not_reused_at_once)
{
    void *neighbour;
    uint8_t *p = victim_with_neighbour(128, &neighbour);
    kfree(p);
    uint8_t *q = kmalloc(128);
    KTEST_EXPECT(q != p); /* LIFO reuse would hand p straight back */
    KTEST_EXPECT_EQ(p[0], SLAB_POISON_BYTE);
    kfree(q);
    kfree(neighbour);
}

KTEST(heap_debug_one_byte_overflow_detected)
{
    capture_begin();
    uint8_t *p = allocate_victim(32);
    KTEST_EXPECT(p != NULL);
    p[32] = 0; /* one byte past the end */
    kfree(p);
    heap_capture_reports(NULL);
    KTEST_EXPECT_EQ(reports.count, 1);
    KTEST_EXPECT_EQ(reports.last_error, SLAB_ERR_REDZONE);
    KTEST_EXPECT(contains(reports.last_report, "kmalloc-32: redzone overwritten"));
    KTEST_EXPECT(contains(reports.last_report, "allocated by allocate_victim+"));
}

KTEST(heap_debug_double_free_detected)
{
    capture_begin();
    void *neighbour;
    uint8_t *p = victim_with_neighbour(256, &neighbour);
    kfree(p);
    kfree(p); /* still in the quarantine */
    heap_capture_reports(NULL);
    kfree(neighbour);
    KTEST_EXPECT_EQ(reports.count, 1);
    KTEST_EXPECT_EQ(reports.last_error, SLAB_ERR_DOUBLE_FREE);
    KTEST_EXPECT(contains(reports.last_report, "kmalloc-256: double free"));
}

KTEST(heap_debug_large_block_overflow_detected)
{
    capture_begin();
    uint8_t *p = kmalloc(5000);
    KTEST_EXPECT(p != NULL);
    KTEST_EXPECT_EQ(p[4999], SLAB_POISON_BYTE);
    p[5000] = 0;
    kfree(p);
    heap_capture_reports(NULL);
    KTEST_EXPECT_EQ(reports.count, 1);
    KTEST_EXPECT_EQ(reports.last_error, SLAB_ERR_REDZONE);
    KTEST_EXPECT(contains(reports.last_report, "large block: redzone overwritten"));
}

KTEST(heap_debug_large_block_double_free_detected)
{
    capture_begin();
    uint8_t *p = kmalloc(9000);
    kfree(p);
    kfree(p); /* nothing reused the pages in between: the freed mark is still there */
    heap_capture_reports(NULL);
    KTEST_EXPECT_EQ(reports.count, 1);
    KTEST_EXPECT_EQ(reports.last_error, SLAB_ERR_DOUBLE_FREE);
}
#endif
