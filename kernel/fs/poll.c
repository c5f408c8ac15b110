/* SPDX-License-Identifier: MIT */
/*
 * Poll readiness changes. One generation counter and one wait queue for the whole
 * system: every change that can make a file readable or writable (pipe data, a closed
 * end, console input) bumps the generation and wakes every poller, which re-checks its
 * descriptors. A poller samples the generation before it checks, so a change between
 * its check and its sleep is never lost. With a handful of pollers this costs little;
 * per-file wait lists can replace it without changing the interface.
 */
#include "fs/vfs.h"
#include <vk/errno.h>

static spinlock_t lock = SPINLOCK_INIT;
static uint64_t generation; /* guarded by lock */
static sched_wait_queue_t pollers = SCHED_WAIT_QUEUE_INIT;

void vfs_poll_notify(void)
{
    uint64_t f = spinlock_lock_irqsave(&lock);
    generation++;
    spinlock_unlock_irqrestore(&lock, f);
    if (sched_wait_queue_length(&pollers))
        sched_wake_all(&pollers);
}

uint64_t vfs_poll_generation(void)
{
    uint64_t f = spinlock_lock_irqsave(&lock);
    uint64_t g = generation;
    spinlock_unlock_irqrestore(&lock, f);
    return g;
}

int vfs_poll_wait(uint64_t seen, uint64_t deadline_ns)
{
    uint64_t f = spinlock_lock_irqsave(&lock);
    int err = 0;
    while (generation == seen && !err)
        err = sched_wait_interruptible(&pollers, &lock, deadline_ns);
    spinlock_unlock_irqrestore(&lock, f);
    return err;
}
