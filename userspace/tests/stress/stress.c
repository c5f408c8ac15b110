/* SPDX-License-Identifier: MIT */
/*
 * `make stress` (scripts/stress.py): keeps every CPU busy for a while with a random mix
 * of what the scheduler and the process code must get right under load, then checks
 * that everything added up. Not part of `make test`.
 *
 *   test-stress.vbin [seconds=N] [seed=N] [workers=N]
 *
 * `workers` processes (default 4) each run one spinner thread (always runnable, yields
 * now and then) and a loop of random operations drawn from a PRNG seeded with seed + the
 * worker's index: nanosleep 0-5 ms, sched_yield, fork + exit + wait (the exit status is
 * checked), pthread create + join (each return value checked), a pipe between the worker
 * and a child (every byte checked), a futex ping-pong between two threads, and mmap +
 * touch + munmap. Each worker sends its counts back on a pipe when the time is up.
 *
 * At the end: every worker exited 0 and was reaped (then wait says ECHILD), forks ==
 * reaps and threads created == joined in every worker, the counts add up, and free
 * memory (KObj /mem/free) is back within STRESS_MEM_SLACK of where it started. The seed
 * is printed first, so a run can be replayed. Prints a PASS or FAIL line per check
 * (vktest.h) and exits 0 only when every check passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vk/libvk.h>
#include "../vktest.h"

#define STRESS_MAX_WORKERS 16
#define STRESS_MEM_SLACK   (16ull << 20) /* page cache, slab caches, the stack pool */
#define PIPE_BYTES         (64 * 1024)
#define PINGPONG_ROUNDS    200
#define MAX_MAP_PAGES      64
#define PAGE               4096
/* Linux's futex operations (musl ships no <linux/futex.h>). */
#define FUTEX_WAIT         0
#define FUTEX_WAKE         1
#define FUTEX_PRIVATE_FLAG 128

enum { OP_SLEEP, OP_YIELD, OP_FORK, OP_THREADS, OP_PIPE, OP_FUTEX, OP_MMAP, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "sleep", "yield", "fork", "threads", "pipe",
                                                "futex", "mmap" };

typedef struct {
    uint64_t ops[OP_COUNT];
    uint64_t forks, reaps, threads_created, threads_joined, spins, failures;
} counts_t;

static uint64_t deadline_ns;
static volatile int stop_spinner;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* xorshift64*: small, and good enough to pick operations. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

static void fail(counts_t *c, int worker, const char *what, long detail)
{
    c->failures++;
    printf("stress: FAIL worker %d: %s (%ld, errno %d)\n", worker, what, detail, errno);
    fflush(stdout);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec t = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    while (nanosleep(&t, &t) < 0 && errno == EINTR)
        ;
}

/* ---- operations ------------------------------------------------------------------ */

static void op_fork(counts_t *c, int w, uint64_t *rng)
{
    int code = (int)(next_random(rng) % 100);
    uint64_t nap = next_random(rng) % 2000000;
    pid_t pid = fork();
    if (pid < 0) {
        fail(c, w, "fork", pid);
        return;
    }
    if (pid == 0) {
        sleep_ns(nap);
        _exit(code);
    }
    c->forks++;
    int status;
    pid_t got = waitpid(pid, &status, 0);
    if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != code)
        fail(c, w, "fork child status", got == pid ? status : got);
    else
        c->reaps++;
}

static void *thread_body(void *arg)
{
    uintptr_t v = (uintptr_t)arg;
    volatile uint64_t x = v;
    for (int i = 0; i < 2000; i++)
        x = x * 31 + 7;
    if (v & 1)
        sched_yield();
    else
        sleep_ns((v % 5) * 100000);
    return (void *)(v * 3 + 1);
}

static void op_threads(counts_t *c, int w, uint64_t *rng)
{
    pthread_t t[4];
    uintptr_t arg[4];
    unsigned n = 1 + (unsigned)(next_random(rng) % 4), made = 0;
    for (unsigned i = 0; i < n; i++) {
        arg[i] = (uintptr_t)(next_random(rng) % 100000);
        int e = pthread_create(&t[i], NULL, thread_body, (void *)arg[i]);
        if (e) {
            fail(c, w, "pthread_create", e);
            break;
        }
        made++;
        c->threads_created++;
    }
    for (unsigned i = 0; i < made; i++) {
        void *ret;
        int e = pthread_join(t[i], &ret);
        if (e || (uintptr_t)ret != arg[i] * 3 + 1)
            fail(c, w, "pthread_join value", e);
        else
            c->threads_joined++;
    }
}

static uint8_t pattern(uint32_t seed, uint32_t i) { return (uint8_t)((seed + i) * 2654435761u >> 24); }

static void op_pipe(counts_t *c, int w, uint64_t *rng)
{
    int fd[2];
    if (pipe(fd) < 0) {
        fail(c, w, "pipe", -1);
        return;
    }
    uint32_t seed = (uint32_t)next_random(rng);
    pid_t pid = fork();
    if (pid < 0) {
        fail(c, w, "pipe fork", pid);
        close(fd[0]);
        close(fd[1]);
        return;
    }
    if (pid == 0) {
        close(fd[0]);
        uint8_t buf[1024];
        for (uint32_t at = 0; at < PIPE_BYTES; at += sizeof(buf)) {
            for (uint32_t i = 0; i < sizeof(buf); i++)
                buf[i] = pattern(seed, at + i);
            for (size_t done = 0; done < sizeof(buf);) {
                ssize_t n = write(fd[1], buf + done, sizeof(buf) - done);
                if (n <= 0)
                    _exit(2);
                done += (size_t)n;
            }
        }
        _exit(0);
    }
    c->forks++;
    close(fd[1]);
    uint8_t buf[777]; /* an odd size: reads split the writer's chunks */
    uint32_t at = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = read(fd[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            ok &= buf[i] == pattern(seed, at + (uint32_t)i);
        at += (uint32_t)n;
    }
    close(fd[0]);
    int status;
    pid_t got = waitpid(pid, &status, 0);
    if (got == pid)
        c->reaps++;
    if (!ok || at != PIPE_BYTES || got != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        fail(c, w, "pipe bytes", (long)at);
}

typedef struct {
    int word; /* whose turn: 0 or 1 */
    int rounds;
} pingpong_t;

static long futex(int *addr, int op, int val)
{
    return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, NULL, NULL, 0);
}

static void play(pingpong_t *p, int me)
{
    for (int r = 0; r < p->rounds; r++) {
        int v;
        while ((v = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE)) != me)
            futex(&p->word, FUTEX_WAIT, v);
        __atomic_store_n(&p->word, 1 - me, __ATOMIC_RELEASE);
        futex(&p->word, FUTEX_WAKE, 1);
    }
}

static void *pong(void *arg)
{
    play(arg, 1);
    return NULL;
}

static void op_futex(counts_t *c, int w, uint64_t *rng)
{
    pingpong_t p = { 0, 1 + (int)(next_random(rng) % PINGPONG_ROUNDS) };
    pthread_t t;
    int e = pthread_create(&t, NULL, pong, &p);
    if (e) {
        fail(c, w, "futex pthread_create", e);
        return;
    }
    c->threads_created++;
    play(&p, 0);
    if (pthread_join(t, NULL) == 0)
        c->threads_joined++;
    if (__atomic_load_n(&p.word, __ATOMIC_ACQUIRE) != 0)
        fail(c, w, "futex ping-pong ended on the wrong turn", p.word);
}

static void op_mmap(counts_t *c, int w, uint64_t *rng)
{
    size_t pages = 1 + next_random(rng) % MAX_MAP_PAGES;
    uint8_t *m = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);
    if (m == MAP_FAILED) {
        fail(c, w, "mmap", (long)pages);
        return;
    }
    for (size_t i = 0; i < pages; i++)
        m[i * PAGE + i % PAGE] = (uint8_t)(i + 1);
    for (size_t i = 0; i < pages; i++)
        if (m[i * PAGE + i % PAGE] != (uint8_t)(i + 1) || m[i * PAGE + (i + 1) % PAGE] != 0) {
            fail(c, w, "mmap contents", (long)i);
            break;
        }
    if (munmap(m, pages * PAGE) < 0)
        fail(c, w, "munmap", (long)pages);
}

/* ---- a worker process ------------------------------------------------------------ */

static void *spinner(void *arg)
{
    counts_t *c = arg;
    volatile uint64_t x = 1;
    while (!stop_spinner) {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ull + 1;
        if (++c->spins % 2 == 0)
            sched_yield();
    }
    return NULL;
}

static void worker(int index, uint64_t seed, int report_fd)
{
    counts_t c;
    memset(&c, 0, sizeof(c));
    uint64_t rng = seed + (uint64_t)index * 0x9e3779b97f4a7c15ull + 1;
    pthread_t spin;
    counts_t spin_counts;
    memset(&spin_counts, 0, sizeof(spin_counts));
    int e = pthread_create(&spin, NULL, spinner, &spin_counts);
    if (e)
        fail(&c, index, "spinner pthread_create", e);
    else
        c.threads_created++;
    while (now_ns() < deadline_ns) {
        unsigned op = (unsigned)(next_random(&rng) % OP_COUNT);
        c.ops[op]++;
        switch (op) {
        case OP_SLEEP: sleep_ns(next_random(&rng) % 5000001); break;
        case OP_YIELD: sched_yield(); break;
        case OP_FORK: op_fork(&c, index, &rng); break;
        case OP_THREADS: op_threads(&c, index, &rng); break;
        case OP_PIPE: op_pipe(&c, index, &rng); break;
        case OP_FUTEX: op_futex(&c, index, &rng); break;
        case OP_MMAP: op_mmap(&c, index, &rng); break;
        }
    }
    stop_spinner = 1;
    if (!e && pthread_join(spin, NULL) == 0)
        c.threads_joined++;
    c.spins = spin_counts.spins;
    if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
        fail(&c, index, "a child was left unreaped", 0);
    if (write(report_fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
        _exit(3);
    _exit(c.failures ? 1 : 0);
}

/* ---- the parent ------------------------------------------------------------------ */

static long free_memory(void)
{
    char reply[256], value[64];
    if (vk_kobj_op("get", "/mem/free", reply, sizeof(reply)) < 0 ||
        !vk_kobj_value(reply, value, sizeof(value)))
        return -1;
    return strtol(value, NULL, 10);
}

int main(int argc, char **argv)
{
    uint64_t seconds = vktest_option(argc, argv, "seconds", 180);
    uint64_t seed = vktest_option(argc, argv, "seed", now_ns() ^ (uint64_t)getpid() << 32);
    int workers = (int)vktest_option(argc, argv, "workers", 4);
    if (workers < 1 || workers > STRESS_MAX_WORKERS)
        workers = 4;
    printf("stress: seed %llu, %llu s, %d workers (replay: seed=%llu)\n",
           (unsigned long long)seed, (unsigned long long)seconds, workers,
           (unsigned long long)seed);
    fflush(stdout);
    long free_before = free_memory();
    uint64_t start = now_ns();
    deadline_ns = start + seconds * 1000000000ull;

    int fds[STRESS_MAX_WORKERS];
    pid_t pids[STRESS_MAX_WORKERS];
    for (int i = 0; i < workers; i++) {
        int fd[2];
        if (pipe(fd) < 0) {
            vktest_check(0, "worker_pipe", "pipe failed");
            return 1;
        }
        pids[i] = fork();
        if (pids[i] == 0) {
            close(fd[0]);
            worker(i, seed, fd[1]);
        }
        close(fd[1]);
        fds[i] = fd[0];
        if (pids[i] < 0) {
            vktest_check(0, "worker_fork", "fork failed");
            return 1;
        }
    }

    /* Progress every 10 s (the host script treats a long silence as a hang). */
    int alive = workers, statuses[STRESS_MAX_WORKERS] = { 0 };
    bool reaped[STRESS_MAX_WORKERS] = { false };
    uint64_t next_progress = start + 10000000000ull;
    while (alive) {
        int status;
        pid_t got = waitpid(-1, &status, WNOHANG);
        if (got > 0) {
            for (int i = 0; i < workers; i++)
                if (pids[i] == got && !reaped[i]) {
                    reaped[i] = true;
                    statuses[i] = status;
                    alive--;
                }
            continue;
        }
        if (got < 0) {
            vktest_check(0, "wait_for_workers", "waitpid failed");
            break;
        }
        if (now_ns() >= next_progress) {
            printf("stress: %llu s, %d workers running\n",
                   (unsigned long long)((now_ns() - start) / 1000000000ull), alive);
            fflush(stdout);
            next_progress += 10000000000ull;
        }
        sleep_ns(100000000);
    }

    counts_t total;
    memset(&total, 0, sizeof(total));
    bool counts_ok = true, exits_ok = true;
    for (int i = 0; i < workers; i++) {
        counts_t c;
        ssize_t n = read(fds[i], &c, sizeof(c));
        close(fds[i]);
        exits_ok &= reaped[i] && WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0;
        if (n != (ssize_t)sizeof(c)) {
            counts_ok = false;
            continue;
        }
        counts_ok &= c.forks == c.reaps && c.threads_created == c.threads_joined;
        for (int k = 0; k < OP_COUNT; k++)
            total.ops[k] += c.ops[k];
        total.forks += c.forks;
        total.reaps += c.reaps;
        total.threads_created += c.threads_created;
        total.threads_joined += c.threads_joined;
        total.spins += c.spins;
        total.failures += c.failures;
    }
    uint64_t ops = 0;
    for (int k = 0; k < OP_COUNT; k++) {
        printf("stress: %-8s %llu\n", op_names[k], (unsigned long long)total.ops[k]);
        ops += total.ops[k];
    }
    printf("stress: %llu operations, %llu forks / %llu reaped, %llu threads / %llu joined, "
           "%llu spinner rounds, %llu failures\n", (unsigned long long)ops,
           (unsigned long long)total.forks, (unsigned long long)total.reaps,
           (unsigned long long)total.threads_created, (unsigned long long)total.threads_joined,
           (unsigned long long)total.spins, (unsigned long long)total.failures);

    char detail[128];
    vktest_check(exits_ok, "every_worker_exited_0_and_was_reaped", "a worker failed or was lost");
    errno = 0;
    vktest_check(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD, "no_child_left", "wait found one");
    vktest_check(counts_ok && total.forks == total.reaps && total.threads_created == total.threads_joined,
          "counts_add_up", "forks/reaps or threads created/joined differ");
    vktest_check(total.failures == 0, "no_operation_failed", "see the FAIL lines above");
    vktest_check(ops > 0 && total.spins > 0, "work_was_done", "no operations ran");
    long free_after = free_memory();
    snprintf(detail, sizeof(detail), "free %ld before, %ld after", free_before, free_after);
    if (free_before < 0 || free_after < 0)
        vktest_check(0, "free_memory_back_near_baseline", "KObj /mem/free unreadable");
    else
        vktest_check(free_after + (long)STRESS_MEM_SLACK >= free_before, "free_memory_back_near_baseline",
              detail);
    printf("stress: free memory %ld KiB before, %ld KiB after\n", free_before / 1024,
           free_after / 1024);
    return vktest_finish("test-stress");
}
