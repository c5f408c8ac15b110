/* SPDX-License-Identifier: MIT */
/*
 * Scheduling syscalls through musl (docs/sched.md): policies and priorities mapped onto
 * the scheduler's classes, nice values, CPU affinity that really moves a thread, and
 * the errors for bad requests; CPU-time accounting split into user and kernel time
 * (getrusage, times, the CPU-time clocks); real-time throttling. Run on two CPUs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../vktest.h"

static void check_errno(long r, int want, const char *name)
{
    char detail[64];
    snprintf(detail, sizeof(detail), "returned %ld errno %d, want errno %d", r, errno, want);
    vktest_check(r == -1 && errno == want, name, detail);
}

/* musl's sched_setscheduler wrappers return ENOSYS by design (POSIX process
 * scheduling); the raw calls are what Linux programs and SDL use. */
static long setscheduler(pid_t tid, int policy, int prio)
{
    struct sched_param p = { .sched_priority = prio };
    return syscall(SYS_sched_setscheduler, tid, policy, &p);
}

static long getscheduler(pid_t tid) { return syscall(SYS_sched_getscheduler, tid); }

static int getparam(pid_t tid)
{
    struct sched_param p = { .sched_priority = -1 };
    return syscall(SYS_sched_getparam, tid, &p) == 0 ? p.sched_priority : -1;
}

static void policies(void)
{
    vktest_check(getscheduler(0) == SCHED_OTHER && getpriority(PRIO_PROCESS, 0) == 0,
                 "default_is_other_nice_0", "policy or nice");
    vktest_check(setpriority(PRIO_PROCESS, 0, 7) == 0 && getpriority(PRIO_PROCESS, 0) == 7,
                 "nice_set_and_read_back", "nice");
    vktest_check(setscheduler(0, SCHED_BATCH, 0) == 0 && getscheduler(0) == SCHED_BATCH &&
                     getpriority(PRIO_PROCESS, 0) == 7,
                 "batch_keeps_nice", "batch");
    vktest_check(setscheduler(0, SCHED_FIFO, 50) == 0 && getscheduler(0) == SCHED_FIFO &&
                     getparam(0) == 50,
                 "fifo_priority_set_and_read_back", "fifo");
    vktest_check(setscheduler(0, SCHED_RR, 99) == 0 && getscheduler(0) == SCHED_RR &&
                     getparam(0) == 99,
                 "rr_priority_set_and_read_back", "rr");
    struct timespec ts = { -1, -1 };
    vktest_check(syscall(SYS_sched_rr_get_interval, 0, &ts) == 0 && ts.tv_sec == 0 &&
                     ts.tv_nsec == 100000000,
                 "rr_interval_is_the_slice", "interval");
    vktest_check(setscheduler(0, SCHED_IDLE, 0) == 0 && getscheduler(0) == SCHED_IDLE,
                 "idle_policy", "idle");
    vktest_check(setscheduler(0, SCHED_OTHER, 0) == 0 && getscheduler(0) == SCHED_OTHER &&
                     getpriority(PRIO_PROCESS, 0) == 0,
                 "back_to_other", "other");
    vktest_check(sched_get_priority_max(SCHED_FIFO) == 99 && sched_get_priority_min(SCHED_RR) == 1 &&
                     sched_get_priority_max(SCHED_OTHER) == 0,
                 "priority_ranges", "ranges");
    check_errno(setscheduler(0, SCHED_FIFO, 0), EINVAL, "fifo_priority_0_refused");
    check_errno(setscheduler(0, SCHED_FIFO, 100), EINVAL, "fifo_priority_100_refused");
    check_errno(setscheduler(0, SCHED_OTHER, 5), EINVAL, "other_with_priority_refused");
    check_errno(setscheduler(0, 42, 0), EINVAL, "unknown_policy_refused");
    check_errno(setscheduler(999999, SCHED_OTHER, 0), ESRCH, "unknown_thread_refused");
    check_errno(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)16), EFAULT,
                "bad_param_pointer_faults");
    check_errno(sched_get_priority_max(42), EINVAL, "priority_range_of_unknown_policy");
    check_errno(getpriority(PRIO_USER, 0), EINVAL, "prio_user_not_supported");
}

static volatile int spin_stop;
static volatile int thread_cpu = -1;
static volatile pid_t thread_tid;

static void *spinner(void *arg)
{
    (void)arg;
    thread_tid = gettid();
    while (!spin_stop)
        thread_cpu = sched_getcpu();
    return NULL;
}

static void affinity(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    vktest_check(sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 2 &&
                     CPU_ISSET(0, &set) && CPU_ISSET(1, &set),
                 "affinity_covers_both_cpus", "mask");
    /* Pin ourselves to each CPU in turn: sched_getcpu follows. */
    int followed = 1;
    for (int cpu = 0; cpu < 2; cpu++) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        followed &= sched_setaffinity(0, sizeof(set), &set) == 0 && sched_getcpu() == cpu;
    }
    vktest_check(followed, "pinning_moves_the_caller", "sched_getcpu did not follow");
    /* Another thread, pinned by its tid, moves too. */
    pthread_t th;
    pthread_create(&th, NULL, spinner, NULL);
    while (!thread_tid)
        sched_yield();
    int moved = 1;
    for (int cpu = 1; cpu >= 0 && moved; cpu--) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        moved = sched_setaffinity(thread_tid, sizeof(set), &set) == 0;
        thread_cpu = -1;
        for (int t = 0; t < 200 && thread_cpu != cpu; t++) {
            struct timespec ts = { 0, 5000000 };
            nanosleep(&ts, NULL);
        }
        moved = moved && thread_cpu == cpu;
    }
    spin_stop = 1;
    pthread_join(th, NULL);
    vktest_check(moved, "pinning_another_thread_moves_it", "the spinner stayed");
    CPU_ZERO(&set);
    CPU_SET(7, &set); /* not online */
    check_errno(sched_setaffinity(0, sizeof(set), &set), EINVAL, "offline_only_mask_refused");
    check_errno(sched_getaffinity(0, 4, &set), EINVAL, "short_mask_buffer_refused");
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    CPU_SET(1, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* ---- CPU time ------------------------------------------------------------------- */

static volatile int work_stop;
static struct rusage user_spin_usage, syscall_usage;

static uint64_t tv_ms(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000; }
static uint64_t tv_us(struct timeval tv) { return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec; }

static void *user_spinner(void *arg)
{
    (void)arg;
    volatile uint64_t n = 0;
    while (!work_stop)
        n++;
    getrusage(RUSAGE_THREAD, &user_spin_usage);
    return NULL;
}

/* Big reads of /dev/zero: nearly all of it is the kernel clearing the buffer. */
static void *syscaller(void *arg)
{
    (void)arg;
    static char buf[65536];
    int fd = open("/dev/zero", O_RDONLY);
    while (!work_stop && fd >= 0)
        if (read(fd, buf, sizeof(buf)) < 0)
            break;
    if (fd >= 0)
        close(fd);
    getrusage(RUSAGE_THREAD, &syscall_usage);
    return NULL;
}

static void cpu_time(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, user_spinner, NULL);
    pthread_create(&b, NULL, syscaller, NULL);
    struct timespec ts = { 0, 600000000 };
    nanosleep(&ts, NULL);
    work_stop = 1;
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    char detail[160];
    uint64_t u = tv_us(user_spin_usage.ru_utime), k = tv_us(user_spin_usage.ru_stime);
    snprintf(detail, sizeof(detail), "user %llu us, kernel %llu us",
             (unsigned long long)u, (unsigned long long)k);
    printf("user spinner: %s\n", detail);
    vktest_check(u > 0 && u >= 4 * k, "user_spinner_time_is_mostly_user", detail);
    u = tv_us(syscall_usage.ru_utime);
    k = tv_us(syscall_usage.ru_stime);
    snprintf(detail, sizeof(detail), "user %llu us, kernel %llu us",
             (unsigned long long)u, (unsigned long long)k);
    printf("/dev/zero reader: %s\n", detail);
    vktest_check(k > 0 && k >= u, "syscall_loop_time_is_mostly_kernel", detail);

    /* The process total includes both (now exited) threads. */
    struct rusage self;
    struct tms t;
    getrusage(RUSAGE_SELF, &self);
    clock_t ticks = times(&t);
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t threads_user = tv_us(user_spin_usage.ru_utime) + tv_us(syscall_usage.ru_utime);
    uint64_t threads_kernel = tv_us(user_spin_usage.ru_stime) + tv_us(syscall_usage.ru_stime);
    snprintf(detail, sizeof(detail), "self %llu/%llu us, threads %llu/%llu us",
             (unsigned long long)tv_us(self.ru_utime), (unsigned long long)tv_us(self.ru_stime),
             (unsigned long long)threads_user, (unsigned long long)threads_kernel);
    vktest_check(tv_us(self.ru_utime) >= threads_user && tv_us(self.ru_stime) >= threads_kernel,
                 "rusage_self_includes_exited_threads", detail);
    /* times() counts in whole clock ticks of the same figures. */
    int64_t du = (int64_t)t.tms_utime * 1000 / hz - (int64_t)tv_ms(self.ru_utime);
    int64_t dk = (int64_t)t.tms_stime * 1000 / hz - (int64_t)tv_ms(self.ru_stime);
    snprintf(detail, sizeof(detail), "times %ld/%ld ticks at %ld Hz, rusage %llu/%llu ms",
             (long)t.tms_utime, (long)t.tms_stime, hz, (unsigned long long)tv_ms(self.ru_utime),
             (unsigned long long)tv_ms(self.ru_stime));
    vktest_check(ticks != (clock_t)-1 && du <= 30 && du >= -30 && dk <= 30 && dk >= -30,
                 "times_agrees_with_getrusage", detail);
    struct timespec pc, tc;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &pc);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &tc);
    uint64_t pc_us = (uint64_t)pc.tv_sec * 1000000 + pc.tv_nsec / 1000;
    uint64_t tc_us = (uint64_t)tc.tv_sec * 1000000 + tc.tv_nsec / 1000;
    uint64_t self_us = tv_us(self.ru_utime) + tv_us(self.ru_stime);
    snprintf(detail, sizeof(detail), "process clock %llu us, thread clock %llu us, rusage %llu us",
             (unsigned long long)pc_us, (unsigned long long)tc_us, (unsigned long long)self_us);
    vktest_check(pc_us >= self_us && pc_us < self_us + 100000 && tc_us < pc_us,
                 "cputime_clocks_match_rusage", detail);

    /* A reaped child's time shows under RUSAGE_CHILDREN. */
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec start, now;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
        do {
            for (volatile int i = 0; i < 100000; i++)
                ;
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000000000ll + now.tv_nsec - start.tv_nsec <
                 50000000ll);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    struct rusage children;
    getrusage(RUSAGE_CHILDREN, &children);
    times(&t);
    snprintf(detail, sizeof(detail), "children %llu/%llu us, tms_cutime %ld",
             (unsigned long long)tv_us(children.ru_utime),
             (unsigned long long)tv_us(children.ru_stime), (long)t.tms_cutime);
    vktest_check(tv_us(children.ru_utime) + tv_us(children.ru_stime) >= 50000 &&
                     tv_us(children.ru_utime) > tv_us(children.ru_stime),
                 "rusage_children_counts_the_reaped_child", detail);
    check_errno(getrusage(7, &self), EINVAL, "rusage_bad_who_refused");
}

/* ---- real-time throttling ------------------------------------------------------- */

static volatile int hog_ready;
static volatile unsigned long victim_count;

static void pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static void *fifo_hog(void *arg)
{
    (void)arg;
    pin_self(1);
    setscheduler(0, SCHED_FIFO, 10);
    hog_ready = 1;
    while (!spin_stop)
        ;
    return NULL;
}

static void *victim(void *arg)
{
    (void)arg;
    pin_self(1);
    while (!spin_stop)
        victim_count++;
    return NULL;
}

static void rt_throttling(void)
{
    spin_stop = 0;
    pin_self(0);
    pthread_t h, v;
    pthread_create(&h, NULL, fifo_hog, NULL);
    while (!hog_ready)
        sched_yield();
    pthread_create(&v, NULL, victim, NULL);
    /* The hog may use 950 ms of each 1 s period: within ~2 s the victim runs. */
    for (int i = 0; i < 400 && !victim_count; i++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    unsigned long counted = victim_count;
    spin_stop = 1;
    pthread_join(h, NULL);
    pthread_join(v, NULL);
    char detail[64];
    snprintf(detail, sizeof(detail), "victim counted %lu", counted);
    vktest_check(counted > 0, "nice0_thread_progresses_beside_fifo_hog", detail);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    CPU_SET(1, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

/* "sleep-precision": run under -icount shift=0,sleep=off, where the guest's clock is
 * exact and host load cannot stretch it, so lateness is the kernel's alone. A sleep
 * of 10 ms must end no earlier and at most 2 ms later (the tick is 10 ms: only the
 * one-shot timer for the earliest deadline meets this). */
#define SLEEP_NS 10000000L
#define LATE_MAX_NS 2000000L

/* Who may change scheduling (docs/sched.md "Who may ask"): a forked child holds no
 * KObj-write right (init does not mark it inheritable), so it may change itself and its
 * own children, never its parent, and may not make itself more urgent than nice 0. Its
 * children inherit its nice value and are found by the calls from the moment fork
 * returns. Each check's result is one bit of a shared word. */
enum {
    PERM_PARENT_NICE, PERM_PARENT_IDLE, PERM_PARENT_AFFINITY, PERM_SELF_NICE_NEGATIVE,
    PERM_SELF_FIFO, PERM_SELF_NICE_UP_DOWN, PERM_CHILD_INHERITS, PERM_CHILD_NICE,
    PERM_PARENT_READABLE, PERM_COUNT
};

static void permission_child(volatile unsigned *ok)
{
    pid_t parent = getppid();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    errno = 0;
    *ok |= (setpriority(PRIO_PROCESS, parent, 19) == -1 && errno == EPERM) << PERM_PARENT_NICE;
    errno = 0;
    *ok |= (setscheduler(parent, SCHED_IDLE, 0) == -1 && errno == EPERM) << PERM_PARENT_IDLE;
    errno = 0;
    *ok |= (sched_setaffinity(parent, sizeof(set), &set) == -1 && errno == EPERM)
           << PERM_PARENT_AFFINITY;
    errno = 0;
    *ok |= (setpriority(PRIO_PROCESS, 0, -1) == -1 && errno == EPERM) << PERM_SELF_NICE_NEGATIVE;
    errno = 0;
    *ok |= (setscheduler(0, SCHED_FIFO, 10) == -1 && errno == EPERM) << PERM_SELF_FIFO;
    /* Less urgent, then back towards the default: both its own business. */
    *ok |= (setpriority(PRIO_PROCESS, 0, 10) == 0 && setpriority(PRIO_PROCESS, 0, 0) == 0 &&
            getpriority(PRIO_PROCESS, 0) == 0)
           << PERM_SELF_NICE_UP_DOWN;
    setpriority(PRIO_PROCESS, 0, 10);
    pid_t grandchild = fork();
    if (grandchild == 0) {
        pause();
        _exit(0);
    }
    errno = 0;
    *ok |= (grandchild > 0 && getpriority(PRIO_PROCESS, grandchild) == 10 && errno == 0)
           << PERM_CHILD_INHERITS;
    *ok |= (grandchild > 0 && setpriority(PRIO_PROCESS, grandchild, 12) == 0 &&
            getpriority(PRIO_PROCESS, grandchild) == 12)
           << PERM_CHILD_NICE;
    if (grandchild > 0) {
        kill(grandchild, SIGKILL);
        waitpid(grandchild, NULL, 0);
    }
    errno = 0;
    *ok |= (getpriority(PRIO_PROCESS, parent) == 0 && errno == 0) << PERM_PARENT_READABLE;
}

static void permissions(void)
{
    static const char *const names[PERM_COUNT] = {
        "child_cannot_renice_its_parent", "child_cannot_make_its_parent_idle",
        "child_cannot_pin_its_parent", "nice_below_0_needs_the_right",
        "real_time_needs_the_right", "own_nice_up_and_back_to_0",
        "fork_child_inherits_nice_and_is_found_at_once", "child_may_renice_its_own_child",
        "child_may_read_its_parents_priority",
    };
    volatile unsigned *ok =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ok == MAP_FAILED) {
        vktest_check(0, "permission_result_page", "mmap(MAP_SHARED) failed");
        return;
    }
    *ok = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        permission_child(ok);
        _exit(0);
    }
    int status = 0;
    int ended = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status);
    for (int i = 0; i < PERM_COUNT; i++)
        vktest_check(ended && (*ok >> i & 1), names[i], "see docs/sched.md, Who may ask");
    munmap((void *)ok, 4096);
}

static long ns_between(const struct timespec *a, const struct timespec *b)
{
    return (b->tv_sec - a->tv_sec) * 1000000000L + (b->tv_nsec - a->tv_nsec);
}

static int sleep_precision(void)
{
    long worst = 0;
    int early = 0;
    for (int i = 0; i < 20; i++) {
        struct timespec a, b, d = { 0, SLEEP_NS };
        clock_gettime(CLOCK_MONOTONIC, &a);
        nanosleep(&d, NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        long took = ns_between(&a, &b);
        early += took < SLEEP_NS;
        if (took - SLEEP_NS > worst)
            worst = took - SLEEP_NS;
    }
    /* An absolute deadline, as a frame loop sleeps. */
    struct timespec now, until, after;
    clock_gettime(CLOCK_MONOTONIC, &now);
    until = now;
    until.tv_nsec += 15000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long late_abs = ns_between(&until, &after);
    char detail[96];
    snprintf(detail, sizeof(detail), "%d of 20 sleeps ended early", early);
    vktest_check(early == 0, "sleep_10ms_never_early", detail);
    snprintf(detail, sizeof(detail), "worst lateness %ld us", worst / 1000);
    vktest_check(worst <= LATE_MAX_NS, "sleep_10ms_at_most_2ms_late", detail);
    snprintf(detail, sizeof(detail), "ended %ld us after the deadline", late_abs / 1000);
    vktest_check(late_abs >= 0 && late_abs <= LATE_MAX_NS, "absolute_sleep_within_2ms", detail);
    printf("test-sched: sleep(10 ms) late by at most %ld us\n", worst / 1000);
    return vktest_finish("test-sched");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "sleep-precision"))
        return sleep_precision();
    policies();
    permissions();
    affinity();
    cpu_time();
    rt_throttling();
    return vktest_finish("test-sched");
}
