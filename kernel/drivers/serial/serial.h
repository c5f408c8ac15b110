/* SPDX-License-Identifier: MIT */
/* 16550 UART on COM1: the kernel's first console and the test result channel. */
#ifndef KERNEL_DRIVERS_SERIAL_H
#define KERNEL_DRIVERS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

void serial_init(void);
bool serial_present(void);
void serial_write(const char *s, size_t n);
/* The bytes as they are (no "\r\n" for '\n'). */
void serial_write_raw(const char *s, size_t n);
/* A received byte, or -1 when none is waiting. Never blocks. */
int serial_read_byte(void);
/* True when a byte is waiting (serial_read_byte would return it). */
bool serial_input_ready(void);

/* From now on received bytes go to sink, called from the interrupt handler, instead of
 * waiting for serial_read_byte. false when the interrupt cannot be routed (then input
 * stays polled). */
bool serial_enable_receive_interrupt(void (*sink)(const char *bytes, size_t n));

#endif
