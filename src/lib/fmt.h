/* SPDX-License-Identifier: MIT */
/*
 * printf-style formatting without libc, shared by the kernel, the loader and host tests.
 *
 * One engine, fmt_vformat, hands finished pieces of output to a caller's sink, so the
 * kernel can print a line of any length without a buffer; fmt_vsnprintf is that engine
 * with a sink that fills a buffer.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%, length modifiers hh h l ll z t j, flags
 * - 0 + space #, field width and precision (each also as '*'). Differences from C:
 *  - %p always prints "0x" and 16 hex digits, also for NULL;
 *  - a NULL %s prints "(null)" in full, whatever the precision;
 *  - a conversion we do not know (%f, %e, %n, %q, ...) is copied to the output verbatim
 *    and takes no argument (except those already taken by a '*'); the kernel is built
 *    without SSE/x87, so there is no floating point at all;
 *  - l on %c and %s is accepted and ignored (no wide characters);
 *  - the return value saturates at INT_MAX instead of failing.
 */
#ifndef SRC_LIB_FMT_H
#define SRC_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives the output in order, in pieces of n bytes (not NUL-terminated, n may be 0). */
typedef void (*fmt_sink_t)(void *ctx, const char *s, size_t n);

/* Formats to sink; returns the number of bytes produced (saturated at INT_MAX). */
int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * C99 snprintf semantics: returns the length the full output would have, writes at most
 * size-1 bytes and always NUL-terminates when size > 0. buf may be NULL when size is 0.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
