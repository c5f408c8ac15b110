/* SPDX-License-Identifier: MIT */
/*
 * vkbench: the parallel speed-up (issue 4; futex_pingpong_cpus is in bench_ipc.c).
 * On one CPU the job simply shows no speed-up.
 *
 * cpu_job_1thread, cpu_job_2threads: the same fixed CPU-bound job (a xorshift loop of
 * CPU_JOB_STEPS steps, no memory traffic, no syscalls) done by one thread, then split
 * in two halves between two threads started before the timed part. vkbench prints the
 * ratio of their wall times as cpu_job_speedup (vkbench.c).
 */
#include <pthread.h>

#include "vkbench.h"

#define CPU_JOB_STEPS 20000000ull

static uint64_t job_sink;

/* One copy of the loop for both benchmarks, never inlined, and aligned so it cannot
 * straddle a page: under TCG a loop whose code crosses a page boundary cannot chain its
 * translated blocks and ran 5x slower, which made the one-thread figure 5x too slow
 * (a "speed-up" of 5 on one CPU) depending only on where the linker put it. */
__attribute__((noinline, aligned(128))) static void job(uint64_t steps)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < steps; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    __atomic_fetch_add(&job_sink, x, __ATOMIC_RELAXED);
}

bool vkbench_cpu_job_1thread(vkbench_run_t *run, uint64_t repeat)
{
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++)
        job(CPU_JOB_STEPS);
    vkbench_stop(run, repeat);
    return true;
}

struct half {
    uint64_t repeat;
    volatile int go;
};

static void *second_half(void *arg)
{
    struct half *h = arg;
    while (!h->go)
        ;
    for (uint64_t i = 0; i < h->repeat; i++)
        job(CPU_JOB_STEPS / 2);
    return NULL;
}

bool vkbench_cpu_job_2threads(vkbench_run_t *run, uint64_t repeat)
{
    struct half h = { .repeat = repeat };
    pthread_t t;
    int err = pthread_create(&t, NULL, second_half, &h);
    if (err)
        return vkbench_thread_unavailable(run, err);
    vkbench_start(run);
    h.go = 1;
    for (uint64_t i = 0; i < repeat; i++)
        job(CPU_JOB_STEPS / 2);
    pthread_join(t, NULL);
    vkbench_stop(run, repeat);
    return true;
}
