/* SPDX-License-Identifier: MIT */
/*
 * Futexes (kernel/proc/futex.c): threads wait on a 32-bit word in their address space
 * until another thread wakes that word. Keyed by (address space, user address), so
 * they work between the threads of one process; futexes in memory shared between
 * processes (MAP_SHARED across fork) are not matched yet.
 */
#ifndef KERNEL_PROC_FUTEX_H
#define KERNEL_PROC_FUTEX_H

#include <stdint.h>
#include "mm/aspace.h"

#define FUTEX_BITSET_ANY 0xffffffffu

/* Sleeps while *uaddr == expected, until woken by a matching bitset, the deadline
 * (time_monotonic_ns; SCHED_WAIT_FOREVER) or a signal. 0, -VK_EAGAIN (the value
 * differed), -VK_ETIMEDOUT, -VK_EINTR, -VK_EFAULT or -VK_EINVAL (misaligned). */
int futex_wait(aspace_t *as, uint64_t uaddr, uint32_t expected, uint32_t bitset,
               uint64_t deadline_ns);
/* Wakes up to n waiters on uaddr whose bitset meets `bitset`; returns how many. */
int futex_wake(aspace_t *as, uint64_t uaddr, int n, uint32_t bitset);

#endif
