/* SPDX-License-Identifier: MIT */
/* 16550 UART on COM1: the kernel's first console and the test result channel. */
#ifndef KERNEL_DRIVERS_SERIAL_H
#define KERNEL_DRIVERS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
bool serial_present(void);
void serial_write(const char *s, size_t n);
/* A received byte, or -1 when none is waiting. Never blocks. */
int serial_read_byte(void);
/* True when a byte is waiting (serial_read_byte would return it). */
bool serial_input_ready(void);

#endif
