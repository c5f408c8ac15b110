/* SPDX-License-Identifier: MIT */
/*
 * Futexes (kernel/proc/futex.c): threads wait on a 32-bit word in their address space
 * until another thread wakes that word. A private futex (FUTEX_PRIVATE_FLAG, or any
 * word outside shared memory) is keyed by (address space, user address); a shared one
 * in shared memory (MAP_SHARED anonymous, IPC shared memory) by the word's physical
 * address, so processes that map the page at different addresses meet there.
 */
#ifndef KERNEL_PROC_FUTEX_H
#define KERNEL_PROC_FUTEX_H

#include <stdbool.h>
#include <stdint.h>
#include "mm/aspace.h"

#define FUTEX_BITSET_ANY 0xffffffffu

typedef struct {
    const void *space; /* the address space, or futex_shared_space for shared words */
    uint64_t addr;     /* the user address, or the physical address */
} futex_key_t;
extern const char futex_shared_space[];

/* The key of the word at uaddr: 0, -VK_EINVAL (misaligned) or -VK_EFAULT. */
int futex_key(aspace_t *as, uint64_t uaddr, bool shared, futex_key_t *out);
/* Sleeps while *uaddr == expected (uaddr in the caller's space, with the key of that
 * word), until woken by a matching bitset, the deadline (time_monotonic_ns;
 * SCHED_WAIT_FOREVER) or a signal. 0, -VK_EAGAIN (the value differed), -VK_ETIMEDOUT,
 * -VK_EINTR, -VK_EFAULT or -VK_EINVAL. */
int futex_wait(const futex_key_t *key, uint64_t uaddr, uint32_t expected, uint32_t bitset,
               uint64_t deadline_ns);
/* Wakes up to n waiters on key whose bitset meets `bitset`; returns how many. */
int futex_wake(const futex_key_t *key, int n, uint32_t bitset);

#endif
