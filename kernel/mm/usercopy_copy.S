/* SPDX-License-Identifier: MIT */
/*
 * The instructions that touch user memory, kept between usercopy_text_start and
 * usercopy_text_end so the page-fault path can tell them from any other kernel code.
 * Every instruction that may fault has a fixup entry (same layout as ARCH_FIXUP in
 * arch/x86_64/arch.h); the fixup returns how much was left undone.
 *
 * A rep movsb/stosb that faults leaves RCX/RSI/RDI at the first byte not copied (SDM
 * vol. 2B, REP: "the instruction can be restarted"), so demand paging can simply retry
 * it, and the fixup can read the remaining count from RCX. Callers open SMAP (stac)
 * around these calls; these routines do not know whether the CPU has it.
 */
    .section .text.usercopy, "ax", @progbits

    .globl usercopy_text_start
usercopy_text_start:

/* uint64_t usercopy_raw_copy(void *dst, const void *src, uint64_t len):
 * returns the number of bytes NOT copied (0 on success). */
    .globl usercopy_raw_copy
    .type usercopy_raw_copy, @function
usercopy_raw_copy:
    movq %rdx, %rcx
1:  rep movsb
2:  movq %rcx, %rax
    ret
    .pushsection fixups, "a"
    .balign 8
    .quad 1b, 2b
    .popsection
    .size usercopy_raw_copy, . - usercopy_raw_copy

/* uint64_t usercopy_raw_clear(void *dst, uint64_t len): bytes NOT cleared. */
    .globl usercopy_raw_clear
    .type usercopy_raw_clear, @function
usercopy_raw_clear:
    movq %rsi, %rcx
    xorl %eax, %eax
1:  rep stosb
2:  movq %rcx, %rax
    ret
    .pushsection fixups, "a"
    .balign 8
    .quad 1b, 2b
    .popsection
    .size usercopy_raw_clear, . - usercopy_raw_clear

/* int64_t usercopy_raw_strncpy(char *dst, const char *src, uint64_t max):
 * copies up to and including the first NUL among max bytes. Returns the NUL's index
 * (the string length), max when there is none, -1 on an unresolved fault. */
    .globl usercopy_raw_strncpy
    .type usercopy_raw_strncpy, @function
usercopy_raw_strncpy:
    xorl %eax, %eax
3:  cmpq %rdx, %rax
    je 5f
1:  movzbl (%rsi,%rax), %ecx
    movb %cl, (%rdi,%rax)
    testb %cl, %cl
    jz 5f
    incq %rax
    jmp 3b
5:  ret
2:  movq $-1, %rax
    ret
    .pushsection fixups, "a"
    .balign 8
    .quad 1b, 2b
    .popsection
    .size usercopy_raw_strncpy, . - usercopy_raw_strncpy

    .globl usercopy_text_end
usercopy_text_end:
