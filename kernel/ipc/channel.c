/* SPDX-License-Identifier: MIT */
/*
 * Channels: two endpoints; a write queues a message at the peer, a read takes the
 * oldest message at its own end.
 *
 * Design notes:
 *   - A message is one allocation: the header, the handles it carries (object and
 *     rights, with the references the sender's table gave up) and the bytes.
 *   - Both ends share one lock (the pair's) and one wait queue: readers wait for a
 *     message, writers for room, and every change wakes them all. Blocking waits are
 *     interruptible (EINTR).
 *   - A write takes the sender's handles out of its table under the pair's lock, after
 *     checking the peer and the room, so a failed write moves nothing.
 *   - Readers of one end are serialised by a mutex. The reader copies the head message
 *     out while it stays queued (only a reader can remove it, and the reader's reference
 *     keeps the end alive), installs its handles, and only then pops it. A fault or a
 *     full handle table therefore loses nothing.
 *   - An end closes when its last reference goes; its queued messages are freed then
 *     (their handles closed) and the peer sees VK_SIGNAL_PEER_CLOSED.
 *   - FIXME: an end sent through its own channel is refused (ENOTSUP), but longer cycles
 *     (A's peer queued in B, B's peer queued in A) keep each other alive until reboot.
 */
#include "ipc/ipc.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "core/string.h"
#include "sched/sched.h"
#include "fs/vfs.h"
#include <vk/errno.h>

typedef struct message {
    struct message *next;
    uint32_t num_bytes, num_handles;
    ipc_capability_t *handles; /* points into this allocation */
    uint8_t *bytes;            /* likewise */
} message_t;

typedef struct channel channel_t;

typedef struct {
    ipc_object_t object;       /* first: the handle's view */
    channel_t *channel;
    unsigned side;             /* 0 or 1: the index in channel->ends */
    sched_mutex_t read_mutex;  /* one reader at a time */
    /* Guarded by channel->lock. */
    bool closed;
    message_t *head, *tail;    /* messages queued for this end to read */
    unsigned queued;
} endpoint_t;

struct channel {
    spinlock_t lock;
    sched_wait_queue_t waiters;
    endpoint_t ends[2];
};

static endpoint_t *endpoint_of(ipc_object_t *o)
{
    return (endpoint_t *)o;
}

static endpoint_t *peer_of(endpoint_t *e)
{
    return &e->channel->ends[!e->side];
}

static void message_free(message_t *m)
{
    for (uint32_t i = 0; i < m->num_handles; i++)
        ipc_object_unref(m->handles[i].object);
    kfree(m);
}

static unsigned endpoint_signals(ipc_object_t *o)
{
    endpoint_t *e = endpoint_of(o);
    endpoint_t *peer = peer_of(e);
    uint64_t f = spinlock_lock_irqsave(&e->channel->lock);
    unsigned s = e->head ? VK_SIGNAL_READABLE : 0;
    if (peer->closed)
        s |= VK_SIGNAL_PEER_CLOSED;
    else if (peer->queued < VK_CHANNEL_QUEUE_MAX)
        s |= VK_SIGNAL_WRITABLE;
    spinlock_unlock_irqrestore(&e->channel->lock, f);
    return s;
}

static void endpoint_destroy(ipc_object_t *o)
{
    endpoint_t *e = endpoint_of(o);
    channel_t *c = e->channel;
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    e->closed = true;
    message_t *m = e->head;
    e->head = e->tail = NULL;
    e->queued = 0;
    bool last = peer_of(e)->closed;
    spinlock_unlock_irqrestore(&c->lock, f);
    sched_wake_all(&c->waiters); /* blocked writers to this end see EPIPE */
    vfs_poll_notify();
    while (m) {
        message_t *next = m->next;
        message_free(m);
        m = next;
    }
    if (last)
        kfree(c);
}

static const ipc_object_ops_t endpoint_ops = {
    .type = VK_OBJECT_CHANNEL,
    .signals = endpoint_signals,
    .destroy = endpoint_destroy,
};

int ipc_channel_create(ipc_object_t *ends[2])
{
    channel_t *c = kzalloc(sizeof(*c));
    if (!c)
        return -VK_ENOMEM;
    sched_wait_queue_init(&c->waiters);
    for (unsigned i = 0; i < 2; i++) {
        c->ends[i].channel = c;
        c->ends[i].side = i;
        sched_mutex_init(&c->ends[i].read_mutex);
        ipc_object_init(&c->ends[i].object, &endpoint_ops);
        ends[i] = &c->ends[i].object;
    }
    return 0;
}

long ipc_channel_write(ipc_object_t *end, void *bytes, uint32_t num_bytes,
                       const uint32_t *handles, uint32_t num_handles, bool nonblock)
{
    endpoint_t *e = endpoint_of(end);
    endpoint_t *peer = peer_of(e);
    channel_t *c = e->channel;
    size_t handle_bytes = num_handles * sizeof(ipc_capability_t);
    message_t *m = kmalloc(sizeof(*m) + handle_bytes + num_bytes);
    if (!m)
        return -VK_ENOMEM;
    m->next = NULL;
    m->num_bytes = num_bytes;
    m->num_handles = num_handles;
    m->handles = (ipc_capability_t *)(m + 1);
    m->bytes = (uint8_t *)m->handles + handle_bytes;
    if (num_bytes)
        memcpy(m->bytes, bytes, num_bytes);
    const ipc_object_t *forbid[2] = { &e->object, &peer->object };

    long err = 0;
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    for (;;) {
        if (peer->closed) {
            err = -VK_EPIPE;
            break;
        }
        if (peer->queued < VK_CHANNEL_QUEUE_MAX)
            break;
        if (nonblock) {
            err = -VK_EAGAIN;
            break;
        }
        err = sched_wait_interruptible(&c->waiters, &c->lock, SCHED_WAIT_FOREVER);
        if (err)
            break;
    }
    if (!err)
        err = ipc_handle_take_many(handles, num_handles, forbid, m->handles);
    if (!err) {
        if (peer->tail)
            peer->tail->next = m;
        else
            peer->head = m;
        peer->tail = m;
        peer->queued++;
    }
    spinlock_unlock_irqrestore(&c->lock, f);
    if (err) {
        m->num_handles = 0; /* nothing was taken */
        message_free(m);
        return err;
    }
    sched_wake_all(&c->waiters);
    vfs_poll_notify();
    return 0;
}

/* Waits until e has a message (0) or its peer is gone with nothing queued (-VK_EPIPE).
 * Lock held. */
static long wait_readable(endpoint_t *e, bool nonblock)
{
    channel_t *c = e->channel;
    while (!e->head) {
        if (peer_of(e)->closed)
            return -VK_EPIPE;
        if (nonblock)
            return -VK_EAGAIN;
        long err = sched_wait_interruptible(&c->waiters, &c->lock, SCHED_WAIT_FOREVER);
        if (err)
            return err;
    }
    return 0;
}

/* Delivers the head message, read mutex held: -VK_EAGAIN when another reader took it. */
static long read_head(endpoint_t *e, vk_channel_msg_t *msg)
{
    channel_t *c = e->channel;
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    message_t *m = e->head;
    spinlock_unlock_irqrestore(&c->lock, f);
    if (!m)
        return -VK_EAGAIN;
    bool fits = m->num_bytes <= msg->num_bytes && m->num_handles <= msg->num_handles;
    msg->num_bytes = m->num_bytes;
    msg->num_handles = m->num_handles;
    if (!fits)
        return -VK_EMSGSIZE;
    long err = usercopy_to(msg->bytes, m->bytes, m->num_bytes);
    if (err)
        return err;
    uint32_t values[VK_CHANNEL_HANDLES_MAX];
    for (uint32_t i = 0; i < m->num_handles; i++)
        ipc_object_ref(m->handles[i].object); /* the table's references */
    err = ipc_handle_install_many(m->handles, m->num_handles, values);
    if (!err)
        err = usercopy_to(msg->handles, values, m->num_handles * sizeof(uint32_t));
    if (err) {
        /* Undo: the message stays queued with its own references. */
        for (uint32_t i = 0; i < m->num_handles; i++) {
            if (err == -VK_EFAULT)
                ipc_handle_close(values[i]);
            else
                ipc_object_unref(m->handles[i].object);
        }
        return err;
    }
    f = spinlock_lock_irqsave(&c->lock);
    e->head = m->next;
    if (!e->head)
        e->tail = NULL;
    e->queued--;
    spinlock_unlock_irqrestore(&c->lock, f);
    message_free(m); /* drops the message's references; the table has its own */
    sched_wake_all(&c->waiters);
    vfs_poll_notify();
    return 0;
}

long ipc_channel_read(ipc_object_t *end, vk_channel_msg_t *msg, bool nonblock)
{
    endpoint_t *e = endpoint_of(end);
    channel_t *c = e->channel;
    for (;;) {
        uint64_t f = spinlock_lock_irqsave(&c->lock);
        long err = wait_readable(e, nonblock);
        spinlock_unlock_irqrestore(&c->lock, f);
        if (err)
            return err;
        sched_mutex_lock(&e->read_mutex);
        err = read_head(e, msg);
        sched_mutex_unlock(&e->read_mutex);
        if (err != -VK_EAGAIN)
            return err;
    }
}
