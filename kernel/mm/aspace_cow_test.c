/* SPDX-License-Identifier: MIT */
/* In-kernel tests of copy-on-write (kernel/mm/aspace_cow.c). */
#include "mm/aspace.h"
#include "mm/mm.h"
#include "test/ktest.h"
#include "core/string.h"

#define BASE 0x0000200000000000ull
#define PAGES 8

KTEST(cow_clone_shares_frames_and_copies_on_write)
{
    uint64_t frames_before = aspace_frames_in_use();
    aspace_t *a = aspace_create();
    KTEST_EXPECT(a != NULL);
    if (!a)
        return;
    uint8_t page[64];
    KTEST_EXPECT_EQ(aspace_map(a, BASE, PAGES * PAGE_SIZE, ASPACE_PROT_READ | ASPACE_PROT_WRITE,
                               ASPACE_ANON, "cow"), 0);
    for (unsigned i = 0; i < PAGES; i++) {
        memset(page, 'a' + i, sizeof(page));
        KTEST_EXPECT_EQ(aspace_write(a, BASE + i * PAGE_SIZE, page, sizeof(page)), 0);
    }
    uint64_t frames_parent = aspace_frames_in_use();

    aspace_t *b = aspace_clone(a);
    KTEST_EXPECT(b != NULL);
    if (!b) {
        aspace_destroy(a);
        return;
    }
    /* Only the clone's four page-table pages (PML4, PDPT, PD, PT) are new: the data
     * frames are shared, not copied. */
    KTEST_EXPECT_EQ(aspace_frames_in_use() - frames_parent, 4);
    KTEST_EXPECT_EQ(aspace_resident_pages(b), PAGES);
    KTEST_EXPECT_EQ(aspace_read(b, BASE + 2 * PAGE_SIZE, page, sizeof(page)), 0);
    KTEST_EXPECT_EQ(page[0], 'c');

    /* A write into the clone copies that page only; the original keeps its bytes. */
    uint64_t before_copy = aspace_frames_in_use();
    memset(page, 'z', sizeof(page));
    KTEST_EXPECT_EQ(aspace_write(b, BASE + 2 * PAGE_SIZE, page, sizeof(page)), 0);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), before_copy + 1);
    KTEST_EXPECT_EQ(aspace_read(a, BASE + 2 * PAGE_SIZE, page, sizeof(page)), 0);
    KTEST_EXPECT_EQ(page[0], 'c');
    KTEST_EXPECT_EQ(aspace_read(b, BASE + 2 * PAGE_SIZE, page, sizeof(page)), 0);
    KTEST_EXPECT_EQ(page[0], 'z');

    /* Destroying either side keeps the other's data; both gone: nothing leaks. */
    aspace_destroy(a);
    KTEST_EXPECT_EQ(aspace_read(b, BASE + 1 * PAGE_SIZE, page, sizeof(page)), 0);
    KTEST_EXPECT_EQ(page[0], 'b');
    aspace_destroy(b);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames_before);
}

KTEST(cow_last_owner_takes_the_frame_back)
{
    uint64_t frames_before = aspace_frames_in_use();
    aspace_t *a = aspace_create();
    KTEST_EXPECT(a != NULL);
    if (!a)
        return;
    uint8_t byte = 'x';
    KTEST_EXPECT_EQ(aspace_map(a, BASE, PAGE_SIZE, ASPACE_PROT_READ | ASPACE_PROT_WRITE,
                               ASPACE_ANON, "cow"), 0);
    KTEST_EXPECT_EQ(aspace_write(a, BASE, &byte, 1), 0);
    aspace_t *b = aspace_clone(a);
    KTEST_EXPECT(b != NULL);
    if (b)
        aspace_destroy(b); /* a is the only owner again */
    uint64_t frames = aspace_frames_in_use();
    byte = 'y';
    KTEST_EXPECT_EQ(aspace_write(a, BASE, &byte, 1), 0); /* no copy needed */
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames);
    aspace_destroy(a);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames_before);
}
