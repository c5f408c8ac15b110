/* SPDX-License-Identifier: MIT */
/*
 * libvk: the vkernel runtime library linked into vkernel programs (libvk.a, -lvk).
 * Installed in the sysroot as <vk/libvk.h>.
 *
 * The kernel hands every process its vk_api_t (include/vk/vk.h) through the auxiliary
 * vector entry AT_VK_API. On another kernel (a plain Linux host) the entry is absent:
 * vk_api() returns NULL and vk_api_version() 0, so programs can still run there.
 */
#ifndef VK_LIBVK_H
#define VK_LIBVK_H

#include <stdint.h>

#if __has_include(<vk/vk.h>)
#include <vk/vk.h>
#else
#include "vk_api_stub.h"
#endif

/* The process's vk_api_t, or NULL when not running on vkernel. Leaves errno alone. */
vk_api_t *vk_api(void);

/* The revision of that table (from its header), or 0 when there is none. */
uint32_t vk_api_version(void);

#endif
