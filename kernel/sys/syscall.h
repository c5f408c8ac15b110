/* SPDX-License-Identifier: MIT */
/*
 * Syscall dispatch. Handlers are `long sys_NAME(const syscall_args_t *)` for each entry
 * of include/vk/syscall.h; they follow decode/act: copy user data in through
 * mm/usercopy.h, validate everything, then act. A syscall in the list without a handler
 * returns -ENOSYS, is counted and logged once.
 */
#ifndef KERNEL_SYS_SYSCALL_H
#define KERNEL_SYS_SYSCALL_H

#include <stdint.h>
#include "arch/x86_64/arch.h"
#include <vk/syscall.h>
#include <vk/errno.h>

typedef struct {
    uint64_t arg[6];       /* RDI, RSI, RDX, R10, R8, R9 */
    arch_frame_t *frame;   /* the caller's saved registers */
} syscall_args_t;

#define SYSCALL_DECLARE(name, nr) long sys_##name(const syscall_args_t *a) __attribute__((weak));
VK_SYSCALLS_LINUX(SYSCALL_DECLARE)
VK_SYSCALLS_VK(SYSCALL_DECLARE)
#undef SYSCALL_DECLARE

/* Returns non-zero when the return to ring 3 must restore every register (IRET). */
int syscall_dispatch(arch_frame_t *frame);
/* A handler that rewrote the whole frame (rt_sigreturn) asks for that exit. */
void syscall_request_full_restore(void);
/* Calls seen since boot: total and -ENOSYS, by number (for KObj later). */
uint64_t syscall_count(uint64_t nr);
uint64_t syscall_enosys_total(void);
const char *syscall_name(uint64_t nr);

#endif
