/* SPDX-License-Identifier: MIT */
/*
 * Host tests for src/lib/linemap.c. Every table is copied into a heap block of exactly
 * its length (no NUL after it), so AddressSanitizer reports any read past the end.
 * Covers lookups across rows, files and sections, gaps, the distance limit, long paths,
 * every truncation of a table, garbage and numbers out of range, and (when
 * llvm-dwarfdump and python3 are installed) a table scripts/gen-lines.py makes from this
 * test binary, checked against the addresses of its own functions.
 */
#define _POSIX_C_SOURCE 200809L /* popen */

#include "htest.h"

#include <unistd.h>

#include "../../src/lib/linemap.c"

static bool lookup_text(const char *text, const char *image, uint64_t addr,
                        linemap_result_t *r)
{
    size_t len = strlen(text);
    char *map = malloc(len ? len : 1);
    memcpy(map, text, len);
    bool ok = linemap_lookup(map, len, image, addr, r);
    free(map);
    return ok;
}

static const char table[] =
    "VKLINES 1\n"
    "=vkernel.elf\n"
    "!panic_set_line_table ffffffff80001040\n"
    "@1 kernel/core/panic.c\n"
    "@2 kernel/core/log.c\n"
    "ffffffff80001000 10 1\n" /* 0xffffffff80001000: panic.c:10 */
    "10 11\n"                 /* 0xffffffff80001010: panic.c:11 */
    "20 7 2\n"                /* 0xffffffff80001030: log.c:7 */
    "8 0\n"                   /* 0xffffffff80001038: gap */
    "8 20 1\n"                /* 0xffffffff80001040: panic.c:20 */
    "4 0\n"                   /* 0xffffffff80001044: end */
    "=hello.vbin\n"
    "@1 userspace/hello/hello.c\r\n"
    "1000 5 1\r\n"
    "20 0\r\n";

HTEST(finds_rows_and_files)
{
    linemap_result_t r;
    HTEST_EXPECT(lookup_text(table, "vkernel.elf", 0xffffffff80001000ull, &r));
    HTEST_EXPECT(strcmp(r.file, "kernel/core/panic.c") == 0 && r.line == 10);
    HTEST_EXPECT(lookup_text(table, "vkernel.elf", 0xffffffff8000100full, &r));
    HTEST_EXPECT(r.line == 10);
    HTEST_EXPECT(lookup_text(table, "vkernel.elf", 0xffffffff80001010ull, &r));
    HTEST_EXPECT(strcmp(r.file, "kernel/core/panic.c") == 0 && r.line == 11);
    HTEST_EXPECT(lookup_text(table, "vkernel.elf", 0xffffffff80001031ull, &r));
    HTEST_EXPECT(strcmp(r.file, "kernel/core/log.c") == 0 && r.line == 7);
    HTEST_EXPECT(lookup_text(table, "vkernel.elf", 0xffffffff80001043ull, &r));
    HTEST_EXPECT(strcmp(r.file, "kernel/core/panic.c") == 0 && r.line == 20);
}

HTEST(gaps_and_outside_are_not_found)
{
    linemap_result_t r = { "untouched", 99 };
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0xffffffff80000fffull, &r));
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0xffffffff8000103aull, &r));
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0xffffffff80001044ull, &r));
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", UINT64_MAX, &r));
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0, &r));
    HTEST_EXPECT(strcmp(r.file, "untouched") == 0 && r.line == 99);
}

HTEST(sections_are_separate)
{
    linemap_result_t r;
    HTEST_EXPECT(lookup_text(table, "hello.vbin", 0x1004, &r));
    HTEST_EXPECT(strcmp(r.file, "userspace/hello/hello.c") == 0 && r.line == 5);
    HTEST_EXPECT(!lookup_text(table, "hello.vbin", 0xffffffff80001000ull, &r));
    HTEST_EXPECT(!lookup_text(table, "hello", 0x1004, &r));
    HTEST_EXPECT(!lookup_text(table, "missing.vbin", 0x1004, &r));
    HTEST_EXPECT(!lookup_text(table, "", 0x1004, &r));
    /* The kernel's rows do not run on into the next section. */
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0xffffffff80002000ull, &r));
}

HTEST(stamp_names_the_build)
{
    size_t len = strlen(table);
    char *map = malloc(len);
    memcpy(map, table, len);
    HTEST_EXPECT(linemap_check(map, len, "vkernel.elf", "panic_set_line_table",
                               0xffffffff80001040ull));
    HTEST_EXPECT(!linemap_check(map, len, "vkernel.elf", "panic_set_line_table",
                                0xffffffff80001050ull));
    HTEST_EXPECT(!linemap_check(map, len, "vkernel.elf", "panic_set", 0xffffffff80001040ull));
    HTEST_EXPECT(!linemap_check(map, len, "hello.vbin", "panic_set_line_table",
                                0xffffffff80001040ull));
    HTEST_EXPECT(!linemap_check(map, len, "vkernel.elf", NULL, 0));
    for (size_t n = 0; n < len; n++) /* every cut: no read past it, and only a whole line counts */
        if (linemap_check(map, n, "vkernel.elf", "panic_set_line_table", 0xffffffff80001040ull))
            HTEST_EXPECT(n >= strlen("VKLINES 1\n=vkernel.elf\n!panic_set_line_table ffffffff80001040"));
    free(map);
    /* The stamp line is not a row. */
    linemap_result_t r;
    HTEST_EXPECT(!lookup_text(table, "vkernel.elf", 0xffffffff80000000ull, &r));
}

HTEST(needs_header)
{
    linemap_result_t r;
    HTEST_EXPECT(!lookup_text(table + 1, "hello.vbin", 0x1004, &r));
    HTEST_EXPECT(!lookup_text("VKLINES 2\n=a\n@1 x.c\n10 1 1\n20 0\n", "a", 0x10, &r));
    HTEST_EXPECT(lookup_text("VKLINES 1\n=a\n@1 x.c\n10 1 1\n20 0\n", "a", 0x10, &r));
    HTEST_EXPECT(!linemap_lookup(NULL, 10, "a", 0x10, &r));
    HTEST_EXPECT(!linemap_lookup("VKLINES 1\n", 10, NULL, 0x10, &r));
    HTEST_EXPECT(!linemap_lookup("VKLINES 1\n", 10, "a", 0x10, NULL));
}

HTEST(unterminated_last_row_is_bounded)
{
    linemap_result_t r;
    const char *t = "VKLINES 1\n=a\n@1 x.c\n1000 3 1";
    HTEST_EXPECT(lookup_text(t, "a", 0x1000 + LINEMAP_MAX_DISTANCE, &r) && r.line == 3);
    HTEST_EXPECT(!lookup_text(t, "a", 0x1000 + LINEMAP_MAX_DISTANCE + 1, &r));
}

HTEST(bad_rows_are_skipped)
{
    linemap_result_t r;
    const char *t = "VKLINES 1\n=a\n@1 x.c\n@2\n@x y.c\n"
                    "10 1 1\n"
                    "zz 5 1\n"           /* not a number */
                    "1 99999999999 1\n"  /* line out of range */
                    "1 4 1 9\n"          /* too many fields */
                    "11111111111111111 4 1\n" /* 17 hex digits */
                    "10 2\n"
                    "10 0\n";
    HTEST_EXPECT(lookup_text(t, "a", 0x1f, &r) && r.line == 1);
    HTEST_EXPECT(lookup_text(t, "a", 0x20, &r) && r.line == 2 && strcmp(r.file, "x.c") == 0);
    /* A row naming a file that is not listed finds nothing. */
    HTEST_EXPECT(!lookup_text("VKLINES 1\n=a\n@1 x.c\n10 1 7\n10 0\n", "a", 0x10, &r));
}

HTEST(long_paths_keep_their_tail)
{
    char t[512];
    char path[300];
    memset(path, 'd', sizeof(path));
    memcpy(path + sizeof(path) - 9, "/name.c", 8);
    snprintf(t, sizeof(t), "VKLINES 1\n=a\n@1 %s\n10 4 1\n10 0\n", path);
    linemap_result_t r;
    HTEST_EXPECT(lookup_text(t, "a", 0x10, &r));
    HTEST_EXPECT(strlen(r.file) == LINEMAP_FILE_MAX - 1);
    HTEST_EXPECT(strcmp(r.file + strlen(r.file) - 7, "/name.c") == 0);
}

HTEST(every_truncation_is_safe)
{
    size_t len = strlen(table);
    for (size_t n = 0; n <= len; n++) {
        char *map = malloc(n ? n : 1);
        memcpy(map, table, n);
        linemap_result_t r;
        /* A cut row may give another answer (a number's first digits, the previous
         * file); it must still be a well-formed one, and the whole table the right one. */
        if (linemap_lookup(map, n, "vkernel.elf", 0xffffffff80001031ull, &r))
            HTEST_EXPECT(memchr(r.file, '\0', sizeof(r.file)) != NULL && r.line != 0);
        if (n == len)
            HTEST_EXPECT(strcmp(r.file, "kernel/core/log.c") == 0 && r.line == 7);
        if (linemap_lookup(map, n, "hello.vbin", 0x1004, &r))
            HTEST_EXPECT(r.line == 5);
        free(map);
    }
}

HTEST(garbage_is_safe)
{
    uint32_t seed = 12345;
    char buf[256];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(round % (int)sizeof(buf));
        memcpy(buf, "VKLINES 1\n=a\n", 13);
        for (size_t i = 13; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "0123456789abcdef @=\n\r\txF";
            buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        char *map = malloc(n ? n : 1);
        memcpy(map, buf, n);
        linemap_result_t r;
        for (uint64_t a = 0; a < 0x40; a += 7)
            if (linemap_lookup(map, n, "a", a, &r))
                HTEST_EXPECT(memchr(r.file, '\0', sizeof(r.file)) != NULL && r.line != 0);
        free(map);
    }
}

/* Two functions whose lines the real table must name. */
__attribute__((noinline)) int linemap_probe_one(int x)
{
    return x * 3 + 1; /* linemap probe one */
}

__attribute__((noinline)) int linemap_probe_two(int x)
{
    return x * 5 + 2; /* linemap probe two */
}

static unsigned line_of(const char *needle)
{
    FILE *f = fopen(__FILE__, "r");
    char line[512];
    unsigned n = 0, found = 0;
    while (f && fgets(line, sizeof(line), f)) {
        n++;
        if (strstr(line, needle) && strstr(line, "return"))
            found = n;
    }
    if (f)
        fclose(f);
    return found;
}

HTEST(real_table_from_this_binary)
{
    char self[4096], cmd[8400], out[4096 + 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0 || system("command -v llvm-dwarfdump >/dev/null 2>&1") != 0) {
        printf("  (no llvm-dwarfdump: real-table check not run)\n");
        return;
    }
    self[n] = '\0';
    snprintf(out, sizeof(out), "%s.lines", self);
    snprintf(cmd, sizeof(cmd), "python3 scripts/gen-lines.py '%s' self='%s'", out, self);
    HTEST_EXPECT(system(cmd) == 0);
    FILE *f = fopen(out, "rb");
    HTEST_EXPECT(f != NULL);
    if (!f)
        return;
    static char buf[8 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    remove(out);
    /* The table holds link-time addresses: for a PIE, minus the load base (the first
     * mapping of /proc/self/maps); for a fixed-address binary (ET_EXEC) as they are. */
    uint64_t base = 0;
    HTEST_EXPECT(len > 18 && buf[0] == 'V');
    FILE *elf = fopen(self, "rb");
    unsigned char header[18] = { 0 };
    if (elf) {
        if (fread(header, 1, sizeof(header), elf) != sizeof(header))
            header[16] = 0;
        fclose(elf);
    }
    FILE *maps = fopen("/proc/self/maps", "r");
    HTEST_EXPECT(maps != NULL);
    if (!maps)
        return;
    unsigned long long lo = 0, start, offset;
    char line[8192], path[4096];
    while (fgets(line, sizeof(line), maps))
        if (sscanf(line, "%llx-%*llx %*s %llx %*s %*s %4095s", &start, &offset, path) == 3 &&
            offset == 0 && strcmp(path, self) == 0) {
            lo = start;
            break;
        }
    fclose(maps);
    HTEST_EXPECT(lo != 0);
    if (header[16] == 3) /* ET_DYN */
        base = (uint64_t)lo;
    linemap_result_t r;
    uint64_t one = (uint64_t)(uintptr_t)linemap_probe_one - base;
    uint64_t two = (uint64_t)(uintptr_t)linemap_probe_two - base;
    HTEST_EXPECT(linemap_lookup(buf, len, "self", one, &r));
    HTEST_EXPECT(strstr(r.file, "test_linemap.c") != NULL);
    unsigned want_one = line_of("linemap probe one"), want_two = line_of("linemap probe two");
    /* The function's first instruction belongs to its opening line or its body. */
    HTEST_EXPECT(r.line + 1 >= want_one && r.line <= want_one);
    HTEST_EXPECT(linemap_lookup(buf, len, "self", two, &r));
    HTEST_EXPECT(r.line + 1 >= want_two && r.line <= want_two);
}

HTEST_MAIN()
