/* SPDX-License-Identifier: MIT */
/*
 * The reading half of src/lib/json (json.h): a recursive-descent parser over a byte
 * range. The input is untrusted (it comes from user programs), so every read is
 * bounded by the end pointer and recursion by JSON_DEPTH_MAX.
 */
#include "json.h"
#include "../hexdigit.h"

typedef struct {
    const char *start, *p, *end;
    char *store;           /* next free byte of the object's storage */
    char *store_end;
    int error;             /* first error seen, positive JSON_E* */
    const char *error_at;
} parser_t;

static bool fail(parser_t *ps, int error)
{
    if (!ps->error) {
        ps->error = error;
        ps->error_at = ps->p;
    }
    return false;
}

static void skip_space(parser_t *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool literal(parser_t *ps, const char *word)
{
    for (; *word; word++, ps->p++)
        if (ps->p == ps->end || *ps->p != *word)
            return fail(ps, JSON_ESYNTAX);
    return true;
}

/* Appends one byte of a decoded string; no storage means "check only". */
static bool put(parser_t *ps, char **dst, char c)
{
    if (!*dst)
        return true;
    if (*dst == ps->store_end)
        return fail(ps, JSON_ETOOLONG);
    *(*dst)++ = c;
    return true;
}

static bool put_utf8(parser_t *ps, char **dst, uint32_t cp)
{
    if (cp < 0x80)
        return put(ps, dst, (char)cp);
    if (cp < 0x800)
        return put(ps, dst, (char)(0xc0 | (cp >> 6))) && put(ps, dst, (char)(0x80 | (cp & 0x3f)));
    if (cp < 0x10000)
        return put(ps, dst, (char)(0xe0 | (cp >> 12))) &&
               put(ps, dst, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
               put(ps, dst, (char)(0x80 | (cp & 0x3f)));
    return put(ps, dst, (char)(0xf0 | (cp >> 18))) &&
           put(ps, dst, (char)(0x80 | ((cp >> 12) & 0x3f))) &&
           put(ps, dst, (char)(0x80 | ((cp >> 6) & 0x3f))) &&
           put(ps, dst, (char)(0x80 | (cp & 0x3f)));
}

/* Four hex digits after "\u". */
static bool hex4(parser_t *ps, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++, ps->p++) {
        int d = ps->p < ps->end ? hex_digit(*ps->p) : -1;
        if (d < 0)
            return fail(ps, JSON_ESYNTAX);
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* The escape after a backslash (ps->p is past the backslash). */
static bool escape(parser_t *ps, char **dst)
{
    if (ps->p == ps->end)
        return fail(ps, JSON_ESYNTAX);
    char c = *ps->p++;
    switch (c) {
    case '"': case '\\': case '/': return put(ps, dst, c);
    case 'b': return put(ps, dst, '\b');
    case 'f': return put(ps, dst, '\f');
    case 'n': return put(ps, dst, '\n');
    case 'r': return put(ps, dst, '\r');
    case 't': return put(ps, dst, '\t');
    case 'u': break;
    default: ps->p--; return fail(ps, JSON_ESYNTAX);
    }
    uint32_t cp, low;
    if (!hex4(ps, &cp))
        return false;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(ps, JSON_EENCODING);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return fail(ps, JSON_EENCODING);
        ps->p += 2;
        if (!hex4(ps, &low))
            return false;
        if (low < 0xdc00 || low > 0xdfff)
            return fail(ps, JSON_EENCODING);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (cp == 0)
        return fail(ps, JSON_ENUL);
    return put_utf8(ps, dst, cp);
}

/* One UTF-8 sequence starting at ps->p (a byte >= 0x80), copied through. */
static bool utf8_sequence(parser_t *ps, char **dst)
{
    size_t n = json_utf8_length((const uint8_t *)ps->p, (size_t)(ps->end - ps->p));
    if (!n)
        return fail(ps, JSON_EENCODING);
    for (size_t i = 0; i < n; i++)
        if (!put(ps, dst, *ps->p++))
            return false;
    return true;
}

/* A string at ps->p (the opening quote). With store, decodes it into the storage and
 * sets *out and *length; without, only checks it. */
static bool string(parser_t *ps, bool store, const char **out, size_t *length)
{
    char *dst = store ? ps->store : NULL;
    ps->p++;
    for (;;) {
        if (ps->p == ps->end)
            return fail(ps, JSON_ESYNTAX);
        uint8_t c = (uint8_t)*ps->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(ps, JSON_ESYNTAX);
        bool ok;
        if (c == '\\') {
            ps->p++;
            ok = escape(ps, &dst);
        } else if (c >= 0x80) {
            ok = utf8_sequence(ps, &dst);
        } else {
            ok = put(ps, &dst, (char)c);
            ps->p++;
        }
        if (!ok)
            return false;
    }
    ps->p++;
    if (!store)
        return true;
    if (!put(ps, &dst, '\0'))
        return false;
    *out = ps->store;
    *length = (size_t)(dst - ps->store) - 1;
    ps->store = dst;
    return true;
}

static bool digits(parser_t *ps)
{
    if (ps->p == ps->end || *ps->p < '0' || *ps->p > '9')
        return fail(ps, JSON_ESYNTAX);
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    return true;
}

static bool number(parser_t *ps, json_member_t *m)
{
    m->negative = *ps->p == '-';
    if (m->negative)
        ps->p++;
    const char *int_start = ps->p;
    if (ps->p < ps->end && *ps->p == '0')
        ps->p++;
    else if (!digits(ps))
        return false;
    const char *int_end = ps->p;
    m->integer = true;
    m->overflow = false;
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        m->integer = false;
        if (!digits(ps))
            return false;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        m->integer = false;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!digits(ps))
            return false;
    }
    m->magnitude = 0;
    for (const char *d = int_start; m->integer && d < int_end; d++) {
        uint64_t digit = (uint64_t)(*d - '0');
        if (m->magnitude > (UINT64_MAX - digit) / 10) {
            m->integer = false;
            m->overflow = true;
        } else {
            m->magnitude = m->magnitude * 10 + digit;
        }
    }
    if (!m->integer)
        m->magnitude = 0;
    return true;
}

static bool value(parser_t *ps, json_member_t *m, unsigned depth);

/* An object or array at ps->p, checked but not stored (depth counts it). */
static bool container(parser_t *ps, unsigned depth)
{
    if (depth > JSON_DEPTH_MAX)
        return fail(ps, JSON_EDEPTH);
    bool object = *ps->p == '{';
    char close = object ? '}' : ']';
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return true;
    }
    for (;;) {
        json_member_t scratch;
        skip_space(ps);
        if (object) {
            if (ps->p == ps->end || *ps->p != '"')
                return fail(ps, JSON_ESYNTAX);
            if (!string(ps, false, NULL, NULL))
                return false;
            skip_space(ps);
            if (ps->p == ps->end || *ps->p != ':')
                return fail(ps, JSON_ESYNTAX);
            ps->p++;
            skip_space(ps);
        }
        if (!value(ps, &scratch, depth))
            return false;
        skip_space(ps);
        if (ps->p == ps->end)
            return fail(ps, JSON_ESYNTAX);
        if (*ps->p == close) {
            ps->p++;
            return true;
        }
        if (*ps->p != ',')
            return fail(ps, JSON_ESYNTAX);
        ps->p++;
    }
}

/* Any value at ps->p (whitespace skipped), described into m. Strings are stored only
 * at the top level (depth 1); deeper ones are checked. */
static bool value(parser_t *ps, json_member_t *m, unsigned depth)
{
    if (ps->p == ps->end)
        return fail(ps, JSON_ESYNTAX);
    switch (*ps->p) {
    case '"':
        m->type = JSON_TYPE_STRING;
        return string(ps, depth == 1, &m->string, &m->string_length);
    case '{':
    case '[':
        m->type = *ps->p == '{' ? JSON_TYPE_OBJECT : JSON_TYPE_ARRAY;
        return container(ps, depth + 1);
    case 't':
        m->type = JSON_TYPE_BOOL;
        m->boolean = true;
        return literal(ps, "true");
    case 'f':
        m->type = JSON_TYPE_BOOL;
        m->boolean = false;
        return literal(ps, "false");
    case 'n':
        m->type = JSON_TYPE_NULL;
        return literal(ps, "null");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
            m->type = JSON_TYPE_NUMBER;
            return number(ps, m);
        }
        return fail(ps, JSON_ESYNTAX);
    }
}

static bool same(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static bool members(parser_t *ps, json_object_t *out)
{
    ps->p++; /* '{' */
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return true;
    }
    for (;;) {
        skip_space(ps);
        if (ps->p == ps->end || *ps->p != '"')
            return fail(ps, JSON_ESYNTAX);
        if (out->count == JSON_MEMBERS_MAX)
            return fail(ps, JSON_ETOOMANY);
        json_member_t *m = &out->members[out->count];
        const char *at = ps->p;
        size_t key_length;
        if (!string(ps, true, &m->key, &key_length))
            return false;
        for (unsigned i = 0; i < out->count; i++) {
            if (same(out->members[i].key, m->key)) {
                ps->p = at;
                return fail(ps, JSON_EDUPLICATE);
            }
        }
        skip_space(ps);
        if (ps->p == ps->end || *ps->p != ':')
            return fail(ps, JSON_ESYNTAX);
        ps->p++;
        skip_space(ps);
        if (!value(ps, m, 1))
            return false;
        out->count++;
        skip_space(ps);
        if (ps->p == ps->end)
            return fail(ps, JSON_ESYNTAX);
        if (*ps->p == '}') {
            ps->p++;
            return true;
        }
        if (*ps->p != ',')
            return fail(ps, JSON_ESYNTAX);
        ps->p++;
    }
}

int json_parse_object(json_object_t *out, const char *text, size_t length)
{
    parser_t ps = { text, text, text + length, out->storage,
                    out->storage + sizeof(out->storage), 0, NULL };
    for (unsigned i = 0; i < JSON_MEMBERS_MAX; i++)
        out->members[i] = (json_member_t){ 0 };
    out->count = 0;
    out->error_offset = 0;
    skip_space(&ps);
    if (ps.p == ps.end || *ps.p != '{') {
        bool looks_like_json = ps.p < ps.end && (*ps.p == '[' || *ps.p == '"' ||
                               *ps.p == '-' || (*ps.p >= '0' && *ps.p <= '9') ||
                               *ps.p == 't' || *ps.p == 'f' || *ps.p == 'n');
        fail(&ps, looks_like_json ? JSON_ENOTOBJECT : JSON_ESYNTAX);
    } else if (members(&ps, out)) {
        skip_space(&ps);
        if (ps.p != ps.end)
            fail(&ps, JSON_ESYNTAX);
    }
    if (ps.error) {
        out->count = 0;
        out->error_offset = (size_t)(ps.error_at - text);
        return -ps.error;
    }
    return 0;
}

const json_member_t *json_find(const json_object_t *o, const char *key)
{
    for (unsigned i = 0; i < o->count; i++)
        if (same(o->members[i].key, key))
            return &o->members[i];
    return NULL;
}

int json_member_uint_in(const json_member_t *m, uint64_t min, uint64_t max, uint64_t *out)
{
    if (m->type != JSON_TYPE_NUMBER || (!m->integer && !m->overflow))
        return JSON_UINT_NOT_INTEGER;
    /* -0 is 0; any other negative number, and one past 64 bits, is out of range. */
    if (m->overflow || (m->negative && m->magnitude) || m->magnitude < min ||
        m->magnitude > max)
        return JSON_UINT_OUT_OF_RANGE;
    *out = m->magnitude;
    return JSON_UINT_OK;
}

const char *json_error_string(int err)
{
    switch (err < 0 ? -err : err) {
    case 0: return "no error";
    case JSON_ESYNTAX: return "not valid JSON";
    case JSON_ENOTOBJECT: return "the request is not a JSON object";
    case JSON_EDUPLICATE: return "a key appears twice";
    case JSON_ETOOMANY: return "too many members (JSON_MEMBERS_MAX)";
    case JSON_ETOOLONG: return "strings too long (JSON_STORAGE_MAX)";
    case JSON_EDEPTH: return "nested too deeply (JSON_DEPTH_MAX)";
    case JSON_ENUL: return "a string contains U+0000";
    case JSON_EENCODING: return "invalid UTF-8 or a lone surrogate";
    default: return "unknown JSON error";
    }
}

const char *json_type_name(json_type_t type)
{
    switch (type) {
    case JSON_TYPE_NULL: return "null";
    case JSON_TYPE_BOOL: return "boolean";
    case JSON_TYPE_NUMBER: return "number";
    case JSON_TYPE_STRING: return "string";
    case JSON_TYPE_OBJECT: return "object";
    case JSON_TYPE_ARRAY: return "array";
    default: return "unknown";
    }
}
