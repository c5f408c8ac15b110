/* SPDX-License-Identifier: MIT */
/*
 * The in-guest fuzzer's parts: a counter-based random generator (every call's
 * arguments are a pure function of the seed and the call's index, so any call can be
 * replayed alone), the batch child that makes the syscalls (calls.c), the parent that
 * forks and watches the children (fuzz.c), and the malformed-ELF generator (elf.c).
 */
#ifndef USERSPACE_TESTS_FUZZ_FUZZ_H
#define USERSPACE_TESTS_FUZZ_FUZZ_H

#include <stdint.h>

/* A splitmix64 stream; fuzz_rng_at() starts one for (seed, index). */
typedef struct {
    uint64_t state;
} fuzz_rng_t;

static inline uint64_t fuzz_next(fuzz_rng_t *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline fuzz_rng_t fuzz_rng_at(uint64_t seed, uint64_t index)
{
    fuzz_rng_t r = { seed * 0x2545f4914f6cdd1dull ^ (index + 1) * 0x9e3779b97f4a7c15ull };
    fuzz_next(&r);
    return r;
}

/* A value in [0, n). */
static inline uint64_t fuzz_below(fuzz_rng_t *r, uint64_t n)
{
    return n ? fuzz_next(r) % n : 0;
}

/* How a watched child reports progress: fuzz_progress(v) stores v in a word of a
 * MAP_SHARED page the parent reads (the batch child stores each call's index before
 * making the call, so the parent knows which call blocked or killed it). A plain store,
 * not a syscall: a pipe write per call cost a syscall and two context switches. The
 * child also holds the write end of a pipe as FUZZ_PROGRESS_FD, whose end of file tells
 * the parent at once that the child is gone. */
#define FUZZ_PROGRESS_FD 200
void fuzz_progress(uint64_t value);
/* Maps the shared progress word; 0, or -1 if it cannot. Call once before any child. */
int fuzz_progress_init(void);
/* Written after the last call of a batch. */
#define FUZZ_BATCH_DONE  UINT64_MAX

/* Runs calls [first, end) of the stream `seed` in this (forked) process; returns only
 * if the calls let it. parent_pid is the fuzzer's pid, which no call may signal. */
void fuzz_calls_run(uint64_t seed, uint64_t first, uint64_t end, int parent_pid);

/* Describes call `index` of `seed` (number and arguments) into buf, for reports. */
void fuzz_call_describe(uint64_t seed, uint64_t index, char *buf, unsigned size);

/* Counters the parent keeps. */
typedef struct {
    uint64_t calls, children, blocked, signalled, exited_early;
} fuzz_stats_t;

/* Forks a child that runs `body(arg)`, waits for it with a watchdog of timeout_ms
 * without progress on the child's FUZZ_PROGRESS_FD, and SIGKILLs it when the watchdog
 * fires. Fills *status (wait status), *last (last progress value, or `no_progress`) and
 * returns 0, 1 if it had to be killed, or -1 if the child could not be started or
 * survived SIGKILL (a kernel bug, reported). */
int fuzz_watch_child(void (*body)(void *), void *arg, int timeout_ms, int *status,
                     uint64_t *last, uint64_t no_progress);

/* Builds `count` corrupted ELF files from `base_path`, execs each in a child and prints
 * a summary; returns the number of attempts that went wrong (a hung child). */
int fuzz_elf_run(uint64_t seed, unsigned count, const char *base_path);

#endif
