/* SPDX-License-Identifier: MIT */
/* In-kernel tests of the CPU set-up: exception delivery, fixups, protection bits. */
#include "arch/x86_64/cpu.h"
#include "test/ktest.h"
#include "mm/mm.h"

static volatile uint64_t breakpoint_hits;
static volatile uint64_t breakpoint_rip;

static void on_breakpoint(arch_frame_t *f)
{
    breakpoint_hits++;
    breakpoint_rip = f->rip;
}

KTEST(exception_breakpoint_delivered_and_resumes)
{
    uint64_t before = arch_exception_count(3);
    arch_set_breakpoint_hook(on_breakpoint);
    __asm__ volatile("int3");
    arch_set_breakpoint_hook(NULL);
    KTEST_EXPECT_EQ(breakpoint_hits, 1);
    KTEST_EXPECT_EQ(arch_exception_count(3), before + 1);
    KTEST_EXPECT(breakpoint_rip >= VK_BOOT_KERNEL_BASE);
}

KTEST(exception_fixup_recovers_from_invalid_opcode)
{
    uint64_t before = arch_exception_count(6);
    uint64_t reached = 0;
    __asm__ volatile("1: ud2\n\t"
                     "movq $1, %0\n\t" /* skipped: the fixup jumps past it */
                     "2:\n\t"
                     ARCH_FIXUP(1b, 2b)
                     : "+r"(reached));
    KTEST_EXPECT_EQ(reached, 0);
    KTEST_EXPECT_EQ(arch_exception_count(6), before + 1);
}

KTEST(exception_fixup_recovers_from_general_protection)
{
    uint64_t before = arch_exception_count(13);
    /* A non-canonical address raises #GP. */
    __asm__ volatile("1: movq (%0), %%rax\n\t"
                     "2:\n\t" ARCH_FIXUP(1b, 2b)
                     :
                     : "r"(0x8000000000000000ull)
                     : "rax", "memory");
    KTEST_EXPECT_EQ(arch_exception_count(13), before + 1);
}

KTEST(control_registers_protect_the_kernel)
{
    const arch_features_t *f = arch_features();
    KTEST_EXPECT(arch_read_cr0() & (1ull << 16));           /* WP */
    KTEST_EXPECT(arch_rdmsr(MSR_EFER) & (1ull << 11));      /* NXE */
    KTEST_EXPECT(!f->smep || (arch_read_cr4() & (1ull << 20)));
    KTEST_EXPECT(!f->smap || (arch_read_cr4() & (1ull << 21)));
    KTEST_EXPECT(!f->umip || (arch_read_cr4() & (1ull << 11)));
}

KTEST(per_cpu_pointer_through_gs)
{
    cpu_t *c = cpu_current();
    KTEST_EXPECT(c != NULL);
    KTEST_EXPECT(c->self == c);
    KTEST_EXPECT_EQ(c->index, 0);
}

KTEST(ist_stacks_are_guarded)
{
    cpu_t *c = cpu_current();
    for (unsigned i = 0; i < 3; i++) {
        uint64_t top = c->tss.ist[i];
        KTEST_EXPECT(top != 0);
        /* the stack itself is mapped; the page below it is the unmapped guard */
        KTEST_EXPECT(vmm_query(top - 8, NULL, NULL));
        KTEST_EXPECT(!vmm_query(top - (CONFIG_IST_STACK_PAGES + 1) * PAGE_SIZE, NULL, NULL));
    }
}
