/* SPDX-License-Identifier: MIT */
/*
 * The vkernel shell (docs/shell.md): one header for its parts.
 *
 *   main.c      start-up, the read-run loop, -c and script files
 *   lineedit.c  the raw-mode line editor, history and tab completion
 *   parse.c     lexer and parser: a line becomes and-or lists of pipelines
 *   exec.c      expansion, redirection, process groups, pipelines, PATH lookup
 *   builtins.c  file and environment builtins, help
 *   kobjcmd.c   builtins over the KObj RPC and the power/panic commands
 *
 * Everything runs in one thread; the fixed limits below fail with a message naming them.
 */
#ifndef SHELL_H
#define SHELL_H

#include <stddef.h>

#define SHELL_LINE_MAX     1024  /* bytes in one input line */
#define SHELL_WORDS_MAX    64    /* words in one command */
#define SHELL_REDIRS_MAX   8     /* redirections in one command */
#define SHELL_PIPE_MAX     8     /* commands in one pipeline */
#define SHELL_LIST_MAX     16    /* pipelines in one line (joined by ; && || &) */
#define SHELL_HISTORY_MAX  100   /* remembered lines */
#define SHELL_VARS_MAX     64    /* shell (unexported) variables */
#define SHELL_REPLY_MAX    (64 * 1024) /* one KObj RPC reply */

#define SHELL_STATUS_SYNTAX    2
#define SHELL_STATUS_NOT_FOUND 127
#define SHELL_STATUS_NOT_EXEC  126

enum { REDIR_IN, REDIR_OUT, REDIR_APPEND, REDIR_DUP };

typedef struct {
    int fd;        /* the descriptor redirected */
    int kind;      /* REDIR_* */
    char *target;  /* raw word (expanded when run); for REDIR_DUP the fd number */
} shell_redir_t;

typedef struct {
    char *words[SHELL_WORDS_MAX + 1]; /* raw words: quotes and $ still in them */
    int word_count;
    shell_redir_t redirs[SHELL_REDIRS_MAX];
    int redir_count;
} shell_command_t;

enum { JOIN_END, JOIN_SEQ, JOIN_AND, JOIN_OR, JOIN_BACKGROUND };

typedef struct {
    shell_command_t commands[SHELL_PIPE_MAX];
    int command_count;
    int join; /* how it is joined to the next pipeline: JOIN_* */
} shell_pipeline_t;

typedef struct {
    shell_pipeline_t pipelines[SHELL_LIST_MAX];
    int pipeline_count;
    char storage[SHELL_LINE_MAX * 2]; /* the words, NUL-separated */
} shell_list_t;

/* parse.c: 0, or -1 after printing "shell: syntax error: ..." */
int shell_parse(const char *line, shell_list_t *list);

/* exec.c */
extern int shell_last_status;
extern int shell_interactive;
int shell_run_list(shell_list_t *list);
int shell_run_line(const char *line);
/* The word with quotes removed and $VAR, ${VAR}, $? replaced; malloc'd, or NULL. */
char *shell_expand(const char *raw);
/* The program NAME runs (PATH search, NAME then NAME.vbin) into out; 0 or -1. */
int shell_find_program(const char *name, char *out, size_t size);
void shell_reap_background(void);
void shell_take_terminal(void);

/* Shell variables: unexported ones here, exported ones in environ. */
const char *shell_var_get(const char *name);
int shell_var_set(const char *name, const char *value, int exported);
void shell_var_unset(const char *name);
void shell_var_print(void);
int shell_is_assignment(const char *word);

/* builtins.c */
typedef int (*shell_builtin_fn)(int argc, char **argv);
typedef struct {
    const char *name;
    shell_builtin_fn fn;
    const char *usage;
    const char *help;
    int must_run_in_shell; /* changes the shell itself: cd, exit, export... */
} shell_builtin_t;
const shell_builtin_t *shell_builtin_find(const char *name);
const shell_builtin_t *shell_builtin_at(int index); /* NULL past the end */
void shell_exit(int status);

/* kobjcmd.c: builtin handlers */
int shell_kobj_ls(const char *path); /* KObj children; status */
int cmd_version(int, char **);
int cmd_mem(int, char **);
int cmd_tasks(int, char **);
int cmd_top(int, char **);
int cmd_get(int, char **);
int cmd_set(int, char **);
int cmd_watch(int, char **);
int cmd_describe(int, char **);
int cmd_drvload(int, char **);
int cmd_drvunload(int, char **);
int cmd_uptime(int, char **);
int cmd_reboot(int, char **);
int cmd_poweroff(int, char **);
int cmd_idt(int, char **);
int cmd_panic(int, char **);

/* lineedit.c */
void shell_history_add(const char *line);
void shell_history_print(void);
/* Reads one line into buf (no newline). Returns its length, or -1 at end of input.
 * An abandoned line (Ctrl-C) comes back empty. */
int shell_read_line(const char *prompt, char *buf, size_t size);
void shell_terminal_restore(void);
/* Raw mode for a builtin that reads keys (top, watch); 0, or -1 when not a terminal. */
int shell_raw_mode(void);

#endif
