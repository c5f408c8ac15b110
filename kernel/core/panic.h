/* SPDX-License-Identifier: MIT */
/*
 * panic(): a broken kernel invariant. Prints the message, a register dump when called
 * from an exception, and a symbolized backtrace; halts every CPU. In test mode it leaves
 * QEMU through isa-debug-exit so CI never hangs. Never call it for user-caused errors.
 */
#ifndef KERNEL_CORE_PANIC_H
#define KERNEL_CORE_PANIC_H

#include <stddef.h>
#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

/* Print "  [n] 0x... symbol+0xoff" for each frame, starting at frame pointer rbp. */
void panic_backtrace(unsigned long rip, unsigned long rbp);
/* The same walk without printing: rip, then the return address of each frame, into
 * addrs (at most max); returns the count. Takes no lock and reads only mapped kernel
 * memory, so an NMI handler may call it. */
unsigned panic_collect_backtrace(uint64_t rip, uint64_t rbp, uint64_t *addrs, unsigned max);
/* Prints addresses collected that way as a symbolized backtrace. */
void panic_print_backtrace(const uint64_t *addrs, unsigned count);
/* "name+0xoff (file:line)", "name+0xoff" or "?" for a kernel address, into buf. */
#define PANIC_DESCRIBE_MAX 240
const char *panic_describe(uint64_t addr, char *buf, size_t size);

/* Called by the exception path: register dump, backtrace from the faulting frame. */
#include "arch/x86_64/arch.h"
__attribute__((noreturn)) void panic_exception(const arch_frame_t *frame, const char *what);
/* The kernel's own symbol map (the vkernel.map boot module), used to name frames. */
void panic_set_symbol_map(const char *map, size_t len);
/* The line-table bundle (the modules/debug.lines boot module, src/lib/linemap.h): frames
 * then also name file:line from its "vkernel.elf" section, once its stamp shows it was
 * made from this kernel build (otherwise it is ignored with a warning). */
void panic_set_line_table(const char *table, size_t len);
/* In test modes a panic leaves QEMU with this isa-debug-exit value instead of halting. */
void panic_set_exit_code(uint8_t value);

#define KASSERT(cond) \
    do { if (!(cond)) panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)

#endif
