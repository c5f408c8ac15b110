/* SPDX-License-Identifier: MIT */
/*
 * printf-style formatting engine (see fmt.h for what is supported).
 *
 * Design: the format string is walked once. Literal runs go to the sink in one piece;
 * each conversion is parsed into a small spec and rendered as
 *     [spaces] [sign] [0x prefix] [zeros] [digits or text] [spaces]
 * where the padding is streamed from a constant block instead of built in a buffer, so
 * a large width never needs memory. Only integer digits (at most 22, for octal) are
 * built in a local array. No global state, no allocation: safe at panic time and from
 * any CPU as long as the sink is.
 */
#include "fmt.h"

#include <stdbool.h>
#include <stdint.h>

#define FLAG_MINUS 1u /* left-justify */
#define FLAG_ZERO  2u /* pad numbers with zeros */
#define FLAG_PLUS  4u /* always print a sign on signed conversions */
#define FLAG_SPACE 8u /* space where a '+' would go */
#define FLAG_ALT   16u /* '#': 0x prefix for %x, leading 0 for %o */

enum length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct spec {
    unsigned flags;
    int width;     /* 0 when absent */
    int precision; /* -1 when absent */
    enum length length;
};

struct out {
    fmt_sink_t sink;
    void *ctx;
    size_t total; /* bytes produced so far */
};

static const char fill_spaces[32] = "                                ";
static const char fill_zeros[32] = "00000000000000000000000000000000";

static void out_bytes(struct out *o, const char *s, size_t n)
{
    if (n == 0)
        return;
    o->sink(o->ctx, s, n);
    o->total += n;
}

static void out_fill(struct out *o, char c, size_t n)
{
    const char *block = c == '0' ? fill_zeros : fill_spaces;
    while (n > 0) {
        size_t chunk = n < sizeof(fill_spaces) ? n : sizeof(fill_spaces);
        out_bytes(o, block, chunk);
        n -= chunk;
    }
}

/* Reads a decimal field, saturating at INT_MAX so a silly width cannot overflow. */
static int parse_decimal(const char **pp)
{
    const char *p = *pp;
    int v = 0;
    while (*p >= '0' && *p <= '9') {
        int d = *p - '0';
        v = v > (0x7fffffff - d) / 10 ? 0x7fffffff : v * 10 + d;
        p++;
    }
    *pp = p;
    return v;
}

/* Text of a %s or %c, padded to the field width with spaces (the '0' flag is ignored). */
static void put_text(struct out *o, const struct spec *sp, const char *s, size_t n)
{
    size_t width = (size_t)sp->width;
    size_t pad = width > n ? width - n : 0;
    if (!(sp->flags & FLAG_MINUS))
        out_fill(o, ' ', pad);
    out_bytes(o, s, n);
    if (sp->flags & FLAG_MINUS)
        out_fill(o, ' ', pad);
}

/*
 * One integer: mag is the magnitude, sign is '-', '+', ' ' or 0, prefix is "0x", "0X"
 * or "" (already decided by the caller, which knows the conversion).
 */
static void put_integer(struct out *o, const struct spec *sp, uintmax_t mag, char sign,
                        const char *prefix, unsigned base, bool upper, bool octal_alt)
{
    const char *digit_chars = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[sizeof(uintmax_t) * 3 + 1]; /* > 64/3 octal digits */
    size_t ndigits = 0;

    /* An explicit zero precision prints no digits for the value zero (C11 7.21.6.1). */
    if (!(mag == 0 && sp->precision == 0)) {
        do {
            digits[sizeof(digits) - 1 - ndigits++] = digit_chars[mag % base];
            mag /= base;
        } while (mag != 0);
    }
    const char *first = digits + sizeof(digits) - ndigits;

    size_t precision = sp->precision < 0 ? 0 : (size_t)sp->precision;
    size_t zeros = precision > ndigits ? precision - ndigits : 0;
    /* '#' on %o: the first digit printed must be 0, growing the precision if needed. */
    if (octal_alt && zeros == 0 && (ndigits == 0 || first[0] != '0'))
        zeros = 1;

    size_t prefix_len = 0;
    while (prefix[prefix_len])
        prefix_len++;
    size_t body = (sign ? 1 : 0) + prefix_len + zeros + ndigits;
    size_t width = (size_t)sp->width;

    /* '0' pads with zeros between prefix and digits, unless '-' or a precision is given. */
    if ((sp->flags & FLAG_ZERO) && !(sp->flags & FLAG_MINUS) && sp->precision < 0 &&
        width > body) {
        zeros += width - body;
        body = width;
    }
    size_t pad = width > body ? width - body : 0;

    if (!(sp->flags & FLAG_MINUS))
        out_fill(o, ' ', pad);
    if (sign)
        out_bytes(o, &sign, 1);
    out_bytes(o, prefix, prefix_len);
    out_fill(o, '0', zeros);
    out_bytes(o, first, ndigits);
    if (sp->flags & FLAG_MINUS)
        out_fill(o, ' ', pad);
}

int fmt_vformat(fmt_sink_t sink, void *ctx, const char *fmt, va_list ap_in)
{
    struct out o = { sink, ctx, 0 };
    const char *p = fmt;
    va_list ap;

    va_copy(ap, ap_in);
    while (*p) {
        if (*p != '%') {
            const char *run = p;
            while (*p && *p != '%')
                p++;
            out_bytes(&o, run, (size_t)(p - run));
            continue;
        }

        const char *start = p++;
        struct spec sp = { 0, 0, -1, LEN_NONE };

        for (;; p++) {
            if (*p == '-')
                sp.flags |= FLAG_MINUS;
            else if (*p == '0')
                sp.flags |= FLAG_ZERO;
            else if (*p == '+')
                sp.flags |= FLAG_PLUS;
            else if (*p == ' ')
                sp.flags |= FLAG_SPACE;
            else if (*p == '#')
                sp.flags |= FLAG_ALT;
            else
                break;
        }

        if (*p == '*') {
            int w = va_arg(ap, int);
            p++;
            /* A negative '*' width means '-' plus its magnitude; avoid -INT_MIN. */
            if (w < 0) {
                sp.flags |= FLAG_MINUS;
                w = w == -0x7fffffff - 1 ? 0x7fffffff : -w;
            }
            sp.width = w;
        } else {
            sp.width = parse_decimal(&p);
        }

        if (*p == '.') {
            p++;
            if (*p == '*') {
                int prec = va_arg(ap, int);
                p++;
                sp.precision = prec < 0 ? -1 : prec; /* negative: as if omitted */
            } else {
                sp.precision = parse_decimal(&p);
            }
        }

        switch (*p) {
        case 'h':
            p++;
            sp.length = LEN_H;
            if (*p == 'h') {
                p++;
                sp.length = LEN_HH;
            }
            break;
        case 'l':
            p++;
            sp.length = LEN_L;
            if (*p == 'l') {
                p++;
                sp.length = LEN_LL;
            }
            break;
        case 'z': p++; sp.length = LEN_Z; break;
        case 't': p++; sp.length = LEN_T; break;
        case 'j': p++; sp.length = LEN_J; break;
        default: break;
        }

        char conv = *p;
        if (conv == '\0') {
            /* The string ends inside a conversion: copy what there is. */
            out_bytes(&o, start, (size_t)(p - start));
            break;
        }
        p++;

        switch (conv) {
        case 'd':
        case 'i': {
            intmax_t v;
            switch (sp.length) {
            case LEN_HH: v = (signed char)va_arg(ap, int); break;
            case LEN_H:  v = (short)va_arg(ap, int); break;
            case LEN_L:  v = va_arg(ap, long); break;
            case LEN_LL: v = va_arg(ap, long long); break;
            /* No signed size_t in C11; ptrdiff_t has the same size on our targets. */
            case LEN_Z:  v = va_arg(ap, ptrdiff_t); break;
            case LEN_T:  v = va_arg(ap, ptrdiff_t); break;
            case LEN_J:  v = va_arg(ap, intmax_t); break;
            default:     v = va_arg(ap, int); break;
            }
            char sign = 0;
            uintmax_t mag = (uintmax_t)v;
            if (v < 0) {
                sign = '-';
                mag = 0 - mag; /* correct for INTMAX_MIN too */
            } else if (sp.flags & FLAG_PLUS) {
                sign = '+';
            } else if (sp.flags & FLAG_SPACE) {
                sign = ' ';
            }
            put_integer(&o, &sp, mag, sign, "", 10, false, false);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uintmax_t v;
            switch (sp.length) {
            case LEN_HH: v = (unsigned char)va_arg(ap, unsigned int); break;
            case LEN_H:  v = (unsigned short)va_arg(ap, unsigned int); break;
            case LEN_L:  v = va_arg(ap, unsigned long); break;
            case LEN_LL: v = va_arg(ap, unsigned long long); break;
            case LEN_Z:  v = va_arg(ap, size_t); break;
            case LEN_T:  v = (uintmax_t)(uintptr_t)va_arg(ap, ptrdiff_t); break;
            case LEN_J:  v = va_arg(ap, uintmax_t); break;
            default:     v = va_arg(ap, unsigned int); break;
            }
            bool alt = (sp.flags & FLAG_ALT) != 0;
            if (conv == 'u')
                put_integer(&o, &sp, v, 0, "", 10, false, false);
            else if (conv == 'o')
                put_integer(&o, &sp, v, 0, "", 8, false, alt);
            else if (conv == 'x')
                put_integer(&o, &sp, v, 0, alt && v ? "0x" : "", 16, false, false);
            else
                put_integer(&o, &sp, v, 0, alt && v ? "0X" : "", 16, true, false);
            break;
        }
        case 'p': {
            /* Always full width so addresses line up in logs and backtraces. */
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            struct spec ps = { sp.flags & FLAG_MINUS, sp.width, (int)sizeof(void *) * 2,
                               LEN_NONE };
            put_integer(&o, &ps, v, 0, "0x", 16, false, false);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = 0;
            if (!s) {
                s = "(null)";
                n = 6;
            } else if (sp.precision >= 0) {
                /* Never read past the precision: the string need not be terminated. */
                while (n < (size_t)sp.precision && s[n])
                    n++;
            } else {
                while (s[n])
                    n++;
            }
            put_text(&o, &sp, s, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_text(&o, &sp, &c, 1);
            break;
        }
        case '%':
            out_bytes(&o, "%", 1);
            break;
        default:
            /* Unknown conversion: show it as written rather than guess at an argument. */
            out_bytes(&o, start, (size_t)(p - start));
            break;
        }
    }
    va_end(ap);

    return o.total > 0x7fffffff ? 0x7fffffff : (int)o.total;
}

struct buffer_sink {
    char *buf;
    size_t size; /* capacity including the terminating NUL */
    size_t used;
};

static void buffer_sink_write(void *ctx, const char *s, size_t n)
{
    struct buffer_sink *b = ctx;
    if (b->size == 0 || b->used >= b->size - 1)
        return;
    size_t room = b->size - 1 - b->used;
    size_t take = n < room ? n : room;
    for (size_t i = 0; i < take; i++)
        b->buf[b->used + i] = s[i];
    b->used += take;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer_sink b = { buf, buf ? size : 0, 0 };
    int n = fmt_vformat(buffer_sink_write, &b, fmt, ap);
    if (b.size > 0)
        b.buf[b.used] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
