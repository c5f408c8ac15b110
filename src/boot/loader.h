/* SPDX-License-Identifier: MIT */
/* Internal interface between the loader's files (src/boot). */
#ifndef SRC_BOOT_LOADER_H
#define SRC_BOOT_LOADER_H

#include "efi.h"
#include <vk/boot.h>
#include <stdbool.h>

extern efi_system_table_t *loader_st;
extern efi_handle_t loader_image;

void loader_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print an error, leave it on screen for a while, and return the status to the firmware. */
efi_status_t loader_fail(efi_status_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pages of vkernel's own memory type: survive ExitBootServices, reported as VK_MEM_KERNEL. */
void *loader_alloc_pages(uint64_t pages);
void *loader_alloc_pages_below(uint64_t pages, uint64_t max_address);
void loader_zero(void *p, uint64_t n);
void loader_copy(void *dst, const void *src, uint64_t n);

/* Files on the boot volume (src/boot/files.c). Paths use '\' like UEFI. */
efi_status_t loader_open_volume(void);
/* Reads a whole file into fresh vkernel pages; *size receives the file size. */
efi_status_t loader_read_file(const char *path, void **data, uint64_t *size);
/* Loads /boot/vkernel.map and each file of /boot/modules as boot modules. */
efi_status_t loader_load_modules(vk_boot_module_t *modules, uint32_t max, uint32_t *count);

/* Page tables (src/boot/paging.c). */
typedef struct {
    uint64_t pml4;        /* physical */
    uint64_t direct_map_size;
} loader_tables_t;
efi_status_t loader_paging_init(loader_tables_t *t, uint64_t direct_map_size);
/* Map [virt, virt+size) to phys with 4 KiB pages; writable/executable as asked. */
efi_status_t loader_paging_map(loader_tables_t *t, uint64_t virt, uint64_t phys, uint64_t size,
                               bool writable, bool executable);

#endif
