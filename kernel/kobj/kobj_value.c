/* SPDX-License-Identifier: MIT */
/*
 * KObj values as text (kobj.h): what /kobj files show and accept. One line, no
 * newline (kobjfs adds it on reads and strips one on writes):
 *   int, uint  decimal (uint also takes 0x hex on input)
 *   bool       true / false (input also 1 / 0)
 *   string     the bytes as they are
 *   enum       the choice's name
 *   bytes      lowercase hex, two digits a byte
 *   action     empty; any input triggers it
 */
#include "kobj/kobj.h"
#include "core/string.h"
#include "lib/fmt.h"
#include <vk/errno.h>

const char *kobj_type_name(kobj_type_t type)
{
    static const char *const names[] = {
        [KOBJ_DIR] = "dir", [KOBJ_INT] = "int", [KOBJ_UINT] = "uint",
        [KOBJ_BOOL] = "bool", [KOBJ_STRING] = "string", [KOBJ_ENUM] = "enum",
        [KOBJ_BYTES] = "bytes", [KOBJ_ACTION] = "action",
    };
    return type >= KOBJ_DIR && type <= KOBJ_ACTION ? names[type] : "unknown";
}

void kobj_value_string(kobj_value_t *v, const char *s)
{
    v->length = strlcpy(v->text, s, sizeof(v->text));
    if (v->length >= sizeof(v->text))
        v->length = sizeof(v->text) - 1;
}

/* The enum value's name, or NULL when the index is past the choices. */
static const char *choice(const kobj_node_t *node, uint64_t index)
{
    for (uint64_t i = 0; node->choices && node->choices[i]; i++)
        if (i == index)
            return node->choices[i];
    return NULL;
}

size_t kobj_format(const kobj_node_t *node, const kobj_value_t *v, char *buf, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    switch (node->type) {
    case KOBJ_INT:
        return (size_t)fmt_snprintf(buf, size, "%lld", (long long)v->i);
    case KOBJ_UINT:
        return (size_t)fmt_snprintf(buf, size, "%llu", (unsigned long long)v->u);
    case KOBJ_BOOL:
        return strlcpy(buf, v->u ? "true" : "false", size);
    case KOBJ_ENUM: {
        const char *name = choice(node, v->u);
        return strlcpy(buf, name ? name : "?", size);
    }
    case KOBJ_STRING: {
        size_t n = v->length < sizeof(v->text) ? v->length : sizeof(v->text) - 1;
        size_t fit = n < size ? n : size - 1;
        if (size) {
            memcpy(buf, v->text, fit);
            buf[fit] = 0;
        }
        return n;
    }
    case KOBJ_BYTES: {
        size_t n = v->length < sizeof(v->text) ? v->length : sizeof(v->text);
        for (size_t i = 0; i < n && 2 * i + 2 < size; i++) {
            buf[2 * i] = hex[(uint8_t)v->text[i] >> 4];
            buf[2 * i + 1] = hex[(uint8_t)v->text[i] & 15];
            buf[2 * i + 2] = 0;
        }
        if (size && !n)
            buf[0] = 0;
        return 2 * n;
    }
    default:
        if (size)
            buf[0] = 0;
        return 0;
    }
}

static int digit_value(char c, unsigned base)
{
    int d = c >= '0' && c <= '9' ? c - '0'
          : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
    return d < (int)base ? d : -1;
}

/* Decimal, or hex after 0x when hex_ok. 0, -VK_EINVAL or -VK_ERANGE. */
static int parse_u64(const char *s, size_t n, bool hex_ok, uint64_t *out)
{
    unsigned base = 10;
    if (hex_ok && n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        n -= 2;
    }
    if (!n)
        return -VK_EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value(s[i], base);
        if (d < 0)
            return -VK_EINVAL;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return -VK_ERANGE;
        v = v * base + (uint64_t)d;
    }
    *out = v;
    return 0;
}

static bool text_is(const char *text, size_t length, const char *word)
{
    return strlen(word) == length && !strncmp(text, word, length);
}

int kobj_parse(const kobj_node_t *node, const char *text, size_t length, kobj_value_t *out)
{
    out->i = 0;
    out->u = 0;
    out->length = 0;
    out->text[0] = 0;
    for (size_t i = 0; i < length; i++)
        if (!text[i])
            return -VK_EINVAL; /* a value is one line of text */
    switch (node->type) {
    case KOBJ_INT: {
        bool negative = length && text[0] == '-';
        uint64_t m;
        int err = parse_u64(text + negative, length - negative, false, &m);
        if (err)
            return err;
        if (m > (negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
            return -VK_ERANGE;
        out->i = negative ? (int64_t)(0 - m) : (int64_t)m;
        return 0;
    }
    case KOBJ_UINT:
        return parse_u64(text, length, true, &out->u);
    case KOBJ_BOOL:
        if (text_is(text, length, "true") || text_is(text, length, "1"))
            out->u = 1;
        else if (!text_is(text, length, "false") && !text_is(text, length, "0"))
            return -VK_EINVAL;
        return 0;
    case KOBJ_ENUM:
        for (uint64_t i = 0; node->choices[i]; i++) {
            if (text_is(text, length, node->choices[i])) {
                out->u = i;
                return 0;
            }
        }
        return -VK_EINVAL;
    case KOBJ_STRING:
        if (length >= sizeof(out->text))
            return -VK_ERANGE;
        memcpy(out->text, text, length);
        out->text[length] = 0;
        out->length = length;
        return 0;
    case KOBJ_BYTES:
        if (length % 2)
            return -VK_EINVAL;
        if (length / 2 > sizeof(out->text))
            return -VK_ERANGE;
        for (size_t i = 0; i < length; i += 2) {
            int hi = digit_value(text[i], 16), lo = digit_value(text[i + 1], 16);
            if (hi < 0 || lo < 0)
                return -VK_EINVAL;
            out->text[i / 2] = (char)(hi << 4 | lo);
        }
        out->length = length / 2;
        return 0;
    case KOBJ_ACTION:
        return 0;
    default:
        return -VK_EISDIR;
    }
}
