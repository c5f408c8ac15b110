/* SPDX-License-Identifier: MIT */
/*
 * The vkernel shell: entry point and the read-run loop.
 *
 *   shell [-l|-i]      interactive when stdin is a terminal, else reads commands from it
 *                      (-l, a login shell as userspace/init starts it, and -i change
 *                      nothing: the terminal decides)
 *   shell -c COMMAND   runs one line
 *   shell FILE         runs the file line by line
 *
 * The exit status is that of the last command (or of `exit N`). The prompt shows the
 * current directory.
 */
#define _GNU_SOURCE /* setenv, strdup, strsignal, reboot, ... */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "shell.h"

void shell_exit(int status)
{
    fflush(NULL);
    shell_terminal_restore();
    exit(status);
}

static int run_file(FILE *f)
{
    char line[SHELL_LINE_MAX];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        shell_run_line(line);
    }
    return shell_last_status;
}

int main(int argc, char **argv)
{
    if (!shell_var_get("PATH"))
        shell_var_set("PATH", "/bin", 1);
    if (argc == 2 && (!strcmp(argv[1], "-l") || !strcmp(argv[1], "-i")))
        argc = 1;
    if (argc == 3 && !strcmp(argv[1], "-c"))
        return shell_run_line(argv[2]);
    if (argc == 2 && argv[1][0] != '-') {
        FILE *f = fopen(argv[1], "r");
        if (!f) {
            perror(argv[1]);
            return SHELL_STATUS_NOT_FOUND;
        }
        return run_file(f);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: shell [-l | -i | -c COMMAND | FILE]\n");
        return SHELL_STATUS_SYNTAX;
    }
    shell_interactive = isatty(STDIN_FILENO);
    if (!shell_interactive) {
        /* Unbuffered: a command run from here reads the rest of stdin itself. */
        setvbuf(stdin, NULL, _IONBF, 0);
        return run_file(stdin);
    }

    /* Our own process group, owning the terminal; job signals are for the jobs. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    setpgid(0, 0);
    shell_take_terminal();
    printf("vkernel shell: type help for the commands\n");
    char line[SHELL_LINE_MAX], prompt[300], cwd[256];
    for (;;) {
        shell_reap_background();
        if (!getcwd(cwd, sizeof(cwd)))
            strcpy(cwd, "?");
        snprintf(prompt, sizeof(prompt), "vk:%s$ ", cwd);
        fflush(stdout);
        int n = shell_read_line(prompt, line, sizeof(line));
        if (n < 0)
            break;
        if (n == 0)
            continue;
        shell_history_add(line);
        shell_run_line(line);
    }
    shell_exit(shell_last_status);
}
