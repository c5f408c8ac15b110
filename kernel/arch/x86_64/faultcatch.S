/* SPDX-License-Identifier: MIT */
/*
 * arch_fault_catch(c): like setjmp. Returns 0 after arming; if a kernel-mode exception
 * then arrives before arch_fault_catch_end(), the exception path records it in *c and
 * calls arch_fault_resume(c), which makes arch_fault_catch return 1 a second time, on
 * the stack and with the registers it was called with. Used by the hardening self-tests
 * to provoke faults at addresses no static fixup can name (executing data, stack
 * overflow into a guard page).
 *
 * Layout of arch_fault_catch_t (arch.h): rip, rsp, rbx, rbp, r12, r13, r14, r15.
 */
    .text
    .globl arch_fault_catch
arch_fault_catch:
    movq (%rsp), %rax
    movq %rax, 0(%rdi)          /* return address */
    leaq 8(%rsp), %rax
    movq %rax, 8(%rdi)          /* caller's rsp after our return */
    movq %rbx, 16(%rdi)
    movq %rbp, 24(%rdi)
    movq %r12, 32(%rdi)
    movq %r13, 40(%rdi)
    movq %r14, 48(%rdi)
    movq %r15, 56(%rdi)
    subq $8, %rsp               /* alignment for the C call */
    call arch_fault_catch_arm   /* arch_fault_catch_arm(c): c is still in rdi */
    addq $8, %rsp
    xorl %eax, %eax
    ret

    .globl arch_fault_resume
arch_fault_resume:
    movq 8(%rdi), %rsp
    movq 16(%rdi), %rbx
    movq 24(%rdi), %rbp
    movq 32(%rdi), %r12
    movq 40(%rdi), %r13
    movq 48(%rdi), %r14
    movq 56(%rdi), %r15
    movl $1, %eax
    jmp *0(%rdi)

/* arch_call_on_stack(top, fn, arg): runs fn(arg) on another stack and comes back. */
    .globl arch_call_on_stack
arch_call_on_stack:
    pushq %rbp
    movq %rsp, %rbp
    movq %rdi, %rsp
    movq %rdx, %rdi
    call *%rsi
    movq %rbp, %rsp
    popq %rbp
    ret
