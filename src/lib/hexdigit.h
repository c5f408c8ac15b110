/* SPDX-License-Identifier: MIT */
/* One hexadecimal digit's value, for the src/lib parsers. */
#ifndef SRC_LIB_HEXDIGIT_H
#define SRC_LIB_HEXDIGIT_H

/* 0..15, or -1 when c is not a hex digit (either case). */
static inline int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
