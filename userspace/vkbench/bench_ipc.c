/* SPDX-License-Identifier: MIT */
/*
 * vkbench: syscall round trips, scheduling and communication between two tasks.
 *
 * getpid and sched_yield use the syscall instruction directly, so neither libc's pid
 * cache nor its syscall() wrapper is in the figure: it is the kernel's entry, dispatch
 * and return. The two-task benchmarks count one round trip (or one yield) per op.
 * A call that fails makes the benchmark n/a with that call's errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "vkbench.h"

/* <linux/futex.h> is not in the musl sysroot. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

static inline long raw_syscall0(long nr)
{
    long ret;

    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

bool vkbench_getpid(vkbench_run_t *run, uint64_t repeat)
{
    long pid = raw_syscall0(SYS_getpid);
    if (pid <= 0)
        return vkbench_unavailable(run, "getpid", pid < 0 ? (int)-pid : EINVAL);
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++)
        raw_syscall0(SYS_getpid);
    vkbench_stop(run, repeat);
    return true;
}

bool vkbench_sched_yield(vkbench_run_t *run, uint64_t repeat)
{
    long err = raw_syscall0(SYS_sched_yield);
    if (err < 0)
        return vkbench_unavailable(run, "sched_yield", (int)-err);
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++)
        raw_syscall0(SYS_sched_yield);
    vkbench_stop(run, repeat);
    return true;
}

bool vkbench_pipe_1byte(vkbench_run_t *run, uint64_t repeat)
{
    int fds[2];
    char c = 'x';
    bool ok = true;

    if (pipe(fds) != 0)
        return vkbench_unavailable(run, "pipe", errno);
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1) {
            ok = vkbench_unavailable(run, "pipe write/read", errno ? errno : EIO);
            break;
        }
    }
    vkbench_stop(run, repeat);
    close(fds[0]);
    close(fds[1]);
    return ok;
}

bool vkbench_pipe_pingpong_procs(vkbench_run_t *run, uint64_t repeat)
{
    int to_child[2], to_parent[2];
    char c = 'x';
    bool ok = true;

    if (pipe(to_child) != 0)
        return vkbench_unavailable(run, "pipe", errno);
    if (pipe(to_parent) != 0) {
        int err = errno;
        close(to_child[0]);
        close(to_child[1]);
        return vkbench_unavailable(run, "pipe", err);
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (uint64_t i = 0; i < repeat; i++)
            if (read(to_child[0], &c, 1) != 1 || write(to_parent[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    if (pid < 0) {
        ok = vkbench_unavailable(run, "fork", errno);
        goto close_pipes;
    }
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
            ok = vkbench_unavailable(run, "pipe round trip", errno ? errno : EIO);
            kill(pid, SIGKILL);
            break;
        }
    }
    vkbench_stop(run, repeat);
    if (!vkbench_reap(pid) && ok)
        ok = vkbench_unavailable(run, "pipe round trip: the child failed", 0);
close_pipes:
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    return ok;
}

/*
 * pthread_create reports every clone failure as EAGAIN. When it fails, ask clone
 * directly with flags Linux rejects (CLONE_SIGHAND without CLONE_VM is EINVAL) to tell
 * "no clone at all" (ENOSYS) apart; a kernel that lets it through gets a child that
 * exits at once.
 */
bool vkbench_thread_unavailable(vkbench_run_t *run, int err)
{
    long pid = syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        vkbench_reap((pid_t)pid);
    else if (errno == ENOSYS)
        return vkbench_unavailable(run, "clone", ENOSYS);
    return vkbench_unavailable(run, "pthread_create", err);
}

struct yield_partner {
    uint64_t repeat;
    volatile int go;
};

static void *yield_partner(void *arg)
{
    struct yield_partner *y = arg;

    while (!y->go)
        sched_yield();
    for (uint64_t i = 0; i < y->repeat; i++)
        sched_yield();
    return NULL;
}

bool vkbench_sched_yield_threads(vkbench_run_t *run, uint64_t repeat)
{
    struct yield_partner y = { .repeat = repeat, .go = 0 };
    pthread_t t;

    int err = pthread_create(&t, NULL, yield_partner, &y);
    if (err)
        return vkbench_thread_unavailable(run, err);
    vkbench_start(run);
    y.go = 1;
    for (uint64_t i = 0; i < repeat; i++)
        sched_yield();
    pthread_join(t, NULL);
    vkbench_stop(run, 2 * repeat);
    return true;
}

struct futex_partner {
    uint64_t repeat;
    int word; /* 1: the partner's turn, 0: the main thread's */
};

static long futex(int *word, int op, int value)
{
    return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static void *futex_partner(void *arg)
{
    struct futex_partner *f = arg;

    for (uint64_t i = 0; i < f->repeat; i++) {
        while (__atomic_load_n(&f->word, __ATOMIC_ACQUIRE) != 1)
            futex(&f->word, FUTEX_WAIT_PRIVATE, 0);
        __atomic_store_n(&f->word, 0, __ATOMIC_RELEASE);
        futex(&f->word, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

bool vkbench_futex_pingpong_threads(vkbench_run_t *run, uint64_t repeat)
{
    struct futex_partner f = { .repeat = repeat, .word = 0 };
    pthread_t t;

    if (futex(&f.word, FUTEX_WAKE_PRIVATE, 1) < 0)
        return vkbench_unavailable(run, "futex", errno);
    int err = pthread_create(&t, NULL, futex_partner, &f);
    if (err)
        return vkbench_thread_unavailable(run, err);
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        __atomic_store_n(&f.word, 1, __ATOMIC_RELEASE);
        futex(&f.word, FUTEX_WAKE_PRIVATE, 1);
        while (__atomic_load_n(&f.word, __ATOMIC_ACQUIRE) != 0)
            futex(&f.word, FUTEX_WAIT_PRIVATE, 1);
    }
    vkbench_stop(run, repeat);
    pthread_join(t, NULL);
    return true;
}
