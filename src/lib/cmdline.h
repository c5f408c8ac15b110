/* SPDX-License-Identifier: MIT */
/*
 * Kernel command-line parser: `key` and `key=value` words, no allocation.
 *
 * Syntax (what the loader passes, e.g. `log=debug smp=2 quiet init=/bin/sh -c 'x y'`):
 *  - words are separated by spaces, tabs, CR or LF;
 *  - a word splits at its first '=' into key and value; a word without '=' is a bare
 *    flag (value NULL); the key must not be empty;
 *  - single and double quotes may appear anywhere in a word and are removed, so both
 *    `msg="a b"` and `"msg=a b"` give msg -> `a b`; inside double quotes \" and \\ are
 *    escapes, any other backslash is kept; outside quotes a backslash is literal;
 *  - `init=` takes the rest of the line verbatim (quotes kept, trailing whitespace
 *    trimmed): it is a program with arguments, split later with cmdline_split_argv,
 *    which follows the POSIX shell's quoting rules.
 * Parsed strings live in the cmdline_t itself; it must outlive the pointers taken from it.
 */
#ifndef SRC_LIB_CMDLINE_H
#define SRC_LIB_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX_ARGS  32   /* keep in sync with CONFIG_CMDLINE_MAX_ARGS */
#define CMDLINE_MAX_BYTES 1024 /* keep in sync with CONFIG_CMDLINE_MAX; includes the NUL */

/* Error codes; the functions return them negated. */
#define CMDLINE_E2BIG      1 /* text longer than CMDLINE_MAX_BYTES-1, too many words, or no room */
#define CMDLINE_EQUOTE     2 /* a quote is not closed */
#define CMDLINE_EEMPTYKEY  3 /* a word with an empty key, like `=x` or `""` */

typedef struct {
    const char *key;
    const char *value; /* NULL for a bare flag */
} cmdline_arg_t;

typedef struct {
    char storage[CMDLINE_MAX_BYTES]; /* the keys and values, NUL-terminated */
    cmdline_arg_t args[CMDLINE_MAX_ARGS];
    unsigned count; /* 0 after a failed parse */
} cmdline_t;

/* Parses text (NUL-terminated) into out. Returns 0 or -CMDLINE_E*. */
int cmdline_parse(cmdline_t *out, const char *text);

/* The value of the last word with this key, "" for a bare flag, NULL when absent. */
const char *cmdline_get(const cmdline_t *c, const char *key);
bool cmdline_has(const cmdline_t *c, const char *key);
/*
 * The last value for key as a number: decimal (leading zeros do not mean octal) or
 * 0x/0X hex, nothing else around it. False if absent, a bare flag, malformed or > 2^64-1.
 */
bool cmdline_get_u64(const cmdline_t *c, const char *key, uint64_t *out);

/* A short English message for a return value of this module (either sign). */
const char *cmdline_error_string(int err);

/*
 * Splits text into words with shell quoting ('...' literal; "..." with \" \\ \$ \`
 * escapes; a backslash outside quotes escapes the next character; '' is an empty
 * argument). The words are stored in buf; argv[0..argc-1] point into it and
 * argv[argc] is NULL, so max_argv must leave room for that NULL.
 * Returns argc, -CMDLINE_E2BIG (buf or argv too small) or -CMDLINE_EQUOTE.
 */
int cmdline_split_argv(char *buf, size_t bufsize, const char *text, const char **argv,
                       unsigned max_argv);

#endif
