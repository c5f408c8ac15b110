/* SPDX-License-Identifier: MIT */
/*
 * Pipes: a ring buffer of PIPE_CAPACITY bytes between a read end and a write end.
 *
 * `lock` (a spinlock) guards the counters and is the lock the wait queues release; the
 * bytes themselves are copied with it dropped, because copying to or from user memory
 * can fault and sleep. That is safe because readers are serialised by read_mutex and
 * writers by write_mutex: the one reader only consumes [head, head + count) and the one
 * writer only fills the free part, and each publishes its progress under `lock`.
 *
 * POSIX semantics: a write of at most PIPE_BUF_BYTES is atomic (it waits for room for
 * all of it); a read returns what is there (at least one byte), 0 at end of file once
 * every writer has gone; a write with no reader left is EPIPE (and SIGPIPE, sent by
 * the syscall layer); O_NONBLOCK gives EAGAIN instead of blocking; a signal interrupts
 * a blocked call (EINTR, or the bytes moved so far).
 */
#include "fs/vfs.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

typedef struct {
    spinlock_t lock;
    /* Guarded by lock. */
    uint32_t head, count;         /* unread bytes: [head, head + count) mod capacity */
    uint32_t readers, writers;    /* open ends */
    sched_wait_queue_t readable, writable;
    sched_mutex_t read_mutex, write_mutex;
    uint8_t *buf;
} pipe_t;

static pipe_t *pipe_of(file_t *f)
{
    return f->private;
}

static bool nonblocking(const file_t *f)
{
    return (f->flags & VFS_O_NONBLOCK) != 0;
}

/* Copies n bytes between buf (at byte offset done) and the ring at position pos. */
static int ring_copy(pipe_t *p, uint32_t pos, vfs_buf_t buf, size_t done, size_t n, bool to_ring)
{
    uint32_t first = PIPE_CAPACITY - pos < n ? PIPE_CAPACITY - pos : (uint32_t)n;
    int err = to_ring ? vfs_buf_get(p->buf + pos, buf, done, first)
                      : vfs_buf_put(buf, done, p->buf + pos, first);
    if (!err && n > first)
        err = to_ring ? vfs_buf_get(p->buf, buf, done + first, n - first)
                      : vfs_buf_put(buf, done + first, p->buf, n - first);
    return err;
}

static long pipe_read(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset)
{
    (void)offset;
    pipe_t *p = pipe_of(f);
    if (len == 0)
        return 0;
    sched_mutex_lock(&p->read_mutex);
    uint64_t fl = spinlock_lock_irqsave(&p->lock);
    long result = 0;
    while (p->count == 0 && p->writers > 0 && result == 0) {
        if (nonblocking(f))
            result = -VK_EAGAIN;
        else
            result = sched_wait_interruptible(&p->readable, &p->lock, SCHED_WAIT_FOREVER);
    }
    uint32_t head = p->head, n = p->count < len ? p->count : (uint32_t)len;
    spinlock_unlock_irqrestore(&p->lock, fl);
    if (result == 0 && n > 0) {
        int err = ring_copy(p, head, buf, 0, n, false);
        if (err) {
            result = err; /* nothing consumed: the bytes stay for the next read */
        } else {
            fl = spinlock_lock_irqsave(&p->lock);
            p->head = (head + n) % PIPE_CAPACITY;
            p->count -= n;
            spinlock_unlock_irqrestore(&p->lock, fl);
            sched_wake_all(&p->writable);
            vfs_poll_notify();
            result = n;
        }
    }
    sched_mutex_unlock(&p->read_mutex);
    return result;
}

/* Waits (p->lock held) until `need` bytes are free or no reader is left. 0, -VK_EPIPE,
 * -VK_EAGAIN or -VK_EINTR. */
static int wait_for_room(file_t *f, pipe_t *p, uint32_t need)
{
    for (;;) {
        if (p->readers == 0)
            return -VK_EPIPE;
        if (PIPE_CAPACITY - p->count >= need)
            return 0;
        if (nonblocking(f))
            return -VK_EAGAIN;
        int err = sched_wait_interruptible(&p->writable, &p->lock, SCHED_WAIT_FOREVER);
        if (err)
            return err;
    }
}

static long pipe_write(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset)
{
    (void)offset;
    pipe_t *p = pipe_of(f);
    sched_mutex_lock(&p->write_mutex);
    size_t done = 0;
    long err = 0;
    while (done < len && !err) {
        size_t left = len - done;
        /* Atomic writes wait for room for all of it; bigger ones for any room. */
        uint32_t need = len <= PIPE_BUF_BYTES ? (uint32_t)len : 1;
        uint64_t fl = spinlock_lock_irqsave(&p->lock);
        err = wait_for_room(f, p, need);
        uint32_t room = PIPE_CAPACITY - p->count;
        uint32_t tail = (p->head + p->count) % PIPE_CAPACITY;
        spinlock_unlock_irqrestore(&p->lock, fl);
        if (err)
            break;
        uint32_t n = room < left ? room : (uint32_t)left;
        err = ring_copy(p, tail, buf, done, n, true);
        if (err)
            break;
        fl = spinlock_lock_irqsave(&p->lock);
        p->count += n;
        spinlock_unlock_irqrestore(&p->lock, fl);
        sched_wake_all(&p->readable);
        vfs_poll_notify();
        done += n;
    }
    sched_mutex_unlock(&p->write_mutex);
    /* Bytes already written count (a later EPIPE or EINTR shows on the next call). */
    return done > 0 ? (long)done : err;
}

static unsigned pipe_poll(file_t *f)
{
    pipe_t *p = pipe_of(f);
    bool reader = (f->flags & VFS_O_ACCMODE) == VFS_O_RDONLY;
    uint64_t fl = spinlock_lock_irqsave(&p->lock);
    unsigned ev = 0;
    if (reader) {
        if (p->count > 0)
            ev |= VFS_POLLIN;
        if (p->writers == 0)
            ev |= VFS_POLLHUP;
    } else {
        if (p->readers == 0)
            ev |= VFS_POLLERR;
        else if (PIPE_CAPACITY - p->count >= PIPE_BUF_BYTES)
            ev |= VFS_POLLOUT;
    }
    spinlock_unlock_irqrestore(&p->lock, fl);
    return ev;
}

static void pipe_close(file_t *f)
{
    pipe_t *p = pipe_of(f);
    bool reader = (f->flags & VFS_O_ACCMODE) == VFS_O_RDONLY;
    uint64_t fl = spinlock_lock_irqsave(&p->lock);
    if (reader)
        p->readers--;
    else
        p->writers--;
    bool last = p->readers == 0 && p->writers == 0;
    /* Wake the other end before dropping the lock: once it is dropped, the other end's
     * close can find both counts at zero and free p under us. */
    sched_wake_all(reader ? &p->writable : &p->readable);
    spinlock_unlock_irqrestore(&p->lock, fl);
    sched_preempt_point();
    vfs_poll_notify();
    if (last) {
        kfree(p->buf);
        kfree(p);
    }
}

static const file_ops_t pipe_ops = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .close = pipe_close,
    .seekable = false,
};

int pipe_create(uint32_t flags, file_t *ends[2])
{
    pipe_t *p = kzalloc(sizeof(*p));
    uint8_t *buf = kmalloc(PIPE_CAPACITY);
    if (!p || !buf) {
        kfree(p);
        kfree(buf);
        return -VK_ENOMEM;
    }
    p->buf = buf;
    p->readers = p->writers = 1;
    sched_wait_queue_init(&p->readable);
    sched_wait_queue_init(&p->writable);
    sched_mutex_init(&p->read_mutex);
    sched_mutex_init(&p->write_mutex);
    uint32_t status = flags & VFS_O_NONBLOCK;
    ends[0] = file_new(&pipe_ops, VFS_O_RDONLY | status, p);
    ends[1] = file_new(&pipe_ops, VFS_O_WRONLY | status, p);
    if (!ends[0] || !ends[1]) {
        kfree(ends[0]);
        kfree(ends[1]);
        kfree(buf);
        kfree(p);
        return -VK_ENOMEM;
    }
    return 0;
}
