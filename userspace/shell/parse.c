/* SPDX-License-Identifier: MIT */
/*
 * Lexer and parser. One pass over the line splits it into words and operators and
 * builds the and-or list of pipelines at the same time. Words are kept raw (quotes,
 * backslashes and $ references still in them) and expanded only when their command
 * runs, so `false; echo $?` sees the status of `false`.
 *
 * Operators: | || & && ; < > >> N> N>> N>&M (N, M single digits) and # comments at the
 * start of a word. A word ends at unquoted blanks or operator characters.
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "shell.h"

typedef struct {
    const char *p;
    char *out, *out_end;
} lexer_t;

static int syntax_error(const char *what)
{
    fprintf(stderr, "shell: syntax error: %s\n", what);
    return -1;
}

static int is_operator_char(char c)
{
    return c == '|' || c == '&' || c == ';' || c == '<' || c == '>';
}

/* Copies one raw word into the storage; returns it, or NULL after an error message. */
static char *read_word(lexer_t *lx)
{
    char *start = lx->out;
    const char *p = lx->p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\n' && !is_operator_char(*p)) {
        const char *from = p;
        if (*p == '\'') {
            p = strchr(p + 1, '\'');
            if (!p) {
                syntax_error("unterminated '");
                return NULL;
            }
            p++;
        } else if (*p == '"') {
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p) {
                syntax_error("unterminated \"");
                return NULL;
            }
            p++;
        } else if (*p == '\\' && p[1]) {
            p += 2;
        } else {
            p++;
        }
        size_t n = (size_t)(p - from);
        if (lx->out + n + 1 >= lx->out_end) {
            syntax_error("line too long (SHELL_LINE_MAX)");
            return NULL;
        }
        memcpy(lx->out, from, n);
        lx->out += n;
    }
    *lx->out++ = 0;
    lx->p = p;
    return start;
}

static int command_empty(const shell_command_t *c)
{
    return c->word_count == 0 && c->redir_count == 0;
}

int shell_parse(const char *line, shell_list_t *list)
{
    memset(list, 0, sizeof(*list));
    lexer_t lx = { line, list->storage, list->storage + sizeof(list->storage) };
    if (strlen(line) >= SHELL_LINE_MAX)
        return syntax_error("line too long (SHELL_LINE_MAX)");
    shell_pipeline_t *pl = &list->pipelines[0];
    shell_command_t *cmd = &pl->commands[0];
    list->pipeline_count = 1;
    pl->command_count = 1;
    int after_join = 0; /* the last thing was && or || */

    for (;;) {
        while (*lx.p == ' ' || *lx.p == '\t' || *lx.p == '\n' || *lx.p == '\r')
            lx.p++;
        const char *p = lx.p;
        if (!*p || *p == '#')
            break;
        int fd = -1;
        if (isdigit((unsigned char)p[0]) && (p[1] == '>' || p[1] == '<')) {
            fd = p[0] - '0';
            p++;
        }
        if (*p == '|' && p[1] != '|') {
            if (command_empty(cmd))
                return syntax_error("unexpected '|'");
            if (pl->command_count == SHELL_PIPE_MAX)
                return syntax_error("pipeline too long (SHELL_PIPE_MAX)");
            cmd = &pl->commands[pl->command_count++];
            lx.p = p + 1;
            continue;
        }
        if (*p == ';' || *p == '&' || *p == '|') {
            int join = *p == ';' ? JOIN_SEQ : p[1] == *p ? (*p == '&' ? JOIN_AND : JOIN_OR)
                                                         : JOIN_BACKGROUND;
            static const char *const names[] = { "", "';'", "'&&'", "'||'", "'&'" };
            if (command_empty(cmd)) {
                fprintf(stderr, "shell: syntax error: unexpected %s\n", names[join]);
                return -1;
            }
            lx.p = p + (join == JOIN_AND || join == JOIN_OR ? 2 : 1);
            pl->join = join;
            after_join = join == JOIN_AND || join == JOIN_OR;
            if (list->pipeline_count == SHELL_LIST_MAX)
                return syntax_error("too many commands on one line (SHELL_LIST_MAX)");
            pl = &list->pipelines[list->pipeline_count++];
            pl->command_count = 1;
            cmd = &pl->commands[0];
            continue;
        }
        if (*p == '<' || *p == '>') {
            if (cmd->redir_count == SHELL_REDIRS_MAX)
                return syntax_error("too many redirections (SHELL_REDIRS_MAX)");
            shell_redir_t *r = &cmd->redirs[cmd->redir_count++];
            if (*p == '<') {
                r->kind = REDIR_IN;
                r->fd = fd < 0 ? 0 : fd;
                p++;
            } else {
                r->fd = fd < 0 ? 1 : fd;
                r->kind = p[1] == '>' ? REDIR_APPEND : REDIR_OUT;
                p += r->kind == REDIR_APPEND ? 2 : 1;
                if (r->kind == REDIR_OUT && *p == '&') {
                    if (!isdigit((unsigned char)p[1]) || isdigit((unsigned char)p[2]))
                        return syntax_error("'>&' needs one digit");
                    r->kind = REDIR_DUP;
                    lx.out[0] = p[1];
                    lx.out[1] = 0;
                    r->target = lx.out;
                    lx.out += 2;
                    lx.p = p + 2;
                    continue;
                }
            }
            lx.p = p;
            while (*lx.p == ' ' || *lx.p == '\t')
                lx.p++;
            if (!*lx.p || is_operator_char(*lx.p) || *lx.p == '#')
                return syntax_error("a redirection needs a file name");
            if (!(r->target = read_word(&lx)))
                return -1;
            continue;
        }
        if (cmd->word_count == SHELL_WORDS_MAX)
            return syntax_error("too many words (SHELL_WORDS_MAX)");
        char *w = read_word(&lx);
        if (!w)
            return -1;
        cmd->words[cmd->word_count++] = w;
        after_join = 0;
    }
    if (command_empty(cmd)) {
        if (pl->command_count > 1)
            return syntax_error("'|' at the end of the line");
        if (after_join)
            return syntax_error("'&&' or '||' at the end of the line");
        /* A trailing ; or & (or an empty line) leaves one empty pipeline: drop it. */
        list->pipeline_count--;
    }
    if (list->pipeline_count > 0) {
        shell_pipeline_t *last = &list->pipelines[list->pipeline_count - 1];
        if (last->join != JOIN_BACKGROUND)
            last->join = JOIN_END;
    }
    return 0;
}
