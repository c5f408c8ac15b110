/* SPDX-License-Identifier: MIT */
/*
 * vkbench: creating and collecting processes and threads.
 *
 * The exec benchmarks start vkbench itself (argv[0]) with --exec-child, which returns
 * from main at once: the figure is fork/spawn, ELF load, musl start-up, exit and wait.
 * Every child must exit 0, or the benchmark is n/a with what went wrong.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>
#include <vk/libvk.h>

#include "vkbench.h"

bool vkbench_fork_exit_wait(vkbench_run_t *run, uint64_t repeat)
{
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid < 0)
            return vkbench_unavailable(run, "fork", errno);
        if (!vkbench_reap(pid))
            return vkbench_unavailable(run, "fork: the child did not exit 0", 0);
    }
    vkbench_stop(run, repeat);
    return true;
}

bool vkbench_fork_exec_wait(vkbench_run_t *run, uint64_t repeat)
{
    const char *self = vkbench_self_path();
    char *const argv[] = { (char *)self, VKBENCH_EXEC_CHILD_ARG, NULL };

    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            execve(self, argv, vkbench_environ());
            _exit(errno & 0x7f); /* the parent reports it */
        }
        if (pid < 0)
            return vkbench_unavailable(run, "fork", errno);
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR)
                return vkbench_unavailable(run, "waitpid", errno);
        if (!WIFEXITED(status))
            return vkbench_unavailable(run, "execve: the child was killed", 0);
        if (WEXITSTATUS(status) != 0)
            return vkbench_unavailable(run, "execve", WEXITSTATUS(status));
    }
    vkbench_stop(run, repeat);
    return true;
}

bool vkbench_posix_spawn_wait(vkbench_run_t *run, uint64_t repeat)
{
    const char *self = vkbench_self_path();
    char *const argv[] = { (char *)self, VKBENCH_EXEC_CHILD_ARG, NULL };

    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        pid_t pid;
        int err = posix_spawn(&pid, self, NULL, NULL, argv, vkbench_environ());
        if (err)
            return vkbench_unavailable(run, "posix_spawn", err);
        if (!vkbench_reap(pid))
            return vkbench_unavailable(run, "posix_spawn: the child did not exit 0", 0);
    }
    vkbench_stop(run, repeat);
    return true;
}

/* vkernel's own spawn (docs/abi.md): until the scheduler issue, the child runs to
 * completion inside the call, and wait4 collects it. */
bool vkbench_vk_spawn_wait(vkbench_run_t *run, uint64_t repeat)
{
    vk_api_t *api = vk_api();
    const char *self = vkbench_self_path();
    const char *const argv[] = { self, VKBENCH_EXEC_CHILD_ARG, NULL };

    if (!api)
        return vkbench_unavailable(run, "vkernel only (no vk_api_t)", 0);
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        int64_t pid = api->spawn(self, argv, (const char *const *)vkbench_environ());
        if (pid < 0)
            return vkbench_unavailable(run, "vk_api->spawn", (int)-pid);
        if (!vkbench_reap((int)pid))
            return vkbench_unavailable(run, "vk_api->spawn: the child did not exit 0", 0);
    }
    vkbench_stop(run, repeat);
    return true;
}

static void *empty_thread(void *arg)
{
    return arg;
}

bool vkbench_thread_create_join(vkbench_run_t *run, uint64_t repeat)
{
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        pthread_t t;
        int err = pthread_create(&t, NULL, empty_thread, NULL);
        if (err)
            return vkbench_thread_unavailable(run, err);
        pthread_join(t, NULL);
    }
    vkbench_stop(run, repeat);
    return true;
}
