/* SPDX-License-Identifier: MIT */
/*
 * Maps the vk_api_t page (kernel/sys/vkapi_page.S) into a process.
 * FIXME: every process gets its own copy of the 4 KiB page; sharing one frame needs an
 * aspace mapping of a kernel-owned frame, which comes with shared memory (issue: IPC).
 */
#include "sys/vkapi.h"
#include <vk/vk.h>

extern const char vkapi_page_start[], vkapi_page_end[];

_Static_assert(VK_API_USER_ADDR % 4096 == 0, "the vk_api page is page aligned");

int vkapi_map(aspace_t *as)
{
    uint64_t size = (uint64_t)(vkapi_page_end - vkapi_page_start);
    int err = aspace_map(as, VK_API_USER_ADDR, size, ASPACE_PROT_READ | ASPACE_PROT_EXEC,
                         ASPACE_ANON, "vk_api");
    if (err)
        return err;
    return aspace_write(as, VK_API_USER_ADDR, vkapi_page_start, size);
}
