/* SPDX-License-Identifier: MIT */
/*
 * Thread context switch and the first code of a new thread (kernel/sched).
 *
 * arch_context_switch(uint64_t *save_rsp, uint64_t load_rsp): pushes what the SysV ABI
 * says a callee must preserve (RBX, RBP, R12-R15) plus RFLAGS onto the current stack,
 * stores RSP in *save_rsp, loads load_rsp, pops the same words for the other thread
 * and returns into it. Everything else is caller-saved, so the C caller has already
 * spilled it. RFLAGS travels with the thread so AC (SMAP) and IF are per-thread; the
 * scheduler always switches with IF clear. The pop order matches arch_switch_frame_t
 * in kernel/sched/sched_internal.h, which thread.c uses to build a new thread's frame.
 *
 * arch_thread_trampoline: where a new thread's first switch "returns" to, with RBP = 0
 * (the end of backtraces), R12 = entry, R13 = arg and RSP 16-byte aligned. It lets the
 * scheduler finish the switch (release the CPU lock), turns interrupts on, calls
 * entry(arg), and ends the thread if entry returns.
 */
#include "frame.inc"

    .text
    .globl arch_context_switch
arch_context_switch:
    pushfq
    PUSH_CALLEE_SAVED
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    POP_CALLEE_SAVED
    popfq
    ret

    .globl arch_thread_trampoline
arch_thread_trampoline:
    call sched_thread_first_run
    sti
    movq %r13, %rdi
    call *%r12
    call sched_thread_exit
    ud2
