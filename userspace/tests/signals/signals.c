/* SPDX-License-Identifier: MIT */
/*
 * Signals through plain musl: handlers, SA_SIGINFO, masks and pending delivery, SIG_IGN,
 * recovery from SIGSEGV with siglongjmp, default actions (checked on children started
 * through vk_api->spawn), and the error paths. Prints PASS/FAIL lines and
 * "test-signals: N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <time.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vk/libvk.h>
#include "../vktest.h"



static volatile sig_atomic_t hits, last_sig, info_pid, info_signo;
static volatile void *fault_addr;
static sigjmp_buf recover;

static void *volatile handler_stack;
static void on_altstack_signal(int sig)
{
    volatile char here;
    (void)sig;
    handler_stack = (void *)&here;
}

static void on_signal(int sig)
{
    hits++;
    last_sig = sig;
}

static void on_siginfo(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    hits++;
    info_signo = si->si_signo;
    info_pid = si->si_pid;
    last_sig = sig;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    siglongjmp(recover, 1);
}

static int run_self(const char *mode)
{
    const char *argv[] = { "/bin/test-signals.vbin", mode, NULL };
    const char *envp[] = { NULL };
    int64_t pid = vk_api()->spawn(argv[0], argv, envp);
    int status = -1;
    if (pid <= 0 || waitpid((pid_t)pid, &status, 0) != pid)
        return -1;
    return status;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "die-usr1") == 0) {
        raise(SIGUSR1); /* default action: terminate */
        return 3;
    }
    if (argc == 2 && strcmp(argv[1], "abort") == 0) {
        abort();
    }
    if (argc == 2 && strcmp(argv[1], "segv-blocked") == 0) {
        signal(SIGSEGV, on_signal);
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGSEGV);
        sigprocmask(SIG_BLOCK, &s, NULL);
        *(volatile int *)0 = 1; /* blocked fault signal: killed anyway */
        return 3;
    }

    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);
    vktest_check(hits == 1 && last_sig == SIGUSR1, "handler_runs_on_raise", "handler not run once");

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_siginfo;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    hits = 0;
    kill(getpid(), SIGUSR2);
    vktest_check(hits == 1 && info_signo == SIGUSR2 && info_pid == getpid(), "siginfo_has_signo_and_pid",
          "bad siginfo");

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    hits = 0;
    raise(SIGUSR1);
    vktest_check(hits == 0, "blocked_signal_waits", "handler ran while blocked");
    sigprocmask(SIG_SETMASK, &old, NULL);
    vktest_check(hits == 1, "unblocking_delivers_pending", "pending signal not delivered");

    signal(SIGUSR1, SIG_IGN);
    hits = 0;
    raise(SIGUSR1);
    vktest_check(hits == 0, "sig_ign_ignores", "ignored signal ran a handler");

    /* Registers and computation survive a handler that interrupts a syscall return. */
    volatile double x = 1.5;
    signal(SIGUSR1, on_signal);
    raise(SIGUSR1);
    vktest_check(x * 2 == 3.0, "fpu_state_survives_handler", "float value changed");

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    volatile int recovered = 0;
    if (sigsetjmp(recover, 1) == 0)
        *(volatile int *)16 = 7;
    else
        recovered = 1;
    vktest_check(recovered && fault_addr == (void *)16, "segv_handler_recovers_with_siglongjmp",
          "no recovery or wrong si_addr");
    signal(SIGSEGV, SIG_DFL);

    errno = 0;
    vktest_check(sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL, "sigkill_cannot_be_caught",
          "sigaction(SIGKILL) accepted");
    errno = 0;
    vktest_check(kill(99999, SIGUSR1) == -1 && errno == ESRCH, "kill_missing_pid_esrch", "no ESRCH");
    vktest_check(kill(getpid(), 0) == 0, "kill_signal_zero_probes", "kill(self, 0) failed");

    int st = run_self("die-usr1");
    vktest_check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGUSR1, "default_action_terminates",
          "child not killed by SIGUSR1");
    st = run_self("abort");
    vktest_check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "abort_raises_sigabrt",
          "child not killed by SIGABRT");
    st = run_self("segv-blocked");
    vktest_check(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "blocked_fault_still_kills",
          "child not killed by SIGSEGV");

    /* SIGCHLD when a child ends, caught by sigsuspend with SIGCHLD blocked around it;
     * the old mask comes back afterwards. */
    signal(SIGCHLD, on_signal);
    sigset_t chld, before, during;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &before);
    hits = 0;
    last_sig = 0;
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    sigemptyset(&during);
    errno = 0;
    int r = sigsuspend(&during);
    vktest_check(r == -1 && errno == EINTR && hits == 1 && last_sig == SIGCHLD,
                 "sigchld_wakes_sigsuspend", "no SIGCHLD handler run");
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    vktest_check(sigismember(&now, SIGCHLD), "sigsuspend_restores_mask", "mask not restored");
    waitpid(child, NULL, 0);
    sigprocmask(SIG_SETMASK, &before, NULL);
    signal(SIGCHLD, SIG_DFL);

    /* sigaltstack: an SA_ONSTACK handler runs on the alternate stack. */
    static char alt[16384];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0 };
    vktest_check(sigaltstack(&ss, NULL) == 0, "sigaltstack_set", "refused");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_altstack_signal;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    handler_stack = NULL;
    raise(SIGUSR2);
    vktest_check((char *)handler_stack > alt && (char *)handler_stack < alt + sizeof(alt),
                 "sa_onstack_runs_on_alternate_stack", "handler ran elsewhere");
    stack_t cur_stack;
    vktest_check(sigaltstack(NULL, &cur_stack) == 0 && cur_stack.ss_sp == alt &&
                 cur_stack.ss_size == sizeof(alt) && cur_stack.ss_flags == 0,
                 "sigaltstack_reports_it", "wrong old stack");
    ss.ss_size = 100;
    errno = 0;
    vktest_check(sigaltstack(&ss, NULL) == -1 && errno == ENOMEM, "sigaltstack_too_small_enomem",
                 "accepted");
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    signal(SIGUSR2, SIG_DFL);

    /* ppoll with a mask that unblocks a pending signal: the handler runs, ppoll says
     * EINTR, and the old mask (signal blocked) is back afterwards. */
    signal(SIGUSR1, on_signal);
    sigset_t blocked, empty;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    raise(SIGUSR1);
    hits = 0;
    sigemptyset(&empty);
    struct timespec long_wait = { 5, 0 };
    errno = 0;
    int pr = ppoll(NULL, 0, &long_wait, &empty);
    vktest_check(pr == -1 && errno == EINTR && hits == 1, "ppoll_mask_lets_signal_in",
                 "no EINTR or no handler");
    sigprocmask(SIG_SETMASK, NULL, &now);
    vktest_check(sigismember(&now, SIGUSR1), "ppoll_restores_mask", "mask not restored");
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
    signal(SIGUSR1, SIG_DFL);

    /* This program is init (pid 1) here. As on Linux, init gets only the signals it has
     * handlers for: a child's SIGTERM, SIGSTOP and SIGKILL, and its own SIGUSR1 with
     * the default action, are discarded. Still running afterwards is the proof. */
    vktest_check(getpid() == 1, "runs_as_init", "the suite boots with this program as init");
    pid_t killer = fork();
    if (killer == 0)
        _exit(kill(1, SIGTERM) == 0 && kill(1, SIGSTOP) == 0 && kill(1, SIGKILL) == 0 ? 0 : 1);
    int killer_status = -1;
    waitpid(killer, &killer_status, 0);
    raise(SIGUSR1);
    vktest_check(killer > 0 && WIFEXITED(killer_status) && WEXITSTATUS(killer_status) == 0,
                 "init_survives_default_action_signals", "kill(1, ...) failed in the child");
    signal(SIGUSR1, on_signal);
    hits = 0;
    killer = fork();
    if (killer == 0)
        _exit(kill(1, SIGUSR1) == 0 ? 0 : 1);
    waitpid(killer, NULL, 0);
    vktest_check(hits == 1, "init_gets_signals_it_handles", "the handled signal did not arrive");
    signal(SIGUSR1, SIG_DFL);

    return vktest_finish("test-signals");
}
