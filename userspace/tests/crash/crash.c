/* SPDX-License-Identifier: MIT */
/*
 * test-crash NAME: commits one fault on purpose, so tests can check that the kernel
 * kills only this process and reports the fault with a symbolized backtrace.
 *
 *   null        write to address 0                      (#PF, user address not mapped)
 *   kernel      write to 0xffffffff80000000             (#PF on a supervisor page / #GP)
 *   exec        jump into a non-executable heap buffer  (#PF instruction fetch, NX)
 *   privileged  execute cli                              (#GP, IOPL 0)
 *   ud2         execute ud2                              (#UD)
 *   int3        execute int3                             (#BP)
 *   div0        integer divide by zero                   (#DE)
 *   stack       unbounded recursion                      (#PF below the stack)
 *   deep        write to address 0 three calls further down  (#PF; file:line checks)
 *
 * Each fault lives in a noinline function crash_<name>, reached from main through the
 * noinline crash_dispatch, so a backtrace shows crash_<name> <- crash_dispatch <- main.
 * Both callers do work after the call so the compiler cannot turn it into a tail jump
 * and drop their frames. The "crash-report:" comments mark the lines the crash_report
 * integration suite expects in the report's frames (it finds them in this file). Addresses come through volatile variables so the compiler
 * cannot see the fault and replace it with a trap of its own.
 *
 * Exit status: 2 for a usage error, 3 if the fault did not happen.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static volatile uintptr_t null_address = 0;
static volatile uintptr_t kernel_address = 0xffffffff80000000ull;
static volatile int divide_numerator = 42;
static volatile int divide_zero = 0;
static volatile int sink;
static volatile int stack_stop;

NOINLINE static void crash_null(void)
{
    *(volatile int *)null_address = 1;
}

NOINLINE static void crash_kernel(void)
{
    *(volatile int *)kernel_address = 1;
}

NOINLINE static void crash_exec(void)
{
    unsigned char *buffer = malloc(64);
    void (*code)(void);

    if (!buffer)
        return;
    memset(buffer, 0xc3, 64); /* ret: if the heap were executable this would return */
    code = (void (*)(void))(uintptr_t)buffer;
    code();
    free(buffer);
}

NOINLINE static void crash_privileged(void)
{
    __asm__ volatile("cli");
}

NOINLINE static void crash_ud2(void)
{
    __asm__ volatile("ud2");
}

NOINLINE static void crash_int3(void)
{
    __asm__ volatile("int3");
}

NOINLINE static void crash_div0(void)
{
    sink = divide_numerator / divide_zero;
}

NOINLINE static int crash_stack_recurse(int depth)
{
    volatile char pad[512];

    pad[0] = (char)depth;
    if (stack_stop)
        return 0;
    return crash_stack_recurse(depth + 1) + pad[0];
}

NOINLINE static void crash_stack(void)
{
    sink = crash_stack_recurse(0);
}

NOINLINE static void crash_deep_leaf(void)
{
    *(volatile int *)null_address = 2; /* crash-report: deep fault */
}

NOINLINE static void crash_deep_middle(void)
{
    crash_deep_leaf(); /* crash-report: deep call 2 */
    sink++;
}

NOINLINE static void crash_deep(void)
{
    crash_deep_middle(); /* crash-report: deep call 1 */
    sink++;
}

static const struct {
    const char *name;
    void (*commit)(void);
} faults[] = {
    { "null", crash_null },
    { "kernel", crash_kernel },
    { "exec", crash_exec },
    { "privileged", crash_privileged },
    { "ud2", crash_ud2 },
    { "int3", crash_int3 },
    { "div0", crash_div0 },
    { "stack", crash_stack },
    { "deep", crash_deep },
};

#define FAULT_COUNT (sizeof(faults) / sizeof(faults[0]))

static void usage(void)
{
    fprintf(stderr, "usage: test-crash FAULT\nfaults:");
    for (size_t i = 0; i < FAULT_COUNT; i++)
        fprintf(stderr, " %s", faults[i].name);
    fprintf(stderr, "\n");
}

/* Returns 2 for an unknown name, 3 when the fault did not happen. */
NOINLINE static int crash_dispatch(const char *name)
{
    for (size_t i = 0; i < FAULT_COUNT; i++) {
        if (strcmp(faults[i].name, name) != 0)
            continue;
        printf("crash: about to %s\n", name);
        fflush(stdout);
        faults[i].commit(); /* crash-report: dispatch call */
        printf("crash: %s did not fault\n", name);
        return 3;
    }
    fprintf(stderr, "test-crash: unknown fault \"%s\"\n", name);
    usage();
    return 2;
}

/* "fpu-check": not a fault. Exits 0 when this process started with xmm8 zero and the
 * default MXCSR, i.e. nothing of its parent's FPU state leaked in (test-isolation). */
NOINLINE static int fpu_check(void)
{
    uint64_t xmm8;
    uint32_t mxcsr;
    __asm__ volatile("movq %%xmm8, %0\n\tstmxcsr %1" : "=r"(xmm8), "=m"(mxcsr));
    printf("fpu-check: xmm8 0x%llx mxcsr 0x%x\n", (unsigned long long)xmm8, mxcsr);
    return (xmm8 == 0 && mxcsr == 0x1f80) ? 0 : 1;
}

int main(int argc, char **argv)
{
    int status;

    if (argc == 2 && strcmp(argv[1], "fpu-check") == 0)
        return fpu_check();
    if (argc == 2 && strcmp(argv[1], "sleep") == 0) {
        /* Not a fault: a child that takes its time, for test-isolation. */
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        return 0;
    }
    if (argc != 2) {
        usage();
        return 2;
    }
    status = crash_dispatch(argv[1]); /* crash-report: main call */
    fflush(stdout);
    return status;
}
