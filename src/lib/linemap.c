/* SPDX-License-Identifier: MIT */
/*
 * Line-table lookup (format and trust model in linemap.h).
 *
 * Design: a line cursor hands out one line of the buffer at a time; each line is
 * classified by its first byte ('=' section, '@' file, '!' stamp, a hex digit a row) and
 * parsed with bounds-checked number readers. The lookup is two passes over the image's section: the
 * first follows the rows to the one covering addr (rows are sorted, so it stops at the
 * first row past addr), the second finds that row's file name. A corrupt table can give
 * a wrong answer, never a read outside the buffer or a loop that does not end.
 */
#include "linemap.h"
#include "hexdigit.h"

struct cursor {
    const char *p;
    const char *end;
};

/* The next line [*start, *stop) without its newline or trailing CR; false at the end. */
static bool next_line(struct cursor *c, const char **start, const char **stop)
{
    if (c->p >= c->end)
        return false;
    const char *s = c->p, *nl = s;
    while (nl < c->end && *nl != '\n')
        nl++;
    c->p = nl < c->end ? nl + 1 : c->end;
    while (nl > s && nl[-1] == '\r')
        nl--;
    *start = s;
    *stop = nl;
    return true;
}

static bool read_hex(const char **p, const char *end, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0;
    while (*p < end && hex_digit(**p) >= 0) {
        if (++digits > 16)
            return false;
        v = v << 4 | (uint64_t)hex_digit(**p);
        (*p)++;
    }
    *out = v;
    return digits > 0;
}

/* A decimal number up to max; false when there are no digits or it is larger. */
static bool read_dec(const char **p, const char *end, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    unsigned digits = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        v = v * 10 + (uint64_t)(**p - '0');
        if (++digits > 10 || v > max)
            return false;
        (*p)++;
    }
    *out = v;
    return digits > 0;
}

static bool skip_blanks(const char **p, const char *end)
{
    const char *start = *p;
    while (*p < end && (**p == ' ' || **p == '\t'))
        (*p)++;
    return *p > start;
}

/* A row "DELTA LINE [FILE]"; file is left alone when the row gives none. */
static bool parse_row(const char *p, const char *end, uint64_t *delta, uint32_t *line,
                      uint32_t *file)
{
    uint64_t d, l, f;
    if (!read_hex(&p, end, &d) || !skip_blanks(&p, end) || !read_dec(&p, end, UINT32_MAX, &l))
        return false;
    bool blank = skip_blanks(&p, end);
    if (p == end) {
        *delta = d;
        *line = (uint32_t)l;
        return true;
    }
    if (!blank || !read_dec(&p, end, UINT32_MAX, &f))
        return false;
    skip_blanks(&p, end);
    if (p != end)
        return false;
    *delta = d;
    *line = (uint32_t)l;
    *file = (uint32_t)f;
    return true;
}

static bool same_text(const char *p, const char *end, const char *s)
{
    while (p < end && *s && *p == *s) {
        p++;
        s++;
    }
    return p == end && *s == '\0';
}

/* Positions c just after the "=image" line; false when there is none. */
static bool find_section(struct cursor *c, const char *image)
{
    const char *s, *e;
    while (next_line(c, &s, &e))
        if (s < e && *s == '=' && same_text(s + 1, e, image))
            return true;
    return false;
}

static void copy_path(const char *p, const char *end, linemap_result_t *out)
{
    size_t n = (size_t)(end - p);
    if (n > LINEMAP_FILE_MAX - 1) {
        p = end - (LINEMAP_FILE_MAX - 1); /* keep the tail: the file name matters most */
        n = LINEMAP_FILE_MAX - 1;
    }
    for (size_t i = 0; i < n; i++)
        out->file[i] = p[i] ? p[i] : '?';
    out->file[n] = '\0';
}

/* The next line of the current section; false at its end (the next "=" line or the
 * end of the buffer). */
static bool next_in_section(struct cursor *c, const char **start, const char **stop)
{
    return next_line(c, start, stop) && !(*start < *stop && **start == '=');
}

/* Positions c after the header and the "=image" line; false when either is missing. */
static bool open_section(struct cursor *c, const char *image)
{
    const char *s, *e;
    if (!next_line(c, &s, &e) || !same_text(s, e, "VKLINES 1"))
        return false;
    return find_section(c, image);
}

bool linemap_check(const char *map, size_t len, const char *image, const char *symbol,
                   uint64_t address)
{
    if (!map || !image || !symbol)
        return false;
    struct cursor c = { map, map + len };
    const char *s, *e;
    if (!open_section(&c, image))
        return false;
    while (next_in_section(&c, &s, &e)) {
        if (s == e || *s != '!')
            continue;
        const char *p = s + 1, *name = p;
        while (p < e && *p != ' ' && *p != '\t')
            p++;
        const char *name_end = p;
        uint64_t value;
        if (!skip_blanks(&p, e) || !read_hex(&p, e, &value) || p != e)
            continue;
        if (same_text(name, name_end, symbol))
            return value == address;
    }
    return false;
}

bool linemap_lookup(const char *map, size_t len, const char *image, uint64_t addr,
                    linemap_result_t *out)
{
    if (!map || !image || !out)
        return false;
    struct cursor c = { map, map + len };
    const char *s, *e;
    if (!open_section(&c, image))
        return false;
    struct cursor section = c;

    /* Pass 1: the last row at or below addr. */
    uint64_t row_addr = 0, found_addr = 0;
    uint32_t file = 0, line = 0, found_file = 0, found_line = 0;
    bool found = false, closed = false;
    while (next_in_section(&c, &s, &e)) {
        uint64_t delta;
        if (!parse_row(s, e, &delta, &line, &file))
            continue;
        row_addr += delta; /* wraps on garbage; rows are then just not found */
        if (row_addr > addr) {
            closed = true;
            break;
        }
        found = true;
        found_addr = row_addr;
        found_file = file;
        found_line = line;
    }
    if (!found || found_line == 0 || found_file == 0)
        return false;
    if (!closed && addr - found_addr > LINEMAP_MAX_DISTANCE)
        return false; /* the table ends here (truncated?): do not stretch the last row */

    /* Pass 2: the name of found_file. */
    c = section;
    while (next_in_section(&c, &s, &e)) {
        if (s == e || *s != '@')
            continue;
        const char *p = s + 1;
        uint64_t index;
        if (!read_dec(&p, e, UINT32_MAX, &index) || !skip_blanks(&p, e) || p == e)
            continue;
        if (index == found_file) {
            copy_path(p, e, out);
            out->line = found_line;
            return true;
        }
    }
    return false;
}
