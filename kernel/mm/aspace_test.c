/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of user address spaces: regions, demand paging, stack growth, limits
 * and leak checks. There is no process here: tests that need a space in CR3 activate it
 * and switch back to the kernel root (aspace_activate(NULL)) before returning. Checks of
 * the checked user-pointer path are in usercopy_test.c.
 */
#include "mm/aspace_internal.h"
#include "mm/usercopy.h"
#include "core/string.h"
#include "test/ktest.h"

#define P    PAGE_SIZE
#define BASE 0x10000000ull
#define RW   (ASPACE_PROT_READ | ASPACE_PROT_WRITE)

#define PF_W 2u
#define PF_U 4u
#define PF_I 16u

static uint64_t pte_of(aspace_t *as, uint64_t va)
{
    uint64_t f = spinlock_lock_irqsave(&as->lock);
    uint64_t *e = aspace_pt_entry(as, va, false);
    uint64_t v = e ? *e : 0;
    spinlock_unlock_irqrestore(&as->lock, f);
    return v;
}

KTEST(aspace_create_destroy_returns_every_frame)
{
    aspace_destroy(aspace_create()); /* warm the slab caches up */
    uint64_t frames = aspace_frames_in_use(), free_bytes = pmm_free_bytes();
    aspace_t *as = aspace_create();
    KTEST_EXPECT(as != NULL);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames + 1); /* the PML4 */
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 64 * P, RW, ASPACE_ANON, "t"), 0);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames + 1); /* nothing until touched */
    KTEST_EXPECT_EQ(aspace_map(as, 0x7f0000000000ull, 4 * P, RW, ASPACE_ANON, "far"), 0);
    uint8_t byte = 0x5a;
    for (unsigned i = 0; i < 64; i += 7)
        KTEST_EXPECT_EQ(aspace_write(as, BASE + i * P + 3, &byte, 1), 0);
    KTEST_EXPECT_EQ(aspace_write(as, 0x7f0000000000ull, &byte, 1), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 11);
    KTEST_EXPECT(aspace_frames_in_use() > frames + 11); /* plus page tables */
    aspace_destroy(as);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames);
    KTEST_EXPECT_EQ(pmm_free_bytes(), free_bytes);
}

KTEST(aspace_kernel_half_is_shared)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT(as != NULL);
    uint64_t *root = phys_to_virt(as->root_phys);
    uint64_t *kroot = phys_to_virt(arch_read_cr3() & ASPACE_PTE_ADDR);
    KTEST_EXPECT(memcmp(&root[256], &kroot[256], 256 * sizeof(uint64_t)) == 0);
    for (unsigned i = 0; i < 256; i++)
        KTEST_EXPECT_EQ(root[i], 0);
    static volatile uint64_t kernel_data = 7;
    aspace_activate(as);
    KTEST_EXPECT(aspace_current() == as);
    KTEST_EXPECT_EQ(arch_read_cr3() & ASPACE_PTE_ADDR, as->root_phys);
    kernel_data++; /* kernel data, stack and text keep working with the space loaded */
    aspace_activate(NULL);
    KTEST_EXPECT(aspace_current() == NULL);
    KTEST_EXPECT_EQ(arch_read_cr3() & ASPACE_PTE_ADDR, virt_to_phys(kroot));
    KTEST_EXPECT_EQ(kernel_data, 8);
    aspace_destroy(as);
}

KTEST(aspace_write_read_round_trip_inactive)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 3 * P, ASPACE_PROT_READ, ASPACE_ANON, "image"), 0);
    static uint8_t out[6000], in[6000];
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i * 7 + 1);
    /* Read-only regions can be filled by the loader; the write spans two pages. */
    KTEST_EXPECT_EQ(aspace_write(as, BASE + 100, out, sizeof(out)), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    KTEST_EXPECT_EQ(aspace_read(as, BASE + 100, in, sizeof(in)), 0);
    KTEST_EXPECT(memcmp(in, out, sizeof(in)) == 0);
    /* The untouched third page reads as zero without being allocated. */
    memset(in, 0xff, P);
    KTEST_EXPECT_EQ(aspace_read(as, BASE + 2 * P, in, P), 0);
    KTEST_EXPECT_EQ(in[0] | in[P - 1], 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    KTEST_EXPECT_EQ(aspace_zero(as, BASE + 100, 10), 0);
    KTEST_EXPECT_EQ(aspace_read(as, BASE + 98, in, 14), 0);
    KTEST_EXPECT_EQ(in[2] | in[11], 0);
    KTEST_EXPECT_EQ(in[12], out[10]);
    /* Outside regions, partly or wholly: nothing is written. */
    KTEST_EXPECT_EQ(aspace_write(as, BASE + 3 * P - 2, out, 4), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_write(as, BASE + 8 * P, out, 4), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_read(as, BASE - 1, in, 2), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_write(as, ~0ull - 2, out, 4), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    aspace_destroy(as);
}

KTEST(aspace_demand_paging_through_usercopy)
{
    uint64_t frames = aspace_frames_in_use();
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, RW, ASPACE_ANON, "heap"), 0);
    static uint8_t out[5000], in[5000];
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (uint8_t)(i ^ 0xa5);
    aspace_activate(as);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 0);
    /* The copy faults twice inside usercopy; demand paging resolves both. */
    KTEST_EXPECT_EQ(usercopy_to(BASE + 100, out, sizeof(out)), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    KTEST_EXPECT_EQ(usercopy_from(in, BASE + 100, sizeof(in)), 0);
    KTEST_EXPECT(memcmp(in, out, sizeof(in)) == 0);
    memset(in, 0, sizeof(in));
    KTEST_EXPECT_EQ(aspace_read(as, BASE + 100, in, sizeof(in)), 0);
    KTEST_EXPECT(memcmp(in, out, sizeof(in)) == 0);
    /* Reading an untouched page pages in zeros. */
    uint64_t word = 1;
    KTEST_EXPECT_EQ(usercopy_from(&word, BASE + 3 * P, 8), 0);
    KTEST_EXPECT_EQ(word, 0);
    KTEST_EXPECT_EQ(usercopy_clear(BASE + 100, 8), 0);
    KTEST_EXPECT_EQ(usercopy_from(&word, BASE + 100, 8), 0);
    KTEST_EXPECT_EQ(word, 0);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE, 4 * P), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 0);
    KTEST_EXPECT_EQ(usercopy_from(&word, BASE + 100, 8), -VK_EFAULT);
    KTEST_EXPECT_EQ(usercopy_to(BASE + 100, &word, 8), -VK_EFAULT);
    aspace_activate(NULL);
    aspace_destroy(as);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames);
}

KTEST(aspace_page_rights_follow_the_region)
{
    aspace_t *as = aspace_create();
    uint8_t b = 1;
    KTEST_EXPECT_EQ(aspace_map(as, BASE, P, RW, ASPACE_ANON, "data"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 2 * P, P, ASPACE_PROT_READ | ASPACE_PROT_EXEC,
                               ASPACE_ANON, "text"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 4 * P, P, RW | ASPACE_PROT_EXEC, ASPACE_ANON, "jit"), 0);
    for (unsigned i = 0; i < 3; i++)
        KTEST_EXPECT_EQ(aspace_write(as, BASE + 2 * i * P, &b, 1), 0);
    uint64_t data = pte_of(as, BASE), text = pte_of(as, BASE + 2 * P), jit = pte_of(as, BASE + 4 * P);
    KTEST_EXPECT((data & ASPACE_PTE_U) && (data & ASPACE_PTE_W) && (data & ASPACE_PTE_NX));
    KTEST_EXPECT((text & ASPACE_PTE_U) && !(text & ASPACE_PTE_W) && !(text & ASPACE_PTE_NX));
    KTEST_EXPECT((jit & ASPACE_PTE_W) && !(jit & ASPACE_PTE_NX)); /* asked for both */
    aspace_destroy(as);
}

KTEST(aspace_fault_checks_the_access)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, ASPACE_PROT_READ, ASPACE_ANON, "ro"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 8 * P, P, 0, ASPACE_ANON, "none"), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE, PF_U | PF_W), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE, PF_U | PF_I), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 8 * P, PF_U), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 5 * P, PF_U), -VK_EFAULT); /* between regions */
    KTEST_EXPECT_EQ(aspace_fault(as, 0, PF_U), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_fault(as, ASPACE_USER_LIMIT, PF_U), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 5, PF_U), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 1);
    /* A fault on a present page is a protection fault (no copy-on-write yet). */
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 5, PF_U | PF_W | 1), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 1);
    aspace_destroy(as);
}

KTEST(aspace_protect_read_only_blocks_usercopy_to)
{
    aspace_t *as = aspace_create();
    uint64_t v = 0x1122334455667788ull, r = 0;
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, RW, ASPACE_ANON, "heap"), 0);
    aspace_activate(as);
    KTEST_EXPECT_EQ(usercopy_to(BASE, &v, 8), 0);
    KTEST_EXPECT_EQ(aspace_protect(as, BASE, 2 * P, ASPACE_PROT_READ), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 2);
    KTEST_EXPECT_EQ(usercopy_to(BASE, &v, 8), -VK_EFAULT);     /* present page */
    KTEST_EXPECT_EQ(usercopy_to(BASE + P, &v, 8), -VK_EFAULT); /* never touched */
    KTEST_EXPECT_EQ(usercopy_from(&r, BASE, 8), 0);
    KTEST_EXPECT_EQ(r, v);
    KTEST_EXPECT_EQ(usercopy_to(BASE + 2 * P, &v, 8), 0);      /* the rest stays writable */
    /* PROT_NONE keeps the data; restoring the rights brings it back. */
    KTEST_EXPECT_EQ(aspace_protect(as, BASE, 4 * P, 0), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 1);
    KTEST_EXPECT_EQ(usercopy_from(&r, BASE, 8), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_protect(as, BASE, 4 * P, RW), 0);
    KTEST_EXPECT_EQ(usercopy_from(&r, BASE, 8), 0);
    KTEST_EXPECT_EQ(r, v);
    KTEST_EXPECT_EQ(usercopy_to(BASE, &v, 8), 0);
    KTEST_EXPECT_EQ(aspace_protect(as, BASE + 8 * P, P, RW), -VK_ENOMEM); /* a hole */
    aspace_activate(NULL);
    aspace_destroy(as);
}

KTEST(aspace_unmap_splits_a_region_in_the_middle)
{
    aspace_t *as = aspace_create();
    uint8_t b = 9;
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, RW, ASPACE_ANON, "heap"), 0);
    for (unsigned i = 0; i < 4; i++)
        KTEST_EXPECT_EQ(aspace_write(as, BASE + i * P, &b, 1), 0);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE + P, 2 * P), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 2);
    const aspace_region_t *lo = aspace_find(as, BASE), *hi = aspace_find(as, BASE + 3 * P);
    KTEST_EXPECT(lo && lo->start == BASE && lo->end == BASE + P);
    KTEST_EXPECT(hi && hi->start == BASE + 3 * P && hi->end == BASE + 4 * P);
    KTEST_EXPECT(aspace_find(as, BASE + P) == NULL);
    KTEST_EXPECT(aspace_find(as, BASE + 3 * P - 1) == NULL);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    KTEST_EXPECT_EQ(aspace_read(as, BASE + P, &b, 1), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE + 16 * P, P), 0); /* a hole: not an error */
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE + 1, P), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE, 0), -VK_EINVAL);
    /* One unmap across both pieces and the hole between them. */
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE, 4 * P), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 0);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 0);
    aspace_destroy(as);
}

KTEST(aspace_map_checks_overlap_and_arguments)
{
    aspace_t *as = aspace_create();
    uint8_t b = 3, r = 0;
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 4 * P, RW, ASPACE_ANON, "a"), 0);
    KTEST_EXPECT_EQ(aspace_write(as, BASE, &b, 1), 0);
    KTEST_EXPECT_EQ(aspace_write(as, BASE + 3 * P, &b, 1), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 2 * P, 4 * P, RW, ASPACE_ANON, "b"), -VK_EEXIST);
    KTEST_EXPECT_EQ(aspace_map(as, BASE - P, 8 * P, RW, ASPACE_ANON, "b"), -VK_EEXIST);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 2 * P, 4 * P, RW, ASPACE_ANON | ASPACE_FIXED, "b"), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 2);
    const aspace_region_t *reg = aspace_find(as, BASE + 3 * P);
    KTEST_EXPECT(reg && reg->start == BASE + 2 * P && reg->name[0] == 'b');
    KTEST_EXPECT_EQ(aspace_read(as, BASE + 3 * P, &r, 1), 0);
    KTEST_EXPECT_EQ(r, 0); /* the replaced page is gone */
    KTEST_EXPECT_EQ(aspace_read(as, BASE, &r, 1), 0);
    KTEST_EXPECT_EQ(r, 3);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 1);
    /* Same kind next door merges. */
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 6 * P, P, RW, ASPACE_ANON, "b"), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), 2);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 1, P, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 64 * P, 0, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 64 * P, P, 8, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, 0xffff800000000000ull, P, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, 0x0000900000000000ull, P, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, ASPACE_USER_LIMIT - P, 2 * P, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, ASPACE_USER_LIMIT - P, ~0ull - P, RW, ASPACE_ANON, "x"), -VK_EINVAL);
    KTEST_EXPECT_EQ(aspace_map(as, 0, P, RW, ASPACE_ANON | ASPACE_FIXED, "x"), -VK_EPERM);
    /* An unaligned length rounds up to pages. */
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 64 * P, 10, RW, ASPACE_ANON, NULL), 0);
    reg = aspace_find(as, BASE + 64 * P);
    KTEST_EXPECT(reg && reg->end == BASE + 65 * P && reg->name[0] == 0);
    aspace_destroy(as);
}

KTEST(aspace_find_free_finds_a_hole)
{
    aspace_t *as = aspace_create();
    const uint64_t M = 0x100000;
    KTEST_EXPECT_EQ(aspace_map(as, BASE, M, RW, ASPACE_ANON, "a"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 2 * M, M, RW, ASPACE_ANON, "b"), 0);
    KTEST_EXPECT_EQ(aspace_find_free(as, M, 0, BASE, BASE + 3 * M), BASE + M);
    KTEST_EXPECT_EQ(aspace_find_free(as, M, 0, BASE, BASE + 5 * M), BASE + 4 * M); /* top-down */
    KTEST_EXPECT_EQ(aspace_find_free(as, 2 * M, 0, BASE, BASE + 3 * M), 0);
    KTEST_EXPECT_EQ(aspace_find_free(as, M, BASE + M, BASE, BASE + 5 * M), BASE + M); /* hint */
    KTEST_EXPECT_EQ(aspace_find_free(as, M, BASE, BASE, BASE + 5 * M), BASE + 4 * M);
    /* A stack keeps a guard page free below it. */
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 4 * M, M, RW, ASPACE_ANON | ASPACE_STACK, "stack"), 0);
    KTEST_EXPECT_EQ(aspace_find_free(as, M, 0, BASE, BASE + 5 * M), BASE + M);
    KTEST_EXPECT_EQ(aspace_find_free(as, M - P, 0, BASE, BASE + 5 * M), BASE + 3 * M);
    uint64_t at = aspace_find_free(as, M, 0, 0, ~0ull);
    KTEST_EXPECT(at != 0 && at + M <= ASPACE_USER_LIMIT && at >= BASE + 5 * M);
    KTEST_EXPECT_EQ(aspace_map(as, at, M, RW, ASPACE_ANON, "c"), 0);
    aspace_destroy(as);
}

KTEST(aspace_stack_grows_within_the_limit)
{
    aspace_t *as = aspace_create();
    const uint64_t top = 0x7fff00000000ull, first = top - 4 * P;
    KTEST_EXPECT_EQ(aspace_map(as, first, 4 * P, RW, ASPACE_ANON | ASPACE_STACK, "stack"), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, top - 64 * P + 8, PF_U | PF_W), 0);
    const aspace_region_t *r = aspace_find(as, top - 1);
    KTEST_EXPECT(r && r->start == top - 64 * P && r->end == top);
    KTEST_EXPECT_EQ(aspace_fault(as, top - CONFIG_USER_STACK_MAX, PF_U | PF_W), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, top - CONFIG_USER_STACK_MAX - 1, PF_U | PF_W), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_fault(as, top - CONFIG_USER_STACK_MAX - 64 * P, PF_U), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_region_count(as), 1);

    /* Through usercopy in the active space, and never into the guard page. */
    const uint64_t top2 = BASE + 64 * P;
    KTEST_EXPECT_EQ(aspace_map(as, top2 - P, P, RW, ASPACE_ANON | ASPACE_STACK, "stack2"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, top2 - 16 * P, 4 * P, RW, ASPACE_ANON, "below"), 0);
    uint64_t v = 42;
    aspace_activate(as);
    KTEST_EXPECT_EQ(usercopy_to(top2 - 4 * P, &v, 8), 0);
    KTEST_EXPECT_EQ(usercopy_to(top2 - 11 * P, &v, 8), 0); /* leaves [-12P, -11P) free */
    KTEST_EXPECT_EQ(usercopy_to(top2 - 12 * P, &v, 8), -VK_EFAULT);
    aspace_activate(NULL);
    r = aspace_find(as, top2 - 1);
    KTEST_EXPECT(r && r->start == top2 - 11 * P);
    KTEST_EXPECT_EQ(aspace_fault(as, top2 - 12 * P, PF_U | PF_I), -VK_EFAULT);
    aspace_destroy(as);
}

KTEST(aspace_region_limit_gives_enomem)
{
    uint64_t frames = aspace_frames_in_use();
    aspace_t *as = aspace_create();
    /* One three-page region, then single pages with holes between them. */
    KTEST_EXPECT_EQ(aspace_map(as, BASE, 3 * P, RW, ASPACE_ANON, "r"), 0);
    unsigned i;
    for (i = 1; i < CONFIG_ASPACE_MAX_REGIONS; i++)
        if (aspace_map(as, BASE + (2 + 2 * i) * P, P, RW, ASPACE_ANON, "r"))
            break;
    KTEST_EXPECT_EQ(i, CONFIG_ASPACE_MAX_REGIONS);
    KTEST_EXPECT_EQ(aspace_region_count(as), CONFIG_ASPACE_MAX_REGIONS);
    uint64_t next = BASE + (4 + 2 * i) * P;
    KTEST_EXPECT_EQ(aspace_map(as, next, P, RW, ASPACE_ANON, "r"), -VK_ENOMEM);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE + P, P), -VK_ENOMEM);             /* split */
    KTEST_EXPECT_EQ(aspace_protect(as, BASE + P, P, ASPACE_PROT_READ), -VK_ENOMEM);
    KTEST_EXPECT_EQ(aspace_region_count(as), CONFIG_ASPACE_MAX_REGIONS);
    /* Growing a region (a merge) and shrinking one still work at the limit. */
    uint64_t last = BASE + 2 * CONFIG_ASPACE_MAX_REGIONS * P;
    KTEST_EXPECT(aspace_find(as, last) != NULL);
    KTEST_EXPECT_EQ(aspace_map(as, last + P, P, RW, ASPACE_ANON, "r"), 0);
    KTEST_EXPECT_EQ(aspace_unmap(as, BASE + 2 * P, P), 0);
    KTEST_EXPECT_EQ(aspace_region_count(as), CONFIG_ASPACE_MAX_REGIONS);
    aspace_destroy(as);
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames);
}

KTEST(aspace_kernel_fault_outside_usercopy_is_not_paged_in)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, P, RW, ASPACE_ANON, "heap"), 0);
    arch_frame_t f = { 0 };
    f.cs = 0x08;
    f.error_code = PF_W;
    f.rip = (uint64_t)&aspace_fault; /* any kernel code but the copy routines */
    aspace_activate(as);
    KTEST_EXPECT(!aspace_handle_page_fault(&f, BASE));
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 0);
    f.cs = 0x2b; /* the same fault from ring 3 is demand paging */
    f.error_code = PF_W | PF_U;
    KTEST_EXPECT(aspace_handle_page_fault(&f, BASE));
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 1);
    KTEST_EXPECT(!aspace_handle_page_fault(&f, 0xffff800000001000ull));
    aspace_activate(NULL);
    aspace_destroy(as);
}

/* Found by `make stress`: two threads of a process wrote to the same copy-on-write stack
 * page at once; the second one's fault, taken on the old read-only translation, found
 * the entry already broken and writable, and the thread was killed with SIGSEGV. A fault
 * that the entry now allows is retried; one it still forbids stays an error. */
KTEST(aspace_fault_already_resolved_by_another_thread_is_retried_not_fatal)
{
    aspace_t *as = aspace_create();
    KTEST_EXPECT_EQ(aspace_map(as, BASE, P, RW, ASPACE_ANON, "stack"), 0);
    KTEST_EXPECT_EQ(aspace_map(as, BASE + 2 * P, P, ASPACE_PROT_READ, ASPACE_ANON, "ro"), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE, PF_W | PF_U), 0);          /* paged in */
    KTEST_EXPECT_EQ(aspace_fault(as, BASE, 1u | PF_W | PF_U), 0);     /* present, writable */
    KTEST_EXPECT_EQ(aspace_fault(as, BASE, 1u | PF_U), 0);            /* a read, too */
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 2 * P, PF_U), 0);
    KTEST_EXPECT_EQ(aspace_fault(as, BASE + 2 * P, 1u | PF_W | PF_U), -VK_EFAULT);
    KTEST_EXPECT_EQ(aspace_resident_pages(as), 2);
    aspace_destroy(as);
}
