/* SPDX-License-Identifier: MIT */
/*
 * Boot handoff: the one structure the UEFI loader (src/boot) fills and passes to the
 * kernel entry point in RDI. Shared verbatim by loader and kernel; fixed-width fields only.
 *
 * Every address in this struct is PHYSICAL unless its name ends in _virt. The kernel
 * reaches physical memory through the direct map at VK_BOOT_DIRECT_MAP_BASE, which the
 * loader has already set up (see docs/memory.md).
 */
#ifndef VK_BOOT_H
#define VK_BOOT_H

#include <stdint.h>
#include <stddef.h>

#define VK_BOOT_MAGIC   0x31305442534b5f56ull /* "V_KSBT01" little-endian */
#define VK_BOOT_VERSION 2u /* 2: smp_trampoline is VK_BOOT_SMP_TRAMPOLINE_PAGES pages */

/* Virtual layout fixed by the loader (docs/memory.md). */
#define VK_BOOT_DIRECT_MAP_BASE 0xffff800000000000ull
#define VK_BOOT_KERNEL_BASE     0xffffffff80000000ull

/* Pages below 1 MiB the loader reserves for starting the other CPUs (docs/boot.md): the
 * real-mode trampoline and the page tables it needs before it can reach the kernel. */
#define VK_BOOT_SMP_TRAMPOLINE_PAGES 4u

/* Memory region types handed to the kernel (after converting the UEFI map). */
#define VK_MEM_USABLE        1u /* free RAM (conventional + boot services) */
#define VK_MEM_RESERVED      2u /* firmware reserved, unusable, MMIO */
#define VK_MEM_ACPI_RECLAIM  3u /* ACPI tables: usable once parsed */
#define VK_MEM_ACPI_NVS      4u /* never touch */
#define VK_MEM_LOADER        5u /* loader code/data: reclaimable after boot */
#define VK_MEM_KERNEL        6u /* kernel image, boot page tables, boot info, modules */
#define VK_MEM_RUNTIME       7u /* UEFI runtime services code/data */
#define VK_MEM_BAD           8u

typedef struct {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t _pad;
} vk_boot_mem_region_t;
_Static_assert(sizeof(vk_boot_mem_region_t) == 24, "vk_boot_mem_region_t size");

#define VK_FB_FORMAT_BGRX 1u /* byte 0 blue, 1 green, 2 red (UEFI PixelBlueGreenRedReserved) */
#define VK_FB_FORMAT_RGBX 2u

typedef struct {
    uint64_t base;      /* physical address of pixel (0,0); 0 when there is no framebuffer */
    uint64_t size;      /* bytes */
    uint32_t width;     /* pixels */
    uint32_t height;
    uint32_t pitch;     /* bytes per scanline */
    uint32_t format;    /* VK_FB_FORMAT_* */
} vk_boot_framebuffer_t;
_Static_assert(sizeof(vk_boot_framebuffer_t) == 32, "vk_boot_framebuffer_t size");

#define VK_BOOT_MODULE_NAME_MAX 64

typedef struct {
    char     name[VK_BOOT_MODULE_NAME_MAX]; /* path on the ESP below /boot, NUL-terminated */
    uint64_t base;                          /* physical, page aligned */
    uint64_t size;                          /* bytes (file size) */
} vk_boot_module_t;
_Static_assert(sizeof(vk_boot_module_t) == 80, "vk_boot_module_t size");

typedef struct {
    uint64_t magic;             /* VK_BOOT_MAGIC */
    uint32_t version;           /* VK_BOOT_VERSION */
    uint32_t size;              /* sizeof(vk_boot_info_t) as the loader knew it */

    uint64_t kernel_phys_base;  /* lowest physical page of the loaded kernel image */
    uint64_t kernel_phys_size;  /* bytes, page rounded */
    uint64_t kernel_virt_base;  /* virtual address kernel_phys_base is mapped at */
    uint64_t pml4;              /* physical address of the page-table root in CR3 */
    uint64_t direct_map_size;   /* bytes of physical memory mapped at the direct map */

    uint64_t memory_map;        /* physical address of vk_boot_mem_region_t[] */
    uint32_t memory_map_count;
    uint32_t module_count;
    uint64_t modules;           /* physical address of vk_boot_module_t[] */

    uint64_t cmdline;           /* physical address of a NUL-terminated string */
    uint64_t acpi_rsdp;         /* physical address of the RSDP, 0 if not found */
    uint64_t smp_trampoline;    /* physical, below 1 MiB: VK_BOOT_SMP_TRAMPOLINE_PAGES pages for AP start-up, 0 if none */
    uint64_t uefi_system_table; /* physical; only runtime services remain valid */

    vk_boot_framebuffer_t framebuffer;

    uint64_t tsc_loader_entry;  /* rdtsc at loader entry (boot-cost benchmark) */
    uint64_t tsc_kernel_jump;   /* rdtsc just before jumping to the kernel */
} vk_boot_info_t;
_Static_assert(sizeof(vk_boot_info_t) == 160, "vk_boot_info_t size");
_Static_assert(offsetof(vk_boot_info_t, framebuffer) == 112, "framebuffer offset");

/* Kernel entry point: _start with RDI = the direct-map address of this struct (SysV ABI),
 * running on a loader-provided stack, interrupts off, CR3 = info->pml4. */

#endif
