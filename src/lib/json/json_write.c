/* SPDX-License-Identifier: MIT */
/*
 * The writing half of src/lib/json (json.h). Separators are the writer's business:
 * each value or key asks sep() for the comma it may need, so callers only say what
 * comes next. Containers nest up to 32 deep (the bits of has_items); deeper ones are
 * written without commas being tracked, which no caller here needs.
 */
#include "json.h"

void json_writer_init(json_writer_t *w, char *buf, size_t size)
{
    *w = (json_writer_t){ .buf = buf, .size = size };
    if (size)
        buf[0] = '\0';
}

static void out(json_writer_t *w, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w->length + 1 >= w->size) {
            w->overflow = true;
            return;
        }
        w->buf[w->length++] = s[i];
    }
}

static void out_char(json_writer_t *w, char c)
{
    out(w, &c, 1);
}

/* Before a value or a key: the comma after a previous item of the same container. */
static void sep(json_writer_t *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    uint32_t bit = w->depth < 32 ? 1u << w->depth : 0;
    if (w->has_items & bit)
        out_char(w, ',');
    w->has_items |= bit;
}

static void begin(json_writer_t *w, char c)
{
    sep(w);
    out_char(w, c);
    w->depth++;
    if (w->depth < 32)
        w->has_items &= ~(1u << w->depth);
}

static void end(json_writer_t *w, char c)
{
    if (w->depth)
        w->depth--;
    out_char(w, c);
}

void json_object_begin(json_writer_t *w) { begin(w, '{'); }
void json_object_end(json_writer_t *w) { end(w, '}'); }
void json_array_begin(json_writer_t *w) { begin(w, '['); }
void json_array_end(json_writer_t *w) { end(w, ']'); }

size_t json_utf8_length(const uint8_t *s, size_t n)
{
    size_t len;
    uint32_t cp, min;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2; cp = s[0] & 0x1f; min = 0x80;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3; cp = s[0] & 0x0f; min = 0x800;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4; cp = s[0] & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void quoted(json_writer_t *w, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *b = (const uint8_t *)s;
    out_char(w, '"');
    for (size_t i = 0; i < n;) {
        uint8_t c = b[i];
        if (c >= 0x80) {
            size_t len = json_utf8_length(b + i, n - i);
            if (len) {
                out(w, s + i, len);
                i += len;
            } else {
                out(w, "\\ufffd", 6);
                i++;
            }
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            out(w, esc, 2);
        } else if (c == '\n') {
            out(w, "\\n", 2);
        } else if (c == '\t') {
            out(w, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            out(w, esc, 6);
        } else {
            out_char(w, (char)c);
        }
        i++;
    }
    out_char(w, '"');
}

static size_t length_of(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void json_key(json_writer_t *w, const char *key)
{
    sep(w);
    quoted(w, key, length_of(key));
    out_char(w, ':');
    w->after_key = true;
}

void json_string_n(json_writer_t *w, const char *s, size_t n)
{
    sep(w);
    quoted(w, s, n);
}

void json_string(json_writer_t *w, const char *s)
{
    json_string_n(w, s, length_of(s));
}

static void decimal(json_writer_t *w, bool negative, uint64_t magnitude)
{
    char digits[21];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    sep(w);
    if (negative)
        out_char(w, '-');
    out(w, digits + sizeof(digits) - n, n);
}

void json_int(json_writer_t *w, int64_t v)
{
    /* The magnitude of INT64_MIN does not fit int64_t: negate as unsigned. */
    decimal(w, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
}

void json_uint(json_writer_t *w, uint64_t v)
{
    decimal(w, false, v);
}

void json_bool(json_writer_t *w, bool v)
{
    sep(w);
    out(w, v ? "true" : "false", v ? 4 : 5);
}

void json_null(json_writer_t *w)
{
    sep(w);
    out(w, "null", 4);
}

bool json_writer_finish(json_writer_t *w)
{
    if (w->size)
        w->buf[w->length] = '\0';
    return !w->overflow;
}
