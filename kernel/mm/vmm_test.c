/* SPDX-License-Identifier: MIT */
/* In-kernel tests of the kernel's mappings: W^X per segment, guard pages, windows. */
#include "mm/mm.h"
#include "test/ktest.h"
#include "core/kernel.h"

#define PTE_W  (1ull << 1)
#define PTE_PCD (1ull << 4)
#define PTE_NX (1ull << 63)

extern const char __kernel_start[], __text_end[], __rodata_end[], __kernel_end[];

static uint64_t flags_of(const void *p)
{
    uint64_t flags = 0;
    KTEST_EXPECT(vmm_query((uint64_t)p, NULL, &flags));
    return flags;
}

KTEST(kernel_text_is_read_only_and_executable)
{
    uint64_t f = flags_of(__kernel_start);
    KTEST_EXPECT(!(f & PTE_W));
    KTEST_EXPECT(!(f & PTE_NX));
    f = flags_of(__text_end - 1);
    KTEST_EXPECT(!(f & PTE_W));
}

KTEST(kernel_rodata_is_read_only_and_not_executable)
{
    uint64_t f = flags_of(__text_end);
    KTEST_EXPECT(!(f & PTE_W));
    KTEST_EXPECT(f & PTE_NX);
}

KTEST(kernel_data_is_writable_and_not_executable)
{
    uint64_t f = flags_of(__rodata_end);
    KTEST_EXPECT(f & PTE_W);
    KTEST_EXPECT(f & PTE_NX);
    f = flags_of(__kernel_end - 1);
    KTEST_EXPECT(f & PTE_NX);
}

KTEST(direct_map_is_not_executable)
{
    uint64_t page = pmm_alloc_pages(0);
    KTEST_EXPECT(page != 0);
    uint64_t f = flags_of(phys_to_virt(page));
    KTEST_EXPECT(f & PTE_NX);
    KTEST_EXPECT(f & PTE_W);
    pmm_free_pages(page, 0);
}

KTEST(identity_map_removed)
{
    KTEST_EXPECT(!vmm_query(0x100000, NULL, NULL));
    KTEST_EXPECT(!vmm_query((uint64_t)kernel_boot_info() - VK_BOOT_DIRECT_MAP_BASE, NULL, NULL));
}

KTEST(kernel_stack_has_guard_page)
{
    void *top = vmm_alloc_kernel_stack(2);
    KTEST_EXPECT(top != NULL);
    uint64_t t = (uint64_t)top;
    KTEST_EXPECT(vmm_query(t - 8, NULL, NULL));
    KTEST_EXPECT(vmm_query(t - 2 * PAGE_SIZE, NULL, NULL));
    KTEST_EXPECT(!vmm_query(t - 2 * PAGE_SIZE - 8, NULL, NULL));
    *(volatile uint64_t *)(t - 8) = 42; /* writable */
}

KTEST(current_stack_is_guarded_kernel_stack)
{
    uint64_t rsp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
    KTEST_EXPECT(rsp >= 0xffffe00000000000ull && rsp < 0xffffe01000000000ull);
}

KTEST(mmio_mapping_is_uncached)
{
    /* The LAPIC page is mapped by lapic_init; map the HPET/any low page again here. */
    void *p = vmm_map_mmio(0xfee00000, 4096);
    KTEST_EXPECT(p != NULL);
    uint64_t phys = 0, f = flags_of(p);
    KTEST_EXPECT(vmm_query((uint64_t)p, &phys, NULL));
    KTEST_EXPECT_EQ(phys, 0xfee00000);
    KTEST_EXPECT(f & PTE_PCD);
    KTEST_EXPECT(f & PTE_NX);
}
