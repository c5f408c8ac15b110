/* SPDX-License-Identifier: MIT */
/*
 * Kernel command-line parser (syntax in cmdline.h).
 *
 * Design: one word reader serves both the command line and the init argv splitter; a
 * flag selects the shell rules. It copies the word with its quotes removed into a
 * bounded writer, so parsing never allocates and never writes past the caller's
 * storage. The text comes from the boot loader, which a user can edit, so every
 * malformed input is an error code, never a crash. The copy can only shrink the text
 * (each word's separator pays for its NUL), so a text that fits CMDLINE_MAX_BYTES always
 * fits the storage; the writer still checks, in case that argument ever stops holding.
 */
#include "cmdline.h"
#include "hexdigit.h"

#ifdef CONFIG_CMDLINE_MAX_ARGS
_Static_assert(CMDLINE_MAX_ARGS == CONFIG_CMDLINE_MAX_ARGS, "CMDLINE_MAX_ARGS out of sync");
#endif
#ifdef CONFIG_CMDLINE_MAX
_Static_assert(CMDLINE_MAX_BYTES == CONFIG_CMDLINE_MAX, "CMDLINE_MAX_BYTES out of sync");
#endif

#define NO_SPLIT ((size_t)-1)

static const char init_prefix[] = "init=";

struct writer {
    char *buf;
    size_t size;
    size_t used;
    bool overflow; /* a byte did not fit; reported once the word is done */
};

static void put_char(struct writer *w, char c)
{
    if (w->used < w->size)
        w->buf[w->used++] = c;
    else
        w->overflow = true;
}

static bool is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_separators(const char *p)
{
    while (is_separator(*p))
        p++;
    return p;
}

static bool same_string(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Which characters a backslash escapes inside double quotes. */
static bool double_quote_escape(char c, bool shell)
{
    if (c == '"' || c == '\\')
        return true;
    return shell && (c == '$' || c == '`');
}

/*
 * Copies one word starting at *pp (not on a separator) into w, unquoted and
 * NUL-terminated, and leaves *pp after it. With split non-NULL, the first '=' ends the
 * key: it is stored as a NUL and *split gets the offset where the value starts.
 */
static int read_word(const char **pp, struct writer *w, bool shell, size_t *split)
{
    const char *p = *pp;
    char quote = 0;

    while (*p) {
        char c = *p;
        if (!quote) {
            if (is_separator(c))
                break;
            if (c == '\'' || c == '"') {
                quote = c;
                p++;
                continue;
            }
            if (shell && c == '\\' && p[1]) {
                put_char(w, p[1]);
                p += 2;
                continue;
            }
        } else if (c == quote) {
            quote = 0;
            p++;
            continue;
        } else if (quote == '"' && c == '\\' && double_quote_escape(p[1], shell)) {
            put_char(w, p[1]);
            p += 2;
            continue;
        }
        if (c == '=' && split && *split == NO_SPLIT) {
            put_char(w, '\0');
            *split = w->used;
        } else {
            put_char(w, c);
        }
        p++;
    }
    *pp = p;
    if (quote)
        return -CMDLINE_EQUOTE;
    put_char(w, '\0');
    return w->overflow ? -CMDLINE_E2BIG : 0;
}

/* `init=...`: the rest of the line, verbatim but for trailing separators. */
static void read_init(const char **pp, struct writer *w)
{
    const char *p = *pp + sizeof(init_prefix) - 1;
    const char *end = p;
    while (*end)
        end++;
    while (end > p && is_separator(end[-1]))
        end--;
    for (const char *k = init_prefix; *k != '='; k++)
        put_char(w, *k);
    put_char(w, '\0');
    while (p < end)
        put_char(w, *p++);
    put_char(w, '\0');
    while (*p)
        p++;
    *pp = p;
}

static bool starts_with_init(const char *p)
{
    for (size_t i = 0; init_prefix[i]; i++) {
        if (p[i] != init_prefix[i])
            return false;
    }
    return true;
}

int cmdline_parse(cmdline_t *out, const char *text)
{
    struct writer w = { out->storage, sizeof(out->storage), 0, false };
    unsigned count = 0;
    int err = 0;

    out->count = 0;
    if (!text)
        return 0;

    /* Bound the scan itself too: text may be an unterminated firmware buffer. */
    size_t len = 0;
    while (len < CMDLINE_MAX_BYTES && text[len])
        len++;
    if (len >= CMDLINE_MAX_BYTES)
        return -CMDLINE_E2BIG;

    const char *p = skip_separators(text);
    while (*p) {
        if (count == CMDLINE_MAX_ARGS)
            return -CMDLINE_E2BIG;

        size_t key_at = w.used;
        size_t split = NO_SPLIT;
        if (starts_with_init(p)) {
            read_init(&p, &w);
            split = key_at + sizeof(init_prefix) - 1;
            if (w.overflow)
                return -CMDLINE_E2BIG;
        } else {
            err = read_word(&p, &w, false, &split);
            if (err)
                return err;
            if (out->storage[key_at] == '\0')
                return -CMDLINE_EEMPTYKEY;
        }
        out->args[count].key = out->storage + key_at;
        out->args[count].value = split == NO_SPLIT ? NULL : out->storage + split;
        count++;
        p = skip_separators(p);
    }
    out->count = count;
    return 0;
}

/* The last argument with this key, or NULL. */
static const cmdline_arg_t *find_last(const cmdline_t *c, const char *key)
{
    if (!key)
        return NULL;
    unsigned n = c->count < CMDLINE_MAX_ARGS ? c->count : CMDLINE_MAX_ARGS;
    for (unsigned i = n; i > 0; i--) {
        if (same_string(c->args[i - 1].key, key))
            return &c->args[i - 1];
    }
    return NULL;
}

const char *cmdline_get(const cmdline_t *c, const char *key)
{
    const cmdline_arg_t *arg = find_last(c, key);
    if (!arg)
        return NULL;
    return arg->value ? arg->value : "";
}

bool cmdline_has(const cmdline_t *c, const char *key)
{
    return find_last(c, key) != NULL;
}

bool cmdline_get_u64(const cmdline_t *c, const char *key, uint64_t *out)
{
    const char *s = cmdline_get(c, key);
    unsigned base = 10;
    uint64_t v = 0;

    if (!s || !*s)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s)
            return false;
    }
    for (; *s; s++) {
        int d = hex_digit(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return false;
        v = v * base + (uint64_t)d;
    }
    if (out)
        *out = v;
    return true;
}

const char *cmdline_error_string(int err)
{
    if (err == 0)
        return "success";
    if (err == -CMDLINE_E2BIG || err == CMDLINE_E2BIG)
        return "command line too long or too many words";
    if (err == -CMDLINE_EQUOTE || err == CMDLINE_EQUOTE)
        return "unterminated quote";
    if (err == -CMDLINE_EEMPTYKEY || err == CMDLINE_EEMPTYKEY)
        return "word with an empty key";
    return "unknown command line error";
}

int cmdline_split_argv(char *buf, size_t bufsize, const char *text, const char **argv,
                       unsigned max_argv)
{
    struct writer w = { buf, buf ? bufsize : 0, 0, false };
    unsigned argc = 0;

    if (!argv || max_argv == 0)
        return -CMDLINE_E2BIG;
    if (!text)
        text = "";

    const char *p = skip_separators(text);
    while (*p) {
        /* Keep one slot for the terminating NULL that execve expects. */
        if (argc + 1 >= max_argv || argc >= 0x7fffffff)
            return -CMDLINE_E2BIG;
        size_t start = w.used;
        int err = read_word(&p, &w, true, NULL);
        if (err)
            return err;
        argv[argc++] = buf + start;
        p = skip_separators(p);
    }
    argv[argc] = NULL;
    return (int)argc;
}
