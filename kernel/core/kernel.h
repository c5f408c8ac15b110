/* SPDX-License-Identifier: MIT */
/* Kernel-wide facts established at boot: version, command line, boot info. */
#ifndef KERNEL_CORE_KERNEL_H
#define KERNEL_CORE_KERNEL_H

#include <vk/boot.h>
#include "lib/cmdline.h"

#define KERNEL_VERSION "0.1.0"

const char *kernel_banner(void);
const char *kernel_build_id(void); /* git describe of the build */
const cmdline_t *kernel_cmdline(void);
const char *kernel_cmdline_text(void);
const vk_boot_info_t *kernel_boot_info(void);
/* Boot module by name (e.g. "vkernel.map"); NULL when absent. */
const vk_boot_module_t *kernel_find_module(const char *name);

#endif
