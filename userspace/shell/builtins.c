/* SPDX-License-Identifier: MIT */
/*
 * Builtins: the table, help, and the file, text and environment commands. The KObj
 * commands live in kobjcmd.c. Each builtin returns its exit status; errors are one
 * line "NAME: ..." on stderr and status 1 (2 for usage errors).
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shell.h"

extern char **environ;

#define USAGE_STATUS 2

static int usage(const char *name)
{
    const shell_builtin_t *b = shell_builtin_find(name);
    fprintf(stderr, "usage: %s\n", b ? b->usage : name);
    return USAGE_STATUS;
}

static int fail(const char *cmd, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", cmd, what, strerror(errno));
    return 1;
}

static int cmd_help(int argc, char **argv)
{
    (void)argv;
    if (argc > 2)
        return usage("help");
    const shell_builtin_t *b;
    if (argc == 2) {
        if (!(b = shell_builtin_find(argv[1]))) {
            fprintf(stderr, "help: %s: no such builtin\n", argv[1]);
            return 1;
        }
        printf("%s\n  %s\n", b->usage, b->help);
        return 0;
    }
    printf("Builtins (programs in PATH run by name too; see docs/shell.md):\n");
    for (int i = 0; (b = shell_builtin_at(i)); i++)
        printf("  %-26s %s\n", b->usage, b->help);
    return 0;
}

static int cmd_exit(int argc, char **argv)
{
    if (argc > 2)
        return usage("exit");
    int status = shell_last_status;
    if (argc == 2) {
        char *end;
        long v = strtol(argv[1], &end, 10);
        if (*end || !*argv[1]) {
            fprintf(stderr, "exit: %s: not a number\n", argv[1]);
            return USAGE_STATUS;
        }
        status = (int)(v & 0xff);
    }
    shell_exit(status);
    return status;
}

static int cmd_cd(int argc, char **argv)
{
    if (argc > 2)
        return usage("cd");
    const char *dir = argc == 2 ? argv[1] : shell_var_get("HOME");
    if (!dir)
        dir = "/";
    if (chdir(dir) < 0)
        return fail("cd", dir);
    char cwd[512];
    if (getcwd(cwd, sizeof(cwd)))
        shell_var_set("PWD", cwd, 1);
    return 0;
}

static int cmd_pwd(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage("pwd");
    char cwd[512];
    if (!getcwd(cwd, sizeof(cwd)))
        return fail("pwd", ".");
    puts(cwd);
    return 0;
}

static int cmd_true(int argc, char **argv) { (void)argc; (void)argv; return 0; }
static int cmd_false(int argc, char **argv) { (void)argc; (void)argv; return 1; }

static int cmd_echo(int argc, char **argv)
{
    int i = 1, newline = 1;
    if (argc > 1 && !strcmp(argv[1], "-n")) {
        newline = 0;
        i++;
    }
    for (; i < argc; i++)
        printf("%s%s", argv[i], i + 1 < argc ? " " : "");
    if (newline)
        putchar('\n');
    return 0;
}

static int copy_fd(int in, int outfd)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        for (ssize_t at = 0; at < n; ) {
            ssize_t w = write(outfd, buf + at, (size_t)(n - at));
            if (w <= 0)
                return -1;
            at += w;
        }
    }
    return n < 0 ? -1 : 0;
}

static int cmd_cat(int argc, char **argv)
{
    fflush(stdout);
    if (argc == 1)
        return copy_fd(STDIN_FILENO, STDOUT_FILENO) ? fail("cat", "stdin") : 0;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            status = fail("cat", argv[i]);
            continue;
        }
        if (copy_fd(fd, STDOUT_FILENO))
            status = fail("cat", argv[i]);
        close(fd);
    }
    return status;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY);
    if (in < 0)
        return fail("cp", from);
    struct stat st;
    char target[512];
    if (stat(to, &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *base = strrchr(from, '/');
        snprintf(target, sizeof(target), "%s/%s", to, base ? base + 1 : from);
        to = target;
    }
    int outfd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (outfd < 0) {
        close(in);
        return fail("cp", to);
    }
    int err = copy_fd(in, outfd);
    close(in);
    if (close(outfd) < 0 || err)
        return fail("cp", to);
    return 0;
}

static int cmd_cp(int argc, char **argv)
{
    if (argc != 3)
        return usage("cp");
    return copy_file(argv[1], argv[2]);
}

static int cmd_mv(int argc, char **argv)
{
    if (argc != 3)
        return usage("mv");
    return rename(argv[1], argv[2]) < 0 ? fail("mv", argv[1]) : 0;
}

static int cmd_rm(int argc, char **argv)
{
    int i = 1, dirs = 0, status = 0;
    if (argc > 1 && !strcmp(argv[1], "-d")) {
        dirs = 1;
        i++;
    }
    if (i >= argc)
        return usage("rm");
    for (; i < argc; i++) {
        struct stat st;
        int is_dir = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode);
        if (is_dir && !dirs) {
            fprintf(stderr, "rm: %s: is a directory (rm -d removes an empty one)\n", argv[i]);
            status = 1;
        } else if ((is_dir ? rmdir(argv[i]) : unlink(argv[i])) < 0) {
            status = fail("rm", argv[i]);
        }
    }
    return status;
}

static int cmd_mkdir(int argc, char **argv)
{
    if (argc < 2)
        return usage("mkdir");
    int status = 0;
    for (int i = 1; i < argc; i++)
        if (mkdir(argv[i], 0755) < 0)
            status = fail("mkdir", argv[i]);
    return status;
}

static int cmd_touch(int argc, char **argv)
{
    if (argc < 2)
        return usage("touch");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_WRONLY | O_CREAT, 0644);
        if (fd < 0)
            status = fail("touch", argv[i]);
        else
            close(fd);
    }
    return status;
}

/* head/tail [-n N] [FILE]: the file (or stdin) as a stream of lines. */
static int lines_args(const char *name, int argc, char **argv, long *count, FILE **f)
{
    int i = 1;
    *count = 10;
    if (i < argc && !strcmp(argv[i], "-n")) {
        char *end;
        if (i + 1 >= argc || (*count = strtol(argv[i + 1], &end, 10)) < 0 || *end || !*argv[i + 1])
            return usage(name);
        i += 2;
    }
    if (argc - i > 1)
        return usage(name);
    *f = i < argc ? fopen(argv[i], "r") : stdin;
    if (!*f)
        return fail(name, argv[i]);
    return 0;
}

static int cmd_head(int argc, char **argv)
{
    long count;
    FILE *f;
    int err = lines_args("head", argc, argv, &count, &f);
    if (err)
        return err;
    int c;
    for (long lines = 0; lines < count && (c = fgetc(f)) != EOF; ) {
        putchar(c);
        lines += c == '\n';
    }
    if (f != stdin)
        fclose(f);
    return 0;
}

static int cmd_tail(int argc, char **argv)
{
    long count;
    FILE *f;
    int err = lines_args("tail", argc, argv, &count, &f);
    if (err)
        return err;
    char *data = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *p = realloc(data, cap = cap ? cap * 2 : 4096);
            if (!p) {
                free(data);
                return fail("tail", "memory");
            }
            data = p;
        }
        data[len++] = (char)c;
    }
    if (f != stdin)
        fclose(f);
    size_t start = len;
    long lines = 0;
    if (start > 0 && data[start - 1] == '\n')
        start--;
    while (start > 0 && (data[start - 1] != '\n' || ++lines < count))
        start--;
    if (count > 0)
        fwrite(data + start, 1, len - start, stdout);
    free(data);
    return 0;
}

static int cmd_wc(int argc, char **argv)
{
    int i = 1, only = 0;
    if (i < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2] && strchr("lwc", argv[i][1]))
        only = argv[i++][1];
    if (argc - i > 1)
        return usage("wc");
    FILE *f = i < argc ? fopen(argv[i], "r") : stdin;
    if (!f)
        return fail("wc", argv[i]);
    long lines = 0, words = 0, bytes = 0;
    int c, in_word = 0;
    while ((c = fgetc(f)) != EOF) {
        bytes++;
        lines += c == '\n';
        int space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        words += !space && !in_word;
        in_word = !space;
    }
    if (f != stdin)
        fclose(f);
    if (only)
        printf("%ld\n", only == 'l' ? lines : only == 'w' ? words : bytes);
    else
        printf("%ld %ld %ld\n", lines, words, bytes);
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    if (argc == 1) {
        for (char **e = environ; *e; e++)
            printf("export %s\n", *e);
        return 0;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
        char name[128];
        snprintf(name, sizeof(name), "%.*s=", (int)n, argv[i]);
        if (n + 2 > sizeof(name) || !shell_is_assignment(name)) {
            fprintf(stderr, "export: %s: not a valid name\n", argv[i]);
            status = 1;
            continue;
        }
        if (eq) {
            *eq = 0;
            shell_var_set(argv[i], eq + 1, 1);
            *eq = '=';
        } else {
            const char *v = shell_var_get(argv[i]);
            shell_var_set(argv[i], v ? v : "", 1);
        }
    }
    return status;
}

static int cmd_unset(int argc, char **argv)
{
    if (argc < 2)
        return usage("unset");
    for (int i = 1; i < argc; i++)
        shell_var_unset(argv[i]);
    return 0;
}

static int cmd_env(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage("env");
    for (char **e = environ; *e; e++)
        puts(*e);
    return 0;
}

static int cmd_set_vars(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage("vars");
    shell_var_print();
    return 0;
}

static int cmd_history(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage("history");
    shell_history_print();
    return 0;
}

static int cmd_clear(int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return usage("clear");
    fputs("\x1b[H\x1b[2J", stdout);
    return 0;
}

/* ls for the filesystem; a KObj path when nothing of that name exists in it. */
static int cmd_ls(int argc, char **argv)
{
    if (argc > 2)
        return usage("ls");
    const char *path = argc == 2 ? argv[1] : ".";
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT && path[0] == '/')
            return shell_kobj_ls(path);
        return fail("ls", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        printf("%s  %lld\n", path, (long long)st.st_size);
        return 0;
    }
    DIR *d = opendir(path);
    if (!d)
        return fail("ls", path);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char full[800];
        snprintf(full, sizeof(full), "%s/%s", path, de->d_name);
        if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
            printf("%s/\n", de->d_name);
        else
            printf("%-32s %lld\n", de->d_name, stat(full, &st) == 0 ? (long long)st.st_size : 0LL);
    }
    closedir(d);
    return 0;
}

/* run PROGRAM [ARGS]: a program by name or path, never a builtin. */
static int cmd_run(int argc, char **argv)
{
    if (argc < 2)
        return usage("run");
    char path[512];
    if (shell_find_program(argv[1], path, sizeof(path))) {
        fprintf(stderr, "run: %s: no such program\n", argv[1]);
        return SHELL_STATUS_NOT_FOUND;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return fail("run", "fork");
    if (pid == 0) {
        execve(path, argv + 1, environ);
        fprintf(stderr, "run: %s: %s\n", path, strerror(errno));
        _exit(SHELL_STATUS_NOT_EXEC);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return fail("run", "wait");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* alloc [N]: malloc/free in several patterns, each block's contents verified. */
static int cmd_alloc(int argc, char **argv)
{
    if (argc > 2)
        return usage("alloc");
    int rounds = argc == 2 ? atoi(argv[1]) : 64;
    if (rounds <= 0 || rounds > 4096)
        return usage("alloc");
    enum { SLOTS = 32 };
    unsigned char *blocks[SLOTS] = { 0 };
    size_t sizes[SLOTS] = { 0 };
    uint32_t seed = 12345;
    unsigned long allocations = 0, bytes = 0, bad = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < SLOTS; i++) {
            seed = seed * 1103515245u + 12345u;
            /* Small, medium and page-sized blocks; every third slot is freed and
             * reallocated each round so freed memory is reused. */
            if (blocks[i] && (i + r) % 3 != 0)
                continue;
            if (blocks[i]) {
                for (size_t k = 0; k < sizes[i]; k++)
                    bad += blocks[i][k] != (unsigned char)(i * 7 + k);
                free(blocks[i]);
            }
            size_t size = i % 4 == 0 ? 4096 * (1 + seed % 16) : 1 + seed % 512;
            blocks[i] = malloc(size);
            if (!blocks[i]) {
                fprintf(stderr, "alloc: malloc(%zu) failed after %lu allocations\n", size, allocations);
                bad++;
                sizes[i] = 0;
                continue;
            }
            sizes[i] = size;
            for (size_t k = 0; k < size; k++)
                blocks[i][k] = (unsigned char)(i * 7 + k);
            allocations++;
            bytes += size;
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        if (!blocks[i])
            continue;
        for (size_t k = 0; k < sizes[i]; k++)
            bad += blocks[i][k] != (unsigned char)(i * 7 + k);
        free(blocks[i]);
    }
    printf("alloc: %lu allocations, %lu bytes, %lu bad bytes: %s\n", allocations, bytes, bad,
           bad ? "FAILED" : "ok");
    return bad ? 1 : 0;
}

static const shell_builtin_t builtins[] = {
    { "help", cmd_help, "help [builtin]", "list the builtins, or explain one", 0 },
    { "?", cmd_help, "? [builtin]", "the same as help", 0 },
    { "version", cmd_version, "version", "the kernel's version and build", 0 },
    { "uptime", cmd_uptime, "uptime", "time since boot", 0 },
    { "mem", cmd_mem, "mem", "physical memory: total and free", 0 },
    { "tasks", cmd_tasks, "tasks", "every thread: id, state, CPU, priority, time, name", 0 },
    { "top", cmd_top, "top [once]", "tasks by CPU time, refreshed each second (q quits)", 0 },
    { "ls", cmd_ls, "ls [path]", "a directory, or a KObj directory's children", 0 },
    { "get", cmd_get, "get <kobj path>", "a KObj value", 0 },
    { "set", cmd_set, "set <kobj path> <value>", "change a writable KObj value", 0 },
    { "describe", cmd_describe, "describe <kobj path>", "a KObj node's type, access, unit, text", 0 },
    { "watch", cmd_watch, "watch <kobj path> [interval_ms]", "print a KObj value as it changes (q quits)", 0 },
    { "idt", cmd_idt, "idt", "interrupt counts per vector (/irq)", 0 },
    { "drvload", cmd_drvload, "drvload <driver>", "load a driver (/drivers/<driver>/load)", 0 },
    { "drvunload", cmd_drvunload, "drvunload <driver>", "unload a driver (/drivers/<driver>/unload)", 0 },
    { "run", cmd_run, "run <program> [args]", "run a program from PATH or by path", 0 },
    { "alloc", cmd_alloc, "alloc [rounds]", "heap smoke test: malloc/free patterns, verified", 0 },
    { "clear", cmd_clear, "clear", "clear the screen", 0 },
    { "reboot", cmd_reboot, "reboot", "restart the machine (filesystems flushed)", 0 },
    { "poweroff", cmd_poweroff, "poweroff", "power the machine off (filesystems flushed)", 0 },
    { "panic", cmd_panic, "panic", "a deliberate kernel panic, after confirmation", 1 },
    { "exit", cmd_exit, "exit [status]", "leave the shell", 1 },
    { "cd", cmd_cd, "cd [dir]", "change directory (HOME without an argument)", 1 },
    { "pwd", cmd_pwd, "pwd", "print the current directory", 0 },
    { "true", cmd_true, "true", "do nothing, successfully", 0 },
    { "false", cmd_false, "false", "do nothing, status 1", 0 },
    { "echo", cmd_echo, "echo [-n] [words]", "print the words", 0 },
    { "cat", cmd_cat, "cat [files]", "print files (or stdin)", 0 },
    { "cp", cmd_cp, "cp <from> <to>", "copy a file (into a directory too)", 0 },
    { "mv", cmd_mv, "mv <from> <to>", "rename a file or directory", 0 },
    { "rm", cmd_rm, "rm [-d] <paths>", "remove files (-d: empty directories too)", 0 },
    { "mkdir", cmd_mkdir, "mkdir <dirs>", "make directories", 0 },
    { "touch", cmd_touch, "touch <files>", "create files that do not exist", 0 },
    { "head", cmd_head, "head [-n N] [file]", "the first N lines (10)", 0 },
    { "tail", cmd_tail, "tail [-n N] [file]", "the last N lines (10)", 0 },
    { "wc", cmd_wc, "wc [-l|-w|-c] [file]", "count lines, words and bytes", 0 },
    { "export", cmd_export, "export [NAME[=value]...]", "put variables into the environment", 1 },
    { "unset", cmd_unset, "unset <names>", "remove variables", 1 },
    { "env", cmd_env, "env", "print the environment", 0 },
    { "vars", cmd_set_vars, "vars", "print the shell's unexported variables", 0 },
    { "history", cmd_history, "history", "the lines typed so far", 0 },
};

const shell_builtin_t *shell_builtin_at(int index)
{
    return index >= 0 && (size_t)index < sizeof(builtins) / sizeof(builtins[0]) ? &builtins[index] : NULL;
}

const shell_builtin_t *shell_builtin_find(const char *name)
{
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
        if (!strcmp(builtins[i].name, name))
            return &builtins[i];
    return NULL;
}
