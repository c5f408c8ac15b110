/* SPDX-License-Identifier: MIT */
/*
 * The batch child: makes syscalls with random numbers and arguments drawn from typed
 * pools. Every call's number and arguments come from fuzz_rng_at(seed, index) alone, so
 * `seed=S start=I calls=1` replays call I (in a fresh child: earlier calls' side effects
 * are not replayed, a whole batch is replayed with start= its first index).
 *
 * Numbers: the calls the kernel implements (the X-macro lists of vk/syscall.h, so new
 * calls are fuzzed without edits here), every Linux number 0..460, the whole vkernel
 * range 0x1000..0x103f, and numbers no table covers.
 *
 * Exclusions (calls that would end the fuzzer rather than test the kernel):
 *   kill, tkill, tgkill aimed at the fuzzer parent's pid: skipped and counted.
 * Not excluded but contained: fork, vfork and clone return 0 in the new process or
 * thread, which exits at once (raw exit in the same asm block, so a clone with a
 * random stack never runs C code on it); exit, exit_group, execve and fatal signals end
 * only this child, and the parent carries on after the last call reported.
 * Blocking calls are not excluded: the parent's watchdog SIGKILLs a child whose call
 * makes no progress (fuzz_watch_child).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vk/syscall.h>
#include "fuzz.h"

#define SYS_WRITE 1
#define SYS_OPEN 2
#define SYS_CLOSE 3
#define SYS_MMAP 9
#define SYS_MUNMAP 11
#define SYS_PIPE 22
#define SYS_DUP2 33
#define SYS_GETPID 39
#define SYS_CLONE 56
#define SYS_FORK 57
#define SYS_VFORK 58
#define SYS_KILL 62
#define SYS_CHDIR 80
#define SYS_MKDIR 83
#define SYS_TKILL 200
#define SYS_TGKILL 234

#define LINUX_LAST   460
#define VK_FIRST     0x1000
#define VK_LAST      0x103f
#define ARENA_SIZE   (64 * 1024)
#define PATH_SLOT    256
#define IOV_COUNT    64

#define NUMBER_ENTRY(name, nr) nr,
static const uint16_t implemented[] = { VK_SYSCALLS_LINUX(NUMBER_ENTRY)
                                            VK_SYSCALLS_VK(NUMBER_ENTRY) };
#define IMPLEMENTED_COUNT (sizeof(implemented) / sizeof(implemented[0]))

static const char *const paths[] = {
    "/tmp/fz/f", "/tmp/fz/d", "/tmp/fz", "/", ".", "..", "", "/dev/null", "/dev/zero",
    "/dev/full", "/dev/urandom", "/bin/hello.vbin", "/nonexistent/x", "/tmp/fz/f/x",
    "/tmp/fz/f/", "/tmp/fz/d/../d/./e", "/fz", "/tmp/fz/new", "//tmp///fz//f",
    "/proc/self", "/tmp/fz/d/e",
};
#define PATH_COUNT (sizeof(paths) / sizeof(paths[0]))

/* Arena layout (typed buffers the pointer pools point into). */
enum { ZEROS = 0, SMALL = 16384, IOVS = 24576, PATHS = 32768, RANDOM = 40960 };

static unsigned char *arena;
static long fds[16];
static int my_pid, fuzzer_pid;

/* A raw syscall. With fork_like set (fork, vfork, clone), the new process or thread
 * (rax 0) exits at once, before touching a stack the fuzzed clone may have pointed
 * anywhere. */
static inline long raw_call(long fork_like, long nr, long a0, long a1, long a2, long a3,
                            long a4, long a5)
{
    long ret;
    register long r10 __asm__("r10") = a3;
    register long r8 __asm__("r8") = a4;
    register long r9 __asm__("r9") = a5;
    __asm__ volatile("syscall\n\t"
                     "test %[fork], %[fork]\n\t"
                     "jz 1f\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t"
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "ud2\n"
                     "1:"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9),
                       [fork] "r"(fork_like)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    return raw_call(0, nr, a0, a1, a2, a3, a4, a5);
}

static uint64_t pick_number(fuzz_rng_t *r)
{
    unsigned roll = (unsigned)fuzz_below(r, 100);
    if (roll < 50)
        return implemented[fuzz_below(r, IMPLEMENTED_COUNT)];
    if (roll < 80)
        return fuzz_below(r, LINUX_LAST + 1);
    if (roll < 92)
        return VK_FIRST + fuzz_below(r, VK_LAST - VK_FIRST + 1);
    switch (fuzz_below(r, 5)) { /* numbers no table has */
    case 0: return LINUX_LAST + 1 + fuzz_below(r, VK_FIRST - LINUX_LAST - 1);
    case 1: return VK_LAST + 1 + fuzz_below(r, 0x10000);
    case 2: return fuzz_next(r);
    case 3: return (uint64_t)-1 - fuzz_below(r, 16);
    default: return 0x100000000ull | fuzz_below(r, LINUX_LAST + 1); /* high bits set */
    }
}

static uint64_t pick_length(fuzz_rng_t *r)
{
    switch (fuzz_below(r, 6)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (1ull << fuzz_below(r, 64)) + 1;
    case 3: return (1ull << fuzz_below(r, 64)) - 1;
    case 4: return fuzz_below(r, 2) ? UINT64_MAX : 0x7fffffff;
    default: return fuzz_below(r, 8192);
    }
}

static uint64_t pick_bad_pointer(fuzz_rng_t *r)
{
    switch (fuzz_below(r, 8)) {
    case 0: return 0;
    case 1: return fuzz_below(r, 4096);                                /* null page */
    case 2: return 0x0000300000000000ull + fuzz_below(r, 1 << 20);     /* unmapped */
    case 3: return 0xffff800000000000ull + fuzz_below(r, 1ull << 40);  /* kernel half */
    case 4: return 0xffffffff80000000ull + fuzz_below(r, 1 << 24);     /* kernel image */
    case 5: return 0x0000800000000000ull + fuzz_below(r, 1 << 20);     /* non-canonical */
    case 6: return 0x00007ffffffff000ull + fuzz_below(r, 8192);        /* across the hole */
    default: return UINT64_MAX - fuzz_below(r, 64);                    /* wraps */
    }
}

static uint64_t pick_pointer(fuzz_rng_t *r)
{
    uintptr_t base = (uintptr_t)arena;
    switch (fuzz_below(r, 6)) {
    case 0: return base + ZEROS + fuzz_below(r, 8) * 1024;
    case 1: return base + SMALL + fuzz_below(r, 8192);                 /* often unaligned */
    case 2: return base + IOVS;
    case 3: return base + RANDOM + fuzz_below(r, ARENA_SIZE - RANDOM);
    case 4: return base + ARENA_SIZE - fuzz_below(r, 64);              /* runs off the end */
    default: return base + PATHS + fuzz_below(r, PATH_COUNT) * PATH_SLOT;
    }
}

static uint64_t pick_pid(fuzz_rng_t *r)
{
    switch (fuzz_below(r, 5)) {
    case 0: return (uint64_t)my_pid;
    case 1: return 0;
    case 2: return (uint64_t)-1;
    case 3: return fuzz_below(r, 80);
    default: return (uint64_t)(int64_t)(int32_t)fuzz_next(r);
    }
}

static uint64_t pick_argument(fuzz_rng_t *r)
{
    switch (fuzz_below(r, 12)) {
    case 0: return fuzz_below(r, 17);
    case 1: return (uint64_t)fds[fuzz_below(r, 16)];
    case 2: case 3: return pick_pointer(r);
    case 4: case 5: return pick_bad_pointer(r);
    case 6: return pick_length(r);
    case 7: return 1ull << fuzz_below(r, 64);                          /* one flag bit */
    case 8: return fuzz_next(r) & fuzz_next(r) & 0xffffffffull;        /* sparse flags */
    case 9: return (uint64_t)-(int64_t)fuzz_below(r, 4097);            /* -errno, -1 */
    case 10: return pick_pid(r);
    default: return fuzz_next(r);
    }
}

typedef struct {
    uint64_t nr;
    uint64_t arg[6];
} fuzz_call_t;

static void generate(uint64_t seed, uint64_t index, fuzz_call_t *c)
{
    fuzz_rng_t r = fuzz_rng_at(seed, index);
    c->nr = pick_number(&r);
    for (int i = 0; i < 6; i++)
        c->arg[i] = pick_argument(&r);
}

/* True for the calls that would signal the fuzzer itself. */
static int excluded(const fuzz_call_t *c)
{
    int parent = fuzzer_pid;
    switch (c->nr) {
    case SYS_KILL:
    case SYS_TKILL:
        return (int32_t)c->arg[0] == parent;
    case SYS_TGKILL:
        return (int32_t)c->arg[0] == parent || (int32_t)c->arg[1] == parent;
    default:
        return 0;
    }
}

/* Typed buffers and descriptors, the same in every child (the stream stays replayable). */
static int setup(void)
{
    long a = raw_syscall(SYS_MMAP, 0, ARENA_SIZE + 4096, 3, 0x22 /* PRIVATE|ANON */, -1, 0);
    if (a < 0 && a > -4096)
        return -1;
    raw_syscall(SYS_MUNMAP, a + ARENA_SIZE, 4096, 0, 0, 0, 0); /* a hole after the arena */
    arena = (unsigned char *)a;
    fuzz_rng_t r = fuzz_rng_at(0x5eed, 0);
    for (int i = SMALL; i < IOVS; i += 4)
        arena[i] = (unsigned char)fuzz_below(&r, 64);
    uint64_t *iov = (uint64_t *)(arena + IOVS);
    for (int i = 0; i < IOV_COUNT; i++) {
        iov[2 * i] = fuzz_below(&r, 4) ? pick_pointer(&r) : pick_bad_pointer(&r);
        iov[2 * i + 1] = fuzz_below(&r, 4) ? fuzz_below(&r, 512) : pick_length(&r);
    }
    for (unsigned i = 0; i < PATH_COUNT; i++)
        strcpy((char *)arena + PATHS + i * PATH_SLOT, paths[i]);
    for (int i = RANDOM; i < ARENA_SIZE; i += 8) {
        uint64_t v = fuzz_next(&r);
        memcpy(arena + i, &v, 8);
    }

    /* The console stays out of reach: 0, 1, 2 become /dev/null. */
    for (int fd = 0; fd < 3; fd++) {
        raw_syscall(SYS_CLOSE, fd, 0, 0, 0, 0, 0);
        raw_syscall(SYS_OPEN, (long)"/dev/null", 2 /* O_RDWR */, 0, 0, 0, 0);
    }
    raw_syscall(SYS_MKDIR, (long)"/tmp/fz", 0755, 0, 0, 0, 0);
    raw_syscall(SYS_MKDIR, (long)"/tmp/fz/d", 0755, 0, 0, 0, 0);
    raw_syscall(SYS_CHDIR, (long)"/tmp/fz", 0, 0, 0, 0, 0);
    int pipefd[2] = { -1, -1 };
    raw_syscall(SYS_PIPE, (long)pipefd, 0, 0, 0, 0, 0);
    long closed = raw_syscall(SYS_OPEN, (long)"/dev/null", 0, 0, 0, 0, 0);
    raw_syscall(SYS_CLOSE, closed, 0, 0, 0, 0, 0);
    long pool[16] = {
        0, 1, 2,
        raw_syscall(SYS_OPEN, (long)"/tmp/fz/f", 0102 /* O_RDWR|O_CREAT */, 0644, 0, 0, 0),
        raw_syscall(SYS_OPEN, (long)"/tmp/fz", 0200000 /* O_DIRECTORY */, 0, 0, 0, 0),
        pipefd[0], pipefd[1],
        raw_syscall(SYS_OPEN, (long)"/dev/zero", 2, 0, 0, 0, 0),
        closed, 1023, 1024, 65535, -1, 0x7fffffff, 0x100000003ll, -100 /* AT_FDCWD */,
    };
    memcpy(fds, pool, sizeof(fds));
    my_pid = (int)raw_syscall(SYS_GETPID, 0, 0, 0, 0, 0, 0);
    return 0;
}

void fuzz_calls_run(uint64_t seed, uint64_t first, uint64_t end, int parent_pid)
{
    fuzzer_pid = parent_pid;
    if (setup())
        return;
    for (uint64_t i = first; i < end; i++) {
        fuzz_call_t c;
        generate(seed, i, &c);
        fuzz_progress(i);
        if (excluded(&c))
            continue;
        long fork_like = c.nr == SYS_CLONE || c.nr == SYS_FORK || c.nr == SYS_VFORK;
        raw_call(fork_like, (long)c.nr, (long)c.arg[0], (long)c.arg[1], (long)c.arg[2],
                 (long)c.arg[3], (long)c.arg[4], (long)c.arg[5]);
    }
    fuzz_progress(FUZZ_BATCH_DONE);
}

void fuzz_call_describe(uint64_t seed, uint64_t index, char *buf, unsigned size)
{
    fuzz_call_t c;
    generate(seed, index, &c);
    snprintf(buf, size, "nr=%#llx args %#llx %#llx %#llx %#llx %#llx %#llx",
             (unsigned long long)c.nr, (unsigned long long)c.arg[0],
             (unsigned long long)c.arg[1], (unsigned long long)c.arg[2],
             (unsigned long long)c.arg[3], (unsigned long long)c.arg[4],
             (unsigned long long)c.arg[5]);
}
