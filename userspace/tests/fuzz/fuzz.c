/* SPDX-License-Identifier: MIT */
/*
 * test-fuzz: the in-guest syscall fuzzer and malformed-ELF exec test.
 *
 *   test-fuzz.vbin [seed=N] [seeds=N] [calls=N] [start=N] [batch=N] [elfs=N]
 *                  [timeout_ms=N]
 *
 * Calls [start, start+calls) of the stream `seed` run in forked batch children of
 * `batch` calls each. A child may block, die or exec; the parent (never fuzzed itself)
 * watches each child's progress word (fuzz.h), SIGKILLs one whose call makes no progress
 * for timeout_ms (default 100), and starts the next child after the last call reported. A child that
 * survives SIGKILL is a hung kernel and fails the run. Then `elfs` corrupted copies of
 * /bin/hello.vbin are exec'd (elf.c). seeds=N runs the streams seed, seed+1, ...,
 * seed+N-1 one after another in the same boot (so long runs spend their time fuzzing,
 * not booting), each replayable alone. Prints each seed so a run can be replayed, and
 * "test-fuzz: N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../vktest.h"
#include "fuzz.h"

#define HANG_TIMEOUT_MS 10000 /* after SIGKILL: longer than this is a kernel bug */
#define REPORTS_MAX     12    /* blocked/signalled calls printed in full */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static volatile uint64_t *progress_word; /* MAP_SHARED: the parent and every child */

int fuzz_progress_init(void)
{
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return -1;
    progress_word = page;
    return 0;
}

void fuzz_progress(uint64_t value)
{
    __atomic_store_n(progress_word, value, __ATOMIC_RELEASE);
}

static uint64_t progress_now(void)
{
    return __atomic_load_n(progress_word, __ATOMIC_ACQUIRE);
}

/* Waits for pid to end after SIGKILL; false if it never does. */
static int reap_killed(pid_t pid, int *status)
{
    uint64_t deadline = now_ms() + HANG_TIMEOUT_MS;
    while (now_ms() < deadline) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return 1;
        usleep(10000);
    }
    return 0;
}

int fuzz_watch_child(void (*body)(void *), void *arg, int timeout_ms, int *status,
                     uint64_t *last, uint64_t no_progress)
{
    int p[2];
    *last = no_progress;
    fuzz_progress(no_progress);
    if (pipe(p))
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* A group of its own: kill(0) and kill(-pgid) from the fuzzed calls reach the
         * child and what it forked, never this watchdog (which is init, so kill(-1)
         * spares it too). */
        setpgid(0, 0);
        close(p[0]);
        dup2(p[1], FUZZ_PROGRESS_FD);
        close(p[1]);
        body(arg);
        _exit(0);
    }
    close(p[1]);
    uint64_t quiet_since = now_ms();
    int killed = 0, pipe_open = 1;
    for (;;) {
        /* The pipe wakes us when the child ends; once it reads end of file (the child
         * is gone, or a fuzzed call closed its end) we check every few ms instead. */
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        char junk[64];
        if (!pipe_open)
            usleep(4000);
        else if (poll(&pfd, 1, 20) > 0 && read(p[0], junk, sizeof(junk)) <= 0)
            pipe_open = 0;
        uint64_t now = progress_now();
        if (now != *last) {
            *last = now;
            quiet_since = now_ms();
        }
        if (waitpid(pid, status, WNOHANG) == pid)
            break;
        if (now_ms() - quiet_since > (uint64_t)timeout_ms) {
            kill(pid, SIGKILL);
            killed = 1;
            if (!reap_killed(pid, status)) {
                printf("fuzz: HUNG child %d survived SIGKILL for %d ms\n", pid,
                       HANG_TIMEOUT_MS);
                close(p[0]);
                return -1;
            }
            break;
        }
    }
    *last = progress_now(); /* stored just before the end */
    close(p[0]);
    return killed;
}

typedef struct {
    uint64_t seed, first, end;
    int parent;
} batch_t;

static void run_batch(void *arg)
{
    batch_t *b = arg;
    fuzz_calls_run(b->seed, b->first, b->end, b->parent);
}

static void report(const char *what, uint64_t seed, uint64_t index, int *budget)
{
    char text[200];
    if (*budget <= 0)
        return;
    (*budget)--;
    fuzz_call_describe(seed, index, text, sizeof(text));
    printf("fuzz: %s at call %llu (replay: seed=%llu start=%llu calls=1): %s\n", what,
           (unsigned long long)index, (unsigned long long)seed, (unsigned long long)index,
           text);
}

/* Runs the calls; returns the number of hung children (0 when the kernel held). */
static int fuzz_syscalls(uint64_t seed, uint64_t start, uint64_t calls, uint64_t batch,
                         int timeout_ms, fuzz_stats_t *st)
{
    int budget = REPORTS_MAX, hung = 0;
    uint64_t end = start + calls, next = start;
    while (next < end) {
        uint64_t batch_index = (next - start) / batch;
        batch_t b = { seed, next, start + (batch_index + 1) * batch, getpid() };
        if (b.end > end)
            b.end = end;
        int status = 0;
        uint64_t last;
        int r = fuzz_watch_child(run_batch, &b, timeout_ms, &status, &last, UINT64_MAX - 1);
        st->children++;
        if (r < 0) {
            printf("fuzz: seed %llu batch %llu (calls %llu..%llu): child lost\n",
                   (unsigned long long)seed, (unsigned long long)batch_index,
                   (unsigned long long)b.first, (unsigned long long)b.end - 1);
            if (last < end)
                report("hung", seed, last, &budget);
            hung++;
            if (hung > 3)
                break;
            next = last < end ? last + 1 : b.end;
            continue;
        }
        if (last == FUZZ_BATCH_DONE) {
            next = b.end;
            continue;
        }
        if (last < b.first || last >= b.end) { /* died before its first call */
            st->exited_early++;
            next = b.first + 1;
            continue;
        }
        if (r == 1) {
            st->blocked++;
        } else if (WIFSIGNALED(status)) {
            st->signalled++;
            if (WTERMSIG(status) != SIGKILL && WTERMSIG(status) != SIGSEGV)
                report(strsignal(WTERMSIG(status)), seed, last, &budget);
        } else {
            st->exited_early++;
        }
        next = last + 1;
    }
    st->calls = next - start;
    return hung;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t seed = vktest_option(argc, argv, "seed", (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32);
    uint64_t seeds = vktest_option(argc, argv, "seeds", 1);
    uint64_t calls = vktest_option(argc, argv, "calls", 20000);
    uint64_t start = vktest_option(argc, argv, "start", 0);
    uint64_t batch = vktest_option(argc, argv, "batch", 2000);
    uint64_t elfs = vktest_option(argc, argv, "elfs", 1000);
    int timeout_ms = (int)vktest_option(argc, argv, "timeout_ms", 100);
    if (!batch)
        batch = 1;
    if (fuzz_progress_init()) {
        vktest_check(0, "fuzz_progress_page_mapped", "mmap(MAP_SHARED) failed");
        return vktest_finish("test-fuzz");
    }
    int hung = 0;
    uint64_t made = 0;
    for (uint64_t k = 0; k < (seeds ? seeds : 1) && !hung; k++) {
        printf("fuzz: seed=%llu start=%llu calls=%llu batch=%llu timeout_ms=%d elfs=%llu\n",
               (unsigned long long)(seed + k), (unsigned long long)start,
               (unsigned long long)calls, (unsigned long long)batch, timeout_ms,
               (unsigned long long)elfs);
        fuzz_stats_t st = { 0 };
        uint64_t t0 = now_ms();
        hung = fuzz_syscalls(seed + k, start, calls, batch, timeout_ms, &st);
        uint64_t t1 = now_ms();
        printf("fuzz: syscalls: %llu calls in %llu ms, %llu children, %llu blocked and killed, "
               "%llu killed by a signal, %llu exited early\n",
               (unsigned long long)st.calls, (unsigned long long)(t1 - t0),
               (unsigned long long)st.children, (unsigned long long)st.blocked,
               (unsigned long long)st.signalled, (unsigned long long)st.exited_early);
        made += st.calls;
    }
    vktest_check(hung == 0, "fuzz_no_child_survives_sigkill", "a child hung: see above");
    vktest_check(made == calls * (seeds ? seeds : 1), "fuzz_all_calls_made", "stopped early");

    int bad = fuzz_elf_run(seed, (unsigned)elfs, "/bin/hello.vbin");
    vktest_check(bad == 0, "fuzz_malformed_elf_exec_survived", "see the elf lines above");
    return vktest_finish("test-fuzz");
}
