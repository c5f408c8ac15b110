/* SPDX-License-Identifier: MIT */
/*
 * Ring 3 entry and exit.
 *
 * syscall_entry: the SYSCALL target (LSTAR). The CPU left RIP in RCX, RFLAGS in R11 and
 * did not switch stacks (Intel SDM vol. 2B, SYSCALL); FMASK cleared IF, so nothing can
 * interrupt us before we are on the kernel stack. We build an arch_frame_t exactly like
 * the interrupt path (vector 0x100 marks a syscall), so exceptions, signals and exec
 * can treat both alike, call syscall_dispatch(frame), and leave with SYSRET. The C side
 * guarantees frame->rip is canonical (a non-canonical RCX would make SYSRET fault in
 * ring 0). When syscall_dispatch returns non-zero (rt_sigreturn rewrote the frame), the
 * exit is IRET instead, so RCX and R11 come back too.
 *
 * arch_user_enter(rip, rsp, &resume): saves the callee-saved registers and the stack
 * position in *resume, makes the stack below them the kernel stack for this user run,
 * and IRETs to ring 3 with every general register cleared.
 * arch_user_resume(resume, status): abandons whatever kernel frames the process left on
 * that stack and returns `status` from the matching arch_user_enter.
 */
#define CPU_OFFSET_KERNEL_RSP 16
#define CPU_OFFSET_USER_RSP   24
#define SEL_USER_DATA 0x23
#define SEL_USER_CODE 0x2b

#include "frame.inc"

    .text
    .globl syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:CPU_OFFSET_USER_RSP
    movq %gs:CPU_OFFSET_KERNEL_RSP, %rsp
    pushq $SEL_USER_DATA
    pushq %gs:CPU_OFFSET_USER_RSP
    pushq %r11
    pushq $SEL_USER_CODE
    pushq %rcx
    pushq $0                    /* error code */
    pushq $0x100                /* "vector": a syscall */
    PUSH_GPRS
    movq %rsp, %rdi
    xorl %ebp, %ebp             /* backtraces stop here */
    call syscall_dispatch       /* interrupts are enabled inside as needed */
    cli
    testl %eax, %eax            /* non-zero: every register must come back (sigreturn) */
    jnz syscall_exit_iret
    POP_GPRS
    addq $16, %rsp              /* vector, error code */
    popq %rcx                   /* user RIP */
    addq $8, %rsp               /* CS */
    popq %r11                   /* user RFLAGS */
    popq %rsp                   /* user RSP; SS is implied by SYSRET */
    swapgs
    sysretq

/* SYSRET cannot restore RCX and R11; after rt_sigreturn (or anything that rewrote the
 * whole frame) leave through IRET, which the frame's layout already matches. */
syscall_exit_iret:
    POP_GPRS
    addq $16, %rsp              /* vector, error code */
    swapgs
    iretq

    .globl arch_user_enter
arch_user_enter:
    PUSH_CALLEE_SAVED
    movq %rsp, (%rdx)
    /* The kernel stack for this run starts right below the saved registers. Interrupts
     * go off first: were this thread moved to another CPU in the middle, the stack would
     * be set in the old CPU's TSS, the new CPU's would keep the stack top, and the first
     * interrupt from ring 3 would overwrite the registers saved above. */
    cli
    pushq %rdi
    pushq %rsi
    leaq 16(%rsp), %rdi
    subq $8, %rsp               /* 16-byte alignment for the call */
    call arch_set_kernel_stack
    addq $8, %rsp
    popq %rsi
    popq %rdi
    pushq $SEL_USER_DATA
    pushq %rsi
    pushq $0x202                /* IF set */
    pushq $SEL_USER_CODE
    pushq %rdi
    xorl %eax, %eax
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %edi, %edi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    swapgs
    iretq

/* arch_user_enter_frame(frame, &resume): like arch_user_enter, but ring 3 continues with
 * every register of *frame (an arch_frame_t, 22 words): a forked child returning from
 * fork with its parent's registers. */
    .globl arch_user_enter_frame
arch_user_enter_frame:
    PUSH_CALLEE_SAVED
    movq %rsp, (%rsi)
    cli                         /* before the stack is set: see arch_user_enter */
    pushq %rdi
    leaq 8(%rsp), %rdi          /* this run's kernel stack starts below the saved registers */
    call arch_set_kernel_stack  /* 16-byte aligned here: 7 pushes after the return address */
    popq %rsi
    subq $176, %rsp             /* room for the frame, then copy it in */
    movq %rsp, %rdi
    movl $22, %ecx
    cld
    rep movsq
    POP_GPRS
    addq $16, %rsp              /* vector, error code */
    swapgs
    iretq

    .globl arch_user_resume
arch_user_resume:
    movq %rdi, %rsp
    movl %esi, %eax
    POP_CALLEE_SAVED
    ret
