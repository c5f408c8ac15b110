/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for the two names libvk needs from <vk/vk.h> until the lead writes that
 * header; libvk.h includes this file only when <vk/vk.h> does not exist.
 * FIXME: delete once include/vk/vk.h defines AT_VK_API and vk_api_t.
 */
#ifndef VK_API_STUB_H
#define VK_API_STUB_H

/* Auxiliary vector entry whose value is the address of the process's vk_api_t. */
#define AT_VK_API 0x7601

typedef struct vk_api vk_api_t;

#endif
