/* SPDX-License-Identifier: MIT */
/*
 * init: the first process when the kernel command line names no init= program.
 *
 * It starts the console shell in a session of its own, with the console as that
 * session's controlling terminal, waits for it and starts a new one when it ends, as a
 * getty would. A shell that keeps dying at once (three times within two seconds each)
 * is not restarted; init then ends and the kernel falls back to its monitor.
 *
 *   init [SHELL [ARGS...]]     default: /bin/shell.vbin -l
 *
 * Processes whose parent ended are freed by the kernel when they end (docs/tty.md), so
 * init only waits for its own children.
 *
 * The kernel gives init the KObj-write right (docs/kobj.md "The write right"); the
 * console shell is the machine's operator, so init marks the handle inheritable and the
 * shell, and what it runs, may set KObj nodes (vkobj set, the shell's set and panic).
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <vk/libvk.h>

#define QUICK_DEATH_NS 2000000000LL
#define QUICK_DEATHS_MAX 3

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* In the child: a new session that owns the console, then the shell. */
static void start_shell(char **argv)
{
    setsid();
    int fd = open("/dev/console", O_RDWR);
    if (fd >= 0) {
        ioctl(fd, TIOCSCTTY, 1); /* take it from init's session */
        for (int i = 0; i < 3; i++)
            dup2(fd, i);
        if (fd > 2)
            close(fd);
    }
    signal(SIGHUP, SIG_DFL); /* ignored dispositions would outlive exec */
    signal(SIGINT, SIG_DFL);
    execv(argv[0], argv);
    fprintf(stderr, "init: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int main(int argc, char **argv)
{
    static char *default_shell[] = { "/bin/shell.vbin", "-l", NULL };
    char **shell = argc > 1 ? argv + 1 : default_shell;
    signal(SIGHUP, SIG_IGN); /* the shell's session ending is not ours */
    signal(SIGINT, SIG_IGN);
    const char *right = getenv("VK_KOBJ_WRITE");
    if (right && vk_api()->handle_inherit((uint32_t)strtoul(right, NULL, 10), 1) < 0)
        fprintf(stderr, "init: cannot pass the KObj-write right on\n");
    int quick_deaths = 0;
    while (quick_deaths < QUICK_DEATHS_MAX) {
        long long start = now_ns();
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "init: fork: %s\n", strerror(errno));
            return 1;
        }
        if (pid == 0)
            start_shell(shell);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (WIFSIGNALED(status))
            printf("init: %s killed by signal %d; starting a new one\n", shell[0],
                   WTERMSIG(status));
        else
            printf("init: %s exited with status %d; starting a new one\n", shell[0],
                   WEXITSTATUS(status));
        fflush(stdout);
        quick_deaths = now_ns() - start < QUICK_DEATH_NS ? quick_deaths + 1 : 0;
    }
    fprintf(stderr, "init: %s keeps ending at once; giving up\n", shell[0]);
    return 1;
}
