/* SPDX-License-Identifier: MIT */
/*
 * The one checked path between the kernel and user memory. Every system call that takes
 * a user pointer goes through these functions; nothing else in ring 0 dereferences one.
 *
 * Each call first checks that the range lies in [0, ASPACE_USER_LIMIT) without wrapping,
 * so kernel-half, non-canonical and wrapping pointers never reach the CPU. The copy then
 * runs with SMAP opened (stac/clac, on CPUs that have SMAP) in routines whose faults
 * demand paging may resolve; a fault it cannot resolve resumes at a fixup and the call
 * returns -VK_EFAULT. No user-supplied pointer can make the kernel fault.
 */
#ifndef KERNEL_MM_USERCOPY_H
#define KERNEL_MM_USERCOPY_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* 0 or -VK_EFAULT. On a fault usercopy_from zeroes the part of dst it could not fill,
 * so no stale kernel bytes survive; user memory before the fault has been written by
 * usercopy_to and usercopy_clear. len 0 always succeeds. */
int usercopy_from(void *dst, uint64_t user_src, size_t len);
int usercopy_to(uint64_t user_dst, const void *src, size_t len);
int usercopy_clear(uint64_t user_dst, size_t len);
/* Copies a NUL-terminated string of at most max bytes including the NUL. Returns its
 * length without the NUL, -VK_ENAMETOOLONG if max bytes hold no NUL (dst is then
 * truncated and terminated when max > 0) or -VK_EFAULT. */
long usercopy_strncpy_from(char *dst, uint64_t user_src, size_t max);

/* True if rip lies in the copy routines: the only kernel code whose faults on user
 * addresses are paged in (aspace_handle_page_fault). */
bool usercopy_owns_rip(uint64_t rip);

#endif
