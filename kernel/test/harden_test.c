/* SPDX-License-Identifier: MIT */
/*
 * Hardening self-tests in the style of Linux's LKDTM: each one makes the kernel do
 * something its protections must stop, catches the resulting exception with
 * arch_fault_catch, and checks that the right protection fired (vector, error code,
 * faulting address). The in-kernel suite runs on QEMU's "max" CPU model, where SMEP and
 * SMAP exist; the tests that need them say so by failing when they are absent.
 */
#include "test/ktest.h"
#include "arch/x86_64/arch.h"
#include "mm/mm.h"
#include "mm/aspace.h"
#include "core/string.h"
#include "core/panic.h"

#define PF_PRESENT 0x1
#define PF_WRITE   0x2
#define PF_USER    0x4
#define PF_FETCH   0x10
#define VECTOR_DF  8
#define VECTOR_PF  14
#define USER_PAGE  0x0000100000000000ull

void kernel_main(const void *info);
static const uint8_t read_only_bytes[64] = { 1, 2, 3 };

/* Runs fn(arg) expecting a fault; returns the caught record (vector 0 if none). */
static arch_fault_catch_t provoke(void (*fn)(void *), void *arg)
{
    static arch_fault_catch_t c; /* static: survives the second return unchanged */
    bool irq = arch_irq_enabled();
    if (arch_fault_catch(&c) == 0) {
        fn(arg);
        arch_fault_catch_end();
    }
    if (irq)
        arch_irq_enable();
    return c;
}

static void call_address(void *code)
{
    ((void (*)(void))code)();
}

static void write_byte(void *addr)
{
    *(volatile uint8_t *)addr = 0x90;
}

static void read_word(void *addr)
{
    (void)*(volatile uint64_t *)addr;
}

KTEST(harden_heap_is_not_executable)
{
    uint8_t *code = kmalloc(64);
    KTEST_EXPECT(code != NULL);
    code[0] = 0xc3; /* ret */
    arch_fault_catch_t c = provoke(call_address, code);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT(c.error_code & PF_FETCH);
    KTEST_EXPECT_EQ(c.fault_rip, (uint64_t)code);
    kfree(code);
}

KTEST(harden_stack_is_not_executable)
{
    uint8_t code[16] = { 0xc3 };
    arch_fault_catch_t c = provoke(call_address, code);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT(c.error_code & PF_FETCH);
    KTEST_EXPECT_EQ(c.cr2, (uint64_t)code);
}

KTEST(harden_kernel_text_is_not_writable)
{
    arch_fault_catch_t c = provoke(write_byte, (void *)kernel_main);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT_EQ(c.error_code & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
    KTEST_EXPECT_EQ(c.cr2, (uint64_t)kernel_main);
}

KTEST(harden_rodata_is_not_writable)
{
    arch_fault_catch_t c = provoke(write_byte, (void *)&read_only_bytes[5]);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT_EQ(c.cr2, (uint64_t)&read_only_bytes[5]);
    KTEST_EXPECT_EQ(read_only_bytes[5], 0);
}

static volatile uint64_t recursion_depth;

static void recurse_forever(void *arg)
{
    volatile uint8_t pad[512];
    pad[0] = (uint8_t)recursion_depth++;
    if (recursion_depth < (1u << 30)) /* always true: 16 KiB of stack ends far sooner */
        recurse_forever(arg);
    pad[1] = pad[0]; /* not a tail call */
}

static void overflow_stack_at(void *top)
{
    arch_call_on_stack(top, recurse_forever, NULL);
}

KTEST(harden_kernel_stack_overflow_hits_guard_page)
{
    void *top = vmm_alloc_kernel_stack(2);
    KTEST_EXPECT(top != NULL);
    recursion_depth = 0;
    arch_fault_catch_t c = provoke(overflow_stack_at, top);
    /* The write into the guard page faults; pushing that fault's frame onto the same
     * full stack faults again: a double fault, taken on its own IST stack. */
    KTEST_EXPECT(c.vector == VECTOR_DF || c.vector == VECTOR_PF);
    /* CR2 holds the first fault's address: inside the unmapped page below the stack. */
    uint64_t guard = (uint64_t)top - 3 * PAGE_SIZE;
    KTEST_EXPECT(c.cr2 >= guard && c.cr2 < guard + PAGE_SIZE);
    KTEST_EXPECT(recursion_depth > 4);
}

/* An address space with one user page holding `ret`, active while fn runs. */
static arch_fault_catch_t with_user_page(unsigned prot, void (*fn)(void *))
{
    arch_fault_catch_t c = { 0 };
    aspace_t *as = aspace_create();
    KTEST_EXPECT(as != NULL);
    if (!as)
        return c;
    uint8_t ret = 0xc3;
    KTEST_EXPECT_EQ(aspace_map(as, USER_PAGE, PAGE_SIZE, prot, ASPACE_ANON, "harden"), 0);
    KTEST_EXPECT_EQ(aspace_write(as, USER_PAGE, &ret, 1), 0);
    aspace_activate(as);
    c = provoke(fn, (void *)USER_PAGE);
    aspace_activate(NULL);
    aspace_destroy(as);
    return c;
}

KTEST(harden_smep_stops_kernel_executing_user_page)
{
    KTEST_EXPECT(arch_features()->smep); /* the suite runs on -cpu max */
    if (!arch_features()->smep)
        return;
    arch_fault_catch_t c = with_user_page(ASPACE_PROT_READ | ASPACE_PROT_EXEC, call_address);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT_EQ(c.error_code & (PF_PRESENT | PF_FETCH | PF_USER), PF_PRESENT | PF_FETCH);
    KTEST_EXPECT_EQ(c.cr2, USER_PAGE);
}

KTEST(harden_smap_stops_kernel_reading_user_page)
{
    KTEST_EXPECT(arch_features()->smap);
    if (!arch_features()->smap)
        return;
    arch_fault_catch_t c = with_user_page(ASPACE_PROT_READ | ASPACE_PROT_WRITE, read_word);
    KTEST_EXPECT_EQ(c.vector, VECTOR_PF);
    KTEST_EXPECT_EQ(c.error_code & (PF_PRESENT | PF_USER), PF_PRESENT);
    KTEST_EXPECT_EQ(c.cr2, USER_PAGE);
}

/* ---- stack canary (-fstack-protector-strong) ---------------------------------------- */

extern uint64_t __stack_chk_guard;
static volatile size_t smash_length; /* volatile: the compiler cannot see the overflow */

__attribute__((noinline)) static void fill_bytes(volatile uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = 0x41;
}

/* A local array makes this function protected; writing past it reaches the canary,
 * which the compiler places right above the array, before anything else of the frame. */
__attribute__((noinline)) static void smash_own_stack(void *out)
{
    uint8_t buf[32];
    fill_bytes(buf, smash_length);
    *(volatile uint8_t *)out = buf[3];
}

KTEST(harden_stack_canary_is_random)
{
    KTEST_EXPECT(__stack_chk_guard != 0x595e9fbd94fda700ull); /* the link-time value */
    KTEST_EXPECT_EQ(__stack_chk_guard & 0xff, 0);           /* stops string overruns */
    KTEST_EXPECT(__stack_chk_guard >> 8 != 0);
}

KTEST(harden_stack_canary_in_bounds_write_is_fine)
{
    uint8_t out = 0;
    smash_length = 32;
    arch_fault_catch_t c = provoke(smash_own_stack, &out);
    KTEST_EXPECT_EQ(c.vector, 0);
    KTEST_EXPECT_EQ(out, 0x41);
}

KTEST(harden_stack_canary_overwrite_is_caught)
{
    uint8_t out = 0;
    smash_length = 32 + 8; /* the array and the canary above it */
    arch_fault_catch_t c = provoke(smash_own_stack, &out);
    KTEST_EXPECT_EQ(c.vector, ARCH_CATCH_STACK_SMASHED);
    KTEST_EXPECT_EQ(out, 0x41); /* the body ran to its end: the check is in the epilogue */
    /* The report names the smashed function (what the panic message prints). */
    char name[128];
    panic_describe(c.fault_rip - 1, name, sizeof(name));
    KTEST_EXPECT(strncmp(name, "smash_own_stack+", 16) == 0);
}

#ifdef KERNEL_UBSAN
static volatile int shift_by = 40;

static void shift_too_far(void *out)
{
    *(volatile int *)out = 1 << shift_by;
}

KTEST(harden_ubsan_trap_is_named)
{
    int out = 0;
    arch_fault_catch_t c = provoke(shift_too_far, &out);
    KTEST_EXPECT_EQ(c.vector, 6); /* #UD: the trap instruction */
    const char *check = arch_ubsan_check_at(c.fault_rip);
    KTEST_EXPECT(check && strcmp(check, "shift out of bounds") == 0);
    KTEST_EXPECT(arch_ubsan_check_at((uint64_t)kernel_main) == NULL);
}
#endif

KTEST(harden_no_fault_means_nothing_caught)
{
    uint64_t x = 0;
    arch_fault_catch_t c = provoke(write_byte, &x);
    KTEST_EXPECT_EQ(c.vector, 0);
    KTEST_EXPECT_EQ(x & 0xff, 0x90);
}
