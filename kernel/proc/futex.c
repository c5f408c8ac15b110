/* SPDX-License-Identifier: MIT */
/*
 * Futex wait and wake. Waiters hang in one of FUTEX_BUCKETS lists by the hash of their
 * key, each waiter with a wait queue of its own on its stack. The waker marks a waiter
 * woken under the bucket lock before waking it, so a waiter that returns from its wait
 * knows whether it was woken or timed out / interrupted.
 *
 * The lost-wake-up rule (the reason futexes exist): the waiter reads the word again
 * under the bucket lock, and the waker takes the same lock, so a wake that follows the
 * change of the word either sees the waiter queued or the waiter sees the new word.
 * The first read happens before the lock, with faults allowed, so the page is present
 * by the time the locked read runs.
 */
#include "proc/futex.h"
#include "core/spinlock.h"
#include "mm/usercopy.h"
#include "sched/sched.h"
#include <vk/errno.h>

#define FUTEX_BUCKETS 64

typedef struct futex_waiter {
    futex_key_t key;
    uint32_t bitset;
    bool woken;
    sched_wait_queue_t queue;
    struct futex_waiter *next;
} futex_waiter_t;

typedef struct {
    spinlock_t lock;
    futex_waiter_t *first; /* guarded by lock */
} futex_bucket_t;

static futex_bucket_t buckets[FUTEX_BUCKETS];

const char futex_shared_space[1];

int futex_key(aspace_t *as, uint64_t uaddr, bool shared, futex_key_t *out)
{
    if (uaddr & 3)
        return -VK_EINVAL;
    uint64_t phys;
    if (shared) {
        uint32_t value; /* faults the page in, or tells it is not there */
        int err = usercopy_from(&value, uaddr, sizeof(value));
        if (err)
            return err;
        err = aspace_shared_word(as, uaddr, &phys);
        if (err == 0) {
            *out = (futex_key_t){ futex_shared_space, phys };
            return 0;
        }
        if (err != -VK_ENOENT)
            return err;
    }
    *out = (futex_key_t){ as, uaddr };
    return 0;
}

static bool same_key(const futex_key_t *a, const futex_key_t *b)
{
    return a->space == b->space && a->addr == b->addr;
}

static futex_bucket_t *bucket_of(const futex_key_t *key)
{
    uint64_t h = ((uint64_t)key->space >> 6) ^ (key->addr >> 2);
    h *= 0x9e3779b97f4a7c15ull;
    return &buckets[h >> 58];
}

static void unlink_waiter(futex_bucket_t *b, futex_waiter_t *w)
{
    for (futex_waiter_t **link = &b->first; *link; link = &(*link)->next)
        if (*link == w) {
            *link = w->next;
            return;
        }
}

int futex_wait(const futex_key_t *key, uint64_t uaddr, uint32_t expected, uint32_t bitset,
               uint64_t deadline_ns)
{
    if ((uaddr & 3) || !bitset)
        return -VK_EINVAL;
    uint32_t value;
    int err = usercopy_from(&value, uaddr, sizeof(value)); /* faults the page in */
    if (err)
        return err;
    futex_bucket_t *b = bucket_of(key);
    futex_waiter_t w = { .key = *key, .bitset = bitset };
    sched_wait_queue_init(&w.queue);
    uint64_t f = spinlock_lock_irqsave(&b->lock);
    err = usercopy_from(&value, uaddr, sizeof(value));
    if (!err && value != expected)
        err = -VK_EAGAIN;
    if (err) {
        spinlock_unlock_irqrestore(&b->lock, f);
        return err;
    }
    w.next = b->first;
    b->first = &w;
    while (!w.woken && !err)
        err = sched_wait_interruptible(&w.queue, &b->lock, deadline_ns);
    if (w.woken)
        err = 0; /* a wake that raced the timeout or signal still counts */
    else
        unlink_waiter(b, &w);
    spinlock_unlock_irqrestore(&b->lock, f);
    return err;
}

int futex_wake(const futex_key_t *key, int n, uint32_t bitset)
{
    if (!bitset)
        return -VK_EINVAL;
    futex_bucket_t *b = bucket_of(key);
    int woken = 0;
    uint64_t f = spinlock_lock_irqsave(&b->lock);
    for (futex_waiter_t **link = &b->first; *link && woken < n;) {
        futex_waiter_t *w = *link;
        if (!same_key(&w->key, key) || !(w->bitset & bitset)) {
            link = &w->next;
            continue;
        }
        *link = w->next;
        w->woken = true;
        sched_wake_one(&w->queue);
        woken++;
    }
    spinlock_unlock_irqrestore(&b->lock, f);
    return woken;
}
