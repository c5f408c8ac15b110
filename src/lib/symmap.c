/* SPDX-License-Identifier: MIT */
/*
 * Symbol map lookup (format and trust model in symmap.h).
 *
 * Design: a line cursor walks the buffer and hands out one parsed line at a time as
 * (address, type, name pointer, name length) into the map itself; every read is checked
 * against the end of the buffer first. The scan is linear and does not trust the map's
 * order: a kernel image has a few thousand symbols and this runs once per panic frame.
 * The winning name is copied out only at the end.
 */
#include "symmap.h"
#include "hexdigit.h"

struct line_cursor {
    const char *p;
    const char *end;
};

struct symbol_line {
    uint64_t addr;
    char type;
    const char *name;
    size_t name_len;
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Parses one line [p, end) as `addr type name`: 1..16 hex digits, blanks, a one-letter
 * type, blanks, a name that runs to the end of the line (a trailing CR and blanks are
 * not part of it). Anything else is rejected.
 */
static bool parse_line(const char *p, const char *end, struct symbol_line *out)
{
    uint64_t addr = 0;
    unsigned digits = 0;

    while (p < end && hex_digit(*p) >= 0) {
        if (++digits > 16)
            return false;
        addr = addr << 4 | (uint64_t)hex_digit(*p);
        p++;
    }
    if (digits == 0 || p == end || !is_blank(*p))
        return false;
    while (p < end && is_blank(*p))
        p++;
    if (p == end)
        return false;
    char type = *p++;
    if (p == end || !is_blank(*p))
        return false;
    while (p < end && is_blank(*p))
        p++;
    while (end > p && (end[-1] == '\r' || is_blank(end[-1])))
        end--;
    if (p == end)
        return false;

    out->addr = addr;
    out->type = type;
    out->name = p;
    out->name_len = (size_t)(end - p);
    return true;
}

/* The next line that parses, skipping the rest; false at the end of the buffer. */
static bool next_symbol(struct line_cursor *c, struct symbol_line *out)
{
    while (c->p < c->end) {
        const char *start = c->p;
        const char *nl = start;
        while (nl < c->end && *nl != '\n')
            nl++;
        c->p = nl < c->end ? nl + 1 : c->end; /* the last line may lack its newline */
        if (parse_line(start, nl, out))
            return true;
    }
    return false;
}

static bool is_function_type(char type)
{
    return type == 'T' || type == 't' || type == 'W' || type == 'w';
}

bool symmap_lookup(const char *map, size_t len, uint64_t addr, symmap_result_t *out)
{
    struct line_cursor cursor = { map, map ? map + len : map };
    struct symbol_line line;
    struct symbol_line best = { 0, 0, NULL, 0 };
    bool found = false;

    if (!out)
        return false;
    while (next_symbol(&cursor, &line)) {
        if (!is_function_type(line.type) || line.addr > addr)
            continue;
        if (!found || line.addr > best.addr) {
            best = line;
            found = true;
        }
    }
    if (!found || addr - best.addr > SYMMAP_MAX_DISTANCE)
        return false;

    size_t n = best.name_len < SYMMAP_NAME_MAX - 1 ? best.name_len : SYMMAP_NAME_MAX - 1;
    for (size_t i = 0; i < n; i++)
        out->name[i] = best.name[i];
    out->name[n] = '\0';
    out->symbol_addr = best.addr;
    out->offset = addr - best.addr;
    return true;
}

bool symmap_find(const char *map, size_t len, const char *name, uint64_t *addr)
{
    struct line_cursor cursor = { map, map ? map + len : map };
    struct symbol_line line;

    if (!name)
        return false;
    size_t name_len = 0;
    while (name[name_len])
        name_len++;

    while (next_symbol(&cursor, &line)) {
        if (line.name_len != name_len)
            continue;
        size_t i = 0;
        while (i < name_len && line.name[i] == name[i])
            i++;
        if (i == name_len) {
            if (addr)
                *addr = line.addr;
            return true;
        }
    }
    return false;
}
