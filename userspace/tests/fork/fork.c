/* SPDX-License-Identifier: MIT */
/*
 * fork with copy-on-write, through plain musl: parent and child see their own writes to
 * globals, heap, stack and TLS; exit statuses and pids come back right; many short
 * children and a grandchild are all reaped. Prints PASS/FAIL lines and
 * "test-fork: N passed, N failed".
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../vktest.h"

static int global = 1;
static _Thread_local int tls_value = 5;


/* Forks; the child runs fn and exits with its result; returns the wait status. */
static int in_child(int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fn());
    int status = -1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static char *heap;
static pid_t parent_pid;

static int child_writes_everything(void)
{
    volatile int local = 10;
    if (global != 1 || heap[0] != 'p' || tls_value != 5 || getppid() != parent_pid ||
        getpid() == parent_pid)
        return 1; /* did not start as a copy of the parent */
    global = 2;
    heap[0] = 'c';
    tls_value = 6;
    local = 11;
    return local == 11 ? 42 : 2;
}

static int child_double(void)
{
    volatile double x = 2.5;
    return (int)(x * 4); /* 10: the FPU works in the child */
}

static int grandparent(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status) + 10; /* 13 */
}

/* Leaves an unreaped zombie grandchild and a still-running one behind when it exits. */
static int abandon_children(void)
{
    fflush(stdout);
    if (fork() == 0)
        _exit(0);
    if (fork() == 0) {
        usleep(20000);
        _exit(0);
    }
    usleep(5000); /* the first is a zombie by now */
    return 0;
}

static volatile int *shared_page, *private_page;

/* From Linux's futex ABI (the sysroot has no linux/ headers). */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAKE_PRIVATE (FUTEX_WAKE | 128)

static int child_writes_mappings(void)
{
    *shared_page = 42;
    *private_page = 42;
    return 0;
}

/* Waits on the shared word with a process-shared futex (no PRIVATE flag) until the
 * parent changes it and wakes it; 0 when that is what happened. */
static int child_waits_on_shared_futex(void)
{
    struct timespec ts = { 5, 0 };
    while (*shared_page == 0) {
        long r = syscall(SYS_futex, shared_page, FUTEX_WAIT, 0, &ts, NULL, 0);
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            return 2; /* timed out: the wake never came */
    }
    return *shared_page == 1 ? 0 : 3;
}

static int crash(void)
{
    *(volatile int *)0 = 1;
    return 0;
}

int main(void)
{
    parent_pid = getpid();
    heap = malloc(64 * 1024);
    memset(heap, 'p', 64 * 1024);
    volatile int local = 10;

    int st = in_child(child_writes_everything);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 42, "child_starts_as_copy_and_exits_42",
          "wrong status: the child did not see the parent's state");
    vktest_check(global == 1 && heap[0] == 'p' && tls_value == 5 && local == 10,
          "parent_unchanged_by_child_writes", "a child's write reached the parent");

    global = 7;
    heap[100] = 'q';
    st = in_child(child_writes_everything);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 1, "child_sees_parent_writes_after_first_fork",
          "child saw stale data");
    vktest_check(heap[100] == 'q' && global == 7, "parent_writes_after_fork_are_its_own", "lost");
    global = 1;

    st = in_child(child_double);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 10, "fpu_in_child", "bad float result");
    st = in_child(grandparent);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 13, "grandchild_reaped_by_child", "bad status");
    /* MAP_SHARED anonymous memory is shared with the child, MAP_PRIVATE copied; also
     * for pages nobody touched before the fork. */
    shared_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    private_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int mapped = shared_page != MAP_FAILED && private_page != MAP_FAILED;
    st = mapped ? in_child(child_writes_mappings) : -1;
    vktest_check(mapped && WIFEXITED(st) && *shared_page == 42 && *private_page == 0,
                 "map_shared_anonymous_is_shared_across_fork", "wrong contents after the child");
    /* A futex in MAP_SHARED memory wakes a waiter in another process; a private wake
     * (keyed by this address space only) does not reach it. */
    *shared_page = 0;
    fflush(stdout);
    pid_t waiter = mapped ? fork() : -1;
    if (waiter == 0)
        _exit(child_waits_on_shared_futex());
    usleep(200000); /* the child is asleep on the word by now */
    long private_woken = syscall(SYS_futex, shared_page, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    *shared_page = 1;
    long woken = syscall(SYS_futex, shared_page, FUTEX_WAKE, 1, NULL, NULL, 0);
    int ws = -1;
    if (waiter > 0)
        waitpid(waiter, &ws, 0);
    vktest_check(waiter > 0 && private_woken == 0 && woken == 1 && WIFEXITED(ws) &&
                     WEXITSTATUS(ws) == 0,
                 "shared_futex_wakes_another_process", "private or shared wake went wrong");
    st = in_child(crash);
    vktest_check(WIFSIGNALED(st) && WTERMSIG(st) == 11, "crashing_child_does_not_hurt_parent",
          "child not killed by SIGSEGV");

    int ok = 1;
    for (int i = 0; i < 50 && ok; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
            _exit(i & 0x7f);
        int s = 0;
        ok = pid > 0 && waitpid(pid, &s, 0) == pid && WIFEXITED(s) && WEXITSTATUS(s) == (i & 0x7f);
    }
    vktest_check(ok, "fifty_children_forked_and_reaped", "a child went missing");

    /* Regression (found by test-fuzz): orphans were never freed, so after
     * CONFIG_PROC_MAX of them every fork failed. */
    ok = 1;
    for (int i = 0; i < 80 && ok; i++)
        ok = WIFEXITED(in_child(abandon_children));
    usleep(50000);
    fflush(stdout);
    pid_t last = fork();
    if (last == 0)
        _exit(getppid() == parent_pid ? 0 : 1);
    int ls = 0;
    ok = ok && last > 0 && waitpid(last, &ls, 0) == last && WIFEXITED(ls) && !WEXITSTATUS(ls);
    vktest_check(ok, "orphans_freed_fork_still_works", "fork failed after many orphans");

    /* Several children alive at once, reaped in any order. */
    pid_t kids[5];
    for (int i = 0; i < 5; i++) {
        fflush(stdout);
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(20 + i);
    }
    int seen = 0;
    for (int i = 0; i < 5; i++) {
        int s = 0;
        pid_t got = waitpid(-1, &s, 0);
        for (int k = 0; k < 5; k++)
            if (got == kids[k] && WIFEXITED(s) && WEXITSTATUS(s) == 20 + k)
                seen |= 1 << k;
    }
    vktest_check(seen == 0x1f, "five_concurrent_children_reaped_any_order", "wrong set reaped");
    errno = 0;
    vktest_check(waitpid(-1, NULL, 0) == -1 && errno == ECHILD, "no_children_left_echild", "");
    return vktest_finish("test-fork");
}
