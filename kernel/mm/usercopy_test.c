/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the checked user-pointer path: every bad pointer gives -VK_EFAULT
 * and never a kernel fault, with and without an address space loaded. Tests that load
 * one switch back to the kernel root before returning.
 */
#include "mm/aspace.h"
#include "mm/usercopy.h"
#include "mm/mm.h"
#include "core/string.h"
#include "test/ktest.h"

#define P    PAGE_SIZE
#define BASE 0x20000000ull
#define RW   (ASPACE_PROT_READ | ASPACE_PROT_WRITE)

static void expect_all_fault(uint64_t addr, size_t len)
{
    uint8_t buf[32];
    char s[32];
    memset(buf, 0xee, sizeof(buf));
    KTEST_EXPECT_EQ(usercopy_from(buf, addr, len), -VK_EFAULT);
    KTEST_EXPECT_EQ(buf[0], 0); /* no stale kernel bytes left in the destination */
    KTEST_EXPECT_EQ(usercopy_to(addr, buf, len), -VK_EFAULT);
    KTEST_EXPECT_EQ(usercopy_clear(addr, len), -VK_EFAULT);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, addr, sizeof(s)), -VK_EFAULT);
}

static void expect_bad_pointers_rejected(void)
{
    static uint64_t kernel_word = 0x1234;
    uint64_t before = kernel_word;
    expect_all_fault(0, 8);                                  /* NULL */
    expect_all_fault(8, 8);
    expect_all_fault((uint64_t)&kernel_word, 8);             /* kernel image */
    expect_all_fault(0xffff800000100000ull, 8);              /* direct map */
    expect_all_fault(0x0000800000000000ull, 8);              /* first non-canonical */
    expect_all_fault(0x8000000000000000ull, 8);              /* deep non-canonical */
    expect_all_fault(ASPACE_USER_LIMIT - 4, 8);              /* runs off the user half */
    expect_all_fault(~0ull - 7, 16);                         /* wraps around */
    uint8_t buf[8];
    KTEST_EXPECT_EQ(usercopy_to(BASE, buf, ~0ull - 0x800), -VK_EFAULT); /* wraps */
    KTEST_EXPECT_EQ(usercopy_clear(BASE, ~0ull), -VK_EFAULT);
    expect_all_fault(BASE + 64 * P, 8);                      /* unmapped user memory */
    KTEST_EXPECT_EQ(kernel_word, before);
    KTEST_EXPECT_EQ(usercopy_from(NULL, 0, 0), 0);           /* nothing to copy */
}

KTEST(usercopy_rejects_bad_pointers_without_a_space)
{
    expect_bad_pointers_rejected();
}

KTEST(usercopy_rejects_bad_pointers_with_a_space_loaded)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT(as != NULL);
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, RW, ASPACE_ANON, "heap"), 0);
    aspace_activate(as);
    expect_bad_pointers_rejected();
    /* A copy that starts mapped and runs past the region fails as a whole. */
    static uint8_t buf[2 * 4096];
    KTEST_EXPECT_EQ(usercopy_to(BASE + 3 * P, buf, sizeof(buf)), -VK_EFAULT);
    memset(buf, 0xee, sizeof(buf));
    KTEST_EXPECT_EQ(usercopy_from(buf, BASE + 3 * P + 16, sizeof(buf)), -VK_EFAULT);
    KTEST_EXPECT_EQ(buf[0], 0);
    KTEST_EXPECT_EQ(buf[sizeof(buf) - 1], 0);
    aspace_activate(NULL);
    aspace_destroy(as);
}

KTEST(usercopy_strncpy_from_stops_at_nul_and_limits)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, P, RW, ASPACE_ANON, "strings"), 0);
    KTEST_EXPECT_EQ(aspace_write(as, BASE, "hello", 6), 0);
    /* Eight bytes without a NUL right at the end of the region. */
    KTEST_EXPECT_EQ(aspace_write(as, BASE + P - 8, "abcdefgh", 8), 0);
    char s[16];
    aspace_activate(as);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE, sizeof(s)), 5);
    KTEST_EXPECT(strcmp(s, "hello") == 0);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE, 6), 5);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE, 5), -VK_ENAMETOOLONG);
    KTEST_EXPECT_EQ(s[4], 0);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE, 0), -VK_ENAMETOOLONG);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE + 5, sizeof(s)), 0); /* empty string */
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE + P - 8, 8), -VK_ENAMETOOLONG);
    KTEST_EXPECT_EQ(usercopy_strncpy_from(s, BASE + P - 8, sizeof(s)), -VK_EFAULT);
    aspace_activate(NULL);
    aspace_destroy(as);
}
