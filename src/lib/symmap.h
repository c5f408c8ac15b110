/* SPDX-License-Identifier: MIT */
/*
 * Symbol lookup over the text map the build writes with
 * `llvm-nm -n --defined-only vkernel.elf`: one `<hex address> <type> <name>` per line.
 *
 * The map is read from disk, so it is untrusted: it is a (pointer, length) buffer, not
 * NUL-terminated, and may be truncated, unsorted or garbage. Lines that do not parse are
 * skipped; nothing is read outside the buffer. No allocation, no global state: these
 * run at panic time. Addresses have at most 16 hex digits.
 */
#ifndef SRC_LIB_SYMMAP_H
#define SRC_LIB_SYMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMMAP_NAME_MAX     96              /* bytes in a result name, with its NUL */
#define SYMMAP_MAX_DISTANCE (1024u * 1024u) /* farther past a symbol: not inside it */

typedef struct {
    char name[SYMMAP_NAME_MAX]; /* truncated to fit, always NUL-terminated */
    uint64_t symbol_addr;
    uint64_t offset; /* addr - symbol_addr */
} symmap_result_t;

/*
 * The function symbol (type T, t, W or w) with the greatest address <= addr; among equal
 * addresses the first in the map. False if there is none or addr is more than
 * SYMMAP_MAX_DISTANCE past it (then *out is left alone).
 */
bool symmap_lookup(const char *map, size_t len, uint64_t addr, symmap_result_t *out);

/* The address of the first symbol of any type whose name is exactly name. */
bool symmap_find(const char *map, size_t len, const char *name, uint64_t *addr);

#endif
