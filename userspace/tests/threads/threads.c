/* SPDX-License-Identifier: MIT */
/*
 * Threads through plain musl pthreads (clone with CLONE_THREAD, futexes, set_tid_address
 * and CLONE_CHILD_CLEARTID for join): exact counts under a mutex, condition variables,
 * TLS, thread ids, timeouts, and how a process with several threads ends (exit_group,
 * a fatal signal, execve). Prints PASS/FAIL lines and "test-threads: N passed, N failed".
 * Run with "--exec-child" it is the program the execve check starts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../vktest.h"

#define SELF "/bin/test-threads.vbin"
#define COUNTER_THREADS 8
#define COUNTER_ROUNDS  20000

static char detail[128];
static const char *why(const char *what, long got)
{
    snprintf(detail, sizeof(detail), "%s: %ld (errno %d)", what, got, errno);
    return detail;
}

/* ---- a counter under a mutex ------------------------------------------------------ */

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static _Thread_local long tls_value;

static void *count_up(void *arg)
{
    tls_value = (long)arg;
    for (int i = 0; i < COUNTER_ROUNDS; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
        if (i % 1000 == 0)
            sched_yield();
    }
    return (void *)(tls_value == (long)arg ? (long)syscall(SYS_gettid) : -1L);
}

static void test_counter(void)
{
    pthread_t t[COUNTER_THREADS];
    tls_value = 999;
    int created = 0;
    for (long i = 0; i < COUNTER_THREADS; i++)
        created += pthread_create(&t[i], NULL, count_up, (void *)i) == 0;
    vktest_check(created == COUNTER_THREADS, "pthread_create", why("created", created));
    long tids[COUNTER_THREADS];
    int tls_ok = 1, distinct = 1;
    for (int i = 0; i < created; i++) {
        void *r;
        pthread_join(t[i], &r);
        tids[i] = (long)r;
        tls_ok &= tids[i] > 0;
        distinct &= tids[i] != getpid();
        for (int j = 0; j < i; j++)
            distinct &= tids[i] != tids[j];
    }
    vktest_check(counter == (long)COUNTER_THREADS * COUNTER_ROUNDS, "mutex_counter_exact",
                 why("counter", counter));
    vktest_check(tls_ok && tls_value == 999, "thread_local_storage_per_thread", "TLS shared");
    vktest_check(distinct, "thread_ids_distinct_from_pid", "tid reused");
}

/* ---- condition variable: producer and consumer ---------------------------------------- */

#define ITEMS 2000
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_nonempty = PTHREAD_COND_INITIALIZER, q_nonfull = PTHREAD_COND_INITIALIZER;
static int queue[16], q_head, q_count;

static void *produce(void *arg)
{
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == 16)
            pthread_cond_wait(&q_nonfull, &q_lock);
        queue[(q_head + q_count++) % 16] = i;
        pthread_cond_signal(&q_nonempty);
        pthread_mutex_unlock(&q_lock);
    }
    return NULL;
}

static void test_condvar(void)
{
    pthread_t p;
    pthread_create(&p, NULL, produce, NULL);
    long sum = 0;
    int in_order = 1;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&q_lock);
        while (q_count == 0)
            pthread_cond_wait(&q_nonempty, &q_lock);
        int v = queue[q_head];
        q_head = (q_head + 1) % 16;
        q_count--;
        pthread_cond_signal(&q_nonfull);
        pthread_mutex_unlock(&q_lock);
        in_order &= v == i;
        sum += v;
    }
    pthread_join(p, NULL);
    vktest_check(in_order && sum == (long)ITEMS * (ITEMS + 1) / 2, "condvar_producer_consumer",
                 why("sum", sum));
}

/* ---- a pipe between threads, timeouts, many threads ----------------------------------- */

static int pipe_fds[2];
static void *pipe_writer(void *arg)
{
    char buf[1000];
    memset(buf, 'p', sizeof(buf));
    for (int i = 0; i < 100; i++)
        write(pipe_fds[1], buf, sizeof(buf));
    close(pipe_fds[1]);
    return arg;
}

static void *nothing(void *arg) { return arg; }

static void test_pipe_timeouts_and_many(void)
{
    pipe(pipe_fds);
    pthread_t w;
    pthread_create(&w, NULL, pipe_writer, NULL);
    char buf[4096];
    long total = 0;
    ssize_t n;
    while ((n = read(pipe_fds[0], buf, sizeof(buf))) > 0)
        total += n;
    pthread_join(w, NULL);
    close(pipe_fds[0]);
    vktest_check(total == 100000, "pipe_between_threads", why("bytes", total));

    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    sem_t never;
    sem_init(&never, 0, 0);
    struct timespec t0, deadline, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    deadline = t0;
    deadline.tv_nsec += 30000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    int r = sem_timedwait(&never, &deadline);
    int e = errno;
    clock_gettime(CLOCK_REALTIME, &t1);
    long waited = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    vktest_check(r == -1 && e == ETIMEDOUT && waited >= 30, "futex_wait_times_out",
                 why("waited ms", waited));

}

/* 1000 short-lived threads, created and joined 10 at a time, after a warm-up round that
 * lets the kernel's stack pool and caches reach their working size: every one returns
 * its argument, and free memory ends where the warm-up left it (no stack, thread or
 * page-table memory kept per thread). */
#define SHORT_THREADS 1000
#define SHORT_BATCH   10

static int short_threads_round(long count)
{
    int ok = 0;
    for (long i = 0; i < count; i += SHORT_BATCH) {
        pthread_t t[SHORT_BATCH];
        int made[SHORT_BATCH];
        for (long j = 0; j < SHORT_BATCH; j++)
            made[j] = pthread_create(&t[j], NULL, nothing, (void *)(i + j)) == 0;
        for (long j = 0; j < SHORT_BATCH; j++) {
            void *got = NULL;
            if (made[j] && pthread_join(t[j], &got) == 0 && got == (void *)(i + j))
                ok++;
        }
    }
    return ok;
}

static void test_short_lived_threads(void)
{
    short_threads_round(100);
    unsigned long long before = vktest_free_memory();
    int ok = short_threads_round(SHORT_THREADS);
    unsigned long long after = vktest_free_memory();
    vktest_check(ok == SHORT_THREADS, "1000_short_lived_threads_created_and_joined",
                 why("ok", ok));
    char detail[96];
    snprintf(detail, sizeof(detail), "free %llu KiB before, %llu KiB after", before >> 10,
             after >> 10);
    /* The same or more: freed memory can only come back, a leak of even one 4 KiB
     * page per thread would be 4 MiB. */
    vktest_check(before && after + 64 * 1024 >= before, "1000_threads_memory_back_to_baseline",
                 detail);
}

/* ---- how a process with threads ends ---------------------------------------------------- */

static int block_fds[2];
static void *block_forever(void *arg)
{
    char c;
    read(block_fds[0], &c, 1); /* nobody writes */
    return arg;
}

static void *spin_forever(void *arg)
{
    for (volatile unsigned long i = 0;; i++)
        ;
    return arg;
}

static void *exit_from_thread(void *arg)
{
    struct timespec d = { 0, 10000000 };
    nanosleep(&d, NULL);
    exit((int)(long)arg); /* exit_group: the whole process */
}

/* In a child: threads that block and spin; then `how` ends the process. */
static int child_status(int how)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        pipe(block_fds);
        pthread_t t;
        pthread_create(&t, NULL, block_forever, NULL);
        pthread_create(&t, NULL, spin_forever, NULL);
        if (how == 0) {
            pthread_create(&t, NULL, exit_from_thread, (void *)7L);
            char c;
            read(block_fds[0], &c, 1); /* main blocks too */
        } else if (how == 1) {
            struct timespec d = { 0, 10000000 };
            nanosleep(&d, NULL);
            exit(5); /* from main, with the others blocked and spinning */
        } else if (how == 2) {
            char c;
            read(block_fds[0], &c, 1); /* killed by the parent */
        } else {
            char *argv[] = { SELF, "--exec-child", NULL };
            execve(SELF, argv, NULL);
            _exit(99);
        }
        _exit(98);
    }
    if (how == 2) {
        struct timespec d = { 0, 30000000 };
        nanosleep(&d, NULL);
        kill(pid, SIGTERM);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    return status;
}

static void test_process_end(void)
{
    int st = child_status(0);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 7, "exit_in_thread_ends_process",
                 why("status", st));
    st = child_status(1);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 5, "exit_ends_blocked_and_spinning_threads",
                 why("status", st));
    st = child_status(2);
    vktest_check(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "fatal_signal_ends_all_threads",
                 why("status", st));
    st = child_status(3);
    vktest_check(WIFEXITED(st) && WEXITSTATUS(st) == 42, "execve_from_threaded_process",
                 why("status", st));
}

/* ---- signals with threads --------------------------------------------------------------- */

static volatile sig_atomic_t usr1_hits;
static volatile int sleeper_ready, sleep_result, sleep_errno;
static void on_usr1(int sig) { (void)sig; usr1_hits++; }

static void *wait_for_signal(void *arg)
{
    struct timespec d = { 5, 0 };
    sleeper_ready = 1;
    sleep_result = nanosleep(&d, NULL); /* cut short by the signal */
    sleep_errno = errno;
    return arg;
}

static void test_signals(void)
{
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    pthread_create(&t, NULL, wait_for_signal, NULL);
    while (!sleeper_ready)
        sched_yield();
    /* Give the thread time to get from the flag into its nanosleep. */
    struct timespec d = { 0, 50000000 };
    nanosleep(&d, NULL);
    int r = pthread_kill(t, SIGUSR1);
    pthread_join(t, NULL);
    vktest_check(r == 0 && usr1_hits == 1, "pthread_kill_runs_handler", why("hits", usr1_hits));
    vktest_check(sleep_result == -1 && sleep_errno == EINTR, "signal_interrupts_thread_sleep",
                 why("nanosleep", sleep_result));
    signal(SIGUSR1, SIG_DFL);
}

/* ---- fields the threads of a process share ---------------------------------------- */

/* One thread moves the working directory back and forth while others read it, look
 * names up relative to it, change signal actions and move the break: each read sees
 * one whole value (chdir once freed the directory under a concurrent lookup). */
#define SHARED_ROUNDS 3000
static volatile int shared_stop;

static void *chdir_back_and_forth(void *arg)
{
    for (int i = 0; i < SHARED_ROUNDS; i++)
        chdir(i & 1 ? "/" : "/bin");
    shared_stop = 1;
    return arg;
}

static void on_usr2_a(int sig) { (void)sig; }
static void on_usr2_b(int sig) { (void)sig; }

static void *read_shared_fields(void *arg)
{
    (void)arg;
    long bad = 0;
    char buf[64];
    struct sigaction a = { .sa_handler = on_usr2_a }, b = { .sa_handler = on_usr2_b }, old;
    while (!shared_stop) {
        if (!getcwd(buf, sizeof(buf)) || (strcmp(buf, "/") && strcmp(buf, "/bin")))
            bad++;
        /* The same file from either directory ("/.." is "/"). */
        if (access("../bin/hello.vbin", F_OK))
            bad++;
        sigaction(SIGUSR2, (bad & 1) ? &a : &b, &old);
        if (old.sa_handler != on_usr2_a && old.sa_handler != on_usr2_b &&
            old.sa_handler != SIG_DFL)
            bad++;
        void *top = sbrk(0);
        if (brk((char *)top + 4096) == 0)
            brk(top);
    }
    return (void *)bad;
}

static void test_shared_fields(void)
{
    pthread_t mover, readers[3];
    shared_stop = 0;
    pthread_create(&mover, NULL, chdir_back_and_forth, NULL);
    for (int i = 0; i < 3; i++)
        pthread_create(&readers[i], NULL, read_shared_fields, NULL);
    long bad = 0;
    for (int i = 0; i < 3; i++) {
        void *r;
        pthread_join(readers[i], &r);
        bad += (long)r;
    }
    pthread_join(mover, NULL);
    chdir("/");
    signal(SIGUSR2, SIG_DFL);
    vktest_check(bad == 0, "cwd_and_actions_whole_under_concurrent_change",
                 why("bad reads", bad));
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--exec-child"))
        return getpid() > 0 ? 42 : 1;
    test_counter();
    test_condvar();
    test_pipe_timeouts_and_many();
    test_short_lived_threads();
    test_process_end();
    test_signals();
    test_shared_fields();
    return vktest_finish("test-threads");
}
