/* SPDX-License-Identifier: MIT */
/*
 * Running parsed lines: word expansion, variables, redirection, pipelines and jobs.
 *
 * Every pipeline runs in its own process group (setpgid in the child and in the parent,
 * so neither order of events loses it) and, in the foreground of an interactive shell,
 * owns the terminal (tcsetpgrp) until it ends; the shell then takes the terminal back.
 * Kernels without process groups or job control answer ENOSYS, ENOTTY or EPERM: those
 * are ignored, the pipeline simply stays in the shell's group.
 *
 * A builtin alone runs in the shell; in a pipeline, in the background or redirected it
 * runs in a forked child like a program. Builtins that change the shell itself (cd,
 * exit, export, unset, a plain assignment) always run in the shell, with their
 * redirections applied around them.
 *
 * Expansion: '...' is literal, "..." keeps \ before $ " \ ` only, \x outside quotes is x;
 * $NAME, ${NAME}, $? and $$ expand; the result is one word (no field splitting), and an
 * unquoted word that expands to nothing is dropped.
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "shell.h"

extern char **environ;

int shell_last_status;
int shell_interactive;

/* ---- variables ---- */

static struct { char *name, *value; } vars[SHELL_VARS_MAX];

static int var_index(const char *name)
{
    for (int i = 0; i < SHELL_VARS_MAX; i++)
        if (vars[i].name && !strcmp(vars[i].name, name))
            return i;
    return -1;
}

const char *shell_var_get(const char *name)
{
    int i = var_index(name);
    return i >= 0 ? vars[i].value : getenv(name);
}

void shell_var_unset(const char *name)
{
    int i = var_index(name);
    if (i >= 0) {
        free(vars[i].name);
        free(vars[i].value);
        vars[i].name = vars[i].value = NULL;
    }
    unsetenv(name);
}

int shell_var_set(const char *name, const char *value, int exported)
{
    if (exported || getenv(name)) {
        shell_var_unset(name);
        return setenv(name, value, 1) ? -1 : 0;
    }
    int i = var_index(name);
    if (i < 0) {
        for (i = 0; i < SHELL_VARS_MAX && vars[i].name; i++)
            ;
        if (i == SHELL_VARS_MAX) {
            fprintf(stderr, "shell: too many variables (SHELL_VARS_MAX)\n");
            return -1;
        }
        vars[i].name = strdup(name);
    } else {
        free(vars[i].value);
    }
    vars[i].value = strdup(value);
    return 0;
}

void shell_var_print(void)
{
    for (int i = 0; i < SHELL_VARS_MAX; i++)
        if (vars[i].name)
            printf("%s=%s\n", vars[i].name, vars[i].value);
}

/* NAME=... with NAME a valid identifier (the raw word, before expansion). */
int shell_is_assignment(const char *word)
{
    if (!isalpha((unsigned char)*word) && *word != '_')
        return 0;
    while (isalnum((unsigned char)*word) || *word == '_')
        word++;
    return *word == '=';
}

/* ---- expansion ---- */

typedef struct {
    char *s;
    size_t len, cap;
} buf_t;

static int put(buf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return 0;
}

/* Expands the $ reference at *pp (just after the $); advances *pp. */
static int expand_dollar(buf_t *b, const char **pp)
{
    const char *p = *pp;
    char name[128], tmp[24];
    const char *value = NULL;
    if (*p == '?' || *p == '$') {
        snprintf(tmp, sizeof(tmp), "%d", *p == '?' ? shell_last_status : (int)getpid());
        value = tmp;
        p++;
    } else if (*p == '{') {
        const char *end = strchr(p, '}');
        size_t n = end ? (size_t)(end - p - 1) : 0;
        if (!end || n == 0 || n >= sizeof(name)) {
            fprintf(stderr, "shell: bad substitution\n");
            return -1;
        }
        memcpy(name, p + 1, n);
        name[n] = 0;
        if (!strcmp(name, "?")) {
            snprintf(tmp, sizeof(tmp), "%d", shell_last_status);
            value = tmp;
        } else {
            value = shell_var_get(name);
        }
        p = end + 1;
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        size_t n = 0;
        while ((isalnum((unsigned char)p[n]) || p[n] == '_') && n + 1 < sizeof(name)) {
            name[n] = p[n];
            n++;
        }
        name[n] = 0;
        p += n;
        value = shell_var_get(name);
    } else {
        value = "$"; /* a lone $ stays */
    }
    *pp = p;
    return value ? put(b, value, strlen(value)) : 0;
}

/* One unit of a word at *pp: a backslash escape, a $ reference or a plain byte. Inside
 * double quotes a backslash escapes only $ " \ and backquote, and stays otherwise. */
static int expand_unit(buf_t *b, const char **pp, int in_double, int *quoted)
{
    const char *p = *pp;
    int err;
    if (*p == '\\' && p[1] && (!in_double || strchr("$\"\\`", p[1]))) {
        *quoted = 1;
        err = put(b, p + 1, 1);
        p += 2;
    } else if (*p == '$') {
        p++;
        err = expand_dollar(b, &p);
    } else {
        err = put(b, p++, 1);
    }
    *pp = p;
    return err;
}

/* Sets *quoted when the word had quotes (so an empty result is still a word). */
static char *expand(const char *raw, int *quoted)
{
    buf_t b = { 0 };
    if (put(&b, "", 0))
        return NULL;
    *quoted = 0;
    for (const char *p = raw; *p; ) {
        if (*p == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end)
                end = p + strlen(p);
            if (put(&b, p + 1, (size_t)(end - p - 1)))
                goto fail;
            *quoted = 1;
            p = *end ? end + 1 : end;
        } else if (*p == '"') {
            *quoted = 1;
            for (p++; *p && *p != '"'; )
                if (expand_unit(&b, &p, 1, quoted))
                    goto fail;
            if (*p)
                p++;
        } else if (expand_unit(&b, &p, 0, quoted)) {
            goto fail;
        }
    }
    return b.s;
fail:
    free(b.s);
    return NULL;
}

char *shell_expand(const char *raw)
{
    int quoted;
    return expand(raw, &quoted);
}

/* The command's words expanded into argv (malloc'd strings); argc, or -1. Leading
 * assignments are left out of argv and counted in *assignments. */
static int expand_words(const shell_command_t *cmd, char **argv, int *assignments)
{
    int argc = 0;
    *assignments = 0;
    for (int i = 0; i < cmd->word_count; i++) {
        int quoted;
        char *w = expand(cmd->words[i], &quoted);
        if (!w) {
            while (argc > 0)
                free(argv[--argc]);
            return -1;
        }
        if (argc == 0 && i == *assignments && shell_is_assignment(cmd->words[i])) {
            (*assignments)++;
            free(w);
            continue;
        }
        if (!*w && !quoted) {
            free(w);
            continue;
        }
        argv[argc++] = w;
    }
    argv[argc] = NULL;
    return argc;
}

static void free_words(char **argv)
{
    for (int i = 0; argv[i]; i++)
        free(argv[i]);
}

/* Performs the leading NAME=value words: into the shell (or its environment). */
static int assign(const shell_command_t *cmd, int count, int to_environment)
{
    for (int i = 0; i < count; i++) {
        const char *eq = strchr(cmd->words[i], '=');
        char name[128];
        size_t n = (size_t)(eq - cmd->words[i]);
        if (n >= sizeof(name))
            return -1;
        memcpy(name, cmd->words[i], n);
        name[n] = 0;
        char *value = shell_expand(eq + 1);
        if (!value)
            return -1;
        int err = to_environment ? setenv(name, value, 1) : shell_var_set(name, value, 0);
        free(value);
        if (err)
            return -1;
    }
    return 0;
}

/* ---- redirection ---- */

/* Applies the redirections to this process's descriptors; 0 or -1 after a message. */
static int apply_redirs(const shell_command_t *cmd)
{
    for (int i = 0; i < cmd->redir_count; i++) {
        const shell_redir_t *r = &cmd->redirs[i];
        if (r->kind == REDIR_DUP) {
            if (dup2(r->target[0] - '0', r->fd) < 0) {
                fprintf(stderr, "shell: %d>&%s: %s\n", r->fd, r->target, strerror(errno));
                return -1;
            }
            continue;
        }
        char *name = shell_expand(r->target);
        if (!name)
            return -1;
        int flags = r->kind == REDIR_IN ? O_RDONLY
                  : r->kind == REDIR_OUT ? O_WRONLY | O_CREAT | O_TRUNC
                                         : O_WRONLY | O_CREAT | O_APPEND;
        int fd = open(name, flags, 0644);
        if (fd < 0) {
            fprintf(stderr, "shell: %s: %s\n", name, strerror(errno));
            free(name);
            return -1;
        }
        free(name);
        if (fd != r->fd) {
            if (dup2(fd, r->fd) < 0) {
                fprintf(stderr, "shell: redirection: %s\n", strerror(errno));
                close(fd);
                return -1;
            }
            close(fd);
        }
    }
    return 0;
}

/* ---- programs ---- */

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int shell_find_program(const char *name, char *out, size_t size)
{
    if (strchr(name, '/')) {
        snprintf(out, size, "%s", name);
        return is_file(out) ? 0 : -1;
    }
    const char *path = shell_var_get("PATH");
    if (!path)
        path = "/bin";
    while (*name && *path) {
        size_t n = strcspn(path, ":");
        const char *dir = n ? path : ".";
        int dn = n ? (int)n : 1;
        snprintf(out, size, "%.*s/%s", dn, dir, name);
        if (is_file(out))
            return 0;
        snprintf(out, size, "%.*s/%s.vbin", dn, dir, name);
        if (is_file(out))
            return 0;
        path += n + (path[n] == ':');
    }
    return -1;
}

static void default_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    signal(SIGTSTP, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    signal(SIGTTIN, SIG_DFL);
}

static void ignore_job_signals(int ignore)
{
    void (*h)(int) = ignore ? SIG_IGN : SIG_DFL;
    signal(SIGINT, h);
    signal(SIGQUIT, h);
    signal(SIGTSTP, h);
    signal(SIGTTOU, h);
}

/* Gives the terminal to a process group; errors (no job control here) are ignored. */
static void give_terminal(pid_t pgid)
{
    if (shell_interactive)
        tcsetpgrp(STDIN_FILENO, pgid);
}

void shell_take_terminal(void)
{
    give_terminal(getpgrp());
}

/* Runs one command in a forked child: never returns. */
static void run_child(const shell_command_t *cmd)
{
    char *argv[SHELL_WORDS_MAX + 1];
    int assignments;
    if (apply_redirs(cmd))
        _exit(1);
    int argc = expand_words(cmd, argv, &assignments);
    if (argc < 0)
        _exit(1);
    if (assign(cmd, assignments, 1))
        _exit(1);
    if (argc == 0)
        _exit(0);
    const shell_builtin_t *b = shell_builtin_find(argv[0]);
    if (b) {
        int status = b->fn(argc, argv);
        fflush(NULL);
        _exit(status);
    }
    char path[512];
    if (shell_find_program(argv[0], path, sizeof(path))) {
        fprintf(stderr, "shell: %s: %s\n", argv[0],
                strchr(argv[0], '/') ? "no such file" : "command not found");
        _exit(SHELL_STATUS_NOT_FOUND);
    }
    execve(path, argv, environ);
    fprintf(stderr, "shell: %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? SHELL_STATUS_NOT_FOUND : SHELL_STATUS_NOT_EXEC);
}

static int status_of(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus)) {
        int sig = WTERMSIG(wstatus);
        if (sig == SIGINT)
            fputc('\n', stderr);
        else
            fprintf(stderr, "shell: killed by signal %d (%s)\n", sig, strsignal(sig));
        return 128 + sig;
    }
    return 1;
}

#define BACKGROUND_MAX 16
static pid_t background[BACKGROUND_MAX];

void shell_reap_background(void)
{
    for (int i = 0; i < BACKGROUND_MAX; i++) {
        int st;
        if (background[i] && waitpid(background[i], &st, WNOHANG) == background[i]) {
            fprintf(stderr, "[%d] done, status %d\n", (int)background[i],
                    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            background[i] = 0;
        }
    }
}

static int run_forked(const shell_pipeline_t *pl, int in_background)
{
    pid_t pids[SHELL_PIPE_MAX], pgid = 0;
    int n = pl->command_count, prev_read = -1, started = 0;
    fflush(NULL);
    for (int j = 0; j < n; j++) {
        int fds[2] = { -1, -1 };
        if (j < n - 1 && pipe(fds) < 0) {
            fprintf(stderr, "shell: pipe: %s\n", strerror(errno));
            break;
        }
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "shell: fork: %s\n", strerror(errno));
            if (fds[0] >= 0) {
                close(fds[0]);
                close(fds[1]);
            }
            break;
        }
        if (pid == 0) {
            setpgid(0, pgid);
            if (!in_background)
                give_terminal(getpgrp());
            default_signals();
            __fpurge(stdin); /* what the shell buffered is not this child's input */
            if (prev_read >= 0) {
                dup2(prev_read, STDIN_FILENO);
                close(prev_read);
            }
            if (fds[1] >= 0) {
                dup2(fds[1], STDOUT_FILENO);
                close(fds[0]);
                close(fds[1]);
            }
            run_child(&pl->commands[j]);
        }
        if (!pgid)
            pgid = pid;
        setpgid(pid, pgid);
        pids[started++] = pid;
        if (prev_read >= 0)
            close(prev_read);
        prev_read = fds[0];
        if (fds[1] >= 0)
            close(fds[1]);
    }
    if (prev_read >= 0)
        close(prev_read);
    if (started == 0)
        return 1;
    if (in_background) {
        fprintf(stderr, "[%d]\n", (int)pids[started - 1]);
        for (int i = 0; i < BACKGROUND_MAX; i++)
            if (!background[i]) {
                background[i] = pids[started - 1];
                break;
            }
        return 0;
    }
    give_terminal(pgid);
    if (!shell_interactive)
        ignore_job_signals(1);
    int status = 1;
    for (int j = 0; j < started; j++) {
        int st;
        while (waitpid(pids[j], &st, 0) < 0 && errno == EINTR)
            ;
        if (j == started - 1)
            status = status_of(st);
    }
    if (!shell_interactive)
        ignore_job_signals(0);
    shell_take_terminal();
    return started == n ? status : 1;
}

/* Runs a builtin that changes the shell, in the shell, with its redirections around it. */
static int run_in_shell(const shell_command_t *cmd, const shell_builtin_t *b, int argc, char **argv)
{
    int saved[3];
    fflush(NULL);
    for (int fd = 0; fd < 3; fd++)
        saved[fd] = cmd->redir_count ? fcntl(fd, F_DUPFD, 10) : -1;
    int status = apply_redirs(cmd) ? 1 : b->fn(argc, argv);
    fflush(NULL);
    for (int fd = 0; fd < 3; fd++)
        if (saved[fd] >= 0) {
            dup2(saved[fd], fd);
            close(saved[fd]);
        }
    return status;
}

static int run_pipeline(const shell_pipeline_t *pl)
{
    int in_background = pl->join == JOIN_BACKGROUND;
    if (pl->command_count == 1 && !in_background) {
        const shell_command_t *cmd = &pl->commands[0];
        char *argv[SHELL_WORDS_MAX + 1];
        int assignments;
        int argc = expand_words(cmd, argv, &assignments);
        if (argc < 0)
            return 1;
        int status = -1;
        if (argc == 0 && cmd->redir_count == 0) {
            status = assign(cmd, assignments, 0) ? 1 : 0;
        } else if (argc > 0) {
            const shell_builtin_t *b = shell_builtin_find(argv[0]);
            if (b && (b->must_run_in_shell || (cmd->redir_count == 0 && assignments == 0)))
                status = run_in_shell(cmd, b, argc, argv);
        }
        free_words(argv);
        if (status >= 0)
            return status;
    }
    return run_forked(pl, in_background);
}

int shell_run_list(shell_list_t *list)
{
    int status = shell_last_status;
    for (int i = 0; i < list->pipeline_count; i++) {
        int join = i > 0 ? list->pipelines[i - 1].join : JOIN_SEQ;
        if ((join == JOIN_AND && status != 0) || (join == JOIN_OR && status == 0))
            continue;
        status = run_pipeline(&list->pipelines[i]);
        shell_last_status = status;
    }
    return status;
}

int shell_run_line(const char *line)
{
    static shell_list_t list;
    if (shell_parse(line, &list)) {
        shell_last_status = SHELL_STATUS_SYNTAX;
        return SHELL_STATUS_SYNTAX;
    }
    return shell_run_list(&list);
}
