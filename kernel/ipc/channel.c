/* SPDX-License-Identifier: MIT */
/*
 * Channels: two endpoints; a write queues a message at the peer, a read takes the
 * oldest message at its own end. A call writes and then waits for the reply with its
 * transaction id, which never enters the queue.
 *
 * Design notes:
 *   - A message is one allocation: the header, the handles it carries (object and
 *     rights, with the references the sender's table gave up) and the bytes, copied
 *     from the sender's memory straight into it. The spare message: a small one (up to
 *     MESSAGE_SMALL_BYTES bytes and MESSAGE_SMALL_HANDLES handles) has a fixed size and
 *     goes back, when freed, to a one-buffer slot of the end it was sent to; the next
 *     small message to that end takes it from there. So a call and its reply allocate
 *     nothing once both ends have their spare. The slots are freed with the pair.
 *   - Both ends share one lock (the pair's). Each end has its own wait queue of blocked
 *     readers, and the pair has one for writers waiting for room. A write wakes only the
 *     readers of the end it queued at, so a blocked receiver is handed the message with
 *     one targeted wake-up (the call fast path, below). Blocking waits are interruptible
 *     (EINTR).
 *   - A write takes the sender's handles out of its table under the pair's lock, after
 *     checking the peer and the room, so a failed write moves nothing.
 *   - Readers of one end are serialised by a mutex. The reader copies the head message
 *     out while it stays queued (only a reader can remove it, and the reader's reference
 *     keeps the end alive), installs its handles, and only then pops it. A fault or a
 *     full handle table therefore loses nothing.
 *   - Calls: the caller puts a call_waiter_t (on its stack) on its own end's list, under
 *     the pair's lock and in the same critical section that queues the request. A write
 *     arriving at that end whose first four bytes match a waiting transaction id goes
 *     into the waiter, not the queue, and the waiter is woken while the lock is held
 *     (so it cannot return and free the waiter first). The fast path, a directed
 *     switch: the call queues the request and waits for the reply in one critical
 *     section with sched_wait_handoff, which hands the CPU straight to the server
 *     blocked reading the peer end. reply_read puts the reply into the waiter and
 *     blocks for the next request the same way, handing the CPU back to the caller.
 *     Either falls back to a normal wake-up when the scheduler says the target cannot
 *     run here at once. Nothing else is woken except poll's generation bump.
 *   - Cycles: a channel end with channel ends queued at it cannot be sent (EBUSY), and
 *     an end cannot be sent through its own channel (ENOTSUP). A reference cycle needs
 *     a closing send of an end X into some queue while an end of the cycle is already
 *     queued at X, so no cycle can form (docs/ipc.md). The counts and the check are
 *     made atomic by one transfer lock, taken only by writes that carry handles.
 *   - An end closes when its last reference goes; its queued messages are freed then
 *     (their handles closed) and the peer sees VK_SIGNAL_PEER_CLOSED. Callers waiting on
 *     the peer end see EPIPE. When the closing end is a service's listening end, the
 *     registry drops the name (ipc_service_peer_gone).
 */
#include "ipc/ipc.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "core/string.h"
#include "sched/sched.h"
#include "fs/vfs.h"
#include <vk/errno.h>

typedef struct endpoint endpoint_t;

typedef struct message {
    struct message *next;
    endpoint_t *home;          /* small messages: the end whose spare slot takes it back */
    uint32_t num_bytes, num_handles;
    uint32_t num_ends;         /* how many of the handles are channel ends */
    ipc_capability_t *handles; /* points into this allocation */
    uint8_t *bytes;            /* likewise */
} message_t;

/* A message this small fits a fixed-size buffer that its destination end keeps for
 * reuse (design notes: the spare message). */
#define MESSAGE_SMALL_BYTES   256u
#define MESSAGE_SMALL_HANDLES 4u

/* A thread in ipc_channel_call, waiting at its own end for the reply. */
typedef struct call_waiter {
    struct call_waiter *next;
    uint32_t txid;
    message_t *reply;          /* set (under the pair's lock) when the reply came */
    sched_wait_queue_t wq;
} call_waiter_t;

typedef struct channel channel_t;

struct endpoint {
    ipc_object_t object;       /* first: the handle's view */
    channel_t *channel;
    unsigned side;             /* 0 or 1: the index in channel->ends */
    sched_mutex_t read_mutex;  /* one reader at a time */
    sched_wait_queue_t readers; /* threads blocked reading this end */
    /* Guarded by channel->lock. */
    bool closed;
    bool registered;           /* held by the service registry (service.c) */
    message_t *head, *tail;    /* messages queued for this end to read */
    unsigned queued;
    uint32_t ends_queued;      /* channel ends in those messages; atomic reads allowed */
    call_waiter_t *callers;    /* calls waiting for their reply at this end */
    /* Atomic exchange only: one small message buffer kept for reuse, freed with the
     * channel. */
    message_t *spare;
};

struct channel {
    spinlock_t lock;
    sched_wait_queue_t writers; /* writers waiting for room at either end */
    endpoint_t ends[2];
};

/* Makes the cycle check and the ends_queued increments one atomic step (design notes).
 * Taken inside a pair's lock, before a handle table's. */
static spinlock_t transfer_lock = SPINLOCK_INIT;

static uint32_t next_txid; /* atomic */

static endpoint_t *endpoint_of(ipc_object_t *o)
{
    return (endpoint_t *)o;
}

static endpoint_t *peer_of(endpoint_t *e)
{
    return &e->channel->ends[!e->side];
}

static bool is_endpoint(const ipc_object_t *o);

/* Drops m's references and gives its buffer back to its end's spare slot (if empty)
 * or to the heap. */
static void message_free(message_t *m)
{
    for (uint32_t i = 0; i < m->num_handles; i++)
        ipc_object_unref(m->handles[i].object);
    message_t *none = NULL;
    if (m->home && __atomic_compare_exchange_n(&m->home->spare, &none, m, false,
                                               __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    kfree(m);
}

static void free_list(message_t *m)
{
    while (m) {
        message_t *next = m->next;
        message_free(m);
        m = next;
    }
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
    endpoint_t *peer = peer_of(e);
    channel_t *c = e->channel;
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    e->closed = true;
    message_t *m = e->head;
    e->head = e->tail = NULL;
    e->queued = 0;
    e->ends_queued = 0;
    bool last = peer->closed;
    bool peer_registered = !last && peer->registered;
    for (call_waiter_t *w = peer->callers; w; w = w->next)
        sched_wake_all(&w->wq); /* they see EPIPE */
    sched_wake_all(&peer->readers);
    spinlock_unlock_irqrestore(&c->lock, f);
    sched_wake_all(&c->writers); /* blocked writers to this end see EPIPE */
    vfs_poll_notify();
    free_list(m);
    if (peer_registered)
        ipc_service_peer_gone(&peer->object);
    if (last) {
        /* Nothing can return a buffer any more: every message of the pair is gone. */
        kfree(c->ends[0].spare);
        kfree(c->ends[1].spare);
        kfree(c);
    }
}

static const ipc_object_ops_t endpoint_ops = {
    .type = VK_OBJECT_CHANNEL,
    .signals = endpoint_signals,
    .destroy = endpoint_destroy,
};

static bool is_endpoint(const ipc_object_t *o)
{
    return o->ops == &endpoint_ops;
}

int ipc_channel_create(ipc_object_t *ends[2])
{
    channel_t *c = kzalloc(sizeof(*c));
    if (!c)
        return -VK_ENOMEM;
    sched_wait_queue_init(&c->writers);
    for (unsigned i = 0; i < 2; i++) {
        c->ends[i].channel = c;
        c->ends[i].side = i;
        sched_mutex_init(&c->ends[i].read_mutex);
        sched_wait_queue_init(&c->ends[i].readers);
        ipc_object_init(&c->ends[i].object, &endpoint_ops);
        ends[i] = &c->ends[i].object;
    }
    return 0;
}

bool ipc_channel_peer_closed(ipc_object_t *end)
{
    endpoint_t *e = endpoint_of(end);
    uint64_t f = spinlock_lock_irqsave(&e->channel->lock);
    bool closed = peer_of(e)->closed;
    spinlock_unlock_irqrestore(&e->channel->lock, f);
    return closed;
}

int ipc_channel_mark_registered(ipc_object_t *end)
{
    endpoint_t *e = endpoint_of(end);
    uint64_t f = spinlock_lock_irqsave(&e->channel->lock);
    endpoint_t *peer = peer_of(e);
    /* Both ends registered would keep each other (and both names) alive for good. */
    int err = peer->closed ? -VK_EPIPE : peer->registered ? -VK_EBUSY : 0;
    e->registered = !err;
    spinlock_unlock_irqrestore(&e->channel->lock, f);
    return err;
}

/* A message for dest with room for num_bytes bytes and num_handles handles (not yet
 * filled in). A small one reuses dest's spare buffer when there is one: the fast path
 * of a call and its reply allocates nothing. */
static message_t *message_alloc(endpoint_t *dest, uint32_t num_bytes, uint32_t num_handles)
{
    bool small = num_bytes <= MESSAGE_SMALL_BYTES && num_handles <= MESSAGE_SMALL_HANDLES;
    size_t handle_bytes = (small ? MESSAGE_SMALL_HANDLES : num_handles) *
                          sizeof(ipc_capability_t);
    message_t *m = small ? __atomic_exchange_n(&dest->spare, NULL, __ATOMIC_ACQ_REL) : NULL;
    if (!m)
        m = kmalloc(sizeof(*m) + handle_bytes + (small ? MESSAGE_SMALL_BYTES : num_bytes));
    if (!m)
        return NULL;
    m->next = NULL;
    m->home = small ? dest : NULL;
    m->num_bytes = num_bytes;
    m->num_handles = num_handles;
    m->num_ends = 0;
    m->handles = (ipc_capability_t *)(m + 1);
    m->bytes = (uint8_t *)m->handles + handle_bytes;
    return m;
}

/* A message for end's peer holding a copy of the user's bytes; *m is NULL on error. */
static long message_from_user(endpoint_t *e, uint64_t user_bytes, uint32_t num_bytes,
                              uint32_t num_handles, message_t **out)
{
    message_t *m = message_alloc(peer_of(e), num_bytes, num_handles);
    *out = NULL;
    if (!m)
        return -VK_ENOMEM;
    long err = num_bytes ? usercopy_from(m->bytes, user_bytes, num_bytes) : 0;
    if (err) {
        m->num_handles = 0;
        message_free(m);
        return err;
    }
    *out = m;
    return 0;
}

/* The cycle rule (design notes): an end with channel ends queued at it stays put. */
static int check_transferable(ipc_object_t *o)
{
    if (is_endpoint(o) && __atomic_load_n(&endpoint_of(o)->ends_queued, __ATOMIC_RELAXED))
        return -VK_EBUSY;
    return 0;
}

/* Waits for room at dest until deadline_ns (0: not at all; pair's lock held): 0,
 * -VK_EPIPE, -VK_EAGAIN (no wait), -VK_ETIMEDOUT or -VK_EINTR. */
static long wait_room(channel_t *c, endpoint_t *dest, uint64_t deadline_ns)
{
    for (;;) {
        if (dest->closed)
            return -VK_EPIPE;
        if (dest->queued < VK_CHANNEL_QUEUE_MAX)
            return 0;
        if (!deadline_ns)
            return -VK_EAGAIN;
        long err = sched_wait_interruptible(&c->writers, &c->lock, deadline_ns);
        if (err)
            return err;
    }
}

/* The call waiting at dest for m, unlinked, or NULL. Pair's lock held. */
static call_waiter_t *take_caller(endpoint_t *dest, const message_t *m)
{
    if (!dest->callers || m->num_bytes < sizeof(uint32_t))
        return NULL;
    uint32_t txid;
    memcpy(&txid, m->bytes, sizeof(txid));
    if (!(txid & VK_CALL_TXID_KERNEL))
        return NULL;
    for (call_waiter_t **link = &dest->callers; *link; link = &(*link)->next) {
        call_waiter_t *w = *link;
        if (w->txid == txid) {
            *link = w->next;
            return w;
        }
    }
    return NULL;
}

/* Puts m at dest: into a waiting call, or at the tail of the queue (room checked).
 * Pair's lock held; m's handles are in place. Returns whether it was queued. A call it
 * answers is woken here, or, with `answered`, left to the caller to wake (with a
 * directed switch) before it drops the lock. */
static bool deliver_locked(endpoint_t *dest, message_t *m, call_waiter_t **answered)
{
    call_waiter_t *w = take_caller(dest, m);
    if (w) {
        w->reply = m;
        if (answered)
            *answered = w;
        else
            sched_wake_one(&w->wq); /* under the lock: w cannot go away first */
        return false;
    }
    if (dest->tail)
        dest->tail->next = m;
    else
        dest->head = m;
    dest->tail = m;
    dest->queued++;
    dest->ends_queued += m->num_ends;
    return true;
}

/* Takes the sender's handles into m. Pair's lock and transfer lock held. */
static long take_handles(endpoint_t *e, message_t *m, const uint32_t *handles,
                         const ipc_capability_t *caps)
{
    const ipc_object_t *forbid[2] = { &e->object, &peer_of(e)->object };
    long err = 0;
    if (handles) {
        err = ipc_handle_take_many(handles, m->num_handles, forbid, check_transferable,
                                   m->handles);
    } else {
        for (uint32_t i = 0; i < m->num_handles && !err; i++)
            if (caps[i].object == forbid[0] || caps[i].object == forbid[1])
                err = -VK_ENOTSUP;
            else
                err = check_transferable(caps[i].object);
        if (!err)
            memcpy(m->handles, caps, m->num_handles * sizeof(*caps));
    }
    if (!err)
        for (uint32_t i = 0; i < m->num_handles; i++)
            m->num_ends += is_endpoint(m->handles[i].object);
    return err;
}

/* The write path shared by writes, kernel writes, calls and replies, pair's lock held.
 * `handles` (user values) or `caps` (kernel capabilities) describe m's handles. It
 * waits for room until deadline_ns (0: not at all). waiter: a call to register at e in
 * the same critical section. answered: see deliver_locked. *queued: m went to the
 * peer's queue, whose readers the caller must wake. On failure m is still the
 * caller's, with none of its handles taken. */
static inline __attribute__((always_inline)) long
write_locked(endpoint_t *e, message_t *m, const uint32_t *handles, const ipc_capability_t *caps,
             uint64_t deadline_ns, call_waiter_t *waiter, call_waiter_t **answered, bool *queued)
{
    endpoint_t *peer = peer_of(e);
    long err = wait_room(e->channel, peer, deadline_ns);
    bool transferring = !err && m->num_handles;
    *queued = false;
    if (transferring) {
        /* The check and the destination's count move in one step (design notes). */
        spinlock_lock(&transfer_lock);
        err = take_handles(e, m, handles, caps);
    }
    if (!err) {
        if (waiter) {
            waiter->next = e->callers;
            e->callers = waiter;
        }
        *queued = deliver_locked(peer, m, answered);
    }
    if (transferring)
        spinlock_unlock(&transfer_lock);
    return err;
}

/* A failed write gives m back: nothing was taken. */
static long write_failed(message_t *m, long err)
{
    m->num_handles = 0;
    message_free(m);
    return err;
}

/* write_locked with the lock taken and the receivers woken. Consumes m. */
static long write_message(endpoint_t *e, message_t *m, const uint32_t *handles,
                          const ipc_capability_t *caps, uint64_t deadline_ns)
{
    endpoint_t *peer = peer_of(e);
    channel_t *c = e->channel;
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    bool queued;
    long err = write_locked(e, m, handles, caps, deadline_ns, NULL, NULL, &queued);
    if (queued)
        sched_wake_all(&peer->readers); /* the receiver, if one is blocked */
    spinlock_unlock_irqrestore(&c->lock, f);
    if (err)
        return write_failed(m, err);
    if (queued)
        vfs_poll_notify();
    return 0;
}

long ipc_channel_write(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                       const uint32_t *handles, uint32_t num_handles, bool nonblock)
{
    message_t *m;
    long err = message_from_user(endpoint_of(end), user_bytes, num_bytes, num_handles, &m);
    if (err)
        return err;
    return write_message(endpoint_of(end), m, handles, NULL,
                         nonblock ? 0 : SCHED_WAIT_FOREVER);
}

long ipc_channel_write_kernel(ipc_object_t *end, const void *bytes, uint32_t num_bytes,
                              const ipc_capability_t *caps, uint32_t num_caps,
                              uint64_t deadline_ns)
{
    message_t *m = message_alloc(peer_of(endpoint_of(end)), num_bytes, num_caps);
    if (!m)
        return -VK_ENOMEM;
    if (num_bytes)
        memcpy(m->bytes, bytes, num_bytes);
    return write_message(endpoint_of(end), m, NULL, caps, deadline_ns);
}

/* Copies m out to the user buffers msg describes and installs its handles (the table
 * gets new references; m keeps its own). Updates msg's counts. On failure nothing is
 * left in the table. */
static long copy_out(const message_t *m, vk_channel_msg_t *msg)
{
    bool fits = m->num_bytes <= msg->num_bytes && m->num_handles <= msg->num_handles;
    msg->num_bytes = m->num_bytes;
    msg->num_handles = m->num_handles;
    if (!fits)
        return -VK_EMSGSIZE;
    long err = usercopy_to(msg->bytes, m->bytes, m->num_bytes);
    if (err || !m->num_handles)
        return err;
    uint32_t values[VK_CHANNEL_HANDLES_MAX];
    for (uint32_t i = 0; i < m->num_handles; i++)
        ipc_object_ref(m->handles[i].object); /* the table's references */
    err = ipc_handle_install_many(m->handles, m->num_handles, values);
    if (!err)
        err = usercopy_to(msg->handles, values, m->num_handles * sizeof(uint32_t));
    if (err) {
        for (uint32_t i = 0; i < m->num_handles; i++) {
            if (err == -VK_EFAULT)
                ipc_handle_close(values[i]);
            else
                ipc_object_unref(m->handles[i].object);
        }
    }
    return err;
}

/* Waits until e has a message (0) or its peer is gone with nothing queued (-VK_EPIPE).
 * Lock held. handoff: threads to wake first (a call just answered), directly switched
 * to if this read blocks (sched_wait_handoff), else woken normally. */
static inline __attribute__((always_inline)) long
wait_readable(endpoint_t *e, bool nonblock, sched_wait_queue_t *handoff)
{
    channel_t *c = e->channel;
    long err = 0;
    while (!e->head && !err) {
        if (peer_of(e)->closed)
            err = -VK_EPIPE;
        else if (nonblock)
            err = -VK_EAGAIN;
        else if (handoff)
            err = sched_wait_handoff(&e->readers, &c->lock, SCHED_WAIT_FOREVER, handoff);
        else /* the plain read: the wait without the handoff code */
            err = sched_wait_interruptible(&e->readers, &c->lock, SCHED_WAIT_FOREVER);
        handoff = NULL; /* woken by the wait, whatever it returned */
    }
    if (handoff)
        sched_wake_all(handoff);
    return err;
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
    long err = copy_out(m, msg);
    if (err)
        return err; /* the message stays queued with its own references */
    f = spinlock_lock_irqsave(&c->lock);
    e->head = m->next;
    if (!e->head)
        e->tail = NULL;
    e->queued--;
    e->ends_queued -= m->num_ends;
    /* Writers queue themselves under the pair's lock (wait_room), so a non-empty queue
     * is seen here; a stale non-empty one only costs a wake-up that finds nobody. */
    bool writers = __atomic_load_n(&c->writers.first, __ATOMIC_RELAXED) != NULL;
    spinlock_unlock_irqrestore(&c->lock, f);
    message_free(m); /* drops the message's references; the table has its own */
    if (writers)
        sched_wake_all(&c->writers);
    vfs_poll_notify();
    return 0;
}

/* read_head under the end's read mutex. */
static long read_head_serialised(endpoint_t *e, vk_channel_msg_t *msg)
{
    sched_mutex_lock(&e->read_mutex);
    long err = read_head(e, msg);
    sched_mutex_unlock(&e->read_mutex);
    return err;
}

long ipc_channel_read(ipc_object_t *end, vk_channel_msg_t *msg, bool nonblock)
{
    endpoint_t *e = endpoint_of(end);
    channel_t *c = e->channel;
    for (;;) {
        uint64_t f = spinlock_lock_irqsave(&c->lock);
        long err = wait_readable(e, nonblock, NULL);
        spinlock_unlock_irqrestore(&c->lock, f);
        if (err)
            return err;
        err = read_head_serialised(e, msg);
        if (err != -VK_EAGAIN)
            return err;
    }
}

long ipc_channel_call(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                      const uint32_t *handles, uint32_t num_handles,
                      vk_channel_msg_t *reply, uint64_t deadline_ns)
{
    endpoint_t *e = endpoint_of(end);
    endpoint_t *peer = peer_of(e);
    channel_t *c = e->channel;
    if (num_bytes < sizeof(uint32_t))
        return -VK_EINVAL;
    message_t *m;
    long err = message_from_user(e, user_bytes, num_bytes, num_handles, &m);
    if (err)
        return err;
    call_waiter_t w = { .txid = VK_CALL_TXID_KERNEL |
                                __atomic_add_fetch(&next_txid, 1, __ATOMIC_RELAXED) };
    sched_wait_queue_init(&w.wq);
    memcpy(m->bytes, &w.txid, sizeof(w.txid));

    /* The request and the wait for its reply are one critical section: the server
     * blocked reading the peer end is not woken by the write but handed this CPU by
     * the wait (the directed switch, design notes). */
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    bool queued;
    err = write_locked(e, m, handles, NULL, SCHED_WAIT_FOREVER, &w, NULL, &queued);
    if (err) {
        spinlock_unlock_irqrestore(&c->lock, f);
        return write_failed(m, err);
    }
    if (queued)
        vfs_poll_notify(); /* pollers must not wait for the round trip */
    sched_wait_queue_t *handoff = queued ? &peer->readers : NULL;
    while (!w.reply && !err) {
        if (peer->closed)
            err = -VK_EPIPE;
        else
            err = sched_wait_handoff(&w.wq, &c->lock, deadline_ns, handoff);
        handoff = NULL; /* woken by the wait, whatever it returned */
    }
    if (handoff)
        sched_wake_all(handoff);
    if (!w.reply) {
        for (call_waiter_t **link = &e->callers; *link; link = &(*link)->next)
            if (*link == &w) {
                *link = w.next;
                break;
            }
    }
    spinlock_unlock_irqrestore(&c->lock, f);
    if (!w.reply)
        return err;
    err = copy_out(w.reply, reply);
    message_free(w.reply); /* delivered or, on an error, discarded */
    return err;
}

long ipc_channel_reply_read(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                            const uint32_t *handles, uint32_t num_handles,
                            vk_channel_msg_t *next, bool nonblock, bool *replied)
{
    endpoint_t *e = endpoint_of(end);
    endpoint_t *peer = peer_of(e);
    channel_t *c = e->channel;
    *replied = false;
    message_t *m;
    long err = message_from_user(e, user_bytes, num_bytes, num_handles, &m);
    if (err)
        return err;
    /* The reply and the wait for the next request are one critical section: a call the
     * reply answers is not woken by the write but handed this CPU by the wait, when
     * the read blocks (the directed switch, design notes). */
    uint64_t f = spinlock_lock_irqsave(&c->lock);
    call_waiter_t *answered = NULL;
    bool queued;
    err = write_locked(e, m, handles, NULL, nonblock ? 0 : SCHED_WAIT_FOREVER, NULL,
                       &answered, &queued);
    if (err) {
        spinlock_unlock_irqrestore(&c->lock, f);
        return write_failed(m, err);
    }
    *replied = true;
    if (queued) {
        sched_wake_all(&peer->readers);
        vfs_poll_notify(); /* before this thread may block below */
    }
    err = wait_readable(e, nonblock, answered ? &answered->wq : NULL);
    spinlock_unlock_irqrestore(&c->lock, f);
    if (err)
        return err;
    err = read_head_serialised(e, next);
    if (err != -VK_EAGAIN)
        return err;
    return ipc_channel_read(end, next, nonblock); /* another reader took it */
}
