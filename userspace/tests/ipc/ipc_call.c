/* SPDX-License-Identifier: MIT */
/*
 * Calls and the directed switch (docs/ipc.md "The fast path", docs/sched.md "Directed
 * switch"): round trips between a caller and a server process pinned to one CPU (the
 * direct path, counted by /kobj/cpu/N/handoffs) and to different CPUs (the fallback),
 * servers of a lower and of a real-time priority, a server killed while the caller
 * waits, and a caller interrupted by a signal while the server holds its request.
 * Every round trip checks that the reply belongs to its own request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ipc_test.h"

#define CALL_BYTES  16
#define ROUND_TRIPS 300

/* The request: [txid][sequence][pad]; the reply: [txid][sequence * 3 + 1][pad]. */
typedef struct {
    uint32_t txid, value, pad[2];
} call_msg_t;

static int cpu_count; /* CPUs this process may use at the start (all of them) */

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

static void unpin(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < cpu_count; i++)
        CPU_SET(i, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* Directed switches on every CPU so far (/kobj/cpu/N/handoffs). */
static uint64_t handoffs(void)
{
    uint64_t sum = 0;
    for (int cpu = 0; cpu < 64; cpu++) {
        char path[48], buf[32] = "";
        snprintf(path, sizeof(path), "/kobj/cpu/%d/handoffs", cpu);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            break;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        sum += strtoull(buf, NULL, 10);
    }
    return sum;
}

static int64_t call(uint32_t h, uint32_t value, uint32_t *answer, uint64_t timeout_ns)
{
    call_msg_t out = { 0, value, { 0, 0 } }, in = { 0, 0, { 0, 0 } };
    vk_channel_call_t c = {
        .write = { (uint64_t)(uintptr_t)&out, 0, CALL_BYTES, 0 },
        .read = { (uint64_t)(uintptr_t)&in, 0, CALL_BYTES, 0 },
    };
    int64_t r = api->channel_call(h, &c, timeout_ns);
    *answer = in.value;
    return r;
}

/* A server: the first request with a read, then each answer and the next request with
 * reply_read, until the caller hangs up (0) or something is wrong (1). delay_first:
 * sleep that long before answering the first request. */
static int serve(uint32_t h, long delay_first_ms)
{
    call_msg_t m;
    vk_channel_msg_t first = { (uint64_t)(uintptr_t)&m, 0, sizeof(m), 0 };
    int64_t r = api->channel_read(h, &first, 0);
    if (r == -EPIPE)
        return 0;
    if (r != 0 || first.num_bytes != CALL_BYTES)
        return 1;
    if (delay_first_ms)
        sleep_ms(delay_first_ms);
    for (;;) {
        m.value = m.value * 3 + 1;
        vk_channel_reply_read_t rr = {
            .reply = { (uint64_t)(uintptr_t)&m, 0, CALL_BYTES, 0 },
            .next = { (uint64_t)(uintptr_t)&m, 0, sizeof(m), 0 },
        };
        r = api->channel_reply_read(h, &rr, 0);
        if (r == -EPIPE && rr.replied)
            return 0;
        if (r != 0 || rr.next.num_bytes != CALL_BYTES)
            return 1;
    }
}

/* A server child on server_cpu (-1: anywhere) at the given nice value, or with
 * SCHED_FIFO priority fifo when fifo > 0. Returns its pid; *h is the caller's end. */
static pid_t start_server(uint32_t *h, int server_cpu, int nice, int fifo, long delay_first_ms)
{
    uint32_t ch[2];
    api->channel_create(ch);
    api->handle_inherit(ch[1], 1);
    pid_t pid = fork();
    if (pid == 0) {
        api->handle_close(ch[0]);
        if (server_cpu >= 0 && pin(server_cpu) != 0)
            _exit(2);
        if (nice && setpriority(PRIO_PROCESS, 0, nice) != 0)
            _exit(3);
        /* Real-time needs the KObj-write right, which this child lacks: the parent
         * (init, which holds it) sets the policy; wait until it has. */
        for (int tries = 0; fifo > 0 && syscall(SYS_sched_getscheduler, 0) != SCHED_FIFO; tries++)
            if (tries > 1000)
                _exit(4);
            else
                sched_yield();
        _exit(serve(ch[1], delay_first_ms));
    }
    if (fifo > 0) {
        struct sched_param p = { .sched_priority = fifo };
        if (syscall(SYS_sched_setscheduler, pid, SCHED_FIFO, &p) != 0)
            printf("  sched_setscheduler(server, SCHED_FIFO): %s\n", strerror(errno));
    }
    api->handle_close(ch[1]);
    *h = ch[0];
    return pid;
}

static int reap(pid_t pid)
{
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ROUND_TRIPS calls; true when every reply answered its own request. */
static int round_trips(uint32_t h, unsigned count)
{
    int ok = 1;
    for (uint32_t i = 0; i < count && ok; i++) {
        uint32_t answer = 0;
        ok = call(h, i, &answer, VK_WAIT_FOREVER) == 0 && answer == i * 3 + 1;
    }
    return ok;
}

/* Caller and server pinned as given, optional server priority; checks the replies and
 * the server's exit, and returns the directed switches counted meanwhile. */
static uint64_t pinned_round_trips(const char *name, int caller_cpu, int server_cpu, int nice,
                                   int fifo)
{
    char detail[96];
    if (caller_cpu >= 0)
        pin(caller_cpu);
    uint32_t h;
    pid_t pid = start_server(&h, server_cpu, nice, fifo, 0);
    uint64_t before = handoffs();
    int ok = round_trips(h, ROUND_TRIPS);
    uint64_t count = handoffs() - before;
    api->handle_close(h);
    int status = reap(pid);
    unpin();
    snprintf(detail, sizeof(detail), "replies %s, server exit %d", ok ? "right" : "wrong",
             status);
    vktest_check(ok && status == 0, name, detail);
    return count;
}

static void test_same_cpu(void)
{
    char detail[96];
    uint64_t n = pinned_round_trips("call_same_cpu_replies_right", 0, 0, 0, 0);
    /* Both directions of every round trip can switch directly: the call to the server
     * blocked in reply_read, the reply back to the caller. Timer ticks and the first
     * request (the server may not be blocked yet) may take the normal path. */
    snprintf(detail, sizeof(detail), "%llu directed switches for %u round trips",
             (unsigned long long)n, ROUND_TRIPS);
    printf("NOTE call_same_cpu: %s\n", detail);
    vktest_check(n >= ROUND_TRIPS * 3 / 2, "call_same_cpu_switches_directly", detail);
}

static void test_other_cpu(void)
{
    char detail[96];
    if (cpu_count < 2) {
        /* One CPU: nothing to pin apart. Say so rather than pass silently. */
        printf("NOTE call_other_cpu_*: one CPU, run by the -smp 2 boot\n");
        return;
    }
    uint64_t n = pinned_round_trips("call_other_cpu_replies_right", 0, 1, 0, 0);
    /* Pinned apart, neither side may run on the other's CPU: every wake-up is normal. */
    snprintf(detail, sizeof(detail), "%llu directed switches", (unsigned long long)n);
    vktest_check(n == 0, "call_other_cpu_falls_back", detail);
    /* Unpinned on several CPUs: whatever the balancer does, the replies are right. */
    pinned_round_trips("call_unpinned_replies_right", -1, -1, 0, 0);
}

static void test_priorities(void)
{
    char detail[96];
    uint64_t n = pinned_round_trips("call_lower_priority_server_replies_right", 0, 0, 10, 0);
    snprintf(detail, sizeof(detail), "%llu directed switches", (unsigned long long)n);
    /* Nothing else waits on CPU 0, so a less urgent server is still what it would pick. */
    printf("NOTE call_lower_priority_server: %s\n", detail);
    vktest_check(n >= ROUND_TRIPS, "call_lower_priority_server_switches_directly", detail);
    pinned_round_trips("call_fifo_server_replies_right", 0, 0, 0, 20);
}

/* The server takes the request and is killed before it answers: the caller, blocked
 * in the call (its CPU handed to the server), gets EPIPE. */
static void test_server_killed(void)
{
    char detail[96];
    pin(0);
    uint32_t h;
    pid_t pid = start_server(&h, 0, 0, 0, 10000); /* answers after 10 s: never */
    pid_t killer = fork();
    if (killer == 0) {
        sleep_ms(100);
        kill(pid, SIGKILL);
        _exit(0);
    }
    uint32_t answer = 0;
    int64_t r = call(h, 7, &answer, VK_WAIT_FOREVER);
    reap(killer);
    int status = reap(pid);
    /* And a server killed between calls, blocked in reply_read after a direct switch
     * back to the caller. */
    uint32_t h2;
    pid_t pid2 = start_server(&h2, 0, 0, 0, 0);
    int ok2 = round_trips(h2, 10);
    kill(pid2, SIGKILL);
    int status2 = reap(pid2);
    int64_t r2 = call(h2, 11, &answer, VK_WAIT_FOREVER);
    api->handle_close(h);
    api->handle_close(h2);
    unpin();
    snprintf(detail, sizeof(detail), "call %lld, server %d; then %d/%lld, server %d",
             (long long)r, status, ok2, (long long)r2, status2);
    vktest_check(r == -EPIPE && status == 128 + SIGKILL && ok2 && r2 == -EPIPE &&
                     status2 == 128 + SIGKILL,
                 "call_server_killed_gives_epipe", detail);
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { (void)sig; got_signal = 1; }

/* The caller is interrupted while the server holds its request: EINTR, and the late
 * reply is queued at the caller's end like any message. Then the next call works. */
static void test_caller_interrupted(void)
{
    char detail[128];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART */
    sigaction(SIGUSR1, &sa, NULL);
    pin(0);
    uint32_t h;
    pid_t pid = start_server(&h, 0, 0, 0, 300);
    pid_t parent = getpid();
    pid_t sender = fork();
    if (sender == 0) {
        sleep_ms(50);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    got_signal = 0;
    uint32_t answer = 0;
    int64_t r = call(h, 5, &answer, VK_WAIT_FOREVER);
    reap(sender);
    /* The late reply: the server answers after 300 ms. */
    call_msg_t late = { 0, 0, { 0, 0 } };
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)&late, 0, sizeof(late), 0 };
    int64_t lr = api->channel_read(h, &m, 0);
    int late_ok = lr == 0 && (late.txid & VK_CALL_TXID_KERNEL) && late.value == 16;
    int ok = round_trips(h, 20);
    api->handle_close(h);
    int status = reap(pid);
    unpin();
    signal(SIGUSR1, SIG_DFL);
    snprintf(detail, sizeof(detail), "call %lld (signal %d), late reply %lld value %u, "
             "then %d, server %d", (long long)r, (int)got_signal, (long long)lr, late.value, ok,
             status);
    vktest_check(r == -EINTR && got_signal && late_ok && ok && status == 0,
                 "call_interrupted_gives_eintr_and_late_reply_queued", detail);
}

void ipc_call_tests(void)
{
    api = vk_api();
    if (!api || api->header.size < offsetof(vk_api_t, channel_reply_read) + sizeof(void *)) {
        vktest_check(0, "vk_api_has_reply_read", "revision too old");
        return;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    cpu_count = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    test_same_cpu();
    test_other_cpu();
    test_priorities();
    test_server_killed();
    test_caller_interrupted();
}
