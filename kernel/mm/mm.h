/* SPDX-License-Identifier: MIT */
/*
 * Memory management public interface: physical pages (buddy allocator), the kernel heap
 * (slab caches + large allocations), the direct map and device mappings.
 */
#ifndef KERNEL_MM_MM_H
#define KERNEL_MM_MM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <vk/boot.h>

#define PAGE_SIZE  4096ull
#define PAGE_SHIFT 12

static inline void *phys_to_virt(uint64_t phys) { return (void *)(phys + VK_BOOT_DIRECT_MAP_BASE); }
static inline uint64_t virt_to_phys(const void *virt) { return (uint64_t)virt - VK_BOOT_DIRECT_MAP_BASE; }

/* Physical pages (kernel/mm/pmm.c over kernel/mm/buddy.c). */
void pmm_init(const vk_boot_info_t *info);
uint64_t pmm_alloc_pages(unsigned order);        /* 2^order contiguous pages; 0 when out of memory */
void pmm_free_pages(uint64_t phys, unsigned order);
uint64_t pmm_total_bytes(void);
uint64_t pmm_free_bytes(void);

/* Kernel heap (kernel/mm/heap.c over kernel/mm/slab.c). */
void heap_init(void);
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *ptr);
/* Debug-heap self-tests: while a capture is set, heap error reports (redzone, use after
 * free, double free, bad pointer: see slab.h) are counted into it instead of panicking,
 * and the heap carries on as slab.h describes. Global: set it only around code that
 * makes the one error it expects. NULL: panic again. */
typedef struct {
    unsigned count;
    int last_error;            /* SLAB_ERR_* of the last report */
    const void *last_object;
    char last_report[224];     /* the text panic would have printed */
} heap_report_capture_t;
void heap_capture_reports(heap_report_capture_t *capture);
/* Debug heap: every quarantined object leaves now, checked (poison, redzones); returns
 * how many. 0 in the normal build, which has no quarantine. */
size_t heap_quarantine_flush(void);
/* Debug heap: the kmalloc'd object whose bytes hold `addr` (for a large block, only in
 * its first page), and the call site that allocated it; false for anything else (stacks,
 * pages, the normal build). Takes no lock: addr must lie in memory the caller knows is
 * live. */
bool heap_object_containing(const void *addr, const void **object, uintptr_t *alloc_site);
/* One kmalloc slab cache's numbers (KObj /mem/slab): false past the last cache. */
typedef struct {
    const char *name;       /* static */
    uint64_t object_size;
    uint64_t in_use;        /* objects allocated */
    uint64_t total;         /* objects the cache's slabs hold, used or not */
    uint64_t bytes;         /* memory of its slabs */
} heap_cache_stats_t;
bool heap_cache_stats(unsigned index, heap_cache_stats_t *out);

/* Kernel virtual memory (kernel/mm/vmm.c). */
void vmm_init(const vk_boot_info_t *info);
/* Map device memory uncached (or write-combining) into the MMIO window; NULL on failure. */
void *vmm_map_mmio(uint64_t phys, uint64_t size);
/* Moves each time a kernel-half entry of the kernel's root table is filled in. */
uint64_t vmm_root_generation(void);
void *vmm_map_framebuffer(uint64_t phys, uint64_t size);
/* A kernel stack with an unmapped guard page below it; returns the top (initial RSP). */
void *vmm_alloc_kernel_stack(unsigned pages);
/* Page-table walk of the current address space: physical address and flags, false if unmapped. */
bool vmm_query(uint64_t virt, uint64_t *phys, uint64_t *flags);

#endif
