/* SPDX-License-Identifier: MIT */
/*
 * test-basic: the first in-guest test of the kernel's syscall layer, written against
 * ordinary musl calls so it also passes on a Linux host (run it there to check the test
 * itself). Each check is independent: it gets a fresh errno and a detail buffer, returns
 * true or false, and the harness prints `PASS name` or `FAIL name: detail`. The last
 * line is `test-basic: N passed, N failed`; the exit status is 1 if anything failed.
 *
 * stdout is line buffered so every result reaches the console before a later check can
 * crash the program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#define PAGE_SIZE 4096
#define MIB       (1024ul * 1024ul)

#define DETAIL_SIZE 160

typedef bool (*check_fn)(char *detail);

struct check {
    const char *name;
    check_fn run;
};

static bool failf(char *detail, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, DETAIL_SIZE, fmt, ap);
    va_end(ap);
    return false;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Writes a pattern into every page of [p, p+size) and reads it back. */
static bool touch_pages(unsigned char *p, size_t size, unsigned char seed)
{
    for (size_t off = 0; off < size; off += PAGE_SIZE)
        p[off] = (unsigned char)(seed + off / PAGE_SIZE);
    p[size - 1] = seed;
    for (size_t off = 0; off < size - 1; off += PAGE_SIZE)
        if (p[off] != (unsigned char)(seed + off / PAGE_SIZE))
            return false;
    return p[size - 1] == seed;
}

static bool check_write_stdout(char *detail)
{
    static const char msg[] = "test-basic: write() to stdout\n";
    ssize_t n = write(STDOUT_FILENO, msg, sizeof(msg) - 1);

    if (n != (ssize_t)sizeof(msg) - 1)
        return failf(detail, "write returned %zd (errno %d)", n, errno);
    return true;
}

static bool check_getpid(char *detail)
{
    pid_t pid = getpid();

    if (pid <= 0)
        return failf(detail, "getpid() = %d", (int)pid);
    return true;
}

static bool check_getppid(char *detail)
{
    pid_t ppid = getppid();

    /* The first process has parent 0. */
    if (ppid < 0 || ppid == getpid())
        return failf(detail, "getppid() = %d, getpid() = %d", (int)ppid, (int)getpid());
    return true;
}

static bool check_gettid(char *detail)
{
    pid_t tid = gettid(), pid = getpid();

    if (tid != pid)
        return failf(detail, "gettid() = %d but getpid() = %d", (int)tid, (int)pid);
    return true;
}

static bool check_uname(char *detail)
{
    struct utsname u;

    if (uname(&u) != 0)
        return failf(detail, "uname failed (errno %d)", errno);
    if (strcmp(u.sysname, "vkernel") != 0 && strcmp(u.sysname, "Linux") != 0)
        return failf(detail, "sysname \"%s\"", u.sysname);
    return true;
}

static bool check_clock_monotonic(char *detail)
{
    int64_t t0 = monotonic_ns(), t1 = t0;
    volatile uint64_t spin = 0;

    if (t0 < 0)
        return failf(detail, "clock_gettime failed (errno %d)", errno);
    /* Bounded: a clock that never moves fails instead of hanging. */
    for (int round = 0; round < 1000 && t1 == t0; round++) {
        for (int i = 0; i < 100000; i++)
            spin = spin + 1;
        t1 = monotonic_ns();
    }
    if (t1 <= t0)
        return failf(detail, "did not advance: %lld then %lld", (long long)t0, (long long)t1);
    return true;
}

static bool check_malloc_sizes(char *detail)
{
    static const size_t sizes[] = {
        1, 7, 16, 100, 1000, 4095, 4096, 4097, 65536, 200000, 1 * MIB, 64 * MIB,
    };
    void *small[500];

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = malloc(sizes[i]);
        if (!p)
            return failf(detail, "malloc(%zu) returned NULL", sizes[i]);
        if (!touch_pages(p, sizes[i], (unsigned char)i)) {
            free(p);
            return failf(detail, "malloc(%zu): memory does not read back", sizes[i]);
        }
        free(p);
    }
    /* Many live small blocks at once: grows the heap (brk) rather than reusing one. */
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        size_t size = 16 + (i * 37) % 3000;
        small[i] = malloc(size);
        if (!small[i]) {
            while (i--)
                free(small[i]);
            return failf(detail, "small malloc(%zu) #%zu returned NULL", size, i);
        }
        memset(small[i], (int)i, size);
    }
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
        unsigned char *p = small[i];
        size_t size = 16 + (i * 37) % 3000;
        if (p[0] != (unsigned char)i || p[size - 1] != (unsigned char)i) {
            for (size_t j = 0; j < sizeof(small) / sizeof(small[0]); j++)
                free(small[j]);
            return failf(detail, "small block #%zu was overwritten", i);
        }
    }
    for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++)
        free(small[i]);
    return true;
}

static bool check_calloc_zeroed(char *detail)
{
    static const size_t sizes[] = { 24, 3000, 100000, 4 * MIB };

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        /* Dirty a block first so a reused one must really be cleared. */
        unsigned char *dirty = malloc(sizes[i]);
        if (dirty) {
            memset(dirty, 0xa5, sizes[i]);
            free(dirty);
        }
        unsigned char *p = calloc(sizes[i], 1);
        if (!p)
            return failf(detail, "calloc(%zu, 1) returned NULL", sizes[i]);
        for (size_t j = 0; j < sizes[i]; j++) {
            if (p[j] != 0) {
                free(p);
                return failf(detail, "calloc(%zu, 1): byte %zu is 0x%02x", sizes[i], j, p[j]);
            }
        }
        free(p);
    }
    return true;
}

static bool check_mmap_anonymous(char *detail)
{
    size_t size = 16 * MIB;
    unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);

    if (p == MAP_FAILED)
        return failf(detail, "mmap failed (errno %d)", errno);
    if ((uintptr_t)p % PAGE_SIZE != 0) {
        munmap(p, size);
        return failf(detail, "mmap returned unaligned %p", (void *)p);
    }
    if (p[0] != 0 || p[size - 1] != 0) {
        munmap(p, size);
        return failf(detail, "fresh anonymous memory is not zero");
    }
    if (!touch_pages(p, size, 0x3c)) {
        munmap(p, size);
        return failf(detail, "memory does not read back");
    }
    if (munmap(p, size) != 0)
        return failf(detail, "munmap failed (errno %d)", errno);
    return true;
}

static bool check_mprotect_read_only(char *detail)
{
    volatile uint32_t *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint32_t value;

    if (p == MAP_FAILED)
        return failf(detail, "mmap failed (errno %d)", errno);
    p[10] = 0xc0ffee;
    if (mprotect((void *)p, PAGE_SIZE, PROT_READ) != 0) {
        munmap((void *)p, PAGE_SIZE);
        return failf(detail, "mprotect(PROT_READ) failed (errno %d)", errno);
    }
    value = p[10];
    munmap((void *)p, PAGE_SIZE);
    if (value != 0xc0ffee)
        return failf(detail, "read back 0x%x after mprotect", value);
    return true;
}

static _Thread_local uint64_t tls_initialised = 0x7e57ab1e5eed1234ull;
static _Thread_local uint32_t tls_zeroed;

static bool check_tls(char *detail)
{
    /* volatile pointers: the compiler must go through the TLS block every time. */
    volatile uint64_t *init = &tls_initialised;
    volatile uint32_t *zero = &tls_zeroed;

    if (*init != 0x7e57ab1e5eed1234ull)
        return failf(detail, ".tdata value 0x%llx", (unsigned long long)*init);
    if (*zero != 0)
        return failf(detail, ".tbss value 0x%x", *zero);
    *init = 42;
    *zero = 43;
    if (*init != 42 || *zero != 43)
        return failf(detail, "TLS writes do not read back");
    *init = 0x7e57ab1e5eed1234ull;
    *zero = 0;
    return true;
}

#define STACK_FRAME_BYTES (256 * 1024)
#define STACK_DEPTH       4

/* Each level holds 256 KiB on the stack, so the stack must grow by about 1 MiB. */
__attribute__((noinline)) static bool stack_recurse(int depth)
{
    volatile unsigned char frame[STACK_FRAME_BYTES];
    bool ok = true;

    for (size_t i = 0; i < sizeof(frame); i += 512)
        frame[i] = (unsigned char)(depth * 31 + i / 512);
    if (depth + 1 < STACK_DEPTH)
        ok = stack_recurse(depth + 1);
    for (size_t i = 0; i < sizeof(frame); i += 512)
        if (frame[i] != (unsigned char)(depth * 31 + i / 512))
            ok = false;
    return ok;
}

static bool check_stack_growth(char *detail)
{
    if (!stack_recurse(0))
        return failf(detail, "a 256 KiB stack frame was corrupted");
    return true;
}

static bool check_getrandom(char *detail)
{
    unsigned char buf[64] = { 0 };
    ssize_t n = getrandom(buf, sizeof(buf), 0);
    bool nonzero = false;

    if (n != (ssize_t)sizeof(buf))
        return failf(detail, "getrandom returned %zd (errno %d)", n, errno);
    for (size_t i = 0; i < sizeof(buf); i++)
        nonzero |= buf[i] != 0;
    if (!nonzero)
        return failf(detail, "64 bytes all zero");
    return true;
}

/* Expects `result` to be -1 with errno `want`. */
static bool expect_errno(char *detail, const char *what, long result, int want)
{
    int got = errno;

    if (result != -1)
        return failf(detail, "%s returned %ld, expected -1", what, result);
    if (got != want)
        return failf(detail, "%s: errno %d (%s), expected %d (%s)", what, got, strerror(got),
                     want, strerror(want));
    return true;
}

static bool check_write_bad_fd(char *detail)
{
    return expect_errno(detail, "write(-1)", write(-1, "x", 1), EBADF);
}

/* True when stdout is Linux's /dev/null, which never reads the buffer. */
static bool stdout_is_dev_null(void)
{
    struct stat st;

    return fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode) &&
           major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

static bool check_write_bad_pointer(char *detail)
{
    int fds[2];
    bool ok;

    if (!stdout_is_dev_null())
        return expect_errno(detail, "write(1, (void *)1, 10)", write(1, (void *)1, 10), EFAULT);
    /* /dev/null discards without copying: use a pipe to test the same path. */
    if (pipe(fds) != 0)
        return failf(detail, "pipe failed (errno %d)", errno);
    ok = expect_errno(detail, "write(pipe, (void *)1, 10)", write(fds[1], (void *)1, 10),
                      EFAULT);
    close(fds[0]);
    close(fds[1]);
    return ok;
}

static bool check_read_bad_fd(char *detail)
{
    char c;

    return expect_errno(detail, "read(9999)", read(9999, &c, 1), EBADF);
}

static bool check_close_bad_fd(char *detail)
{
    return expect_errno(detail, "close(12345)", close(12345), EBADF);
}

static bool check_unknown_syscall(char *detail)
{
    return expect_errno(detail, "syscall(9999)", syscall(9999), ENOSYS);
}

static bool check_open_missing(char *detail)
{
    int fd = open("/nonexistent", O_RDONLY);

    if (fd >= 0)
        close(fd);
    return expect_errno(detail, "open(\"/nonexistent\")", fd, ENOENT);
}

static bool check_sched_yield(char *detail)
{
    int r = sched_yield();

    if (r != 0)
        return failf(detail, "sched_yield returned %d (errno %d)", r, errno);
    return true;
}

static bool check_nanosleep(char *detail)
{
    struct timespec request = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
    int64_t t0 = monotonic_ns(), elapsed;
    int r = nanosleep(&request, NULL);

    elapsed = monotonic_ns() - t0;
    if (r != 0)
        return failf(detail, "nanosleep returned %d (errno %d)", r, errno);
    if (elapsed < 10 * 1000 * 1000)
        return failf(detail, "only %lld ns passed", (long long)elapsed);
    return true;
}

/* Programs (SDL among them) find their own file through /proc/self/exe. */
static bool check_proc_self_exe(char *detail)
{
    char buf[256];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    char own[32];
    snprintf(own, sizeof(own), "/proc/%d/exe", (int)getpid());
    char buf2[256];
    ssize_t m = readlink(own, buf2, sizeof(buf2) - 1);
    char tiny[4];
    ssize_t t = readlink("/proc/self/exe", tiny, sizeof(tiny));
    snprintf(detail, DETAIL_SIZE, "readlink gave %zd \"%s\", by pid %zd, truncated %zd", n, buf,
             m, t);
    return n == (ssize_t)strlen("/bin/test-basic.vbin") && strcmp(buf, "/bin/test-basic.vbin") == 0 &&
           m == n && t == 4 && memcmp(tiny, "/bin", 4) == 0;
}

static const struct check checks[] = {
    { "proc_self_exe", check_proc_self_exe },
    { "write_stdout", check_write_stdout },
    { "getpid", check_getpid },
    { "getppid", check_getppid },
    { "gettid", check_gettid },
    { "uname", check_uname },
    { "clock_monotonic", check_clock_monotonic },
    { "malloc_sizes", check_malloc_sizes },
    { "calloc_zeroed", check_calloc_zeroed },
    { "mmap_anonymous", check_mmap_anonymous },
    { "mprotect_read_only", check_mprotect_read_only },
    { "tls", check_tls },
    { "stack_growth", check_stack_growth },
    { "getrandom", check_getrandom },
    { "write_bad_fd", check_write_bad_fd },
    { "write_bad_pointer", check_write_bad_pointer },
    { "read_bad_fd", check_read_bad_fd },
    { "close_bad_fd", check_close_bad_fd },
    { "unknown_syscall", check_unknown_syscall },
    { "open_missing", check_open_missing },
    { "sched_yield", check_sched_yield },
    { "nanosleep", check_nanosleep },
};

int main(void)
{
    int passed = 0, failed = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        char detail[DETAIL_SIZE] = "";

        errno = 0;
        if (checks[i].run(detail)) {
            printf("PASS %s\n", checks[i].name);
            passed++;
        } else {
            printf("FAIL %s: %s\n", checks[i].name, detail);
            failed++;
        }
    }
    printf("test-basic: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
