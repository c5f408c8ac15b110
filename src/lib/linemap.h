/* SPDX-License-Identifier: MIT */
/*
 * Address -> file:line lookup over the line-table bundle the build writes with
 * scripts/gen-lines.py (one text file, a section per image):
 *
 *     VKLINES 1                 header (first line)
 *     =NAME                     a section for the image NAME (e.g. vkernel.elf, hello.vbin)
 *     !SYMBOL ADDRESS           optional: where SYMBOL (hex ADDRESS) was in that image,
 *                               so a table made for another build can be recognised
 *     @N PATH                   file N (decimal, from 1) of the section
 *     DELTA LINE [FILE]         a row: DELTA hex, LINE and FILE decimal
 *
 * A row's address is the previous row's (of the same section; 0 before the first) plus
 * DELTA; its FILE is the last one given in the section. A row covers the addresses up
 * to the next row; LINE 0 marks code with no line information.
 *
 * The bundle is read from disk, so it is untrusted: a (pointer, length) buffer, not
 * NUL-terminated, possibly truncated or garbage. Lines that do not parse are skipped;
 * nothing is read outside the buffer; the answer for a corrupt table may be wrong but
 * the lookup always ends (one linear pass per question). No allocation, no global state:
 * this runs at panic time.
 */
#ifndef SRC_LIB_LINEMAP_H
#define SRC_LIB_LINEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINEMAP_FILE_MAX     96              /* bytes in a result path, with its NUL */
#define LINEMAP_MAX_DISTANCE (64u * 1024u)   /* a row covers at most this many bytes */

typedef struct {
    char file[LINEMAP_FILE_MAX]; /* the path's tail when it is too long; NUL-terminated */
    uint32_t line;
} linemap_result_t;

/*
 * The file and line of addr (an address as linked, i.e. minus the load base for a
 * program) in the section called image. False when the bundle has no such section, no
 * row covers addr, the row is a gap (line 0) or its file is not listed; *out is then
 * left alone.
 */
bool linemap_lookup(const char *map, size_t len, const char *image, uint64_t addr,
                    linemap_result_t *out);

/*
 * True when the section called image has a "!symbol address" line with this address:
 * the table was made from the same build as the code asking (the kernel checks one of
 * its own functions before it trusts its section).
 */
bool linemap_check(const char *map, size_t len, const char *image, const char *symbol,
                   uint64_t address);

#endif
