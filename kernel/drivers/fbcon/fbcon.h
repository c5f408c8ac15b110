/* SPDX-License-Identifier: MIT */
/* Text console on the linear framebuffer: 8x16 bitmap font, scrolling, ANSI colours. */
#ifndef KERNEL_DRIVERS_FBCON_H
#define KERNEL_DRIVERS_FBCON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vk/boot.h>

/* `pixels` is the framebuffer already mapped into kernel space. */
bool fbcon_init(const vk_boot_framebuffer_t *fb, void *pixels);
bool fbcon_ready(void);
/* Writes text; handles \n \r \b \t and ESC[...m (colours), ESC[2J (clear). */
void fbcon_write(const char *s, size_t n);
void fbcon_size(unsigned *cols, unsigned *rows);

#endif
