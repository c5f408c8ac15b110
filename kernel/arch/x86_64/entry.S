/* SPDX-License-Identifier: MIT */
/*
 * Kernel entry from the UEFI loader: RDI = boot info (direct-map address), RSP = a boot
 * stack in vkernel memory, interrupts off, paging on with the loader's tables.
 */
    .section .text.entry, "ax"
    .globl _start
_start:
    cld
    andq $-16, %rsp
    xorl %ebp, %ebp
    pushq %rdi
    subq $8, %rsp
    call arch_stack_guard_init  /* the canary, before any protected C function runs */
    addq $8, %rsp
    popq %rdi
    call kernel_main
1:  cli
    hlt
    jmp 1b

/* arch_switch_stack(top, fn, arg): continue in fn(arg) on a new stack; never returns. */
    .text
    .globl arch_switch_stack
arch_switch_stack:
    movq %rdi, %rsp
    xorl %ebp, %ebp
    movq %rdx, %rdi
    pushq $0
    jmp *%rsi
