/* SPDX-License-Identifier: MIT */
/*
 * The kernel's first page tables (Intel SDM vol. 3A, 4.5 "4-level paging").
 *
 *   PML4[256..]     direct map of physical memory from 0, 2 MiB pages, writable, NX
 *   PML4[0..]       an executable identity map of the same memory, so the loader keeps
 *                   running after it loads CR3; the kernel removes it in vmm_init
 *   PML4[511]       the kernel image at VK_BOOT_KERNEL_BASE, 4 KiB pages with the
 *                   rights of each ELF segment (W^X)
 *
 * All tables live in vkernel pages, so the kernel can keep using them.
 */
#include "loader.h"

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

static uint64_t *new_table(void)
{
    uint64_t *t = loader_alloc_pages(1);
    if (t)
        loader_zero(t, 4096);
    return t;
}

/* Fills PML4 entries [first, first + n) with 2 MiB mappings of physical memory from 0. */
static efi_status_t map_linear(uint64_t *pml4, unsigned first, uint64_t bytes, uint64_t flags)
{
    uint64_t gib = bytes >> 30;
    uint64_t *pdpt = NULL;
    for (uint64_t g = 0; g < gib; g++) {
        if (g % 512 == 0) {
            if (first + g / 512 >= 512)
                return EFI_UNSUPPORTED; /* over 128 TiB of RAM */
            pdpt = new_table();
            if (!pdpt)
                return EFI_OUT_OF_RESOURCES;
            pml4[first + g / 512] = (uint64_t)pdpt | PTE_P | PTE_W;
        }
        uint64_t *pd = new_table();
        if (!pd)
            return EFI_OUT_OF_RESOURCES;
        for (uint64_t m = 0; m < 512; m++)
            pd[m] = ((g << 30) + (m << 21)) | PTE_P | PTE_W | PTE_PS | flags;
        pdpt[g % 512] = (uint64_t)pd | PTE_P | PTE_W;
    }
    return EFI_SUCCESS;
}

efi_status_t loader_paging_init(loader_tables_t *t, uint64_t direct_map_size)
{
    uint64_t *pml4 = new_table();
    if (!pml4)
        return EFI_OUT_OF_RESOURCES;
    t->pml4 = (uint64_t)pml4;
    t->direct_map_size = direct_map_size;
    if ((direct_map_size >> 39) >= 256)
        return EFI_UNSUPPORTED;
    /* The direct map is data only. The identity map must stay executable: the loader
     * runs from it for the few instructions between loading CR3 and the jump. */
    efi_status_t s = map_linear(pml4, 256, direct_map_size, PTE_NX);
    if (EFI_IS_ERROR(s))
        return s;
    return map_linear(pml4, 0, direct_map_size, 0);
}

/* The next-level table behind entry i of table, created when absent. */
static uint64_t *next_level(uint64_t *table, unsigned i)
{
    if (!(table[i] & PTE_P)) {
        uint64_t *n = new_table();
        if (!n)
            return NULL;
        /* Upper levels stay permissive; the leaf entry carries the real rights. */
        table[i] = (uint64_t)n | PTE_P | PTE_W;
    }
    return (uint64_t *)(table[i] & PTE_ADDR);
}

efi_status_t loader_paging_map(loader_tables_t *t, uint64_t virt, uint64_t phys, uint64_t size,
                               bool writable, bool executable)
{
    uint64_t *pml4 = (uint64_t *)t->pml4;
    for (uint64_t off = 0; off < size; off += 4096) {
        uint64_t va = virt + off;
        uint64_t *pdpt = next_level(pml4, (va >> 39) & 511);
        uint64_t *pd = pdpt ? next_level(pdpt, (va >> 30) & 511) : NULL;
        uint64_t *pt = pd ? next_level(pd, (va >> 21) & 511) : NULL;
        if (!pt)
            return EFI_OUT_OF_RESOURCES;
        pt[(va >> 12) & 511] = (phys + off) | PTE_P | PTE_G | (writable ? PTE_W : 0) |
                               (executable ? 0 : PTE_NX);
    }
    return EFI_SUCCESS;
}
