/* SPDX-License-Identifier: MIT */
/*
 * Stack canaries for -fstack-protector-strong.
 *
 * Design notes:
 * - The kernel is built with -mstack-protector-guard=global: every protected function
 *   compares against the one 64-bit __stack_chk_guard. A single global is correct on
 *   every CPU and across context switches with no per-CPU slot to keep in step (clang's
 *   default %fs:0x28 would read whatever FS points at; GS is the kernel's per-CPU base).
 * - _start (entry.S) calls arch_stack_guard_init before kernel_main, so no protected
 *   function ever sees the value change. The value comes from RDSEED, else RDRAND, else
 *   the TSC mixed with the boot-info address (weak, but still differs from boot to boot).
 *   Its lowest byte is zero, so a string copy that runs over a buffer stops on it
 *   instead of writing a guessable value past it.
 * - __stack_chk_fail names the smashed function (its own return address lies in it) and
 *   panics. A hardening self-test that armed arch_fault_catch gets the report instead.
 */
#include "arch/x86_64/arch.h"
#include "core/panic.h"
#include <stdint.h>
#include <stdbool.h>

uint64_t __stack_chk_guard = 0x595e9fbd94fda700ull; /* replaced at boot */

#define CPUID1_ECX_RDRAND (1u << 30)
#define CPUID7_EBX_RDSEED (1u << 18)
#define RANDOM_RETRIES    32

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static bool hardware_random(bool seed, uint64_t *out)
{
    for (unsigned i = 0; i < RANDOM_RETRIES; i++) {
        uint8_t ok;
        if (seed)
            __asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok) :: "cc");
        else
            __asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok) :: "cc");
        if (ok)
            return true;
    }
    return false;
}

__attribute__((no_stack_protector)) void arch_stack_guard_init(uint64_t boot_info)
{
    uint32_t a, b, c, d, max_leaf;
    uint64_t value = 0;
    cpuid(0, &max_leaf, &b, &c, &d);
    cpuid(1, &a, &b, &c, &d);
    bool have_rdrand = c & CPUID1_ECX_RDRAND;
    bool have_rdseed = false;
    if (max_leaf >= 7) {
        cpuid(7, &a, &b, &c, &d);
        have_rdseed = b & CPUID7_EBX_RDSEED;
    }
    if (!(have_rdseed && hardware_random(true, &value)) &&
        !(have_rdrand && hardware_random(false, &value))) {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        value = (((uint64_t)hi << 32) | lo) * 0x9e3779b97f4a7c15ull;
        value ^= (boot_info * 0xbf58476d1ce4e5b9ull) ^ (value >> 29);
    }
    value &= ~(uint64_t)0xff;
    if (!value)
        value = 0x8c1f3e5a2b7d6400ull;
    __stack_chk_guard = value;
}

__attribute__((noreturn, no_stack_protector)) void __stack_chk_fail(void)
{
    /* Our return address lies in the function whose canary was overwritten. */
    uint64_t where = (uint64_t)__builtin_return_address(0);
    arch_fault_catch_deliver(ARCH_CATCH_STACK_SMASHED, where);
    char name[128];
    panic("stack protector: canary overwritten in %s (kernel stack buffer overflow)",
          panic_describe(where - 1, name, sizeof(name)));
}
