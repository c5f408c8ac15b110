/* SPDX-License-Identifier: MIT */
/*
 * Interrupt entry stubs for all 256 vectors. Each stub pushes a dummy error code when the
 * CPU does not push one (Intel SDM vol. 3A, 6.13 "Error Code": vectors 8, 10-14, 17, 21,
 * 29, 30 have one), then its vector number, and joins the common path, which saves the
 * general registers in the layout of arch_frame_t and calls arch_interrupt_dispatch.
 */
#include "frame.inc"

    .text

isr_common:
    /* From ring 3 (CS RPL in the CPU frame at 24(%rsp)): switch to the kernel's GS. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    PUSH_GPRS
    cld
    movq %rsp, %rdi
    /* Link the frame into the rbp chain so backtraces walk through interrupts. */
    movq 136(%rsp), %rax        /* interrupted RIP */
    pushq %rax
    pushq 64+8(%rsp)            /* interrupted RBP (saved above) */
    movq %rsp, %rbp
    /* Align the stack for the C call. */
    movq %rsp, %rbx
    andq $-16, %rsp
    call arch_interrupt_dispatch
    movq %rbx, %rsp
    addq $16, %rsp
    POP_GPRS
    addq $16, %rsp              /* vector and error code */
    testb $3, 8(%rsp)           /* back to ring 3: give the user its GS again */
    jz 2f
    swapgs
2:  iretq

/* Every stub is 16-byte aligned and shorter than 16 bytes, so the stub for vector v
 * is at arch_isr_stubs + 16 * v. */
    .align 16
    .globl arch_isr_stubs
arch_isr_stubs:
    .set vec, 0
    .rept 256
    .align 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr
