/* SPDX-License-Identifier: MIT */
/*
 * Fault isolation: starts test-crash.vbin once per kind of fault through vk_api->spawn,
 * collects each child with waitpid, and checks that the child was killed by the signal
 * Linux would deliver while this process (and so the kernel) kept running. Also checks
 * the vk_api_t header and that a well-behaved child's exit status arrives intact.
 * Prints PASS/FAIL lines and "test-isolation: N passed, N failed".
 */
#define _DEFAULT_SOURCE /* nanosleep, clock_gettime, MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <stddef.h>
#include <string.h>
#include <signal.h>
#include <errno.h>
#include <sys/wait.h>
#include <sys/reboot.h>
#include <vk/libvk.h>
#include "../vktest.h"



static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Runs path with one argument; returns the wait status, or -1. */
static int run(const char *path, const char *arg)
{
    vk_api_t *api = vk_api();
    const char *argv[] = { path, arg, NULL };
    const char *envp[] = { NULL };
    /* Right after a fork bomb round its killed processes may still be going away (the
     * process limit counts them until they are freed): wait for room, as fork_bomb does. */
    int64_t pid = api->spawn(path, argv, envp);
    for (int tries = 0; tries < 200 && pid == -EAGAIN; tries++) {
        sleep_ms(10);
        pid = api->spawn(path, argv, envp);
    }
    if (pid <= 0) {
        printf("  spawn %s: error %lld\n", path, (long long)pid);
        return -1;
    }
    int status = 0;
    if (waitpid((pid_t)pid, &status, 0) != pid) {
        printf("  waitpid %lld: %s\n", (long long)pid, strerror(errno));
        return -1;
    }
    return status;
}

/* A fork bomb in a process group of its own: every process forks until the kernel's
 * process limit refuses (EAGAIN), then waits. The first refusal is reported through a
 * pipe; then the whole group is killed. Returns true when the limit held. */
static int fork_bomb(void)
{
    int p[2];
    if (pipe(p) < 0)
        return 0;
    fflush(stdout);
    /* The last round's processes may still be going away: wait for room. */
    pid_t leader = -1;
    for (int tries = 0; tries < 200 && (leader = fork()) < 0 && errno == EAGAIN; tries++)
        sleep_ms(10);
    if (leader < 0) {
        close(p[0]);
        close(p[1]);
        return 0; /* never kill(-leader): with -1 that would be pid 1, ourselves */
    }
    if (leader == 0) {
        setpgid(0, 0);
        close(p[0]);
        for (;;) {
            pid_t c = fork();
            if (c < 0) {
                char e = errno == EAGAIN ? 'A' : 'X';
                write(p[1], &e, 1);
                for (;;)
                    pause();
            }
        }
    }
    setpgid(leader, leader);
    close(p[1]);
    char first = 0;
    ssize_t got = read(p[0], &first, 1);
    kill(-leader, SIGKILL);
    int status;
    waitpid(leader, &status, 0);
    close(p[0]);
    /* The killed bomb's processes end and are freed; fork works again soon after. */
    int forked_again = 0;
    for (int tries = 0; tries < 100 && !forked_again; tries++) {
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        if (c > 0) {
            forked_again = waitpid(c, &status, 0) == c && WIFEXITED(status);
        } else {
            sleep_ms(20);
        }
    }
    return got == 1 && first == 'A' && forked_again;
}

/* A child touches more anonymous memory than the machine has: the kernel kills it
 * when no frame is left, and keeps running. */
static int memory_hog(void)
{
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        size_t size = 2ull << 30;
        volatile char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                                -1, 0);
        if (m == MAP_FAILED)
            _exit(3);
        for (size_t off = 0; off < size; off += 4096)
            m[off] = 1;
        _exit(4); /* touched 2 GiB on a smaller machine: should not happen */
    }
    int status = 0;
    waitpid(c, &status, 0);
    return WIFSIGNALED(status) && (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS ||
                                   WTERMSIG(status) == SIGKILL);
}

static void expect_signal(const char *fault, int sig, const char *sig_name)
{
    char name[64], detail[96];
    int status = run("/bin/test-crash.vbin", fault);
    snprintf(name, sizeof(name), "crash_%s_killed_by_%s", fault, sig_name);
    snprintf(detail, sizeof(detail), "wait status 0x%x", status);
    vktest_check(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == sig, name, detail);
}

int main(void)
{
    vk_api_t *api = vk_api();
    vktest_check(api != NULL, "vk_api_found_in_auxv", "AT_VK_API missing");
    if (!api) {
        return vktest_finish("test-isolation");
    }
    vktest_check(api->header.signature == VK_API_SIGNATURE && api->header.revision >= 1 &&
              api->header.size >= offsetof(vk_api_t, syscall) + sizeof(api->syscall),
          "vk_api_header_valid", "bad signature, revision or size");
    int64_t t0 = api->monotonic_ns(), t1 = api->monotonic_ns();
    vktest_check(t0 > 0 && t1 >= t0, "vk_api_monotonic_clock", "clock went backwards");
    vktest_check(api->syscall(39 /* getpid */, 0, 0, 0, 0, 0, 0) == getpid(), "vk_api_raw_syscall",
          "getpid through vk_api->syscall differs");
    /* The runner checks the log shows this as one line with the control bytes replaced. */
    static const char forged[] = "log-probe\n[    0.000000] forged-kernel-line\x1b[2J end\n";
    vktest_check(api->log_write(forged, sizeof(forged) - 1) == (int64_t)sizeof(forged) - 1,
                 "vk_api_log_write", "log_write failed");

    int status = run("/bin/hello.vbin", "from-isolation");
    vktest_check(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "hello_exits_zero",
          "hello did not exit 0");
    status = run("/bin/test-crash.vbin", "no-such-fault");
    vktest_check(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 2, "exit_status_propagates",
          "unknown fault name should exit 2");
    vktest_check(run("/bin/does-not-exist.vbin", "x") == -1, "spawn_missing_program_fails", "it ran");

    /* Processes run side by side: spawn returns at once, the parent keeps running while
     * the child sleeps, and waitpid blocks until the child is done. */
    {
        const char *argv2[] = { "/bin/test-crash.vbin", "sleep", NULL };
        const char *envp2[] = { NULL };
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int64_t pid = api->spawn(argv2[0], argv2, envp2);
        int st = -1;
        pid_t early = pid > 0 ? waitpid((pid_t)pid, &st, WNOHANG) : -1;
        vktest_check(pid > 0 && early == 0, "spawn_returns_while_child_runs", "child already reaped");
        pid_t done = pid > 0 ? waitpid((pid_t)pid, &st, 0) : -1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        vktest_check(done == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 && ms >= 300,
              "waitpid_blocks_until_child_exits", "wrong pid, status or too early");
        errno = 0;
        vktest_check(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD, "waitpid_without_children_echild",
              "expected ECHILD");
    }

    /* A log flood: a child (its own budget) writes 200 lines at once. The runner checks
     * that only the first 50 (LOG_RATELIMIT_BURST) reach the log, and that its line
     * after the 5 s window says how many were dropped. It runs beside the tests below. */
    fflush(stdout);
    pid_t flooder = fork();
    if (flooder == 0) {
        char line[32];
        for (int i = 0; i < 200; i++) {
            int n = snprintf(line, sizeof(line), "flood-line %d", i);
            if (api->log_write(line, (uint64_t)n) != n)
                _exit(1);
        }
        sleep_ms(5200);
        _exit(api->log_write("flood-after-window", 18) == 18 ? 0 : 1);
    }

    /* Powering off needs the KObj-write right: a forked child does not inherit ours
     * (it is not marked inheritable), so its reboot(2) must fail with EPERM. If the
     * check were missing, the machine would power off here and the suite fail. */
    {
        pid_t c = fork();
        if (c == 0)
            _exit(reboot(RB_POWER_OFF) == -1 && errno == EPERM ? 0 : 1);
        int st = -1;
        vktest_check(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                     "reboot_without_right_eperm", "reboot(2) without the KObj-write right");
    }

    expect_signal("null", SIGSEGV, "SIGSEGV");
    expect_signal("kernel", SIGSEGV, "SIGSEGV");
    expect_signal("exec", SIGSEGV, "SIGSEGV");
    expect_signal("privileged", SIGSEGV, "SIGSEGV");
    expect_signal("ud2", SIGILL, "SIGILL");
    expect_signal("int3", SIGTRAP, "SIGTRAP");
    expect_signal("div0", SIGFPE, "SIGFPE");
    expect_signal("stack", SIGSEGV, "SIGSEGV");

    /* Regression: a child run must not clobber the parent's SSE registers or MXCSR. */
    uint64_t marker = 0x1122334455667788ull, back = 0;
    uint32_t mxcsr_set = 0x1f80 | (3u << 13), mxcsr_back = 0; /* round toward zero */
    __asm__ volatile("movq %0, %%xmm8\n\tldmxcsr %1" ::"r"(marker), "m"(mxcsr_set) : "xmm8");
    run("/bin/hello.vbin", "fpu");
    __asm__ volatile("movq %%xmm8, %0\n\tstmxcsr %1" : "=r"(back), "=m"(mxcsr_back));
    uint32_t mxcsr_default = 0x1f80;
    __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr_default));
    vktest_check(back == marker, "fpu_xmm_survives_child_run", "xmm8 changed across spawn");
    vktest_check(mxcsr_back == mxcsr_set, "fpu_mxcsr_survives_child_run", "MXCSR changed across spawn");
    /* test-crash with "fpu-check" exits 0 only if it starts with a zero xmm8 and the
     * default MXCSR: nothing of ours leaked into it. */
    int fpu_status = run("/bin/test-crash.vbin", "fpu-check");
    vktest_check(fpu_status >= 0 && WIFEXITED(fpu_status) && WEXITSTATUS(fpu_status) == 0,
          "fpu_child_starts_clean", "the child saw the parent's xmm8 or MXCSR");

    int flood_status = -1;
    vktest_check(flooder > 0 && waitpid(flooder, &flood_status, 0) == flooder &&
                     WIFEXITED(flood_status) && WEXITSTATUS(flood_status) == 0,
                 "log_flood_writes_all_succeed", "a rate-limited log_write failed");

    /* Resource exhaustion, twice: the first round lets caches and the kernel's stack
     * pool reach their working size; after the second, free memory must be back where
     * it was after the first (no frames leaked by killed processes). */
    unsigned long long after_first = 0;
    for (int round = 0; round < 2; round++) {
        int bomb = fork_bomb(), hog = memory_hog();
        expect_signal("null", SIGSEGV, round ? "SIGSEGV_again" : "SIGSEGV_warm");
        sleep_ms(200); /* exiting processes hand their memory back */
        if (round == 0) {
            vktest_check(bomb, "fork_bomb_bounded_by_process_limit", "no EAGAIN, or no fork after");
            vktest_check(hog, "memory_hog_killed_when_memory_runs_out", "the hog was not killed");
            after_first = vktest_free_memory();
        } else {
            unsigned long long now = vktest_free_memory();
            char detail[96];
            snprintf(detail, sizeof(detail), "free %llu KiB after the first round, %llu after the second",
                     after_first >> 10, now >> 10);
            vktest_check(bomb && hog && after_first && now + 256 * 1024 >= after_first,
                         "no_memory_leaked_by_killed_processes", detail);
        }
    }

    /* After all of that, this process still runs and its memory is intact. */
    static char canary[4096] = "still here";
    vktest_check(strcmp(canary, "still here") == 0, "survivor_memory_intact", "canary changed");
    return vktest_finish("test-isolation");
}
