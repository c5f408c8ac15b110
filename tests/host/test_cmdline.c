/* SPDX-License-Identifier: MIT */
/*
 * Host tests for src/lib/cmdline.c: words and flags, every quoting rule, every error
 * path and limit (at and one past the limit), the init= special case, number parsing,
 * and splitting the init value into argv.
 */
#include "htest.h"

#include "../../src/lib/cmdline.c"

static cmdline_t cl;

/* Parses text and expects success; returns the argument count. */
static unsigned parse_ok(const char *text)
{
    int err = cmdline_parse(&cl, text);
    if (err != 0) {
        printf("  parse of \"%s\" failed: %s\n", text, cmdline_error_string(err));
        htest_current_failed = 1;
    }
    return cl.count;
}

HTEST(cmdline_example_line)
{
    HTEST_EXPECT_EQ(parse_ok("log=debug console=both test=kernel smp=2 quiet "
                             "init=/bin/busybox sh -c 'echo hi | wc -c'"),
                    6);
    HTEST_EXPECT_STR(cl.args[0].key, "log");
    HTEST_EXPECT_STR(cl.args[0].value, "debug");
    HTEST_EXPECT_STR(cmdline_get(&cl, "console"), "both");
    HTEST_EXPECT_STR(cmdline_get(&cl, "test"), "kernel");
    HTEST_EXPECT_STR(cl.args[4].key, "quiet");
    HTEST_EXPECT(cl.args[4].value == NULL);
    HTEST_EXPECT_STR(cmdline_get(&cl, "quiet"), "");
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "/bin/busybox sh -c 'echo hi | wc -c'");
    uint64_t smp = 0;
    HTEST_EXPECT(cmdline_get_u64(&cl, "smp", &smp));
    HTEST_EXPECT_EQ(smp, 2);
    HTEST_EXPECT(cmdline_has(&cl, "quiet"));
    HTEST_EXPECT(cmdline_has(&cl, "log"));
    HTEST_EXPECT(!cmdline_has(&cl, "verbose"));
    HTEST_EXPECT(cmdline_get(&cl, "verbose") == NULL);
    HTEST_EXPECT(cmdline_get(&cl, NULL) == NULL);
    HTEST_EXPECT(!cmdline_has(&cl, "qui")); /* exact keys only */
    HTEST_EXPECT(!cmdline_has(&cl, "quiets"));
}

HTEST(cmdline_empty_and_whitespace)
{
    HTEST_EXPECT_EQ(parse_ok(""), 0);
    HTEST_EXPECT_EQ(parse_ok(" \t\r\n "), 0);
    HTEST_EXPECT_EQ(cmdline_parse(&cl, NULL), 0);
    HTEST_EXPECT_EQ(cl.count, 0);
    HTEST_EXPECT_EQ(parse_ok("\ta=1\r\n\n b=2  \t"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "1");
    HTEST_EXPECT_STR(cmdline_get(&cl, "b"), "2");
}

HTEST(cmdline_last_value_wins)
{
    HTEST_EXPECT_EQ(parse_ok("log=info log=debug log=warn"), 3);
    HTEST_EXPECT_STR(cmdline_get(&cl, "log"), "warn");
    HTEST_EXPECT_EQ(parse_ok("log=info log"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "log"), "");
    HTEST_EXPECT_EQ(parse_ok("log log=info"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "log"), "info");
}

HTEST(cmdline_values_with_equals_and_empty)
{
    HTEST_EXPECT_EQ(parse_ok("a=x=y b= c"), 3);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "x=y");
    HTEST_EXPECT_STR(cl.args[1].value, "");
    HTEST_EXPECT(cl.args[2].value == NULL);
}

HTEST(cmdline_quoting)
{
    HTEST_EXPECT_EQ(parse_ok("a=\"b c\" d='e f' g"), 3);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "b c");
    HTEST_EXPECT_STR(cmdline_get(&cl, "d"), "e f");

    HTEST_EXPECT_EQ(parse_ok("\"msg=hello world\" 'x=1 2'"), 2); /* whole word quoted */
    HTEST_EXPECT_STR(cmdline_get(&cl, "msg"), "hello world");
    HTEST_EXPECT_STR(cmdline_get(&cl, "x"), "1 2");

    HTEST_EXPECT_EQ(parse_ok("a=b\"c d\"e f=''"), 2); /* quotes mid-word join */
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "bc de");
    HTEST_EXPECT_STR(cmdline_get(&cl, "f"), "");

    HTEST_EXPECT_EQ(parse_ok("k\"e\"y=v 'q'"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "key"), "v");
    HTEST_EXPECT(cmdline_has(&cl, "q"));

    HTEST_EXPECT_EQ(parse_ok("a='it\"s' b=\"it's\""), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "it\"s");
    HTEST_EXPECT_STR(cmdline_get(&cl, "b"), "it's");
}

HTEST(cmdline_backslash_rules)
{
    HTEST_EXPECT_EQ(parse_ok("a=\"x\\\"y\" b=\"x\\\\y\" c=\"x\\ny\" d=\"\\$\""), 4);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "x\"y");
    HTEST_EXPECT_STR(cmdline_get(&cl, "b"), "x\\y");
    HTEST_EXPECT_STR(cmdline_get(&cl, "c"), "x\\ny"); /* other escapes kept as written */
    HTEST_EXPECT_STR(cmdline_get(&cl, "d"), "\\$");
    /* Single quotes: no escapes at all. */
    HTEST_EXPECT_EQ(parse_ok("a='x\\\"y' b='\\\\'"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "x\\\"y");
    HTEST_EXPECT_STR(cmdline_get(&cl, "b"), "\\\\");
    /* Outside quotes a backslash is an ordinary character (paths, not a shell). */
    HTEST_EXPECT_EQ(parse_ok("root=\\EFI\\vk b\\ c"), 3);
    HTEST_EXPECT_STR(cmdline_get(&cl, "root"), "\\EFI\\vk");
    HTEST_EXPECT(cmdline_has(&cl, "b\\"));
    HTEST_EXPECT(cmdline_has(&cl, "c"));
    /* A trailing backslash inside double quotes cannot escape the closing quote away. */
    HTEST_EXPECT_EQ(parse_ok("a=\"x\\\\\""), 1);
    HTEST_EXPECT_STR(cmdline_get(&cl, "a"), "x\\");
}

HTEST(cmdline_error_unterminated_quote)
{
    static const char *const bad[] = {
        "a=\"b", "a='b", "\"", "'", "ok=1 a=\"b c", "a=\"x\\\"", "a='x\"", "a=\"x'",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cl.count = 99;
        HTEST_EXPECT_EQ(cmdline_parse(&cl, bad[i]), -CMDLINE_EQUOTE);
        HTEST_EXPECT_EQ(cl.count, 0);
    }
}

HTEST(cmdline_error_empty_key)
{
    static const char *const bad[] = { "=x", "=", "a=1 =2", "\"\"=x", "''", "\"\"", "a ''=" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cl.count = 99;
        HTEST_EXPECT_EQ(cmdline_parse(&cl, bad[i]), -CMDLINE_EEMPTYKEY);
        HTEST_EXPECT_EQ(cl.count, 0);
    }
}

HTEST(cmdline_length_limit)
{
    static char text[CMDLINE_MAX_BYTES + 8];

    /* One word of exactly CMDLINE_MAX_BYTES-1 bytes fits the storage exactly. */
    memset(text, 'k', CMDLINE_MAX_BYTES - 1);
    text[CMDLINE_MAX_BYTES - 1] = '\0';
    HTEST_EXPECT_EQ(parse_ok(text), 1);
    HTEST_EXPECT_EQ(strlen(cl.args[0].key), CMDLINE_MAX_BYTES - 1);

    text[3] = '=';
    HTEST_EXPECT_EQ(parse_ok(text), 1);
    HTEST_EXPECT_EQ(strlen(cmdline_get(&cl, "kkk")), CMDLINE_MAX_BYTES - 5);

    memcpy(text, "init=", 5);
    HTEST_EXPECT_EQ(parse_ok(text), 1);
    HTEST_EXPECT_EQ(strlen(cmdline_get(&cl, "init")), CMDLINE_MAX_BYTES - 6);

    /* One byte more is refused, however it is made up. */
    memset(text, 'k', CMDLINE_MAX_BYTES);
    text[CMDLINE_MAX_BYTES] = '\0';
    HTEST_EXPECT_EQ(cmdline_parse(&cl, text), -CMDLINE_E2BIG);
    HTEST_EXPECT_EQ(cl.count, 0);
    memset(text, ' ', CMDLINE_MAX_BYTES);
    HTEST_EXPECT_EQ(cmdline_parse(&cl, text), -CMDLINE_E2BIG);
}

HTEST(cmdline_word_limit)
{
    char text[CMDLINE_MAX_ARGS * 4 + 8];
    size_t n = 0;
    for (int i = 0; i < CMDLINE_MAX_ARGS; i++)
        n += (size_t)sprintf(text + n, "w%d ", i);
    HTEST_EXPECT_EQ(parse_ok(text), CMDLINE_MAX_ARGS);
    HTEST_EXPECT(cmdline_has(&cl, "w31"));
    strcpy(text + n, "x");
    HTEST_EXPECT_EQ(cmdline_parse(&cl, text), -CMDLINE_E2BIG);
    HTEST_EXPECT_EQ(cl.count, 0);
    /* init= as the 33rd word is still one word too many. */
    strcpy(text + n, "init=/bin/sh");
    HTEST_EXPECT_EQ(cmdline_parse(&cl, text), -CMDLINE_E2BIG);
}

HTEST(cmdline_init_takes_rest_of_line)
{
    HTEST_EXPECT_EQ(parse_ok("init=/bin/sh -c \"a=b c\" log=debug  \t\r\n"), 1);
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "/bin/sh -c \"a=b c\" log=debug");
    HTEST_EXPECT(!cmdline_has(&cl, "log"));

    HTEST_EXPECT_EQ(parse_ok("quiet init="), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "");
    HTEST_EXPECT(cl.args[1].value != NULL);

    HTEST_EXPECT_EQ(parse_ok("init=   "), 1);
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "");

    /* Verbatim: leading spaces and unbalanced quotes are init's business. */
    HTEST_EXPECT_EQ(parse_ok("init= /bin/sh 'oops"), 1);
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), " /bin/sh 'oops");

    /* Only a word that starts with exactly init= is special. */
    HTEST_EXPECT_EQ(parse_ok("xinit=a b init c"), 4);
    HTEST_EXPECT_STR(cmdline_get(&cl, "xinit"), "a");
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "");
    HTEST_EXPECT_EQ(parse_ok("\"init=a b\" c=d"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "init"), "a b");
    HTEST_EXPECT_STR(cmdline_get(&cl, "c"), "d");
    HTEST_EXPECT_EQ(parse_ok("INIT=a b"), 2);
    HTEST_EXPECT_STR(cmdline_get(&cl, "INIT"), "a");
}

HTEST(cmdline_get_u64_forms)
{
    static const struct {
        const char *value;
        bool ok;
        uint64_t expect;
    } cases[] = {
        { "0", true, 0 },
        { "42", true, 42 },
        { "010", true, 10 }, /* not octal */
        { "0x10", true, 16 },
        { "0XfF", true, 255 },
        { "0xDEADbeef", true, 0xdeadbeef },
        { "18446744073709551615", true, UINT64_MAX },
        { "0xffffffffffffffff", true, UINT64_MAX },
        { "0x0000000000000000000001", true, 1 },
        { "18446744073709551616", false, 0 },
        { "99999999999999999999", false, 0 },
        { "0x10000000000000000", false, 0 },
        { "0x", false, 0 },
        { "x10", false, 0 },
        { "12a", false, 0 },
        { "1f", false, 0 },
        { "-1", false, 0 },
        { "+1", false, 0 },
        { "' 1'", false, 0 },
        { "1K", false, 0 },
        { "0x1g", false, 0 },
        { "''", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "n=%s", cases[i].value);
        HTEST_EXPECT_EQ(parse_ok(text), 1);
        uint64_t v = 12345;
        bool ok = cmdline_get_u64(&cl, "n", &v);
        if (ok != cases[i].ok || (ok && v != cases[i].expect) || (!ok && v != 12345)) {
            printf("  FAIL get_u64(\"%s\"): ok=%d v=%" PRIu64 "\n", cases[i].value, ok, v);
            htest_current_failed = 1;
        }
    }
    uint64_t v = 7;
    HTEST_EXPECT_EQ(parse_ok("flag"), 1);
    HTEST_EXPECT(!cmdline_get_u64(&cl, "flag", &v));
    HTEST_EXPECT(!cmdline_get_u64(&cl, "absent", &v));
    HTEST_EXPECT_EQ(v, 7);
}

HTEST(cmdline_error_strings)
{
    HTEST_EXPECT_STR(cmdline_error_string(0), "success");
    HTEST_EXPECT_STR(cmdline_error_string(-CMDLINE_E2BIG), cmdline_error_string(CMDLINE_E2BIG));
    HTEST_EXPECT(strstr(cmdline_error_string(-CMDLINE_E2BIG), "too long") != NULL);
    HTEST_EXPECT(strstr(cmdline_error_string(-CMDLINE_EQUOTE), "quote") != NULL);
    HTEST_EXPECT(strstr(cmdline_error_string(-CMDLINE_EEMPTYKEY), "key") != NULL);
    HTEST_EXPECT(strstr(cmdline_error_string(-999), "unknown") != NULL);
    HTEST_EXPECT(strstr(cmdline_error_string(-2147483647 - 1), "unknown") != NULL);
}

/* argv splitting ---------------------------------------------------------------- */

static char argv_buf[256];
static const char *argv_out[16];

static int split(const char *text)
{
    return cmdline_split_argv(argv_buf, sizeof(argv_buf), text, argv_out, 16);
}

HTEST(cmdline_split_init_example)
{
    HTEST_EXPECT_EQ(parse_ok("quiet init=/bin/busybox sh -c 'echo hi | wc -c'"), 2);
    HTEST_EXPECT_EQ(split(cmdline_get(&cl, "init")), 4);
    HTEST_EXPECT_STR(argv_out[0], "/bin/busybox");
    HTEST_EXPECT_STR(argv_out[1], "sh");
    HTEST_EXPECT_STR(argv_out[2], "-c");
    HTEST_EXPECT_STR(argv_out[3], "echo hi | wc -c");
    HTEST_EXPECT(argv_out[4] == NULL);
}

HTEST(cmdline_split_shell_quoting)
{
    HTEST_EXPECT_EQ(split("  a \t b\n"), 2);
    HTEST_EXPECT_STR(argv_out[0], "a");
    HTEST_EXPECT_STR(argv_out[1], "b");

    HTEST_EXPECT_EQ(split("\"a \\\"b\\\" \\$x \\` \\\\ \\n\""), 1);
    HTEST_EXPECT_STR(argv_out[0], "a \"b\" $x ` \\ \\n");

    HTEST_EXPECT_EQ(split("'a \\b \"c\"'"), 1);
    HTEST_EXPECT_STR(argv_out[0], "a \\b \"c\"");

    HTEST_EXPECT_EQ(split("a\\ b c\\'d \\\\"), 3);
    HTEST_EXPECT_STR(argv_out[0], "a b");
    HTEST_EXPECT_STR(argv_out[1], "c'd");
    HTEST_EXPECT_STR(argv_out[2], "\\");

    HTEST_EXPECT_EQ(split("'' \"\" a''b x=\"1 2\""), 4);
    HTEST_EXPECT_STR(argv_out[0], "");
    HTEST_EXPECT_STR(argv_out[1], "");
    HTEST_EXPECT_STR(argv_out[2], "ab");
    HTEST_EXPECT_STR(argv_out[3], "x=1 2");

    HTEST_EXPECT_EQ(split("end\\"), 1); /* trailing backslash stays */
    HTEST_EXPECT_STR(argv_out[0], "end\\");
}

HTEST(cmdline_split_empty)
{
    argv_out[0] = "sentinel";
    HTEST_EXPECT_EQ(split(""), 0);
    HTEST_EXPECT(argv_out[0] == NULL);
    argv_out[0] = "sentinel";
    HTEST_EXPECT_EQ(split(" \t\n"), 0);
    HTEST_EXPECT(argv_out[0] == NULL);
    HTEST_EXPECT_EQ(cmdline_split_argv(argv_buf, sizeof(argv_buf), NULL, argv_out, 16), 0);
    HTEST_EXPECT_EQ(cmdline_split_argv(NULL, 0, "", argv_out, 1), 0);
}

HTEST(cmdline_split_errors)
{
    HTEST_EXPECT_EQ(split("sh -c 'echo"), -CMDLINE_EQUOTE);
    HTEST_EXPECT_EQ(split("\"abc"), -CMDLINE_EQUOTE);
    HTEST_EXPECT_EQ(split("\"abc\\\""), -CMDLINE_EQUOTE);

    /* argv needs room for the terminating NULL. */
    const char *three[3];
    HTEST_EXPECT_EQ(cmdline_split_argv(argv_buf, sizeof(argv_buf), "a b c", three, 3),
                    -CMDLINE_E2BIG);
    const char *four[4];
    HTEST_EXPECT_EQ(cmdline_split_argv(argv_buf, sizeof(argv_buf), "a b c", four, 4), 3);
    HTEST_EXPECT(four[3] == NULL);
    HTEST_EXPECT_EQ(cmdline_split_argv(argv_buf, sizeof(argv_buf), "a", four, 0),
                    -CMDLINE_E2BIG);
    HTEST_EXPECT_EQ(cmdline_split_argv(argv_buf, sizeof(argv_buf), "a", NULL, 4),
                    -CMDLINE_E2BIG);

    /* "ab cd" needs 6 bytes: exactly enough works, one less fails without overrun. */
    char *exact = malloc(6);
    HTEST_EXPECT_EQ(cmdline_split_argv(exact, 6, "ab cd", four, 4), 2);
    HTEST_EXPECT_STR(four[1], "cd");
    HTEST_EXPECT_EQ(cmdline_split_argv(exact, 5, "ab cd", four, 4), -CMDLINE_E2BIG);
    HTEST_EXPECT_EQ(cmdline_split_argv(NULL, 0, "a", four, 4), -CMDLINE_E2BIG);
    free(exact);
}

HTEST_MAIN()
