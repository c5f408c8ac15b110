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
#include <vk/libvk.h>

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
    int word;   /* 1: the partner's turn, 0: the main thread's */
    int cpu;    /* the partner pins itself here first; -1: anywhere */
    int pinned; /* 1 once it runs where it should, -1 when pinning failed */
};

static long futex(int *word, int op, int value)
{
    return syscall(SYS_futex, word, op, value, NULL, NULL, 0);
}

static bool pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0;
}

static void *futex_partner(void *arg)
{
    struct futex_partner *f = arg;

    __atomic_store_n(&f->pinned, f->cpu < 0 || pin_to(f->cpu) ? 1 : -1, __ATOMIC_RELEASE);
    if (f->pinned < 0)
        return NULL;
    for (uint64_t i = 0; i < f->repeat; i++) {
        while (__atomic_load_n(&f->word, __ATOMIC_ACQUIRE) != 1)
            futex(&f->word, FUTEX_WAIT_PRIVATE, 0);
        __atomic_store_n(&f->word, 0, __ATOMIC_RELEASE);
        futex(&f->word, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

/* The round trip; partner_cpu >= 0 pins the partner there (the caller pinned itself). */
static bool futex_pingpong(vkbench_run_t *run, uint64_t repeat, int partner_cpu)
{
    struct futex_partner f = { .repeat = repeat, .word = 0, .cpu = partner_cpu };
    pthread_t t;

    if (futex(&f.word, FUTEX_WAKE_PRIVATE, 1) < 0)
        return vkbench_unavailable(run, "futex", errno);
    int err = pthread_create(&t, NULL, futex_partner, &f);
    if (err)
        return vkbench_thread_unavailable(run, err);
    while (__atomic_load_n(&f.pinned, __ATOMIC_ACQUIRE) == 0)
        sched_yield();
    if (f.pinned < 0) {
        pthread_join(t, NULL);
        return vkbench_unavailable(run, "sched_setaffinity for the partner", 0);
    }
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

bool vkbench_futex_pingpong_threads(vkbench_run_t *run, uint64_t repeat)
{
    return futex_pingpong(run, repeat, -1);
}

/* The same with the threads pinned to CPUs 0 and 1: every wake-up crosses CPUs. */
bool vkbench_futex_pingpong_cpus(vkbench_run_t *run, uint64_t repeat)
{
    cpu_set_t saved;
    if (sched_getaffinity(0, sizeof(saved), &saved) != 0)
        return vkbench_unavailable(run, "sched_getaffinity", errno);
    if (!CPU_ISSET(0, &saved) || !CPU_ISSET(1, &saved))
        return vkbench_unavailable(run, "needs CPUs 0 and 1", 0);
    if (!pin_to(0))
        return vkbench_unavailable(run, "sched_setaffinity", errno);
    bool ok = futex_pingpong(run, repeat, 1);
    sched_setaffinity(0, sizeof(saved), &saved);
    return ok;
}

/*
 * vkernel channels (include/vk/ipc.h) between two processes: the parent forks a child
 * that inherits one end. channel_pingpong: the parent writes 16 bytes and reads the
 * echo. channel_call: the parent's vk_channel_call against a child that reads and
 * writes the reply. Both are n/a off vkernel (no vk_api).
 */
#define CHANNEL_MSG_BYTES 16

vk_api_t *vkbench_vk_api(vkbench_run_t *run, size_t entry_end)
{
    vk_api_t *api = vk_api();
    if (!api || api->header.size < entry_end) {
        vkbench_unavailable(run, "vk_api entries", ENOSYS);
        return NULL;
    }
    return api;
}

static int64_t channel_send(vk_api_t *api, uint32_t h, void *bytes, uint32_t n)
{
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)bytes, 0, n, 0 };
    return api->channel_write(h, &m, 0);
}

static int64_t channel_receive(vk_api_t *api, uint32_t h, void *bytes, uint32_t n)
{
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)bytes, 0, n, 0 };
    return api->channel_read(h, &m, 0);
}

/* The child: echo every message until the channel closes. */
static int channel_echo_child(vk_api_t *api, uint32_t h)
{
    uint8_t buf[CHANNEL_MSG_BYTES];
    while (channel_receive(api, h, buf, sizeof(buf)) == 0)
        if (channel_send(api, h, buf, sizeof(buf)) != 0)
            return 1;
    return 0;
}

int vkbench_fork_channel_child(vkbench_run_t *run, vk_api_t *api, uint32_t *mine,
                                 int (*child)(vk_api_t *api, uint32_t h))
{
    uint32_t ch[2];
    int64_t err = api->channel_create(ch);
    if (err == 0)
        err = api->handle_inherit(ch[1], 1);
    if (err) {
        vkbench_unavailable(run, "channel_create", (int)-err);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        api->handle_close(ch[0]);
        _exit(child(api, ch[1]));
    }
    api->handle_close(ch[1]);
    if (pid < 0) {
        vkbench_unavailable(run, "fork", errno);
        api->handle_close(ch[0]);
        return -1;
    }
    *mine = ch[0];
    return pid;
}

/* One 16-byte round trip to the echo child: a write and a read, or one call. */
static int64_t channel_round_trip(vk_api_t *api, uint32_t h, bool use_call, uint8_t *buf)
{
    if (!use_call) {
        int64_t err = channel_send(api, h, buf, CHANNEL_MSG_BYTES);
        return err ? err : channel_receive(api, h, buf, CHANNEL_MSG_BYTES);
    }
    vk_channel_call_t call = {
        .write = { (uint64_t)(uintptr_t)buf, 0, CHANNEL_MSG_BYTES, 0 },
        .read = { (uint64_t)(uintptr_t)buf, 0, CHANNEL_MSG_BYTES, 0 },
    };
    return api->channel_call(h, &call, VK_WAIT_FOREVER);
}

static bool channel_round_trips(vkbench_run_t *run, uint64_t repeat, bool use_call)
{
    size_t entry_end = use_call ? offsetof(vk_api_t, channel_call) + sizeof(void *)
                                : offsetof(vk_api_t, handle_inherit) + sizeof(void *);
    vk_api_t *api = vkbench_vk_api(run, entry_end);
    uint32_t h;
    bool ok = true;
    if (!api)
        return false;
    pid_t pid = vkbench_fork_channel_child(run, api, &h, channel_echo_child);
    if (pid < 0)
        return false;
    uint8_t buf[CHANNEL_MSG_BYTES] = { 0 };
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        int64_t err = channel_round_trip(api, h, use_call, buf);
        if (err) {
            ok = vkbench_unavailable(run, use_call ? "channel_call" : "channel round trip",
                                     (int)-err);
            break;
        }
    }
    vkbench_stop(run, repeat);
    api->handle_close(h);
    if (!vkbench_reap(pid) && ok)
        ok = vkbench_unavailable(run, "channel round trip: the child failed", 0);
    return ok;
}

bool vkbench_channel_pingpong_procs(vkbench_run_t *run, uint64_t repeat)
{
    return channel_round_trips(run, repeat, false);
}

bool vkbench_channel_call_procs(vkbench_run_t *run, uint64_t repeat)
{
    return channel_round_trips(run, repeat, true);
}
