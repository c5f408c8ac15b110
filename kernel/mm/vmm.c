/* SPDX-License-Identifier: MIT */
/*
 * Kernel virtual memory on top of the loader's page tables (docs/memory.md):
 *   - drops the loader's identity map of low memory,
 *   - maps device registers uncached into the MMIO window,
 *   - maps the framebuffer write-combining (PAT entry 1, set up in arch/x86_64/cpu.c),
 *   - hands out kernel stacks with an unmapped guard page below each.
 * Page-table pages come from the buddy allocator and are reached through the direct map.
 * Virtual windows are only ever bump-allocated: nothing here unmaps yet (FIXME: unmapping
 * and TLB shootdown arrive with process address spaces).
 */
#include "mm/mm.h"
#include "arch/x86_64/arch.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "config.h"

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MMIO_WINDOW_BASE  0xffffc00000000000ull
#define STACK_WINDOW_BASE 0xffffe00000000000ull
#define STACK_WINDOW_SIZE (64ull << 30)

/* Guarded by lock: the window cursors and page-table updates. */
static spinlock_t lock = SPINLOCK_INIT;
static uint64_t *pml4;
static uint64_t mmio_next = MMIO_WINDOW_BASE;
static uint64_t stack_next = STACK_WINDOW_BASE;

static uint64_t *table_at(uint64_t entry)
{
    return phys_to_virt(entry & PTE_ADDR);
}

/* Counts the kernel-half root entries filled in since boot: an address space copies
 * the kernel half into its own root again only when this moved (aspace_activate). */
static uint64_t root_generation;

uint64_t vmm_root_generation(void)
{
    return __atomic_load_n(&root_generation, __ATOMIC_ACQUIRE);
}

static uint64_t *next_level(uint64_t *table, unsigned i)
{
    if (!(table[i] & PTE_P)) {
        uint64_t page = pmm_alloc_pages(0);
        if (!page)
            return NULL;
        memset(phys_to_virt(page), 0, PAGE_SIZE);
        table[i] = page | PTE_P | PTE_W;
        if (table == pml4) /* the entry first, then the count that announces it */
            __atomic_fetch_add(&root_generation, 1, __ATOMIC_RELEASE);
    }
    if (table[i] & PTE_PS)
        return NULL; /* a large page already covers this range */
    return table_at(table[i]);
}

static bool map_page(uint64_t virt, uint64_t phys, uint64_t flags)
{
    uint64_t *pdpt = next_level(pml4, (virt >> 39) & 511);
    uint64_t *pd = pdpt ? next_level(pdpt, (virt >> 30) & 511) : NULL;
    uint64_t *pt = pd ? next_level(pd, (virt >> 21) & 511) : NULL;
    if (!pt)
        return false;
    pt[(virt >> 12) & 511] = (phys & PTE_ADDR) | flags | PTE_P;
    arch_invlpg(virt);
    return true;
}

void vmm_init(const vk_boot_info_t *info)
{
    pml4 = phys_to_virt(info->pml4);
    /* The lower half held the loader's identity map; nothing uses it any more. */
    for (unsigned i = 0; i < 256; i++)
        pml4[i] = 0;
    arch_write_cr3(info->pml4);
    log_info("vmm: direct map %llu MiB at 0x%llx, kernel at 0x%llx",
             (unsigned long long)(info->direct_map_size >> 20),
             (unsigned long long)VK_BOOT_DIRECT_MAP_BASE,
             (unsigned long long)info->kernel_virt_base);
}

static void *map_window(uint64_t *cursor, uint64_t limit, uint64_t phys, uint64_t size,
                        uint64_t flags, const char *what)
{
    uint64_t offset = phys & (PAGE_SIZE - 1);
    uint64_t pages = (size + offset + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t f = spinlock_lock_irqsave(&lock);
    if (*cursor + pages * PAGE_SIZE > limit) {
        spinlock_unlock_irqrestore(&lock, f);
        log_error("vmm: %s window full (CONFIG_MMIO_WINDOW_BYTES)", what);
        return NULL;
    }
    uint64_t virt = *cursor;
    *cursor += pages * PAGE_SIZE;
    for (uint64_t i = 0; i < pages; i++) {
        if (!map_page(virt + i * PAGE_SIZE, (phys & ~(PAGE_SIZE - 1)) + i * PAGE_SIZE, flags)) {
            spinlock_unlock_irqrestore(&lock, f);
            log_error("vmm: out of memory mapping %s", what);
            return NULL;
        }
    }
    spinlock_unlock_irqrestore(&lock, f);
    return (void *)(virt + offset);
}

void *vmm_map_mmio(uint64_t phys, uint64_t size)
{
    return map_window(&mmio_next, MMIO_WINDOW_BASE + CONFIG_MMIO_WINDOW_BYTES, phys, size,
                      PTE_W | PTE_PCD | PTE_PWT | PTE_NX | PTE_G, "MMIO");
}

void *vmm_map_framebuffer(uint64_t phys, uint64_t size)
{
    return map_window(&mmio_next, MMIO_WINDOW_BASE + CONFIG_MMIO_WINDOW_BYTES, phys, size,
                      PTE_W | PTE_PWT | PTE_NX | PTE_G, "framebuffer");
}

void *vmm_alloc_kernel_stack(unsigned pages)
{
    uint64_t f = spinlock_lock_irqsave(&lock);
    if (stack_next + (pages + 1) * PAGE_SIZE > STACK_WINDOW_BASE + STACK_WINDOW_SIZE) {
        spinlock_unlock_irqrestore(&lock, f);
        log_error("vmm: kernel stack window full");
        return NULL;
    }
    uint64_t base = stack_next + PAGE_SIZE; /* the page below stays unmapped: the guard */
    stack_next += (pages + 1) * PAGE_SIZE;
    for (unsigned i = 0; i < pages; i++) {
        uint64_t page = pmm_alloc_pages(0);
        if (!page || !map_page(base + i * PAGE_SIZE, page, PTE_W | PTE_NX | PTE_G)) {
            spinlock_unlock_irqrestore(&lock, f);
            log_error("vmm: out of memory for a kernel stack");
            return NULL;
        }
    }
    spinlock_unlock_irqrestore(&lock, f);
    return (void *)(base + pages * PAGE_SIZE);
}

bool vmm_query(uint64_t virt, uint64_t *phys, uint64_t *flags)
{
    uint64_t *t = (uint64_t *)phys_to_virt(arch_read_cr3() & PTE_ADDR);
    uint64_t acc_flags = PTE_W; /* rights narrow down the levels */
    bool nx = false;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = t[(virt >> (12 + 9 * level)) & 511];
        if (!(e & PTE_P))
            return false;
        nx |= (e & PTE_NX) != 0;
        if (!(e & PTE_W))
            acc_flags &= ~PTE_W;
        if (level == 0 || (e & PTE_PS)) {
            uint64_t page_size = 1ull << (12 + 9 * level);
            if (phys)
                *phys = (e & PTE_ADDR & ~(page_size - 1)) + (virt & (page_size - 1));
            if (flags)
                *flags = (e & ~PTE_ADDR & ~PTE_W & ~PTE_NX) | acc_flags | (nx ? PTE_NX : 0);
            return true;
        }
        t = table_at(e);
    }
    return false;
}
