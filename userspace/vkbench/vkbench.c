/* SPDX-License-Identifier: MIT */
/*
 * vkbench: the side-by-side benchmark (docs/performance.md, "vkbench: vkernel beside
 * Linux"). One static musl binary that uses only Linux syscalls, so the same file runs
 * as init on vkernel and as /init of a tiny initramfs on Debian's Linux
 * (scripts/bench-linux.sh), in the same QEMU.
 *
 * Usage: vkbench [--quick] [--icount] [--list] [name...]
 *   --quick   repeat counts divided by 20 (the smoke test in `make test`)
 *   --icount  label TSC figures "insns" instead of "cycles": under QEMU's
 *             -icount shift=0 the guest TSC advances one tick per guest instruction
 *   name...   run only the benchmarks whose names contain one of these strings
 *
 * Output, one line per figure, nothing else between the start and done lines:
 *   vkbench: start ...
 *   NAME VALUE UNIT        e.g. "getpid 343 insns/op" then "getpid 341 ns/op"
 *   NAME n/a REASON        a syscall the benchmark needs failed (ENOSYS...)
 *   cpu_job_speedup R ratio/wall   after the two cpu_job benchmarks: their wall-time ratio
 *   vkbench: done
 * TSC figures come from rdtsc, ns figures from clock_gettime(CLOCK_MONOTONIC), both
 * around the same timed region. Every benchmark runs once with a twentieth of its count
 * first (a warm-up: first-touch faults on code, stack and heap, lazy libc set-up).
 *
 * Lines are written with one write() each, never through stdio: the fork benchmarks
 * would otherwise duplicate buffered output, and a whole line per write keeps it intact
 * next to kernel log lines on the same console.
 *
 * As Linux's pid 1 it powers the machine off when done (reboot(RB_POWER_OFF)); on
 * vkernel, init's exit ends the boot, so it just returns.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <vk/libvk.h>

#include "vkbench.h"

#define QUICK_DIVISOR  20
#define WARMUP_DIVISOR 20
#define LINE_MAX_BYTES 256

/* name, unit of one op, full repeat count, function, what it times (--list) */
static const vkbench_t benchmarks[] = {
    { "getpid", "op", 200000, vkbench_getpid,
      "syscall(SYS_getpid) round trip (raw syscall instruction)" },
    { "sched_yield", "op", 100000, vkbench_sched_yield,
      "sched_yield with nothing else runnable" },
    { "pipe_1byte", "op", 50000, vkbench_pipe_1byte,
      "write 1 byte into a pipe and read it back, one process" },
    { "pipe_pingpong_procs", "op", 20000, vkbench_pipe_pingpong_procs,
      "1-byte round trip over two pipes between two processes" },
    { "sched_yield_threads", "op", 50000, vkbench_sched_yield_threads,
      "sched_yield between two threads (per yield)" },
    { "futex_pingpong_threads", "op", 20000, vkbench_futex_pingpong_threads,
      "futex wake/wait round trip between two threads" },
    { "futex_pingpong_cpus", "op", 20000, vkbench_futex_pingpong_cpus,
      "futex round trip between two threads pinned to CPUs 0 and 1 (needs 2 CPUs)" },
    { "cpu_job_1thread", "job", 4, vkbench_cpu_job_1thread,
      "a fixed CPU-bound job (xorshift loop) on one thread" },
    { "cpu_job_2threads", "job", 4, vkbench_cpu_job_2threads,
      "the same job split between two threads; cpu_job_speedup is the wall-time ratio" },
    { "channel_pingpong_procs", "op", 20000, vkbench_channel_pingpong_procs,
      "16-byte vkernel channel write + read echo between two processes (vkernel only)" },
    { "channel_call_procs", "op", 20000, vkbench_channel_call_procs,
      "16-byte vk_channel_call against an echoing process (vkernel only)" },
    { "channel_call_rr_procs", "op", 20000, vkbench_channel_call_rr_procs,
      "16-byte vk_channel_call against a vk_channel_reply_read server (vkernel only)" },
    { "channel_send_4k", "op", 20000, vkbench_channel_send_4k,
      "one 4 KiB channel message written and read in one process (vkernel only)" },
    { "shm_transfer_1m", "MiB", 16, vkbench_shm_transfer_1m,
      "fill 1 MiB of shared memory, call a child that sums it (vkernel only)" },
    { "handle_transfer", "op", 20000, vkbench_handle_transfer,
      "one handle sent over a channel and received (vkernel only)" },
    { "scm_rights_transfer", "op", 20000, vkbench_scm_rights_transfer,
      "one fd sent over a Unix socketpair (SCM_RIGHTS), received, closed" },
    { "fork_exit_wait", "op", 2000, vkbench_fork_exit_wait,
      "fork, child _exit(0), parent waitpid" },
    { "fork_exec_wait", "op", 500, vkbench_fork_exec_wait,
      "fork, child execve(vkbench --exec-child), waitpid" },
    { "posix_spawn_wait", "op", 500, vkbench_posix_spawn_wait,
      "posix_spawn(vkbench --exec-child), waitpid" },
    { "vk_spawn_wait", "op", 500, vkbench_vk_spawn_wait,
      "vk_api->spawn(vkbench --exec-child), wait4 (vkernel only)" },
    { "thread_create_join", "op", 5000, vkbench_thread_create_join,
      "pthread_create of an empty thread + pthread_join" },
    { "page_fault", "page", 8, vkbench_page_fault,
      "first write to each page of a fresh 16 MiB anonymous mapping" },
    { "mmap_munmap_1m", "op", 20000, vkbench_mmap_munmap_1m,
      "mmap + munmap of 1 MiB anonymous, untouched" },
    { "mmap_munmap_4k", "op", 20000, vkbench_mmap_munmap_4k,
      "mmap + munmap of 4 KiB anonymous, untouched" },
    { "memcpy_16m", "MiB", 16, vkbench_memcpy_16m,
      "memcpy of 16 MiB between touched buffers (per MiB)" },
    { "file_read_16m", "MiB", 16, vkbench_file_read_16m,
      "sequential 64 KiB reads of a 16 MiB file in /tmp (per MiB)" },
    { "disk_write_64m", "MiB", 1, vkbench_disk_write_64m,
      "sequential 64 KiB writes of a 64 MiB file on the disk, then fsync (per MiB)" },
    { "disk_read_64m", "MiB", 1, vkbench_disk_read_64m,
      "sequential 64 KiB reads of a 64 MiB file on the disk, caches dropped (per MiB)" },
    { "disk_rand_read_4k", "op", 2000, vkbench_disk_rand_read_4k,
      "4 KiB reads at random offsets of the 64 MiB file, caches dropped first (per read)" },
    { "disk_create_small", "file", 1000, vkbench_disk_create_small,
      "create + write 4 KiB + close of new files in one disk directory, one sync (per file)" },
    { "disk_list_dir", "entry", 1000, vkbench_disk_list_dir,
      "readdir of a disk directory of 1000 files, caches dropped first (per entry)" },
};

static const char *self_path = "vkbench";
static char **saved_environ;

const char *vkbench_self_path(void) { return self_path; }
char **vkbench_environ(void) { return saved_environ; }

bool vkbench_reap(int pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static uint64_t read_tsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The timed region: both clocks are read on both sides. Calls accumulate, so a
 * benchmark can time several slices and leave its set-up out. */
void vkbench_start(vkbench_run_t *run)
{
    run->ns_start = monotonic_ns();
    run->tsc_start = read_tsc();
}

void vkbench_stop(vkbench_run_t *run, uint64_t ops)
{
    uint64_t tsc = read_tsc();
    int64_t ns = monotonic_ns();

    run->tsc_elapsed += tsc - run->tsc_start;
    run->ns_elapsed += ns - run->ns_start;
    run->ops += ops;
    run->started = true;
}

bool vkbench_unavailable(vkbench_run_t *run, const char *what, int err)
{
    if (err)
        snprintf(run->reason, sizeof(run->reason), "%s: %s", what, strerror(err));
    else
        snprintf(run->reason, sizeof(run->reason), "%s", what);
    return false;
}

static void write_all(const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        s += n;
        len -= (size_t)n;
    }
}

static void print_line(const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    write_all(line, (size_t)n);
}

/* Values below 1000 keep one decimal; larger ones are whole numbers. */
static void print_figure(const char *name, double value, const char *unit)
{
    if (value < 1000.0)
        print_line("%s %.1f %s", name, value, unit);
    else
        print_line("%s %.0f %s", name, value, unit);
}

static bool selected(const char *name, char **filters, int filter_count)
{
    if (filter_count == 0)
        return true;
    for (int i = 0; i < filter_count; i++)
        if (strstr(name, filters[i]))
            return true;
    return false;
}

/* Runs one benchmark and prints its figures; returns its ns per op, 0 when n/a. */
static double run_one(const vkbench_t *b, bool quick, bool icount)
{
    uint64_t repeat = quick ? b->repeat / QUICK_DIVISOR : b->repeat;
    if (repeat == 0)
        repeat = 1;
    uint64_t warmup = repeat / WARMUP_DIVISOR ? repeat / WARMUP_DIVISOR : 1;

    vkbench_run_t run;
    memset(&run, 0, sizeof(run));
    bool ok = b->run(&run, warmup);
    if (ok) {
        memset(&run, 0, sizeof(run));
        ok = b->run(&run, repeat);
    }
    if (!ok) {
        print_line("%s n/a %s", b->name, run.reason[0] ? run.reason : "failed (no reason given)");
        return 0;
    }
    /* Harness invariants: report n/a rather than a made-up figure. */
    if (!run.started || run.ops == 0) {
        print_line("%s n/a harness: nothing was timed", b->name);
        return 0;
    }
    if (run.tsc_elapsed == 0 || run.ns_elapsed <= 0) {
        print_line("%s n/a clock did not advance (tsc %llu, ns %lld)", b->name,
                   (unsigned long long)run.tsc_elapsed, (long long)run.ns_elapsed);
        return 0;
    }
    char unit[32];
    snprintf(unit, sizeof(unit), "%s/%s", icount ? "insns" : "cycles", b->per);
    print_figure(b->name, (double)run.tsc_elapsed / (double)run.ops, unit);
    snprintf(unit, sizeof(unit), "ns/%s", b->per);
    print_figure(b->name, (double)run.ns_elapsed / (double)run.ops, unit);
    return (double)run.ns_elapsed / (double)run.ops;
}

static void power_off_if_linux_init(void)
{
    if (getpid() != 1 || vk_api() != NULL)
        return;
    /* Linux's pid 1 must never exit (the kernel panics): power the machine off. */
    reboot(RB_POWER_OFF);
    print_line("vkbench: reboot(RB_POWER_OFF): %s", strerror(errno));
}

int main(int argc, char **argv)
{
    /* The exec benchmarks' child: nothing but start-up and exit. */
    if (argc > 1 && strcmp(argv[1], VKBENCH_EXEC_CHILD_ARG) == 0)
        return 0;

    extern char **environ;
    saved_environ = environ;
    if (argc > 0 && argv[0])
        self_path = argv[0];

    bool quick = false, icount = false, list = false;
    char *filters[16];
    int filter_count = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--icount") == 0) {
            icount = true;
        } else if (strcmp(argv[i], "--list") == 0) {
            list = true;
        } else if (argv[i][0] != '-' &&
                   filter_count < (int)(sizeof(filters) / sizeof(filters[0]))) {
            filters[filter_count++] = argv[i];
        } else {
            print_line("vkbench: unknown argument %s (usage: vkbench [--quick] [--icount] "
                       "[--list] [name...])", argv[i]);
            power_off_if_linux_init();
            return 2;
        }
    }
    if (list) {
        for (size_t i = 0; i < sizeof(benchmarks) / sizeof(benchmarks[0]); i++)
            print_line("%-24s %s", benchmarks[i].name, benchmarks[i].what);
        power_off_if_linux_init();
        return 0;
    }

    vkbench_disk_linux_setup();
    struct utsname u;
    if (uname(&u) != 0)
        memset(&u, 0, sizeof(u));
    print_line("vkbench: start; %s; %s; kernel %s %s; pid %d", quick ? "quick" : "full",
               icount ? "tsc counts guest instructions (icount)" : "tsc counts cycles",
               u.sysname, u.release, (int)getpid());
    double job_ns[2] = { 0, 0 }; /* cpu_job on one thread, on two */
    for (size_t i = 0; i < sizeof(benchmarks) / sizeof(benchmarks[0]); i++) {
        if (!selected(benchmarks[i].name, filters, filter_count))
            continue;
        double ns = run_one(&benchmarks[i], quick, icount);
        if (strcmp(benchmarks[i].name, "cpu_job_1thread") == 0)
            job_ns[0] = ns;
        else if (strcmp(benchmarks[i].name, "cpu_job_2threads") == 0)
            job_ns[1] = ns;
    }
    /* Wall time of the job on one thread over two: the parallel speed-up. */
    if (job_ns[0] > 0 && job_ns[1] > 0)
        print_line("cpu_job_speedup %.3f ratio/wall", job_ns[0] / job_ns[1]);
    print_line("vkbench: done");
    power_off_if_linux_init();
    return 0;
}
