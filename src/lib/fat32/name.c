/* SPDX-License-Identifier: MIT */
/*
 * File names: UTF-8 <-> UTF-16, the rules for valid names, case-insensitive comparison,
 * 8.3 short names (exact, with NT case bits, or generated with a numeric tail) and long
 * name (LFN) slots with their checksum. Facts from the Microsoft FAT specification,
 * "FAT Long Directory Entries" and "Short name generation".
 *
 * Case folding is ASCII only: 'a'-'z' match 'A'-'Z'; every other code unit must match
 * exactly. Short names are ASCII: any other character becomes '_' in a generated one,
 * and bytes >= 0x80 read from disk (an OEM code page we do not know) are shown as the
 * Latin-1 character of the same value.
 */
#include "lib/fat32/internal.h"

#define UNICODE_MAX      0x10ffffu
#define REPLACEMENT_CHAR 0xfffdu
#define LFN_UNITS        13
#define LFN_LAST         0x40

static const uint8_t lfn_offsets[LFN_UNITS] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };

/* Decodes one UTF-8 sequence at s; returns its length, 0 for malformed input. */
static int utf8_decode(const uint8_t *s, uint32_t *cp)
{
    static const uint32_t min_for_length[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    int len = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 :
              s[0] >= 0xe0 && s[0] < 0xf0 ? 3 : s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : 0;
    if (len <= 1) {
        *cp = s[0];
        return len;
    }
    uint32_t v = s[0] & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min_for_length[len] || v > UNICODE_MAX || (v >= 0xd800 && v < 0xe000))
        return 0;
    *cp = v;
    return len;
}

static int push_unit(fat32_name_t *out, uint32_t unit)
{
    if (out->length >= FAT32_NAME_MAX)
        return -VK_ENAMETOOLONG;
    out->units[out->length++] = (uint16_t)unit;
    return 0;
}

int fat32_name_from_utf8(const char *utf8, fat32_name_t *out)
{
    const uint8_t *s = (const uint8_t *)utf8;
    out->length = 0;
    while (*s) {
        uint32_t cp;
        int n = utf8_decode(s, &cp), err;
        if (n == 0)
            return -VK_EINVAL;
        s += n;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            if ((err = push_unit(out, 0xd800 | cp >> 10)))
                return err;
            cp = 0xdc00 | (cp & 0x3ff);
        }
        if ((err = push_unit(out, cp)))
            return err;
    }
    return 0;
}

static bool is_dot_name(const fat32_name_t *n)
{
    return (n->length == 1 && n->units[0] == '.') ||
           (n->length == 2 && n->units[0] == '.' && n->units[1] == '.');
}

static bool forbidden_unit(uint16_t u)
{
    if (u < 0x20)
        return true;
    for (const char *p = "\"*/:<>?\\|"; *p; p++)
        if (u == (uint16_t)*p)
            return true;
    return false;
}

/* Rejects names FAT cannot hold; strips trailing dots and spaces as Windows does. */
int fat32_name_check(fat32_name_t *name)
{
    if (name->length == 0 || is_dot_name(name))
        return -VK_EINVAL;
    for (uint32_t i = 0; i < name->length; i++)
        if (forbidden_unit(name->units[i]))
            return -VK_EINVAL;
    while (name->length && (name->units[name->length - 1] == '.' ||
                            name->units[name->length - 1] == ' '))
        name->length--;
    return name->length ? 0 : -VK_EINVAL;
}

static size_t put_utf8(char *out, size_t at, size_t size, uint32_t cp)
{
    uint8_t b[4];
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n == 1) {
        b[0] = (uint8_t)cp;
    } else {
        for (size_t i = n - 1; i > 0; i--, cp >>= 6)
            b[i] = (uint8_t)(0x80 | (cp & 0x3f));
        b[0] = (uint8_t)((0xf00 >> n) | cp);
    }
    if (at + n >= size)
        return at;
    memcpy(out + at, b, n);
    return at + n;
}

void fat32_name_to_utf8(const fat32_name_t *name, char *out, size_t size)
{
    size_t at = 0;
    for (uint32_t i = 0; i < name->length; i++) {
        uint32_t u = name->units[i];
        if (u >= 0xd800 && u < 0xdc00 && i + 1 < name->length &&
            name->units[i + 1] >= 0xdc00 && name->units[i + 1] < 0xe000)
            u = 0x10000 + ((u - 0xd800) << 10) + (name->units[++i] - 0xdc00);
        else if (u >= 0xd800 && u < 0xe000)
            u = REPLACEMENT_CHAR; /* an unpaired surrogate on disk */
        at = put_utf8(out, at, size, u);
    }
    if (size)
        out[at] = 0;
}

static uint16_t fold(uint16_t u) { return u >= 'a' && u <= 'z' ? (uint16_t)(u - 32) : u; }

bool fat32_name_equal(const fat32_name_t *a, const fat32_name_t *b)
{
    if (a->length != b->length)
        return false;
    for (uint32_t i = 0; i < a->length; i++)
        if (fold(a->units[i]) != fold(b->units[i]))
            return false;
    return true;
}

/* Characters a short name may hold besides letters and digits. */
static bool short_special(uint16_t u)
{
    for (const char *p = "$%'-_@~`!(){}^#&"; *p; p++)
        if (u == (uint16_t)*p)
            return true;
    return false;
}

static bool short_char(uint16_t u)
{
    return (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
           short_special(u);
}

/* Case of a run of units: bit 1 = has upper, bit 2 = has lower. */
static int case_of(const uint16_t *u, uint32_t n)
{
    int c = 0;
    for (uint32_t i = 0; i < n; i++)
        c |= (u[i] >= 'A' && u[i] <= 'Z') ? 1 : (u[i] >= 'a' && u[i] <= 'z') ? 2 : 0;
    return c;
}

static void put_short_part(uint8_t *dst, const uint16_t *u, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        dst[i] = (uint8_t)fold(u[i]);
}

/*
 * A name that is a valid 8.3 name needs no long entry: all upper case, or with an
 * all-lower-case base and/or extension, which the NT case bits record (as Windows NT
 * and later do). Mixed case in one part needs a long name.
 */
bool fat32_short_exact(const fat32_name_t *name, uint8_t out[11], uint8_t *case_bits)
{
    uint32_t dot = name->length, base_len, ext_len;
    for (uint32_t i = 0; i < name->length; i++) {
        if (name->units[i] == '.') {
            if (dot != name->length)
                return false;
            dot = i;
        } else if (!short_char(name->units[i])) {
            return false;
        }
    }
    base_len = dot;
    ext_len = dot < name->length ? name->length - dot - 1 : 0;
    if (base_len < 1 || base_len > 8 || ext_len > 3 || (dot < name->length && !ext_len))
        return false;
    int base_case = case_of(name->units, base_len);
    int ext_case = case_of(name->units + dot + 1, ext_len);
    if (base_case == 3 || ext_case == 3)
        return false;
    memset(out, ' ', 11);
    put_short_part(out, name->units, base_len);
    put_short_part(out + 8, name->units + dot + 1, ext_len);
    *case_bits = (base_case == 2 ? FAT32_CASE_LOWER_BASE : 0) |
                 (ext_case == 2 ? FAT32_CASE_LOWER_EXT : 0);
    return true;
}

/* One unit of a generated short name: upper-cased, or '_' when lossy. */
static uint8_t basis_char(uint16_t u, bool *lossy)
{
    if (short_char(u))
        return (uint8_t)fold(u);
    *lossy = true;
    return '_';
}

/*
 * The basis name of the spec's generation algorithm: spaces dropped, leading dots
 * dropped, base up to 8 units before the last dot, extension up to 3 after it. Returns
 * true when nothing was lost (then the basis itself may be used without a tail).
 */
bool fat32_short_basis(const fat32_name_t *name, uint8_t basis[11])
{
    bool lossy = false;
    uint32_t start = 0, last_dot = name->length, n = 0;
    memset(basis, ' ', 11);
    while (start < name->length && (name->units[start] == '.' || name->units[start] == ' '))
        start++, lossy = true;
    for (uint32_t i = start; i < name->length; i++)
        if (name->units[i] == '.')
            last_dot = i;
    for (uint32_t i = start; i < last_dot; i++) {
        uint16_t u = name->units[i];
        if (u == ' ' || u == '.' || n == 8) {
            lossy = true;
            continue;
        }
        basis[n++] = basis_char(u, &lossy);
    }
    for (uint32_t i = last_dot + 1, e = 0; i < name->length; i++) {
        if (name->units[i] == ' ' || e == 3) {
            lossy = true;
            continue;
        }
        basis[8 + e++] = basis_char(name->units[i], &lossy);
    }
    if (n == 0)
        basis[0] = '_', lossy = true;
    return !lossy;
}

static uint16_t name_hash(const fat32_name_t *name)
{
    uint32_t h = 5381;
    for (uint32_t i = 0; i < name->length; i++)
        h = h * 33 + name->units[i];
    return (uint16_t)(h ^ h >> 16);
}

/*
 * Candidate n (1, 2, ...) for a generated short name: BASE~n for n <= 4, then a prefix,
 * four hex digits of a hash of the long name and ~(n-4), as Windows does to keep
 * directories with many similar names fast. False when n is too large.
 */
bool fat32_short_candidate(const uint8_t basis[11], const fat32_name_t *name, uint32_t n,
                           uint8_t out[11])
{
    char tail[12];
    uint32_t tail_len = 0, number = n <= 4 ? n : n - 4, prefix = 0;
    if (n == 0 || number > 999)
        return false;
    for (uint32_t v = number; v; v /= 10)
        tail[tail_len++] = (char)('0' + v % 10);
    tail[tail_len++] = '~';
    memcpy(out, basis, 11);
    while (prefix < 8 && basis[prefix] != ' ')
        prefix++;
    uint32_t room = 8 - tail_len - (n > 4 ? 4 : 0);
    uint32_t at = prefix < room ? prefix : room;
    if (n > 4) {
        uint16_t h = name_hash(name);
        for (int shift = 12; shift >= 0; shift -= 4)
            out[at++] = (uint8_t)"0123456789ABCDEF"[(h >> shift) & 0xf];
    }
    while (tail_len)
        out[at++] = (uint8_t)tail[--tail_len];
    while (at < 8)
        out[at++] = ' ';
    return true;
}

static uint32_t short_part_to_units(const uint8_t *src, uint32_t n, bool lower, uint16_t *dst)
{
    while (n && src[n - 1] == ' ')
        n--;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t u = src[i];
        dst[i] = (lower && u >= 'A' && u <= 'Z') ? (uint16_t)(u + 32) : u;
    }
    return n;
}

/* The displayed form of a short entry: "BASE.EXT", with the NT case bits applied. */
void fat32_short_to_name(const uint8_t *entry, fat32_name_t *out)
{
    uint8_t base[8];
    memcpy(base, entry, 8);
    if (base[0] == 0x05)
        base[0] = FAT32_ENTRY_DELETED; /* 0x05 stands for a leading 0xe5 byte */
    uint8_t nt = entry[12];
    out->length = short_part_to_units(base, 8, nt & FAT32_CASE_LOWER_BASE, out->units);
    uint16_t ext[3];
    uint32_t ext_len = short_part_to_units(entry + 8, 3, nt & FAT32_CASE_LOWER_EXT, ext);
    if (ext_len) {
        out->units[out->length++] = '.';
        for (uint32_t i = 0; i < ext_len; i++)
            out->units[out->length++] = ext[i];
    }
}

/* Whether a short entry's displayed name is `want` (ASCII case folded). The first
 * character turns most entries away before the name is built: a lookup asks this of
 * every entry it passes. */
bool fat32_short_name_is(const uint8_t *entry, const fat32_name_t *want)
{
    uint16_t first = entry[0] == 0x05 ? FAT32_ENTRY_DELETED : entry[0];
    if (entry[0] != ' ' && want->length && fold(first) != fold(want->units[0]))
        return false; /* a name not starting with a space starts with its first byte */
    fat32_name_t name;
    fat32_short_to_name(entry, &name);
    return fat32_name_equal(&name, want);
}

uint8_t fat32_lfn_checksum(const uint8_t short_name[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + short_name[i]);
    return sum;
}

/* Fills LFN slot `ordinal` (1-based) of the name. */
void fat32_lfn_fill(uint8_t *slot, const fat32_name_t *name, uint32_t ordinal, bool last,
                    uint8_t checksum)
{
    memset(slot, 0, FAT32_ENTRY_SIZE);
    slot[0] = (uint8_t)(ordinal | (last ? LFN_LAST : 0));
    slot[11] = FAT32_ATTR_LFN;
    slot[13] = checksum;
    for (uint32_t k = 0; k < LFN_UNITS; k++) {
        uint32_t i = (ordinal - 1) * LFN_UNITS + k;
        uint16_t u = i < name->length ? name->units[i] : i == name->length ? 0 : 0xffff;
        fat32_put16(slot + lfn_offsets[k], u);
    }
}

void fat32_lfn_extract(const uint8_t *slot, uint16_t *units13)
{
    for (uint32_t k = 0; k < LFN_UNITS; k++)
        units13[k] = fat32_get16(slot + lfn_offsets[k]);
}
