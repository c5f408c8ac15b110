/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* posix_openpt, ptsname */
/*
 * Process groups, sessions and the console terminal (docs/tty.md), run as init on the
 * serial console. The harness types on the console when asked: a line with an erase in
 * it (canonical mode) and a ^C (ISIG sends SIGINT to the foreground group).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "../vktest.h"

static volatile sig_atomic_t got_usr1, got_int;

static void on_usr1(int sig) { (void)sig; got_usr1++; }
static void on_int(int sig) { (void)sig; got_int++; }

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void check_errno(int r, int want, const char *name)
{
    char detail[64];
    snprintf(detail, sizeof(detail), "returned %d errno %d, want errno %d", r, errno, want);
    vktest_check(r == -1 && errno == want, name, detail);
}

static void init_is_session_leader(void)
{
    pid_t me = getpid();
    vktest_check(getsid(0) == me && getpgrp() == me && getpgid(0) == me,
                 "init_leads_its_session_and_group", "ids differ from the pid");
    vktest_check(isatty(0) && tcgetpgrp(0) == me, "console_is_controlling_terminal",
                 "tcgetpgrp is not our group");
    check_errno(setsid(), EPERM, "setsid_refused_to_a_group_leader");
    check_errno(setpgid(0, 424242), EPERM, "setpgid_to_missing_group_refused");
    check_errno(setpgid(424242, 0), ESRCH, "setpgid_of_stranger_refused");
    check_errno(kill(-424242, 0), ESRCH, "kill_of_empty_group_fails");
    check_errno(getpgid(424242), ESRCH, "getpgid_of_missing_process_fails");
}

/* Two children in a new group: kill(-pgid) reaches both; wait4(-pgid) reaps them. */
static void group_signal_and_wait(void)
{
    signal(SIGUSR1, on_usr1);
    pid_t first = 0;
    for (int i = 0; i < 2; i++) {
        pid_t c = fork();
        if (c == 0) {
            setpgid(0, first); /* the first makes the group, the second joins it */
            for (int t = 0; t < 400 && !got_usr1; t++)
                sleep_ms(5);
            _exit(got_usr1 ? 7 : 1);
        }
        setpgid(c, first ? first : c); /* both sides, as shells do: no race */
        if (!first)
            first = c;
    }
    vktest_check(getpgid(first) == first, "child_made_its_own_group", "getpgid");
    vktest_check(kill(-first, SIGUSR1) == 0, "kill_of_group_succeeds", "kill");
    int reaped = 0, ok = 0, status;
    pid_t p;
    while ((p = waitpid(-first, &status, 0)) > 0) {
        reaped++;
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 7;
    }
    vktest_check(reaped == 2 && ok == 2, "group_members_all_signalled_and_reaped",
                 "not both children saw SIGUSR1");
}

/* waitpid(0) takes only children of the caller's own group. */
static void wait_for_own_group(void)
{
    pid_t other = fork();
    if (other == 0) {
        setpgid(0, 0);
        _exit(3); /* ends first, but is in another group */
    }
    setpgid(other, other);
    sleep_ms(50);
    pid_t same = fork();
    if (same == 0) {
        sleep_ms(50);
        _exit(4);
    }
    int status;
    pid_t got = waitpid(0, &status, 0);
    vktest_check(got == same && WEXITSTATUS(status) == 4, "waitpid_zero_takes_own_group_only",
                 "reaped the child of another group");
    got = waitpid(-other, &status, 0);
    vktest_check(got == other && WEXITSTATUS(status) == 3, "waitpid_minus_pgid_takes_that_group",
                 "waitpid(-pgid)");
}

/* A child that starts its own session has no terminal; setsid gives it its pid. */
static void new_session_has_no_terminal(void)
{
    pid_t c = fork();
    if (c == 0) {
        pid_t s = setsid();
        int ok = s == getpid() && getsid(0) == s && getpgrp() == s;
        errno = 0;
        int no_tty = tcgetpgrp(0) == -1 && errno == ENOTTY;
        _exit(ok && no_tty ? 0 : 1);
    }
    int status;
    waitpid(c, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "setsid_child_has_no_terminal",
                 "setsid or tcgetpgrp in the new session");
}

/* The terminal's foreground group moves; a background reader gets EIO. */
static void foreground_group_moves(void)
{
    signal(SIGTTOU, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        sleep_ms(500);
        _exit(0);
    }
    setpgid(c, c);
    vktest_check(tcsetpgrp(0, c) == 0 && tcgetpgrp(0) == c, "tcsetpgrp_gives_terminal_to_group",
                 "tcsetpgrp");
    char byte;
    errno = 0;
    ssize_t r = read(0, &byte, 1);
    vktest_check(r == -1 && errno == EIO, "background_read_fails_with_eio", "read");
    vktest_check(tcsetpgrp(0, getpgrp()) == 0 && tcgetpgrp(0) == getpgrp(),
                 "tcsetpgrp_takes_terminal_back", "tcsetpgrp");
    check_errno(tcsetpgrp(0, 424242), EPERM, "tcsetpgrp_to_missing_group_refused");
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
}

static void termios_round_trip(void)
{
    struct termios saved, raw, now;
    int ok = tcgetattr(0, &saved) == 0 && (saved.c_lflag & ICANON) && (saved.c_lflag & ECHO);
    vktest_check(ok, "default_mode_is_canonical_with_echo", "tcgetattr");
    raw = saved;
    cfmakeraw(&raw);
    ok = tcsetattr(0, TCSANOW, &raw) == 0 && tcgetattr(0, &now) == 0 &&
         !(now.c_lflag & (ICANON | ECHO | ISIG)) && now.c_cc[VMIN] == raw.c_cc[VMIN];
    vktest_check(ok, "raw_mode_set_and_read_back", "tcsetattr/tcgetattr");
    /* Raw with VMIN 0, VTIME 1: a read with nothing typed returns 0 after 0.1 s. */
    now.c_cc[VMIN] = 0;
    now.c_cc[VTIME] = 1;
    tcsetattr(0, TCSANOW, &now);
    char byte;
    vktest_check(read(0, &byte, 1) == 0, "raw_read_times_out_with_zero", "read");
    vktest_check(tcsetattr(0, TCSAFLUSH, &saved) == 0, "canonical_mode_restored", "tcsetattr");
}

/* The harness types "helo<DEL>lo<CR>": the line discipline edits it to "hello\n". */
static void canonical_line_from_console(void)
{
    printf("session: type a line\n");
    fflush(stdout);
    char line[64];
    ssize_t n = read(0, line, sizeof(line) - 1);
    line[n > 0 ? n : 0] = 0;
    vktest_check(n == 6 && strcmp(line, "hello\n") == 0, "canonical_read_edits_the_line", line);
}

/* The harness types ^C while a child of our group waits: it gets SIGINT, and so do we. */
static void ctrl_c_interrupts_foreground(void)
{
    signal(SIGINT, on_int);
    pid_t c = fork();
    if (c == 0) {
        for (int t = 0; t < 2000 && !got_int; t++)
            sleep_ms(10);
        _exit(got_int ? 0 : 1);
    }
    printf("session: press ctrl-c\n");
    fflush(stdout);
    int status;
    while (waitpid(c, &status, 0) < 0 && errno == EINTR)
        ;
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ctrl_c_reaches_foreground_child",
                 "the child saw no SIGINT");
    vktest_check(got_int == 1, "ctrl_c_reaches_foreground_parent", "no SIGINT here");
}

/* Stop and continue: a stopped child makes no progress, wait4 reports the stop and the
 * continue once each, SIGKILL ends a stopped process. */
static void stop_and_continue(void)
{
    volatile unsigned long *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    /* A group of its own, whose parent (we) is in another group of the session: init's
     * own group is orphaned (init has no parent), where SIGTSTP would be discarded. */
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        for (;;)
            (*counter)++;
    }
    setpgid(c, c);
    sleep_ms(50);
    vktest_check(*counter != 0, "child_runs_before_stop", "the shared counter never moved");
    kill(c, SIGTSTP);
    int status = 0;
    pid_t got = waitpid(c, &status, WUNTRACED);
    vktest_check(got == c && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP,
                 "sigtstp_stops_and_wait_reports_it", "no stop status");
    unsigned long frozen = *counter;
    sleep_ms(100);
    vktest_check(*counter == frozen, "stopped_process_does_not_run", "the counter moved");
    vktest_check(waitpid(c, &status, WUNTRACED | WNOHANG) == 0, "stop_reported_once",
                 "a second report");
    kill(c, SIGCONT);
    got = waitpid(c, &status, WCONTINUED);
    vktest_check(got == c && WIFCONTINUED(status), "sigcont_continues_and_wait_reports_it",
                 "no continue status");
    sleep_ms(50);
    vktest_check(*counter != frozen, "continued_process_runs_again", "the counter is still");
    kill(c, SIGSTOP);
    waitpid(c, &status, WUNTRACED);
    kill(c, SIGKILL);
    got = waitpid(c, &status, 0);
    vktest_check(got == c && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                 "sigkill_ends_a_stopped_process", "status");
}

/* A background reader that does not ignore SIGTTIN is stopped by it. */
static void background_read_stops(void)
{
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        signal(SIGTTIN, SIG_DFL);
        char byte;
        read(0, &byte, 1);
        _exit(9);
    }
    setpgid(c, c);
    int status = 0;
    pid_t got = waitpid(c, &status, WUNTRACED);
    vktest_check(got == c && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTTIN,
                 "background_read_stops_with_sigttin", "no SIGTTIN stop");
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
}

/* The harness types ^Z while a child group has the terminal: it stops, we see it. */
static void ctrl_z_stops_foreground(void)
{
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        for (int t = 0; t < 2000; t++)
            sleep_ms(10);
        _exit(1);
    }
    setpgid(c, c);
    tcsetpgrp(0, c);
    printf("session: press ctrl-z\n");
    fflush(stdout);
    int status = 0;
    pid_t got;
    while ((got = waitpid(c, &status, WUNTRACED)) < 0 && errno == EINTR)
        ;
    vktest_check(got == c && WIFSTOPPED(status) && WSTOPSIG(status) == SIGTSTP,
                 "ctrl_z_stops_foreground_group", "no SIGTSTP stop");
    vktest_check(tcsetpgrp(0, getpgrp()) == 0, "terminal_taken_back_after_stop", "tcsetpgrp");
    kill(c, SIGKILL);
    waitpid(c, &status, 0);
}

/* POSIX orphaned process groups: a child in a group of its own starts a grandchild in
 * that group and ends. Nothing in the session can continue the grandchild now, so
 * SIGTSTP is discarded there; and a grandchild that was stopped when the group became
 * orphaned gets SIGHUP and SIGCONT. */
static volatile int *orphan_hup;
static void on_orphan_hup(int sig) { (void)sig; orphan_hup[0] = 1; }

static void orphaned_group(void)
{
    volatile int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                -1, 0);
    if (shared == MAP_FAILED) {
        vktest_check(0, "orphaned_group_setup", "mmap");
        return;
    }
    orphan_hup = shared;
    /* shared[0]: SIGHUP seen, [1]: running after it, [2]: a spinner's counter,
     * [3], [4]: the pids of the two grandchildren. */
    int ready[2];
    pipe(ready);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        pid_t spinner = fork();
        if (spinner == 0) {
            signal(SIGHUP, SIG_IGN); /* the group's hang-up below would end it */
            for (;;)
                shared[2]++;
        }
        pid_t sleeper = fork();
        if (sleeper == 0) {
            signal(SIGHUP, on_orphan_hup);
            write(ready[1], "r", 1);
            while (!shared[0])
                sleep_ms(5);
            shared[1] = 1; /* continued after the hang-up */
            _exit(0);
        }
        char b;
        read(ready[0], &b, 1);
        int st;
        kill(sleeper, SIGSTOP);
        waitpid(sleeper, &st, WUNTRACED);
        shared[3] = spinner;
        shared[4] = sleeper;
        _exit(WIFSTOPPED(st) ? 0 : 1); /* this end orphans the group */
    }
    setpgid(c, c);
    int status = 0;
    waitpid(c, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orphaned_group_child_stopped_sleeper",
                 "the sleeper did not stop");
    for (int i = 0; i < 200 && !shared[1]; i++)
        sleep_ms(10);
    vktest_check(shared[0] && shared[1], "newly_orphaned_stopped_group_gets_hup_and_cont",
                 shared[0] ? "SIGHUP but still stopped" : "no SIGHUP");
    kill(shared[3], SIGTSTP);
    sleep_ms(50);
    int before = shared[2];
    sleep_ms(100);
    vktest_check(shared[2] != before, "sigtstp_discarded_in_orphaned_group", "the spinner stopped");
    kill(shared[3], SIGKILL);
    kill(shared[4], SIGKILL);
    close(ready[0]);
    close(ready[1]);
    munmap((void *)shared, 4096);
}

/* ---- pseudo-terminals --------------------------------------------------------------- */

/* Reads the master until `want` appeared (or 3 s passed); the bytes go to `got`. */
static int read_until(int master, const char *want, char *got, size_t size)
{
    size_t len = 0;
    got[0] = 0;
    for (int waited = 0; waited < 3000 && !strstr(got, want);) {
        struct pollfd p = { master, POLLIN, 0 };
        if (poll(&p, 1, 10) <= 0) {
            waited += 10;
            continue;
        }
        ssize_t n = read(master, got + len, size - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        got[len] = 0;
    }
    return strstr(got, want) != NULL;
}

/* A child in a session of its own on the slave, as a terminal emulator starts a shell. */
static pid_t start_on_slave(const char *slave_name, int master)
{
    pid_t c = fork();
    if (c)
        return c;
    close(master);
    setsid();
    int s = open(slave_name, O_RDWR);
    if (s < 0 || ioctl(s, TIOCSCTTY, 0))
        _exit(20);
    dup2(s, 0);
    dup2(s, 1);
    dup2(s, 2);
    if (s > 2)
        close(s);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    char line[64];
    ssize_t n = read(0, line, sizeof(line) - 1); /* canonical: one line */
    if (n <= 0)
        _exit(21);
    line[n] = 0;
    printf("got: %s", line);
    fflush(stdout);
    int t = open("/dev/tty", O_WRONLY); /* the controlling terminal: this slave */
    if (t < 0 || write(t, "tty-ok\n", 7) != 7)
        _exit(22);
    close(t);
    for (;;)
        pause(); /* until ^C or the hang-up */
}

static void pseudo_terminals(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    vktest_check(m >= 0, "ptmx_opens", strerror(errno));
    if (m < 0)
        return;
    const char *name = ptsname(m);
    char slave_name[32];
    snprintf(slave_name, sizeof(slave_name), "%s", name ? name : "?");
    vktest_check(name && !strncmp(name, "/dev/pts/", 9), "ptsname_names_dev_pts", slave_name);
    errno = 0;
    int early = open(slave_name, O_RDWR | O_NOCTTY);
    vktest_check(early < 0 && errno == EIO, "slave_locked_until_unlockpt", strerror(errno));
    vktest_check(grantpt(m) == 0 && unlockpt(m) == 0, "grantpt_unlockpt", strerror(errno));

    pid_t c = start_on_slave(slave_name, m);
    char got[512];
    write(m, "hello\n", 6);
    vktest_check(read_until(m, "got: hello\r\n", got, sizeof(got)) && strstr(got, "hello\r\n") == got,
                 "master_write_is_typed_and_echoed_with_onlcr", got);
    vktest_check(read_until(m, "tty-ok", got, sizeof(got)), "dev_tty_is_the_pty_slave", got);
    struct winsize ws = { 30, 100, 0, 0 }, back = { 0 };
    vktest_check(ioctl(m, TIOCSWINSZ, &ws) == 0 && ioctl(m, TIOCGWINSZ, &back) == 0 &&
                     back.ws_row == 30 && back.ws_col == 100,
                 "window_size_through_master", "TIOCSWINSZ/TIOCGWINSZ");
    write(m, "\x03", 1); /* ^C: SIGINT to the slave's foreground group */
    int status = 0;
    pid_t got_pid = waitpid(c, &status, 0);
    vktest_check(got_pid == c && WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
                 "ctrl_c_on_master_interrupts_slave_job", "no SIGINT death");
    /* What the slave wrote last (the echoed ^C) is read first, then EIO. */
    char b[64];
    ssize_t r;
    errno = 0;
    for (int i = 0; i < 100 && (r = read(m, b, sizeof(b))) > 0; i++)
        ;
    vktest_check(r == -1 && errno == EIO, "master_read_eio_after_slave_closed", strerror(errno));
    close(m);
    vktest_check(access(slave_name, F_OK) == -1, "slave_node_gone_with_master", slave_name);

    /* Closing the master hangs the slave up: its session leader gets SIGHUP. */
    m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || unlockpt(m) || !ptsname(m)) {
        vktest_check(0, "second_pty", strerror(errno));
        return;
    }
    snprintf(slave_name, sizeof(slave_name), "%s", ptsname(m));
    c = start_on_slave(slave_name, m);
    sleep_ms(100); /* the child is in its read */
    close(m);
    got_pid = waitpid(c, &status, 0);
    vktest_check(got_pid == c && WIFSIGNALED(status) && WTERMSIG(status) == SIGHUP,
                 "master_close_hangs_up_slave_session", "no SIGHUP death");
    errno = 0;
    vktest_check(open("/dev/ptmx", O_WRONLY) >= 0, "ptmx_reusable", strerror(errno));
}

int main(void)
{
    init_is_session_leader();
    group_signal_and_wait();
    wait_for_own_group();
    new_session_has_no_terminal();
    foreground_group_moves();
    termios_round_trip();
    canonical_line_from_console();
    ctrl_c_interrupts_foreground();
    stop_and_continue();
    background_read_stops();
    ctrl_z_stops_foreground();
    orphaned_group();
    pseudo_terminals();
    return vktest_finish("test-session");
}
