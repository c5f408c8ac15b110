/* SPDX-License-Identifier: MIT */
/*
 * Host tests for src/lib/symmap.c. Every map is copied into a heap block of exactly its
 * length (no NUL after it), so AddressSanitizer reports any read past the end. Covers
 * well-formed maps, the distance limit, empty/truncated/garbage input, long names, and
 * (when llvm-nm is installed) this test binary's own map.
 */
#define _POSIX_C_SOURCE 200809L /* popen, for the llvm-nm test */

#include "htest.h"

#include <unistd.h>

#include "../../src/lib/symmap.c"

/* The map as the kernel sees it: exactly len bytes, unterminated. */
static char *exact_copy(const char *text, size_t len)
{
    char *p = malloc(len ? len : 1);
    memcpy(p, text, len);
    return p;
}

static bool lookup_text(const char *text, uint64_t addr, symmap_result_t *r)
{
    size_t len = strlen(text);
    char *map = exact_copy(text, len);
    bool ok = symmap_lookup(map, len, addr, r);
    free(map);
    return ok;
}

static bool find_text(const char *text, const char *name, uint64_t *addr)
{
    size_t len = strlen(text);
    char *map = exact_copy(text, len);
    bool ok = symmap_find(map, len, name, addr);
    free(map);
    return ok;
}

static const char good_map[] =
    "ffffffff80000000 A __kernel_start\n"
    "ffffffff80100000 T _start\n"
    "ffffffff80100040 t early_init\n"
    "ffffffff80101234 T kernel_main\n"
    "ffffffff80101300 W arch_idle\n"
    "ffffffff80101380 w weak_helper\n"
    "ffffffff80102000 R rodata_table\n"
    "ffffffff80103000 D data_thing\n"
    "ffffffff80104000 d local_data\n"
    "ffffffff80105000 B bss_thing\n"
    "ffffffff80105100 b local_bss\n"
    "ffffffff80200000 T late_function\n";

HTEST(symmap_good_map_lookups)
{
    symmap_result_t r;
    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80101234ull, &r));
    HTEST_EXPECT_STR(r.name, "kernel_main");
    HTEST_EXPECT_EQ(r.symbol_addr, 0xffffffff80101234ull);
    HTEST_EXPECT_EQ(r.offset, 0);

    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80101250ull, &r));
    HTEST_EXPECT_STR(r.name, "kernel_main");
    HTEST_EXPECT_EQ(r.offset, 0x1c);

    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80100041ull, &r));
    HTEST_EXPECT_STR(r.name, "early_init");
    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80101300ull, &r));
    HTEST_EXPECT_STR(r.name, "arch_idle");
    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80101390ull, &r));
    HTEST_EXPECT_STR(r.name, "weak_helper");

    /* Data, rodata, bss and absolute symbols are never the answer. */
    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80105100ull, &r));
    HTEST_EXPECT_STR(r.name, "weak_helper");
    HTEST_EXPECT_EQ(r.offset, 0xffffffff80105100ull - 0xffffffff80101380ull);

    HTEST_EXPECT(lookup_text(good_map, 0xffffffff80200010ull, &r));
    HTEST_EXPECT_STR(r.name, "late_function");
}

HTEST(symmap_before_first_function)
{
    symmap_result_t r;
    memset(&r, 0x5a, sizeof(r));
    HTEST_EXPECT(!lookup_text(good_map, 0xffffffff800fffffull, &r));
    HTEST_EXPECT(!lookup_text(good_map, 0xffffffff80000000ull, &r)); /* only the A symbol */
    HTEST_EXPECT(!lookup_text(good_map, 0, &r));
    HTEST_EXPECT_EQ((unsigned char)r.name[0], 0x5a); /* untouched on failure */
}

HTEST(symmap_distance_limit)
{
    static const char map[] = "0000000000100000 T only\n";
    symmap_result_t r;
    HTEST_EXPECT(lookup_text(map, 0x100000 + SYMMAP_MAX_DISTANCE, &r));
    HTEST_EXPECT_EQ(r.offset, SYMMAP_MAX_DISTANCE);
    HTEST_EXPECT(!lookup_text(map, 0x100000 + SYMMAP_MAX_DISTANCE + 1, &r));
    HTEST_EXPECT(!lookup_text(map, UINT64_MAX, &r));
}

HTEST(symmap_empty_map)
{
    symmap_result_t r;
    uint64_t a;
    HTEST_EXPECT(!symmap_lookup(NULL, 0, 0x1000, &r));
    HTEST_EXPECT(!symmap_lookup(NULL, 100, 0x1000, &r));
    HTEST_EXPECT(!symmap_find(NULL, 0, "x", &a));
    HTEST_EXPECT(!lookup_text("", 0x1000, &r));
    HTEST_EXPECT(!lookup_text("\n\n\n", 0x1000, &r));
    HTEST_EXPECT(!find_text("", "x", &a));
    HTEST_EXPECT(!symmap_lookup(good_map, sizeof(good_map) - 1, 0xffffffff80101234ull, NULL));
}

HTEST(symmap_last_line_without_newline)
{
    symmap_result_t r;
    uint64_t a = 0;
    HTEST_EXPECT(lookup_text("0000000000001000 T alpha", 0x1010, &r));
    HTEST_EXPECT_STR(r.name, "alpha");
    HTEST_EXPECT(find_text("0000000000001000 T alpha\n0000000000002000 T beta", "beta", &a));
    HTEST_EXPECT_EQ(a, 0x2000);
}

HTEST(symmap_truncated_last_line)
{
    static const char *const tails[] = {
        "ffffffff8010", "ffffffff80102000", "ffffffff80102000 ", "ffffffff80102000 T",
        "ffffffff80102000 T ", "ffffffff80102000 T \r",
    };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char text[128];
        snprintf(text, sizeof(text), "ffffffff80101000 T first\n%s", tails[i]);
        symmap_result_t r;
        HTEST_EXPECT(lookup_text(text, 0xffffffff80102004ull, &r));
        HTEST_EXPECT_STR(r.name, "first");
    }
    /* Cut inside the name: the stub of the name is all there is to report. */
    symmap_result_t r;
    HTEST_EXPECT(lookup_text("ffffffff80101000 T first\nffffffff80102000 T kern", 0xffffffff80102004ull,
                             &r));
    HTEST_EXPECT_STR(r.name, "kern");
}

HTEST(symmap_crlf_and_blanks)
{
    static const char map[] = "0000000000001000\tT\tcrlf_fn  \r\n0000000000002000  t  spaced\r\n";
    symmap_result_t r;
    uint64_t a = 0;
    HTEST_EXPECT(lookup_text(map, 0x1001, &r));
    HTEST_EXPECT_STR(r.name, "crlf_fn");
    HTEST_EXPECT(lookup_text(map, 0x2001, &r));
    HTEST_EXPECT_STR(r.name, "spaced");
    HTEST_EXPECT(find_text(map, "crlf_fn", &a));
    HTEST_EXPECT_EQ(a, 0x1000);
}

HTEST(symmap_huge_and_odd_addresses)
{
    symmap_result_t r;
    HTEST_EXPECT(lookup_text("ffffffffffffffff T top\n", UINT64_MAX, &r));
    HTEST_EXPECT_STR(r.name, "top");
    HTEST_EXPECT_EQ(r.offset, 0);
    HTEST_EXPECT(lookup_text("FFFFFFFF80100000 T upper\n", 0xffffffff80100008ull, &r));
    HTEST_EXPECT_STR(r.name, "upper");
    HTEST_EXPECT(lookup_text("0 T zero\n", 0, &r));
    HTEST_EXPECT_STR(r.name, "zero");
    /* More than 16 digits cannot be an address: the line is skipped, not wrapped. */
    HTEST_EXPECT(!lookup_text("10000000000001000 T too_long\n", 0x1000, &r));
    HTEST_EXPECT(!lookup_text("00000000000000001000 T padded\n", 0x1000, &r));
    /* llvm-nm prints undefined symbols with blanks for the address. */
    HTEST_EXPECT(!lookup_text("                 U printf\n", 0x1000, &r));
}

HTEST(symmap_long_name_is_truncated)
{
    char text[400];
    char name[300];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(text, sizeof(text), "0000000000001000 T %s\n", name);
    symmap_result_t r;
    memset(&r, 0x5a, sizeof(r));
    HTEST_EXPECT(lookup_text(text, 0x1004, &r));
    HTEST_EXPECT_EQ(strlen(r.name), SYMMAP_NAME_MAX - 1);
    HTEST_EXPECT(strncmp(r.name, name, SYMMAP_NAME_MAX - 1) == 0);
    HTEST_EXPECT_EQ(r.offset, 4);

    /* Exactly SYMMAP_NAME_MAX-1 characters fit without loss. */
    name[SYMMAP_NAME_MAX - 1] = '\0';
    snprintf(text, sizeof(text), "0000000000001000 T %s", name);
    HTEST_EXPECT(lookup_text(text, 0x1000, &r));
    HTEST_EXPECT_STR(r.name, name);
    uint64_t a = 0;
    HTEST_EXPECT(find_text(text, name, &a));
    HTEST_EXPECT_EQ(a, 0x1000);
}

HTEST(symmap_unsorted_and_duplicates)
{
    static const char map[] = "0000000000003000 T c\n"
                              "0000000000001000 T a\n"
                              "0000000000002000 T b_first\n"
                              "0000000000002000 T b_alias\n";
    symmap_result_t r;
    HTEST_EXPECT(lookup_text(map, 0x2fff, &r));
    HTEST_EXPECT_STR(r.name, "b_first");
    HTEST_EXPECT(lookup_text(map, 0x1fff, &r));
    HTEST_EXPECT_STR(r.name, "a");
    HTEST_EXPECT(lookup_text(map, 0x3000, &r));
    HTEST_EXPECT_STR(r.name, "c");
}

HTEST(symmap_garbage_lines_are_skipped)
{
    static const char map[] = "garbage here\n"
                              "\x01\x02\xff\xfe\n"
                              "0000000000001000 T\n"
                              "0000000000001000Tnospace\n"
                              "zzzz T bad_addr\n"
                              "0000000000001000 TT two_letter_type\n"
                              "0000000000001000 T good\n"
                              "\n"
                              "0000000000001100 T \n"
                              "    \n"
                              "-0000000000001200 T negative\n";
    symmap_result_t r;
    uint64_t a = 0;
    HTEST_EXPECT(lookup_text(map, 0x1500, &r));
    HTEST_EXPECT_STR(r.name, "good");
    HTEST_EXPECT(find_text(map, "good", &a));
    HTEST_EXPECT(!find_text(map, "nospace", &a));
    HTEST_EXPECT(!find_text(map, "bad_addr", &a));
    HTEST_EXPECT(!find_text(map, "two_letter_type", &a));
    HTEST_EXPECT(!find_text(map, "negative", &a));
    HTEST_EXPECT(!find_text(map, "", &a));
}

HTEST(symmap_random_bytes_never_crash)
{
    uint64_t s = 0x1234567887654321ull;
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)(s % 2048);
        char *map = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            /* Mostly map-like characters, so some lines parse. */
            static const char alphabet[] = "0123456789abcdef Tt\n";
            map[i] = (s & 3) ? alphabet[(s >> 8) % (sizeof(alphabet) - 1)] : (char)(s >> 16);
        }
        symmap_result_t r;
        uint64_t a;
        for (int k = 0; k < 8; k++) {
            if (symmap_lookup(map, len, s >> k * 8, &r)) {
                HTEST_EXPECT(strlen(r.name) < SYMMAP_NAME_MAX);
                HTEST_EXPECT_EQ(r.offset, (s >> k * 8) - r.symbol_addr);
            }
        }
        (void)symmap_find(map, len, "T", &a);
        (void)symmap_find(map, len, "0", &a);
        free(map);
    }
}

HTEST(symmap_find_exact_names)
{
    uint64_t a = 0;
    HTEST_EXPECT(find_text(good_map, "kernel_main", &a));
    HTEST_EXPECT_EQ(a, 0xffffffff80101234ull);
    HTEST_EXPECT(find_text(good_map, "data_thing", &a)); /* any type */
    HTEST_EXPECT_EQ(a, 0xffffffff80103000ull);
    HTEST_EXPECT(find_text(good_map, "__kernel_start", &a));
    HTEST_EXPECT_EQ(a, 0xffffffff80000000ull);
    HTEST_EXPECT(!find_text(good_map, "kernel", &a));
    HTEST_EXPECT(!find_text(good_map, "kernel_main_", &a));
    HTEST_EXPECT(!find_text(good_map, "Kernel_main", &a));
    HTEST_EXPECT(!find_text(good_map, NULL, &a));
    HTEST_EXPECT(find_text(good_map, "_start", NULL));
}

/* Against a real llvm-nm map of this very binary (skipped if llvm-nm is missing). */
HTEST(symmap_real_llvm_nm_output)
{
    char command[96];
    /* Not /proc/self: in the child, that would be llvm-nm itself. */
    snprintf(command, sizeof(command), "llvm-nm -n --defined-only /proc/%ld/exe 2>/dev/null",
             (long)getpid());
    FILE *f = popen(command, "r");
    if (!f)
        return;
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    size_t got;
    while ((got = fread(text + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap)
            text = realloc(text, cap *= 2);
    }
    pclose(f);
    if (len == 0) {
        printf("  (llvm-nm not available: skipped)\n");
        free(text);
        return;
    }
    char *map = exact_copy(text, len);
    free(text);

    /* The binary is position-independent: the map holds link-time addresses. */
    uint64_t linked = 0;
    HTEST_EXPECT(symmap_find(map, len, "symmap_lookup", &linked));
    uint64_t bias = (uint64_t)(uintptr_t)&symmap_lookup - linked;
    uint64_t probe = (uint64_t)(uintptr_t)&symmap_find - bias + 7;
    symmap_result_t r;
    HTEST_EXPECT(symmap_lookup(map, len, probe, &r));
    HTEST_EXPECT_STR(r.name, "symmap_find");
    HTEST_EXPECT_EQ(r.offset, 7);
    free(map);
}

HTEST_MAIN()
