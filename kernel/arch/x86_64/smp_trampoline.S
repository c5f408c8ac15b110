/* SPDX-License-Identifier: MIT */
/*
 * The first code a secondary CPU runs: a start-up IPI leaves it in real mode at
 * CS:IP = (page << 8):0 (Intel SDM vol. 3A, 9.4.4 "MP Initialization Example" and 9.9
 * "Mode Switching"). This blob is data in the kernel image; smp.c copies it to the first
 * of the pages the loader reserved below 1 MiB and fills the parameter block at its end.
 *
 *   real mode        load a GDT, set CR0.PE, far jump to 32-bit code
 *   protected mode   CR4.PAE, CR3 = the trampoline's own PML4 (it must be below 4 GiB,
 *                    so smp.c builds it in the reserved pages), EFER.LME and NXE (the
 *                    page tables use NX), CR0.PG: compatibility mode; far jump to 64-bit
 *   long mode        RSP = the CPU's stack, RDI = its argument, jump to the kernel entry
 *
 * The code is position independent: real mode addresses through DS = CS, protected mode
 * through EBX = the blob's physical base, long mode RIP-relative. Only the far pointers
 * and the GDT base are absolute, and smp.c patches them. Interrupts stay off throughout.
 */
#define MSR_EFER   0xc0000080
#define EFER_LME   (1 << 8)
#define EFER_NXE   (1 << 11)
#define CR0_PE     (1 << 0)
#define CR0_PG     (1 << 31)
#define CR4_PAE    (1 << 5)
#define SEL_CODE32 0x08
#define SEL_DATA   0x10
#define SEL_CODE64 0x18

    .section .rodata, "a"
    .balign 16
    .globl smp_trampoline_start
smp_trampoline_start:
    .code16
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    movzwl %ax, %ebx
    shll $4, %ebx                       /* EBX = physical base of the blob */
    lgdtl (smp_trampoline_gdtr - smp_trampoline_start)
    movl %cr0, %eax
    orl $CR0_PE, %eax
    movl %eax, %cr0
    ljmpl *(smp_trampoline_far32 - smp_trampoline_start)

    .code32
    .globl smp_trampoline_pm32
smp_trampoline_pm32:
    movw $SEL_DATA, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl (smp_trampoline_cr3 - smp_trampoline_start)(%ebx), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_NXE), %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_PE), %eax
    movl %eax, %cr0
    ljmpl *(smp_trampoline_far64 - smp_trampoline_start)(%ebx)

    .code64
    .globl smp_trampoline_lm64
smp_trampoline_lm64:
    movq smp_trampoline_stack(%rip), %rsp
    movq smp_trampoline_arg(%rip), %rdi
    movq smp_trampoline_entry(%rip), %rax
    xorl %ebp, %ebp
    pushq $0                            /* a zero return address ends backtraces */
    jmpq *%rax

    .balign 8
smp_trampoline_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff            /* 0x08: 32-bit code, flat */
    .quad 0x00cf92000000ffff            /* 0x10: data, flat */
    .quad 0x00af9a000000ffff            /* 0x18: 64-bit code */
smp_trampoline_gdt_end:

/* The parameter block (smp.c fills it in the copy). */
    .balign 8
    .globl smp_trampoline_gdtr
smp_trampoline_gdtr:
    .word smp_trampoline_gdt_end - smp_trampoline_gdt - 1
    .long smp_trampoline_gdt - smp_trampoline_start /* + base, patched */
    .balign 8
    .globl smp_trampoline_far32
smp_trampoline_far32:
    .long smp_trampoline_pm32 - smp_trampoline_start /* + base, patched */
    .word SEL_CODE32
    .balign 8
    .globl smp_trampoline_far64
smp_trampoline_far64:
    .long smp_trampoline_lm64 - smp_trampoline_start /* + base, patched */
    .word SEL_CODE64
    .balign 8
    .globl smp_trampoline_cr3
smp_trampoline_cr3:
    .quad 0
    .globl smp_trampoline_stack
smp_trampoline_stack:
    .quad 0
    .globl smp_trampoline_entry
smp_trampoline_entry:
    .quad 0
    .globl smp_trampoline_arg
smp_trampoline_arg:
    .quad 0
    .globl smp_trampoline_end
smp_trampoline_end:
