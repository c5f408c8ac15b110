/* SPDX-License-Identifier: MIT */
/* futex(2): wait, wake, their bitset forms, and requeue (kernel/proc/futex.c). */
#include "sys/sys_internal.h"
#include "proc/futex.h"
#include "mm/usercopy.h"
#include "time/time.h"

#define FUTEX_WAIT            0
#define FUTEX_WAKE            1
#define FUTEX_REQUEUE         3
#define FUTEX_CMP_REQUEUE     4
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAKE_BITSET     10
#define FUTEX_PRIVATE_FLAG    128
#define FUTEX_CLOCK_REALTIME  256 /* the same clock here until there is an RTC */

long sys_futex(const syscall_args_t *a)
{
    uint64_t uaddr = a->arg[0];
    int op = (int)(a->arg[1] & ~(uint64_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME));
    uint32_t val = (uint32_t)a->arg[2];
    bool shared = !(a->arg[1] & FUTEX_PRIVATE_FLAG);
    futex_key_t key;
    uint64_t deadline;
    int err = futex_key(proc_current()->aspace, uaddr, shared, &key);
    if (err)
        return err;
    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        uint32_t bitset = op == FUTEX_WAIT ? FUTEX_BITSET_ANY : (uint32_t)a->arg[5];
        /* Relative for FUTEX_WAIT, absolute for FUTEX_WAIT_BITSET (Linux's rule). */
        err = sys_timespec_deadline(a->arg[3], op == FUTEX_WAIT_BITSET, &deadline);
        return err ? err : futex_wait(&key, uaddr, val, bitset, deadline);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t bitset = op == FUTEX_WAKE ? FUTEX_BITSET_ANY : (uint32_t)a->arg[5];
        return futex_wake(&key, (int)(val > INT32_MAX ? INT32_MAX : val), bitset);
    }
    case FUTEX_CMP_REQUEUE: {
        uint32_t now;
        err = usercopy_from(&now, uaddr, sizeof(now));
        if (err)
            return err;
        if (now != (uint32_t)a->arg[5])
            return -VK_EAGAIN;
    }
        /* fall through */
    case FUTEX_REQUEUE: {
        /* Waking the waiters that would be moved instead of moving them: a futex wait
         * may always end early, and every user re-checks its condition. */
        uint64_t n = (uint64_t)val + (uint32_t)a->arg[3]; /* nr_wake + nr_requeue */
        return futex_wake(&key, n > INT32_MAX ? INT32_MAX : (int)n, FUTEX_BITSET_ANY);
    }
    default:
        return -VK_ENOSYS;
    }
}
