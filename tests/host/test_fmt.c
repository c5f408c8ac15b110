/* SPDX-License-Identifier: MIT */
/*
 * Host tests for src/lib/fmt.c. Most cases compare against the host C library's
 * snprintf, which is the reference for everything fmt.h does not list as a difference:
 * first a hand-written table (the format is a literal, so the compiler also checks the
 * argument types), then a randomized sweep over flag/width/precision/length/conversion
 * combinations with a fixed seed. The documented differences (%p, NULL %s, unknown
 * conversions, the sink) are checked against fixed expected strings.
 */
#include "htest.h"

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>

#include "../../src/lib/fmt.c"

static char host_buf[512];
static char fmt_buf[512];

static void compare(const char *file, int line, const char *what, int host_n, int fmt_n)
{
    if (host_n != fmt_n || strcmp(host_buf, fmt_buf) != 0) {
        printf("  FAIL %s:%d: %s: host \"%s\" (%d) fmt \"%s\" (%d)\n", file, line, what,
               host_buf, host_n, fmt_buf, fmt_n);
        htest_current_failed = 1;
    }
}

/* Same literal format and arguments to both implementations. */
#define CHECK(...)                                                                     \
    compare(__FILE__, __LINE__, #__VA_ARGS__,                                          \
            snprintf(host_buf, sizeof(host_buf), __VA_ARGS__),                         \
            fmt_snprintf(fmt_buf, sizeof(fmt_buf), __VA_ARGS__))

/*
 * The same with a run-time format, for cases the compiler would flag (on purpose:
 * overflowing hh/h arguments, flags C says are ignored or undefined).
 */
static void compare_runtime(const char *file, int line, const char *f, ...)
{
    va_list a, b;
    va_start(a, f);
    va_copy(b, a);
    int host_n = vsnprintf(host_buf, sizeof(host_buf), f, a);
    int fmt_n = fmt_vsnprintf(fmt_buf, sizeof(fmt_buf), f, b);
    va_end(b);
    va_end(a);
    compare(file, line, f, host_n, fmt_n);
}

#define CHECK_RT(...) compare_runtime(__FILE__, __LINE__, __VA_ARGS__)

/* fmt with a run-time format: the compiler cannot check it and must not try. */
static int fmt_dynamic(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = fmt_vsnprintf(buf, size, f, ap);
    va_end(ap);
    return n;
}

HTEST(fmt_table_plain_and_strings)
{
    CHECK("");
    CHECK("hello, world");
    CHECK("100%%");
    CHECK("%%%%%%");
    CHECK("%s", "");
    CHECK("%s", "abc");
    CHECK("[%10s]", "abc");
    CHECK("[%-10s]", "abc");
    CHECK("[%.2s]", "abc");
    CHECK("[%.0s]", "abc");
    CHECK("[%.10s]", "abc");
    CHECK("[%8.2s]", "abc");
    CHECK("[%-8.2s]", "abc");
    CHECK("[%*s]", 6, "ab");
    CHECK("[%*s]", -6, "ab");
    CHECK("[%.*s]", 1, "ab");
    CHECK("[%.*s]", -1, "ab");
    CHECK("[%*.*s]", 5, 1, "xyz");
    CHECK("%s%s%s", "a", "bb", "ccc");
    CHECK("[%c]", 'x');
    CHECK("[%5c]", 'x');
    CHECK("[%-5c]", 'x');
    CHECK("[%c%c%c]", 'a', 'b', 'c');
    CHECK("[%c]", 0x141); /* converted to unsigned char */
    CHECK("%s=%d", "key", 42);
}

HTEST(fmt_table_signed)
{
    CHECK("%d", 0);
    CHECK("%d", 1);
    CHECK("%d", -1);
    CHECK("%i", 12345);
    CHECK("%d", INT_MAX);
    CHECK("%d", INT_MIN);
    CHECK("[%5d]", 42);
    CHECK("[%-5d]", 42);
    CHECK("[%05d]", 42);
    CHECK("[%05d]", -42);
    CHECK_RT("[%-05d]", -42);
    CHECK("[%+d]", 42);
    CHECK("[%+d]", -42);
    CHECK("[%+d]", 0);
    CHECK("[% d]", 42);
    CHECK("[% d]", -42);
    CHECK_RT("[%+ d]", 42);
    CHECK("[% 05d]", 42);
    CHECK("[%+05d]", 42);
    CHECK("[%.3d]", 7);
    CHECK("[%.3d]", -7);
    CHECK("[%6.3d]", -7);
    CHECK("[%-6.3d]", -7);
    CHECK("[%06.3d]", -7); /* precision disables the 0 flag */
    CHECK("[%.0d]", 0);
    CHECK("[%5.0d]", 0);
    CHECK("[%+.0d]", 0);
    CHECK("[%.0d]", 1);
    CHECK("[%.1d]", 0);
    CHECK("[%*d]", 4, 1);
    CHECK("[%*d]", -4, 1);
    CHECK("[%-*d]", 4, 1);
    CHECK("[%0*d]", 4, 1);
    CHECK("[%.*d]", 4, 1);
    CHECK("[%.*d]", -4, 1);
    CHECK("[%0.*d]", -4, 1);
    CHECK("[%*.*d]", 8, 4, -1);
    CHECK_RT("%hhd", 200);
    CHECK_RT("%hhd", -128);
    CHECK_RT("%hhd", 127);
    CHECK_RT("%hd", 40000);
    CHECK_RT("%hd", -32768);
    CHECK("%ld", 0x7fffffffffffffffL);
    CHECK("%ld", (long)-0x7fffffffffffffffL - 1);
    CHECK("%lld", LLONG_MIN);
    CHECK("%lld", LLONG_MAX);
    CHECK("%lli", -1234567890123LL);
    CHECK("%zd", (ptrdiff_t)-5);
    CHECK("%td", (ptrdiff_t)-123456789012);
    CHECK("%jd", (intmax_t)INT64_MIN);
    CHECK("%jd", (intmax_t)INT64_MAX);
    CHECK("[%+20lld]", LLONG_MIN);
    CHECK("[%025lld]", LLONG_MIN);
    CHECK("[%-25lld|]", LLONG_MIN);
}

HTEST(fmt_table_unsigned)
{
    CHECK("%u", 0u);
    CHECK("%u", UINT_MAX);
    CHECK_RT("[%+u]", 5u);
    CHECK_RT("[% u]", 5u);
    CHECK("%x", 0u);
    CHECK("%x", 0xdeadbeefu);
    CHECK("%X", 0xdeadbeefu);
    CHECK("%#x", 0u);
    CHECK("%#x", 0x1fu);
    CHECK("%#X", 0x1fu);
    CHECK("[%#10x]", 0x1fu);
    CHECK("[%#010x]", 0x1fu);
    CHECK("[%#-10x]", 0x1fu);
    CHECK("[%#.5x]", 0x1fu);
    CHECK("[%#10.5x]", 0x1fu);
    CHECK("[%#.0x]", 0u);
    CHECK("[%.0x]", 0u);
    CHECK("[%08x]", 0xabcu);
    CHECK("%o", 0u);
    CHECK("%o", 8u);
    CHECK("%o", UINT_MAX);
    CHECK("%#o", 0u);
    CHECK("%#o", 8u);
    CHECK("[%#.0o]", 0u);
    CHECK("[%.0o]", 0u);
    CHECK("[%#.3o]", 8u);
    CHECK("[%#.2o]", 8u);
    CHECK("[%#5o]", 8u);
    CHECK("[%#05o]", 8u);
    CHECK_RT("%hhu", 300u);
    CHECK_RT("%hhx", 0x1ffu);
    CHECK_RT("%hu", 70000u);
    CHECK_RT("%hx", 0x12345u);
    CHECK("%lu", 0xfffffffffffffffful);
    CHECK("%lx", 0xfedcba9876543210ul);
    CHECK("%lX", 0xfedcba9876543210ul);
    CHECK("%lo", 0xfffffffffffffffful);
    CHECK("%#lo", 0xfffffffffffffffful);
    CHECK("%llu", 18446744073709551615ull);
    CHECK("%llx", 1ull << 63);
    CHECK("%zu", (size_t)-1);
    CHECK("%zx", (size_t)0x1000);
    CHECK("%tx", (ptrdiff_t)-1);
    CHECK("%tu", (ptrdiff_t)77);
    CHECK("%ju", (uintmax_t)UINT64_MAX);
    CHECK("%jx", (uintmax_t)0xabcdef);
    CHECK("[%016lx]", 0xffffffff80101234ul);
    CHECK("[%*x]", 10, 0xffu);
    CHECK("[%-*x]", 10, 0xffu);
    CHECK("[%#*.*x]", -12, 6, 0xffu);
}

HTEST(fmt_table_mixed)
{
    CHECK("%s: %d/%u 0x%08x %c%s", "cpu", 3, 4u, 0x1234u, '!', "ok");
    CHECK("%-8s|%8s|%08d|%-8x|", "left", "right", -99, 0xbeefu);
    CHECK("[%5s] [%-5s] [%05d] [%+.2d]", "a", "b", 3, 4);
    CHECK("%lu bytes, %zu pages, %lld ns", 4096ul, (size_t)1, -1LL);
    CHECK("%%d %d %%s %s", 1, "x");
}

/* The random sweep: build a conversion, hand both implementations the right types. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    /* xorshift64*: deterministic, good enough to vary test inputs. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static int random_mismatches;

static void compare_v(const char *f, ...)
{
    va_list a, b;
    va_start(a, f);
    va_copy(b, a);
    int hn = vsnprintf(host_buf, sizeof(host_buf), f, a);
    int fn = fmt_vsnprintf(fmt_buf, sizeof(fmt_buf), f, b);
    va_end(b);
    va_end(a);
    if (hn != fn || strcmp(host_buf, fmt_buf) != 0) {
        if (random_mismatches < 10)
            printf("  FAIL random \"%s\": host \"%s\" (%d) fmt \"%s\" (%d)\n", f, host_buf, hn,
                   fmt_buf, fn);
        random_mismatches++;
    }
}

#define CALL_WITH(val)                                                                 \
    do {                                                                               \
        if (star_w && star_p)                                                          \
            compare_v(f, w, pr, val);                                                  \
        else if (star_w)                                                               \
            compare_v(f, w, val);                                                      \
        else if (star_p)                                                               \
            compare_v(f, pr, val);                                                     \
        else                                                                           \
            compare_v(f, val);                                                         \
    } while (0)

HTEST(fmt_random_against_host)
{
    static const char *const strings[] = { "", "a", "hello", "vkernel panic", "0123456789abcdef" };
    static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "t", "j" };
    const char convs[] = "diuxXosc";
    enum { ITERATIONS = 200000 };

    for (int iter = 0; iter < ITERATIONS; iter++) {
        char f[64];
        size_t n = 0;
        char conv = convs[rng_next() % (sizeof(convs) - 1)];
        bool numeric = conv != 's' && conv != 'c';
        const char *len = numeric ? lengths[rng_next() % 8] : "";
        bool star_w = false, star_p = false;
        int w = (int)(rng_next() % 41) - 20;
        int pr = (int)(rng_next() % 31) - 10;

        f[n++] = '[';
        f[n++] = '%';
        /* Flags whose effect C leaves undefined for this conversion are left out. */
        if (rng_next() % 4 == 0) f[n++] = '-';
        if (numeric && rng_next() % 4 == 0) f[n++] = '0';
        if (rng_next() % 4 == 0) f[n++] = '+';
        if (rng_next() % 4 == 0) f[n++] = ' ';
        if ((conv == 'x' || conv == 'X' || conv == 'o') && rng_next() % 3 == 0) f[n++] = '#';
        switch (rng_next() % 3) {
        case 0: break;
        case 1: n += (size_t)sprintf(f + n, "%d", (int)(rng_next() % 30)); break;
        default: f[n++] = '*'; star_w = true; break;
        }
        if (conv != 'c') {
            switch (rng_next() % 4) {
            case 0: break;
            case 1: f[n++] = '.'; break;
            case 2: n += (size_t)sprintf(f + n, ".%d", (int)(rng_next() % 25)); break;
            default: f[n++] = '.'; f[n++] = '*'; star_p = true; break;
            }
        }
        n += (size_t)sprintf(f + n, "%s%c]", len, conv);
        f[n] = '\0';

        /* Values of every magnitude, not just huge ones. */
        uint64_t v = rng_next() >> (rng_next() % 64);
        if (rng_next() % 8 == 0)
            v = 0;
        bool is_signed = conv == 'd' || conv == 'i';

        if (conv == 's') {
            CALL_WITH(strings[v % 5]);
        } else if (conv == 'c') {
            CALL_WITH((int)(' ' + v % 95));
        } else if (!strcmp(len, "") || !strcmp(len, "hh") || !strcmp(len, "h")) {
            if (is_signed)
                CALL_WITH((int)v);
            else
                CALL_WITH((unsigned)v);
        } else if (!strcmp(len, "l")) {
            if (is_signed)
                CALL_WITH((long)v);
            else
                CALL_WITH((unsigned long)v);
        } else if (!strcmp(len, "ll")) {
            if (is_signed)
                CALL_WITH((long long)v);
            else
                CALL_WITH((unsigned long long)v);
        } else if (!strcmp(len, "z")) {
            if (is_signed)
                CALL_WITH((ptrdiff_t)v);
            else
                CALL_WITH((size_t)v);
        } else if (!strcmp(len, "t")) {
            CALL_WITH((ptrdiff_t)v);
        } else {
            if (is_signed)
                CALL_WITH((intmax_t)v);
            else
                CALL_WITH((uintmax_t)v);
        }
    }
    if (random_mismatches)
        printf("  %d of %d random cases differ\n", random_mismatches, ITERATIONS);
    HTEST_EXPECT_EQ(random_mismatches, 0);
}

HTEST(fmt_truncation_matches_host)
{
    static const size_t sizes[] = { 1, 2, 3, 5, 8, 13, 20 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t s = sizes[i];
        memset(host_buf, 'Z', sizeof(host_buf));
        memset(fmt_buf, 'Z', sizeof(fmt_buf));
        int hn = snprintf(host_buf, s, "%s-%05d-%x", "trunc", -12, 0xabcdu);
        int fn = fmt_snprintf(fmt_buf, s, "%s-%05d-%x", "trunc", -12, 0xabcdu);
        HTEST_EXPECT_EQ(hn, fn);
        HTEST_EXPECT(memcmp(host_buf, fmt_buf, sizeof(fmt_buf)) == 0); /* bytes past s untouched */
    }
}

HTEST(fmt_size_zero_writes_nothing)
{
    char buf[4] = { 'x', 'y', 'z', 'w' };
    HTEST_EXPECT_EQ(fmt_snprintf(buf, 0, "%s", "hello"), 5);
    HTEST_EXPECT(buf[0] == 'x');
    HTEST_EXPECT_EQ(fmt_snprintf(NULL, 0, "%d", 12345), 5);
    HTEST_EXPECT_EQ(fmt_snprintf(buf, 1, "%d", 12345), 5);
    HTEST_EXPECT(buf[0] == '\0' && buf[1] == 'y');
    HTEST_EXPECT_EQ(fmt_snprintf(buf, 4, "%s", "hello"), 5);
    HTEST_EXPECT_STR(buf, "hel");
}

HTEST(fmt_pointer_is_full_width)
{
    char buf[64];
    fmt_snprintf(buf, sizeof(buf), "%p", (void *)0x1234);
    HTEST_EXPECT_STR(buf, "0x0000000000001234");
    fmt_snprintf(buf, sizeof(buf), "%p", (void *)0);
    HTEST_EXPECT_STR(buf, "0x0000000000000000");
    fmt_snprintf(buf, sizeof(buf), "%p", (void *)0xffffffff80101234ull);
    HTEST_EXPECT_STR(buf, "0xffffffff80101234");
    fmt_snprintf(buf, sizeof(buf), "[%20p]", (void *)0xab);
    HTEST_EXPECT_STR(buf, "[  0x00000000000000ab]");
    fmt_snprintf(buf, sizeof(buf), "[%-20p]", (void *)0xab);
    HTEST_EXPECT_STR(buf, "[0x00000000000000ab  ]");
    /* Flags that make no sense for a pointer are ignored. */
    fmt_dynamic(buf, sizeof(buf), "[%+#020.3p]", (void *)0xab);
    HTEST_EXPECT_STR(buf, "[  0x00000000000000ab]");
    HTEST_EXPECT_EQ(fmt_snprintf(buf, sizeof(buf), "%p", (void *)1), 18);
}

HTEST(fmt_null_string_prints_null)
{
    char buf[64];
    const char *null_string = NULL;
    fmt_dynamic(buf, sizeof(buf), "[%s]", null_string);
    HTEST_EXPECT_STR(buf, "[(null)]");
    fmt_dynamic(buf, sizeof(buf), "[%8s]", null_string);
    HTEST_EXPECT_STR(buf, "[  (null)]");
    fmt_dynamic(buf, sizeof(buf), "[%-8s]", null_string);
    HTEST_EXPECT_STR(buf, "[(null)  ]");
    fmt_dynamic(buf, sizeof(buf), "[%.2s]", null_string);
    HTEST_EXPECT_STR(buf, "[(null)]");
}

HTEST(fmt_string_precision_does_not_overread)
{
    /* Not NUL-terminated: only the precision bounds the read (ASan checks this). */
    char *raw = malloc(3);
    memcpy(raw, "abc", 3);
    char buf[16];
    HTEST_EXPECT_EQ(fmt_snprintf(buf, sizeof(buf), "%.3s", raw), 3);
    HTEST_EXPECT_STR(buf, "abc");
    HTEST_EXPECT_EQ(fmt_snprintf(buf, sizeof(buf), "%.*s", 2, raw), 2);
    HTEST_EXPECT_STR(buf, "ab");
    free(raw);
}

HTEST(fmt_unknown_conversions_are_literal)
{
    char buf[64];
    HTEST_EXPECT_EQ(fmt_dynamic(buf, sizeof(buf), "a%qb"), 4);
    HTEST_EXPECT_STR(buf, "a%qb");
    fmt_dynamic(buf, sizeof(buf), "%f|%5.2f|%lf|%e|%g", 1.5, 2.5, 3.5, 4.5, 5.5);
    HTEST_EXPECT_STR(buf, "%f|%5.2f|%lf|%e|%g");
    int target = 7;
    fmt_dynamic(buf, sizeof(buf), "%n%d", &target, 5); /* %n never writes */
    HTEST_EXPECT_EQ(target, 7);
    fmt_dynamic(buf, sizeof(buf), "%lq %-08Lk %d", 9);
    HTEST_EXPECT_STR(buf, "%lq %-08Lk 9");
    /* A '*' argument is still consumed, so later arguments stay in step. */
    fmt_dynamic(buf, sizeof(buf), "%*.*y %s", 3, 4, "next");
    HTEST_EXPECT_STR(buf, "%*.*y next");
    fmt_dynamic(buf, sizeof(buf), "%5%|%-%");
    HTEST_EXPECT_STR(buf, "%|%");
}

HTEST(fmt_format_ending_inside_a_conversion)
{
    char buf[64];
    static const char *const cases[][2] = {
        { "abc%", "abc%" }, { "%", "%" },       { "x%-", "x%-" },     { "%5", "%5" },
        { "%.", "%." },     { "%.3", "%.3" },   { "%#0+ -", "%#0+ -" }, { "%ll", "%ll" },
        { "%hh", "%hh" },   { "%z", "%z" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = fmt_dynamic(buf, sizeof(buf), cases[i][0]);
        HTEST_EXPECT_STR(buf, cases[i][1]);
        HTEST_EXPECT_EQ(n, strlen(cases[i][1]));
    }
}

HTEST(fmt_extreme_widths)
{
    char buf[8];
    /* Width saturates at INT_MAX instead of overflowing; output is only counted. */
    HTEST_EXPECT_EQ(fmt_dynamic(buf, sizeof(buf), "%99999999999999999999d", 1), INT_MAX);
    HTEST_EXPECT_STR(buf, "       ");
    HTEST_EXPECT_EQ(fmt_dynamic(buf, sizeof(buf), "%*d", INT_MIN, 1), INT_MAX);
    HTEST_EXPECT_STR(buf, "1      ");
    HTEST_EXPECT_EQ(fmt_snprintf(buf, sizeof(buf), "%.100d", 5), 100);
    HTEST_EXPECT_STR(buf, "0000000");
}

struct collect {
    char text[256];
    size_t len;
    int calls;
};

static void collect_sink(void *ctx, const char *s, size_t n)
{
    struct collect *c = ctx;
    c->calls++;
    for (size_t i = 0; i < n && c->len + 1 < sizeof(c->text); i++)
        c->text[c->len++] = s[i];
    c->text[c->len] = '\0';
}

static int format_to(struct collect *c, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = fmt_vformat(collect_sink, c, f, ap);
    va_end(ap);
    return n;
}

HTEST(fmt_vformat_streams_to_sink)
{
    struct collect c = { { 0 }, 0, 0 };
    int n = format_to(&c, "cpu%u: %-6s|%08x|%s", 2u, "up", 0xbeefu, "done");
    HTEST_EXPECT_STR(c.text, "cpu2: up    |0000beef|done");
    HTEST_EXPECT_EQ(n, strlen(c.text));
    HTEST_EXPECT(c.calls > 1);

    /* Output far longer than any internal buffer: padding is streamed. */
    struct collect big = { { 0 }, 0, 0 };
    n = format_to(&big, "%1000d", 7);
    HTEST_EXPECT_EQ(n, 1000);
    HTEST_EXPECT_EQ(big.len, sizeof(big.text) - 1);

    struct collect empty = { { 0 }, 0, 0 };
    HTEST_EXPECT_EQ(format_to(&empty, ""), 0);
    HTEST_EXPECT_EQ(empty.calls, 0);
}

HTEST_MAIN()
