/* SPDX-License-Identifier: MIT */
/*
 * The line editor: raw mode, our own echo, history and tab completion.
 *
 * Raw mode clears ICANON, ECHO, ISIG and IEXTEN (and ICRNL, IXON on input) so every key
 * arrives as typed and Ctrl-C is the byte 3, not a signal; output processing is left on.
 * The kernel console of today ignores TCSETS and never echoes, which is exactly what raw
 * mode looks like, so the same code serves both. CR and LF are both Enter. When stdin is
 * not a terminal (tcgetattr fails) or TERM=dumb, lines are read plainly.
 *
 * Keys (VT100/xterm): ESC [ A/B/C/D arrows, ESC [ H/F and ESC O H/F home/end,
 * ESC [ 1~/7~ home, ESC [ 4~/8~ end, ESC [ 3~ delete; Ctrl-A/E home/end, Ctrl-B/F
 * left/right, Ctrl-H and DEL backspace, Ctrl-D delete or end of input on an empty line,
 * Ctrl-C abandon the line, Ctrl-K kill to end, Ctrl-U kill to start, Ctrl-L clear,
 * Ctrl-P/N history, Tab completion.
 *
 * Redrawing: typing at the end of the line just echoes the byte; every other edit
 * rewrites the line (CR, prompt, text, erase to end of line, cursor back).
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "shell.h"

static char *history[SHELL_HISTORY_MAX];
static int history_count;

void shell_history_add(const char *line)
{
    if (!*line || (history_count && !strcmp(history[history_count - 1], line)))
        return;
    if (history_count == SHELL_HISTORY_MAX) {
        free(history[0]);
        memmove(history, history + 1, sizeof(history[0]) * (SHELL_HISTORY_MAX - 1));
        history_count--;
    }
    history[history_count++] = strdup(line);
}

void shell_history_print(void)
{
    for (int i = 0; i < history_count; i++)
        printf("%4d  %s\n", i + 1, history[i]);
}

static struct termios saved_termios;
static int raw_active;

void shell_terminal_restore(void)
{
    if (raw_active) {
        tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
        raw_active = 0;
    }
}

int shell_raw_mode(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
        return -1;
    t = saved_termios;
    t.c_iflag &= ~(unsigned)(ICRNL | INLCR | IGNCR | IXON | ISTRIP | BRKINT);
    t.c_lflag &= ~(unsigned)(ICANON | ECHO | ISIG | IEXTEN);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) < 0)
        return -1;
    raw_active = 1;
    return 0;
}

static void out(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, s, n);
        if (w <= 0) {
            if (w < 0 && errno == EINTR)
                continue;
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void outs(const char *s) { out(s, strlen(s)); }

typedef struct {
    const char *prompt;
    char *buf;
    size_t size, len, pos;
} edit_t;

static void refresh(edit_t *e)
{
    char seq[32];
    outs("\r");
    outs(e->prompt);
    out(e->buf, e->len);
    outs("\x1b[K");
    if (e->len > e->pos) {
        snprintf(seq, sizeof(seq), "\x1b[%zuD", e->len - e->pos);
        outs(seq);
    }
}

static void insert(edit_t *e, const char *s, size_t n)
{
    if (e->len + n + 1 > e->size)
        n = e->size - e->len - 1;
    if (!n)
        return;
    memmove(e->buf + e->pos + n, e->buf + e->pos, e->len - e->pos);
    memcpy(e->buf + e->pos, s, n);
    e->len += n;
    e->pos += n;
    e->buf[e->len] = 0;
    if (e->pos == e->len)
        out(s, n);
    else
        refresh(e);
}

static void set_line(edit_t *e, const char *s)
{
    snprintf(e->buf, e->size, "%s", s);
    e->len = e->pos = strlen(e->buf);
    refresh(e);
}

/* ---- completion ---- */

#define MATCHES_MAX 256

typedef struct {
    char *names[MATCHES_MAX];
    int count;
} matches_t;

static void add_match(matches_t *m, const char *name, const char *suffix)
{
    for (int i = 0; i < m->count; i++)
        if (!strncmp(m->names[i], name, strlen(name)) && !strcmp(m->names[i] + strlen(name), suffix))
            return;
    if (m->count == MATCHES_MAX)
        return;
    char *s = malloc(strlen(name) + strlen(suffix) + 1);
    if (!s)
        return;
    strcpy(s, name);
    strcat(s, suffix);
    m->names[m->count++] = s;
}

/* Commands: builtins and PATH programs (NAME.vbin offered as NAME). */
static void complete_command(matches_t *m, const char *prefix)
{
    size_t pn = strlen(prefix);
    const shell_builtin_t *b;
    for (int i = 0; (b = shell_builtin_at(i)); i++)
        if (!strncmp(b->name, prefix, pn))
            add_match(m, b->name, " ");
    const char *path = shell_var_get("PATH");
    if (!path)
        path = "/bin";
    char dir[256];
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof(dir), "%.*s", (int)n, n ? path : ".");
        path += n + (path[n] == ':');
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *de;
        while ((de = readdir(d))) {
            char name[256];
            snprintf(name, sizeof(name), "%s", de->d_name);
            size_t len = strlen(name);
            if (len > 5 && !strcmp(name + len - 5, ".vbin"))
                name[len - 5] = 0;
            else if (len > 4 && !strcmp(name + len - 4, ".map"))
                continue;
            if (name[0] != '.' && !strncmp(name, prefix, pn))
                add_match(m, name, " ");
        }
        closedir(d);
    }
}

/* Paths: entries of the word's directory starting with its last component. */
static void complete_path(matches_t *m, const char *word, size_t *base_len)
{
    const char *slash = strrchr(word, '/');
    char dir[512];
    const char *prefix = slash ? slash + 1 : word;
    if (slash)
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - word) + (slash == word), word);
    else
        snprintf(dir, sizeof(dir), ".");
    *base_len = (size_t)(prefix - word);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    size_t pn = strlen(prefix);
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, pn) || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (de->d_name[0] == '.' && prefix[0] != '.')
            continue;
        char full[800];
        struct stat st;
        snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
        int is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        add_match(m, de->d_name, is_dir ? "/" : " ");
    }
    closedir(d);
}

static void complete(edit_t *e)
{
    size_t start = e->pos;
    while (start > 0 && e->buf[start - 1] != ' ' && !strchr("|;&<>", e->buf[start - 1]))
        start--;
    char word[SHELL_LINE_MAX];
    snprintf(word, sizeof(word), "%.*s", (int)(e->pos - start), e->buf + start);
    size_t before = start;
    while (before > 0 && e->buf[before - 1] == ' ')
        before--;
    int first = before == 0 || strchr("|;&", e->buf[before - 1]);
    matches_t m = { .count = 0 };
    size_t base = 0;
    if (first && !strchr(word, '/'))
        complete_command(&m, word);
    else
        complete_path(&m, word, &base);
    const char *typed = word + base;
    if (m.count == 1) {
        insert(e, m.names[0] + strlen(typed), strlen(m.names[0]) - strlen(typed));
    } else if (m.count > 1) {
        size_t common = strlen(m.names[0]);
        for (int i = 1; i < m.count; i++) {
            size_t k = 0;
            while (k < common && m.names[i][k] == m.names[0][k])
                k++;
            common = k;
        }
        /* A trailing ' ' or '/' is not part of a shared prefix of distinct names. */
        if (common > strlen(typed)) {
            insert(e, m.names[0] + strlen(typed), common - strlen(typed));
        } else {
            outs("\r\n");
            for (int i = 0; i < m.count; i++) {
                size_t n = strlen(m.names[i]);
                out(m.names[i], n - (m.names[i][n - 1] == ' '));
                outs(i + 1 < m.count ? "  " : "\r\n");
            }
            refresh(e);
        }
    } else {
        outs("\a");
    }
    for (int i = 0; i < m.count; i++)
        free(m.names[i]);
}

/* ---- reading ---- */

static int read_byte(void)
{
    unsigned char c;
    for (;;) {
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n == 1)
            return c;
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

/* A plain line: everything up to LF (a CR before it dropped). */
static int read_plain(const char *prompt, char *buf, size_t size)
{
    if (prompt && isatty(STDIN_FILENO)) {
        outs(prompt);
    }
    size_t len = 0;
    int c;
    while ((c = read_byte()) >= 0 && c != '\n') {
        if (len + 1 < size)
            buf[len++] = (char)c;
    }
    if (c < 0 && len == 0)
        return -1;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = 0;
    return (int)len;
}

enum { KEY_UP = 1000, KEY_DOWN, KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END, KEY_DELETE, KEY_NONE };

/* After ESC: the rest of a VT100/xterm sequence. */
static int read_escape(void)
{
    int c = read_byte();
    if (c == 'O') {
        c = read_byte();
        return c == 'H' ? KEY_HOME : c == 'F' ? KEY_END : KEY_NONE;
    }
    if (c != '[')
        return KEY_NONE;
    c = read_byte();
    switch (c) {
    case 'A': return KEY_UP;
    case 'B': return KEY_DOWN;
    case 'C': return KEY_RIGHT;
    case 'D': return KEY_LEFT;
    case 'H': return KEY_HOME;
    case 'F': return KEY_END;
    }
    if (c < '0' || c > '9')
        return KEY_NONE;
    int n = c - '0';
    while ((c = read_byte()) >= '0' && c <= '9')
        n = n * 10 + c - '0';
    if (c != '~')
        return KEY_NONE;
    return n == 1 || n == 7 ? KEY_HOME : n == 4 || n == 8 ? KEY_END : n == 3 ? KEY_DELETE : KEY_NONE;
}

static void delete_at(edit_t *e, size_t at)
{
    memmove(e->buf + at, e->buf + at + 1, e->len - at);
    e->len--;
    refresh(e);
}

int shell_read_line(const char *prompt, char *buf, size_t size)
{
    const char *term = getenv("TERM");
    if ((term && !strcmp(term, "dumb")) || shell_raw_mode() < 0)
        return read_plain(prompt, buf, size);

    edit_t e = { prompt, buf, size, 0, 0 };
    buf[0] = 0;
    int browse = history_count; /* history entry shown; history_count = the new line */
    char *pending = NULL;       /* the new line, kept while browsing */
    int result = -1;
    outs(prompt);
    for (;;) {
        int c = read_byte();
        if (c < 0) {
            result = e.len ? (int)e.len : -1;
            break;
        }
        if (c == 27)
            c = read_escape();
        if (c == '\r' || c == '\n') {
            outs("\r\n");
            result = (int)e.len;
            break;
        }
        switch (c) {
        case 3: /* Ctrl-C */
            outs("^C\r\n");
            e.len = e.pos = 0;
            buf[0] = 0;
            result = 0;
            goto done;
        case 4: /* Ctrl-D */
            if (e.len == 0) {
                outs("\r\n");
                result = -1;
                goto done;
            }
            if (e.pos < e.len)
                delete_at(&e, e.pos);
            break;
        case 1: case KEY_HOME:
            e.pos = 0;
            refresh(&e);
            break;
        case 5: case KEY_END:
            e.pos = e.len;
            refresh(&e);
            break;
        case 2: case KEY_LEFT:
            if (e.pos > 0) {
                e.pos--;
                outs("\x1b[D");
            }
            break;
        case 6: case KEY_RIGHT:
            if (e.pos < e.len) {
                e.pos++;
                outs("\x1b[C");
            }
            break;
        case 8: case 127:
            if (e.pos > 0) {
                e.pos--;
                delete_at(&e, e.pos);
            }
            break;
        case KEY_DELETE:
            if (e.pos < e.len)
                delete_at(&e, e.pos);
            break;
        case 11: /* Ctrl-K */
            e.len = e.pos;
            buf[e.len] = 0;
            refresh(&e);
            break;
        case 21: /* Ctrl-U */
            memmove(buf, buf + e.pos, e.len - e.pos + 1);
            e.len -= e.pos;
            e.pos = 0;
            refresh(&e);
            break;
        case 12: /* Ctrl-L */
            outs("\x1b[H\x1b[2J");
            refresh(&e);
            break;
        case '\t':
            complete(&e);
            break;
        case 16: case KEY_UP:
        case 14: case KEY_DOWN: {
            int up = c == 16 || c == KEY_UP;
            int to = browse + (up ? -1 : 1);
            if (to < 0 || to > history_count)
                break;
            if (browse == history_count) {
                free(pending);
                pending = strdup(buf);
            }
            browse = to;
            set_line(&e, browse == history_count ? (pending ? pending : "") : history[browse]);
            break;
        }
        default:
            if (c >= 32 && c < 256 && c != 127) {
                char ch = (char)c;
                insert(&e, &ch, 1);
            }
            break;
        }
    }
done:
    free(pending);
    shell_terminal_restore();
    return result;
}
