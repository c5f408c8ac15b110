/* SPDX-License-Identifier: MIT */
/*
 * IPC objects: reference counts, the reaper that frees them without recursion, user
 * signals and the live-object counters behind vk_ipc_stats.
 */
#include "ipc/ipc.h"
#include "core/spinlock.h"
#include "sched/sched.h"
#include "fs/vfs.h"
#include <vk/errno.h>

static uint64_t next_id = 1;                 /* atomic */
static uint64_t live[VK_OBJECT_KOBJ_WRITE + 1]; /* atomic; by VK_OBJECT_* (0: all) */

/* Guarded by reap_lock: objects whose last reference went, and the thread freeing
 * them. Threads that drop a last reference while another thread reaps wait on
 * reap_done until it has freed theirs too. */
static spinlock_t reap_lock = SPINLOCK_INIT;
static ipc_object_t *reap_list;
static sched_thread_t *reaper;
static sched_wait_queue_t reap_done = SCHED_WAIT_QUEUE_INIT;

void ipc_object_init(ipc_object_t *o, const ipc_object_ops_t *ops)
{
    o->ops = ops;
    o->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    o->refs = 1;
    o->user_signals = 0;
    o->reap_next = NULL;
    __atomic_fetch_add(&live[0], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&live[ops->type], 1, __ATOMIC_RELAXED);
}

ipc_object_t *ipc_object_ref(ipc_object_t *o)
{
    __atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED);
    return o;
}

/* Frees queued objects until the list is empty. A destroy may drop more last
 * references: those land on the list and this loop takes them, so nesting never
 * recurses. A thread whose object another thread is reaping waits for that thread to
 * finish: "closed" means destroyed when ipc_object_unref returns (a peer sees
 * PEER_CLOSED at once), also on SMP. */
static void reap(void)
{
    sched_thread_t *me = sched_current();
    uint64_t f = spinlock_lock_irqsave(&reap_lock);
    if (reaper == me) {
        spinlock_unlock_irqrestore(&reap_lock, f);
        return; /* nested in a destroy: the loop below takes it */
    }
    while (reaper)
        sched_wait(&reap_done, &reap_lock);
    reaper = me;
    while (reap_list) {
        ipc_object_t *o = reap_list;
        reap_list = o->reap_next;
        spinlock_unlock_irqrestore(&reap_lock, f);
        uint32_t type = o->ops->type;
        o->ops->destroy(o);
        __atomic_fetch_sub(&live[0], 1, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&live[type], 1, __ATOMIC_RELAXED);
        f = spinlock_lock_irqsave(&reap_lock);
    }
    reaper = NULL;
    spinlock_unlock_irqrestore(&reap_lock, f);
    sched_wake_all(&reap_done);
}

void ipc_object_unref(ipc_object_t *o)
{
    if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    uint64_t f = spinlock_lock_irqsave(&reap_lock);
    o->reap_next = reap_list;
    reap_list = o;
    spinlock_unlock_irqrestore(&reap_lock, f);
    reap();
}

unsigned ipc_object_signals(ipc_object_t *o)
{
    unsigned s = __atomic_load_n(&o->user_signals, __ATOMIC_ACQUIRE);
    if (o->ops->signals)
        s |= o->ops->signals(o);
    return s;
}

int ipc_object_signal(ipc_object_t *o, uint32_t clear, uint32_t set)
{
    if ((clear | set) & ~VK_SIGNAL_USER_ALL)
        return -VK_EINVAL;
    uint32_t old = __atomic_load_n(&o->user_signals, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&o->user_signals, &old, (old & ~clear) | set, false,
                                        __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        ;
    vfs_poll_notify();
    return 0;
}

void ipc_stats(vk_ipc_stats_t *out)
{
    out->objects = __atomic_load_n(&live[0], __ATOMIC_RELAXED);
    out->channels = __atomic_load_n(&live[VK_OBJECT_CHANNEL], __ATOMIC_RELAXED);
    out->events = __atomic_load_n(&live[VK_OBJECT_EVENT], __ATOMIC_RELAXED);
    out->shms = __atomic_load_n(&live[VK_OBJECT_SHM], __ATOMIC_RELAXED);
    out->handles = ipc_handle_count();
}
