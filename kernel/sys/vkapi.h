/* SPDX-License-Identifier: MIT */
/* The vk_api_t page every process gets at VK_API_USER_ADDR (include/vk/vk.h). */
#ifndef KERNEL_SYS_VKAPI_H
#define KERNEL_SYS_VKAPI_H

#include "mm/aspace.h"

/* Maps a read-only, executable copy of the table and its stubs into `as`. */
int vkapi_map(aspace_t *as);

#endif
