/* SPDX-License-Identifier: MIT */
/*
 * SYSCALL/SYSRET set-up (Intel SDM vol. 3A, 5.8.8 "Fast System Calls in 64-Bit Mode")
 * and the per-CPU kernel stack used when ring 3 enters the kernel.
 */
#include "arch/x86_64/cpu.h"
#include "core/panic.h"

#define EFER_SCE     (1ull << 0)
#define MSR_STAR     0xc0000081u
#define MSR_LSTAR    0xc0000082u
#define MSR_FMASK    0xc0000084u
#define MSR_FS_BASE  0xc0000100u
/* RFLAGS bits cleared on SYSCALL: TF, IF, DF, NT, AC. IF off is what makes the stack
 * switch in syscall_entry safe. */
#define SYSCALL_FMASK 0x47700ull

void syscall_entry(void);

void cpu_syscall_init(void)
{
    arch_wrmsr(MSR_EFER, arch_rdmsr(MSR_EFER) | EFER_SCE);
    /* SYSCALL: CS = 0x08, SS = 0x10. SYSRET (64-bit): CS = 0x18 + 16 | 3 = 0x2b,
     * SS = 0x18 + 8 | 3 = 0x23: the GDT order in gdt.c exists for this. */
    arch_wrmsr(MSR_STAR, (0x18ull << 48) | ((uint64_t)CPU_SEL_KERNEL_CODE << 32));
    arch_wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    arch_wrmsr(MSR_FMASK, SYSCALL_FMASK);
}

void arch_set_kernel_stack(uint64_t top)
{
    KASSERT(!arch_irq_enabled());
    cpu_t *c = cpu_current();
    c->kernel_rsp = top;
    c->tss.rsp[0] = top;
}

uint64_t arch_kernel_stack(void)
{
    return cpu_current()->kernel_rsp;
}

void arch_set_user_fs(uint64_t base)
{
    arch_wrmsr(MSR_FS_BASE, base);
}


void arch_fpu_init_state(arch_fpu_state_t *s)
{
    __builtin_memset(s, 0, sizeof(*s));
    s->bytes[0] = 0x7f; /* FCW = 0x037f */
    s->bytes[1] = 0x03;
    uint32_t mxcsr = 0x1f80; /* MXCSR at byte 24 */
    __builtin_memcpy(&s->bytes[24], &mxcsr, 4);
}

void arch_fpu_reset(void)
{
    static arch_fpu_state_t initial;
    if (!initial.bytes[0])
        arch_fpu_init_state(&initial);
    arch_fpu_restore(&initial);
}
