/* SPDX-License-Identifier: MIT */
/*
 * Files, descriptors, pipes, poll and execve through plain musl: every call with its
 * success path and its errno paths. Runs on the boot ramfs (/tmp, /bin, /dev). Prints
 * PASS/FAIL lines and "test-files: N passed, N failed".
 *
 * Run as "test-files.vbin --exec-child KEEP_FD CLOEXEC_FD" it is the program the execve
 * checks start: it reports through its exit status what it found.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../vktest.h"

#define SELF "/bin/test-files.vbin"

static char detail[160];

static const char *why(const char *what, long got)
{
    snprintf(detail, sizeof(detail), "%s: got %ld, errno %d (%s)", what, got, errno,
             strerror(errno));
    return detail;
}

#define CHECK_ERRNO(call, want, name)                                                  \
    do {                                                                               \
        errno = 0;                                                                     \
        long got_ = (long)(call);                                                      \
        vktest_check(got_ == -1 && errno == (want), name, why(#call, got_));           \
    } while (0)

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

/* ---- regular files ------------------------------------------------------------------ */

static void test_files(void)
{
    char buf[256];
    int fd = open("/tmp/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644);
    vktest_check(fd >= 3, "open_creat_excl", why("open", fd));
    vktest_check(write(fd, "hello world", 11) == 11, "write", why("write", -1));
    vktest_check(lseek(fd, 0, SEEK_CUR) == 11, "lseek_cur_after_write", "offset");
    vktest_check(lseek(fd, 6, SEEK_SET) == 6, "lseek_set", "offset");
    ssize_t n = read(fd, buf, sizeof(buf));
    vktest_check(n == 5 && !memcmp(buf, "world", 5), "read_from_offset", why("read", n));
    vktest_check(read(fd, buf, sizeof(buf)) == 0, "read_at_eof_is_zero", "not 0");
    vktest_check(pwrite(fd, "WORLD", 5, 6) == 5 && lseek(fd, 0, SEEK_CUR) == 11,
                 "pwrite_keeps_offset", "offset moved");
    n = pread(fd, buf, 5, 6);
    vktest_check(n == 5 && !memcmp(buf, "WORLD", 5), "pread", why("pread", n));
    /* Past the end: the gap reads as zeros. */
    vktest_check(lseek(fd, 20, SEEK_SET) == 20 && write(fd, "!", 1) == 1, "write_past_end",
                 "seek+write");
    n = pread(fd, buf, sizeof(buf), 0);
    vktest_check(n == 21 && buf[11] == 0 && buf[19] == 0 && buf[20] == '!', "gap_reads_zero",
                 why("pread", n));
    struct stat st;
    vktest_check(fstat(fd, &st) == 0 && st.st_size == 21 && S_ISREG(st.st_mode),
                 "fstat_size_and_type", "stat");
    vktest_check(lseek(fd, -1, SEEK_END) == 20, "lseek_end", "offset");
    CHECK_ERRNO(lseek(fd, -100, SEEK_SET), EINVAL, "lseek_negative_einval");
    vktest_check(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5,
                 "ftruncate_shrinks", "size");
    vktest_check(ftruncate(fd, 4000) == 0 && pread(fd, buf, 10, 100) == 10 && buf[0] == 0,
                 "ftruncate_extends_with_zeros", "size");
    close(fd);

    CHECK_ERRNO(open("/tmp/a.txt", O_RDWR | O_CREAT | O_EXCL, 0644), EEXIST, "open_excl_exists_eexist");
    CHECK_ERRNO(open("/tmp/missing", O_RDONLY), ENOENT, "open_missing_enoent");
    CHECK_ERRNO(open("/tmp/a.txt/x", O_RDONLY), ENOTDIR, "open_through_file_enotdir");
    CHECK_ERRNO(open("/tmp", O_WRONLY), EISDIR, "open_dir_for_write_eisdir");
    CHECK_ERRNO(open("/tmp/a.txt", O_RDONLY | O_DIRECTORY), ENOTDIR, "o_directory_on_file_enotdir");
    CHECK_ERRNO(open((const char *)8, O_RDONLY), EFAULT, "open_bad_pointer_efault");
    CHECK_ERRNO(open("", O_RDONLY), ENOENT, "open_empty_path_enoent");
    static char long_name[300];
    memset(long_name, 'x', sizeof(long_name) - 1);
    CHECK_ERRNO(open(long_name, O_RDONLY), ENAMETOOLONG, "open_long_name_enametoolong");

    vktest_check(write_file("/tmp/a.txt", "first\n") == 0 && read_file("/tmp/a.txt", buf, sizeof(buf)) == 6 &&
                 !strcmp(buf, "first\n"), "o_trunc_rewrites", buf);
    fd = open("/tmp/a.txt", O_WRONLY | O_APPEND);
    vktest_check(fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "second\n", 7) == 7,
                 "o_append_write", why("append", fd));
    close(fd);
    read_file("/tmp/a.txt", buf, sizeof(buf));
    vktest_check(!strcmp(buf, "first\nsecond\n"), "o_append_goes_to_end", buf);

    fd = open("/tmp/a.txt", O_RDONLY);
    CHECK_ERRNO(write(fd, "x", 1), EBADF, "write_on_rdonly_ebadf");
    CHECK_ERRNO(read(fd, (void *)16, 4), EFAULT, "read_to_bad_pointer_efault");
    close(fd);
    CHECK_ERRNO(read(999, buf, 1), EBADF, "read_bad_fd_ebadf");
    CHECK_ERRNO(close(999), EBADF, "close_bad_fd_ebadf");
    CHECK_ERRNO(close(-1), EBADF, "close_negative_ebadf");
}

/* ---- directories -------------------------------------------------------------------- */

static int count_entries(const char *path, const char *want, int *found)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    *found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        n++;
        if (want && !strcmp(e->d_name, want))
            *found = 1;
    }
    closedir(d);
    return n;
}

static void test_directories(void)
{
    char buf[256];
    vktest_check(mkdir("/tmp/d", 0755) == 0, "mkdir", why("mkdir", -1));
    CHECK_ERRNO(mkdir("/tmp/d", 0755), EEXIST, "mkdir_exists_eexist");
    CHECK_ERRNO(mkdir("/tmp/nope/sub", 0755), ENOENT, "mkdir_missing_parent_enoent");
    vktest_check(write_file("/tmp/d/f1", "one") == 0 && mkdir("/tmp/d/sub", 0700) == 0,
                 "populate_dir", "create");
    int found = 0;
    int n = count_entries("/tmp/d", "f1", &found);
    vktest_check(n == 4 && found, "readdir_lists_dot_dotdot_and_entries", why("entries", n));
    n = count_entries("/bin", "test-files.vbin", &found);
    vktest_check(n > 3 && found, "bin_lists_boot_programs", why("entries", n));

    CHECK_ERRNO(rmdir("/tmp/d"), ENOTEMPTY, "rmdir_nonempty_enotempty");
    CHECK_ERRNO(rmdir("/tmp/d/f1"), ENOTDIR, "rmdir_file_enotdir");
    CHECK_ERRNO(unlink("/tmp/d/sub"), EISDIR, "unlink_dir_eisdir");

    vktest_check(rename("/tmp/d/f1", "/tmp/d/sub/f2") == 0, "rename_across_dirs", why("rename", -1));
    vktest_check(read_file("/tmp/d/sub/f2", buf, sizeof(buf)) == 3 && !strcmp(buf, "one"),
                 "renamed_file_readable", buf);
    CHECK_ERRNO(open("/tmp/d/f1", O_RDONLY), ENOENT, "old_name_gone");
    write_file("/tmp/d/g", "gee");
    vktest_check(rename("/tmp/d/g", "/tmp/d/sub/f2") == 0 &&
                 read_file("/tmp/d/sub/f2", buf, sizeof(buf)) == 3 && !strcmp(buf, "gee"),
                 "rename_replaces_file", buf);
    CHECK_ERRNO(rename("/tmp/d", "/tmp/d/sub/inside"), EINVAL, "rename_dir_into_itself_einval");

    vktest_check(chdir("/tmp/d/sub") == 0, "chdir", why("chdir", -1));
    vktest_check(getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp/d/sub"), "getcwd", buf);
    vktest_check(read_file("f2", buf, sizeof(buf)) == 3, "relative_open", "f2");
    vktest_check(chdir("../..") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/tmp"),
                 "chdir_dotdot", buf);
    vktest_check(chdir("/dev/..") == 0 && getcwd(buf, sizeof(buf)) && !strcmp(buf, "/"),
                 "dotdot_crosses_mount", buf);
    errno = 0;
    vktest_check(getcwd(buf, 1) == NULL && errno == ERANGE, "getcwd_small_buffer_erange",
                 why("getcwd", errno));
    CHECK_ERRNO(chdir("/tmp/a.txt"), ENOTDIR, "chdir_file_enotdir");

    int dfd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
    vktest_check(dfd >= 0 && unlinkat(dfd, "sub/f2", 0) == 0 && unlinkat(dfd, "sub", AT_REMOVEDIR) == 0,
                 "unlinkat_relative_to_dirfd", why("unlinkat", dfd));
    struct stat st;
    vktest_check(fstatat(dfd, "g", &st, 0) == -1 && errno == ENOENT, "fstatat_dirfd", "g exists");
    close(dfd);
    vktest_check(rmdir("/tmp/d") == 0, "rmdir_empty", why("rmdir", -1));
    CHECK_ERRNO(rmdir("/"), EBUSY, "rmdir_root_ebusy");
    CHECK_ERRNO(rmdir("/dev"), EBUSY, "rmdir_mount_point_ebusy");
    vktest_check(stat("/bin/test-files.vbin", &st) == 0 && (st.st_mode & 0111),
                 "program_is_executable", "mode");
    vktest_check(access("/tmp", W_OK) == 0 && access("/bin/test-files.vbin", X_OK) == 0,
                 "access_ok", "access");
    CHECK_ERRNO(access("/boot/modules/test-files.vbin.map", X_OK), EACCES, "access_x_on_data_eacces");
}

/* ---- devices ------------------------------------------------------------------------ */

static void test_devices(void)
{
    char buf[64];
    int fd = open("/dev/null", O_RDWR);
    vktest_check(fd >= 0 && write(fd, "x", 1) == 1 && read(fd, buf, 1) == 0, "dev_null", "null");
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof(buf));
    vktest_check(fd >= 0 && read(fd, buf, sizeof(buf)) == sizeof(buf) && buf[0] == 0 && buf[63] == 0,
                 "dev_zero", "zero");
    close(fd);
    fd = open("/dev/full", O_WRONLY);
    CHECK_ERRNO(write(fd, "x", 1), ENOSPC, "dev_full_enospc");
    close(fd);
    unsigned char r1[16] = { 0 }, r2[16] = { 0 };
    fd = open("/dev/urandom", O_RDONLY);
    vktest_check(fd >= 0 && read(fd, r1, 16) == 16 && read(fd, r2, 16) == 16 && memcmp(r1, r2, 16),
                 "dev_urandom", "random");
    close(fd);
    vktest_check(isatty(1), "stdout_is_a_tty", "isatty");
    CHECK_ERRNO(mkdir("/dev/x", 0755), EROFS, "devfs_refuses_mkdir_erofs");
}

/* ---- descriptors -------------------------------------------------------------------- */

static void test_descriptors(void)
{
    int fd = open("/tmp/a.txt", O_RDONLY);
    int d = dup(fd);
    vktest_check(d > fd, "dup_lowest_free", why("dup", d));
    char c;
    vktest_check(read(fd, &c, 1) == 1 && lseek(d, 0, SEEK_CUR) == 1, "dup_shares_offset", "offset");
    vktest_check(dup2(fd, 50) == 50 && lseek(50, 0, SEEK_CUR) == 1, "dup2_exact_slot", "dup2");
    vktest_check(dup2(fd, fd) == fd, "dup2_same_fd", "dup2");
    CHECK_ERRNO(dup2(999, 51), EBADF, "dup2_bad_fd_ebadf");
    CHECK_ERRNO(dup3(fd, fd, 0), EINVAL, "dup3_same_fd_einval");
    vktest_check(fcntl(fd, F_GETFD) == 0, "fcntl_getfd_default", "cloexec set");
    vktest_check(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC,
                 "fcntl_setfd_cloexec", "cloexec");
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, 100);
    vktest_check(hi == 100 && fcntl(hi, F_GETFD) == FD_CLOEXEC, "fcntl_dupfd_cloexec", why("dupfd", hi));
    vktest_check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "fcntl_getfl", "flags");
    int many = 0;
    while (dup(fd) >= 0)
        many++;
    vktest_check(errno == EMFILE && many > 200, "descriptors_run_out_emfile", why("dup", many));
    struct rlimit rl;
    vktest_check(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 256 && rl.rlim_max == 256,
                 "rlimit_nofile_is_the_table_size", why("rlim_cur", (long)rl.rlim_cur));
    rl.rlim_cur = 10;
    CHECK_ERRNO(setrlimit(RLIMIT_NOFILE, &rl), EPERM, "setrlimit_refused_eperm");
    for (int i = 3; i < 256; i++)
        close(i);
}

/* ---- pipes -------------------------------------------------------------------------- */

static volatile sig_atomic_t got_signal;
static void on_signal(int sig) { got_signal = sig; }

static void test_pipes(void)
{
    int p[2];
    vktest_check(pipe(p) == 0, "pipe", why("pipe", -1));
    char buf[8192];
    vktest_check(write(p[1], "abc", 3) == 3 && read(p[0], buf, sizeof(buf)) == 3 && !memcmp(buf, "abc", 3),
                 "pipe_roundtrip", "data");
    /* A child writes, the parent reads to end of file once the writer is gone. */
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        for (int i = 0; i < 100; i++)
            if (write(p[1], "0123456789", 10) != 10)
                _exit(1);
        _exit(0);
    }
    close(p[1]);
    size_t total = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof(buf))) > 0)
        total += (size_t)n;
    int status;
    waitpid(pid, &status, 0);
    vktest_check(total == 1000 && n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "pipe_across_fork_to_eof", why("total", (long)total));
    close(p[0]);

    /* No reader: EPIPE and SIGPIPE. */
    pipe(p);
    close(p[0]);
    signal(SIGPIPE, on_signal);
    got_signal = 0;
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE, "write_without_reader_epipe");
    vktest_check(got_signal == SIGPIPE, "write_without_reader_sigpipe", "no SIGPIPE");
    close(p[1]);

    /* Non-blocking: EAGAIN on empty and on full; the fill stops at the capacity. */
    pipe2(p, O_NONBLOCK);
    CHECK_ERRNO(read(p[0], buf, 1), EAGAIN, "nonblocking_read_empty_eagain");
    memset(buf, 'z', sizeof(buf));
    size_t filled = 0;
    while ((n = write(p[1], buf, sizeof(buf))) > 0)
        filled += (size_t)n;
    vktest_check(n == -1 && errno == EAGAIN && filled >= 4096, "nonblocking_write_full_eagain",
                 why("filled", (long)filled));

    /* poll: readable with data, writable only with room. */
    struct pollfd pf[2] = { { p[0], POLLIN, 0 }, { p[1], POLLOUT, 0 } };
    int ready = poll(pf, 2, 0);
    vktest_check(ready == 1 && (pf[0].revents & POLLIN) && !(pf[1].revents & POLLOUT),
                 "poll_full_pipe", why("poll", ready));
    while (read(p[0], buf, sizeof(buf)) > 0)
        ;
    ready = poll(pf, 2, 0);
    vktest_check(ready == 1 && !pf[0].revents && (pf[1].revents & POLLOUT), "poll_empty_pipe",
                 why("poll", ready));
    close(p[1]);
    ready = poll(pf, 1, 0);
    vktest_check(ready == 1 && (pf[0].revents & POLLHUP), "poll_hangup", why("poll", ready));
    close(p[0]);
    /* select: the same readiness through fd_sets; a timeout leaves the sets empty. */
    int sp[2];
    pipe(sp);
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(sp[0], &rd);
    FD_SET(sp[1], &wr);
    struct timeval tv = { 0, 0 };
    int sel = select(sp[1] + 1, &rd, &wr, NULL, &tv);
    vktest_check(sel == 1 && !FD_ISSET(sp[0], &rd) && FD_ISSET(sp[1], &wr), "select_writable_only",
                 why("select", sel));
    write(sp[1], "s", 1);
    FD_ZERO(&rd);
    FD_SET(sp[0], &rd);
    tv.tv_usec = 20000;
    sel = select(sp[0] + 1, &rd, NULL, NULL, &tv);
    vktest_check(sel == 1 && FD_ISSET(sp[0], &rd), "select_readable", why("select", sel));
    char sc;
    read(sp[0], &sc, 1);
    FD_ZERO(&rd);
    FD_SET(sp[0], &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 20000;
    sel = select(sp[0] + 1, &rd, NULL, NULL, &tv);
    vktest_check(sel == 0 && !FD_ISSET(sp[0], &rd), "select_timeout", why("select", sel));
    close(sp[0]);
    close(sp[1]);
    FD_ZERO(&rd);
    FD_SET(sp[0], &rd);
    CHECK_ERRNO(select(sp[0] + 1, &rd, NULL, NULL, &tv), EBADF, "select_closed_fd_ebadf");

    struct pollfd bad = { 777, POLLIN, 0 };
    vktest_check(poll(&bad, 1, 0) == 1 && bad.revents == POLLNVAL, "poll_bad_fd_pollnval", "revents");

    /* poll blocks until a child writes; a timeout expires with nothing. */
    pipe(p);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    vktest_check(poll(&(struct pollfd){ p[0], POLLIN, 0 }, 1, 30) == 0, "poll_timeout", "ready");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    vktest_check(waited_ms >= 30, "poll_timeout_waits", why("ms", waited_ms));
    pid = fork();
    if (pid == 0) {
        struct timespec d = { 0, 20000000 };
        nanosleep(&d, NULL);
        write(p[1], "w", 1);
        _exit(0);
    }
    struct pollfd pw = { p[0], POLLIN, 0 };
    ready = poll(&pw, 1, -1);
    vktest_check(ready == 1 && (pw.revents & POLLIN), "poll_wakes_on_write", why("poll", ready));
    waitpid(pid, &status, 0);
    close(p[0]);
    close(p[1]);

    /* A signal interrupts a blocked read: EINTR, and the handler ran. */
    pipe(p);
    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART */
    got_signal = 0;
    pid_t me = getpid();
    pid = fork();
    if (pid == 0) {
        struct timespec d = { 0, 30000000 };
        nanosleep(&d, NULL);
        kill(me, SIGUSR1);
        _exit(0);
    }
    CHECK_ERRNO(read(p[0], buf, 1), EINTR, "blocked_read_interrupted_eintr");
    vktest_check(got_signal == SIGUSR1, "interrupting_handler_ran", "no handler");
    waitpid(pid, &status, 0);
    close(p[0]);
    close(p[1]);

    /* Two writers of PIPE_BUF-sized records: records never interleave. */
    pipe(p);
    for (int w = 0; w < 2; w++) {
        if (fork() == 0) {
            char rec[4096];
            memset(rec, 'A' + w, sizeof(rec));
            for (int i = 0; i < 8; i++)
                write(p[1], rec, sizeof(rec));
            _exit(0);
        }
    }
    close(p[1]);
    char rec[4096];
    int records = 0, torn = 0;
    for (;;) {
        size_t got = 0;
        while (got < sizeof(rec) && (n = read(p[0], rec + got, sizeof(rec) - got)) > 0)
            got += (size_t)n;
        if (got == 0)
            break;
        records++;
        for (size_t i = 1; i < got; i++)
            torn |= rec[i] != rec[0];
    }
    while (wait(NULL) > 0)
        ;
    vktest_check(records == 16 && !torn, "pipe_buf_writes_atomic", why("records", records));
    close(p[0]);
}

/* ---- execve ------------------------------------------------------------------------- */

static int exec_child(int argc, char **argv)
{
    if (argc < 4)
        return 10;
    int keep = atoi(argv[2]), cloexec = atoi(argv[3]);
    if (fcntl(keep, F_GETFD) < 0)
        return 11; /* an ordinary descriptor must survive execve */
    if (fcntl(cloexec, F_GETFD) >= 0 || errno != EBADF)
        return 12; /* a close-on-exec one must not */
    if (write(keep, "exec ok", 7) != 7)
        return 13;
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    if (sa.sa_handler != SIG_DFL)
        return 14; /* handlers reset */
    sigaction(SIGUSR2, NULL, &sa);
    if (sa.sa_handler != SIG_IGN)
        return 15; /* ignored stays ignored */
    return 42;
}

static void test_exec(void)
{
    int p[2];
    pipe(p);
    int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        char keep_s[16], cloexec_s[16];
        snprintf(keep_s, sizeof(keep_s), "%d", p[1]);
        snprintf(cloexec_s, sizeof(cloexec_s), "%d", cloexec);
        char *argv[] = { SELF, "--exec-child", keep_s, cloexec_s, NULL };
        char *envp[] = { "VKTEST=1", NULL };
        execve(SELF, argv, envp);
        _exit(99);
    }
    close(p[1]);
    char buf[16] = { 0 };
    ssize_t n = read(p[0], buf, sizeof(buf) - 1);
    int status = 0;
    waitpid(pid, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 42, "execve_runs_new_program",
                 why("status", status));
    vktest_check(n == 7 && !strcmp(buf, "exec ok"), "execve_keeps_fds", buf);
    close(p[0]);
    close(cloexec);

    char *argv[] = { "x", NULL };
    CHECK_ERRNO(execve("/bin/missing.vbin", argv, NULL), ENOENT, "execve_missing_enoent");
    CHECK_ERRNO(execve("/boot/modules/test-files.vbin.map", argv, NULL), EACCES,
                "execve_not_executable_eacces");
    int fd = open("/tmp/junk", O_WRONLY | O_CREAT, 0755);
    write(fd, "not an ELF file at all, just some text", 38);
    close(fd);
    CHECK_ERRNO(execve("/tmp/junk", argv, NULL), ENOEXEC, "execve_not_elf_enoexec");
    CHECK_ERRNO(execve("/tmp", argv, NULL), EACCES, "execve_directory_eacces");
    CHECK_ERRNO(execve((const char *)8, argv, NULL), EFAULT, "execve_bad_path_efault");
    CHECK_ERRNO(execve(SELF, (char **)8, NULL), EFAULT, "execve_bad_argv_efault");
    vktest_check(getpid() > 0, "failed_execve_leaves_process_intact", "pid");
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--exec-child"))
        return exec_child(argc, argv);
    test_files();
    test_directories();
    test_devices();
    test_descriptors();
    test_pipes();
    test_exec();
    return vktest_finish("test-files");
}
