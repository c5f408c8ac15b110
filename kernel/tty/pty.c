/* SPDX-License-Identifier: MIT */
/*
 * Pseudo-terminals (docs/tty.md "Pseudo-terminals"), as Linux's devpts has them, so
 * musl's openpty/posix_openpt work unmodified: opening /dev/ptmx makes a pair. The
 * file it returns is the master; /dev/pts/N is the slave, an ordinary terminal (line
 * discipline, termios, job control) whose device is the master:
 *
 *   master write  ->  typed on the slave (tty_input, waiting for the worker to take it)
 *   slave output  ->  master read (a ring; a writer waits while it is full)
 *
 * TIOCGPTN gives N; TIOCSPTLCK (unlockpt) must clear the lock before the slave opens.
 * When the master closes, the slave hangs up (SIGHUP to its session, reads end, writes
 * fail) and /dev/pts/N goes away; the pair is freed when the last file on it closes.
 * A master read after every slave file closed fails with EIO, as on Linux.
 *
 * Locking: ptys_lock guards the table of pairs and each pair's file count; pty->lock
 * guards the output ring and the flags (both spinlocks, interrupts off). Order:
 * proc_table_lock (a /dev/tty open), then ptys_lock, then pty->lock.
 */
#include "tty/tty_internal.h"
#include "fs/fs_internal.h"
#include "proc/proc.h"
#include "core/log.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include <vk/errno.h>

#define PTY_MAX     64
#define PTY_RING    4096
#define INPUT_CHUNK 256 /* master writes go to the slave's raw queue this much at a time */

#define TIOCGPTN   0x80045430u
#define TIOCSPTLCK 0x40045431u

typedef struct {
    unsigned index;
    tty_t *slave;
    unsigned files;            /* master + open slave files; under ptys_lock */
    spinlock_t lock;           /* guards the fields below */
    char ring[PTY_RING];
    uint64_t ring_in, ring_out;
    bool master_open;
    bool locked;               /* TIOCSPTLCK: the slave may not be opened */
    bool slave_opened;         /* a slave file was opened once */
    unsigned slave_files;
    sched_wait_queue_t readers; /* master readers */
    sched_wait_queue_t writers; /* slave output waiting for room */
} pty_t;

static spinlock_t ptys_lock = SPINLOCK_INIT;
static pty_t *ptys[PTY_MAX];
static vnode_t *pts_dir;

static void pts_name(unsigned index, char *name, size_t size)
{
    fmt_snprintf(name, size, "%u", index);
}

/* The last file on the pair closed: the slave's worker stops and both go. */
static void pty_put(pty_t *p)
{
    uint64_t f = spinlock_lock_irqsave(&ptys_lock);
    bool last = --p->files == 0;
    if (last)
        ptys[p->index] = NULL;
    spinlock_unlock_irqrestore(&ptys_lock, f);
    if (!last)
        return;
    proc_forget_tty(p->slave);
    tty_destroy(p->slave);
    kfree(p);
}

/* ---- the slave's device: its output fills the ring the master reads ----------------- */

static void slave_output(tty_t *t, const char *bytes, size_t n)
{
    pty_t *p = tty_device(t);
    /* The worker's echo never waits: a master blocked writing input (which waits for
     * the worker) and not reading would otherwise never let it go on. Echo that finds
     * the ring full is dropped. */
    bool echo = sched_current() == t->worker;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    while (n) {
        if (!p->master_open)
            break; /* nobody will read it: dropped, as on a hung-up line */
        size_t room = PTY_RING - (size_t)(p->ring_in - p->ring_out);
        if (!room && echo)
            break;
        if (!room) {
            if (sched_wait_interruptible(&p->writers, &p->lock, SCHED_WAIT_FOREVER) == -VK_EINTR)
                break;
            continue;
        }
        size_t k = n < room ? n : room;
        for (size_t i = 0; i < k; i++)
            p->ring[(p->ring_in + i) % PTY_RING] = bytes[i];
        p->ring_in += k;
        bytes += k;
        n -= k;
        sched_wake_all(&p->readers);
    }
    spinlock_unlock_irqrestore(&p->lock, f);
    vfs_poll_notify();
}

static void slave_file_closed(tty_t *t)
{
    pty_t *p = tty_device(t);
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    p->slave_files--;
    spinlock_unlock_irqrestore(&p->lock, f);
    sched_wake_all(&p->readers); /* a master read now fails with EIO */
    vfs_poll_notify();
    pty_put(p);
}

/* A slave file opens on p, if p is still in the table (its master open) and unlocked.
 * ptys_lock held. */
static bool take_slave_file_locked(pty_t *p)
{
    if (p->index >= PTY_MAX || ptys[p->index] != p)
        return false;
    spinlock_lock(&p->lock);
    bool ok = !p->locked && p->master_open;
    if (ok) {
        p->slave_files++;
        p->slave_opened = true;
        p->files++;
    }
    spinlock_unlock(&p->lock);
    return ok;
}

/* /dev/pts/N's private is N + 1: the pair is looked up at open, so a node that outlives
 * its pair (an open racing the master's close) finds nothing instead of freed memory. */
static int slave_open(file_t *file)
{
    unsigned index = (unsigned)(uintptr_t)file->private - 1;
    uint64_t f = spinlock_lock_irqsave(&ptys_lock);
    pty_t *p = index < PTY_MAX ? ptys[index] : NULL;
    bool ok = p && take_slave_file_locked(p);
    spinlock_unlock_irqrestore(&ptys_lock, f);
    if (!ok)
        return -VK_EIO;
    file->ops = &tty_file_ops; /* its close ends in slave_file_closed */
    file->private = p->slave;
    return 0;
}

/* /dev/tty on a pseudo-terminal: the caller holds proc_table_lock, so t is alive. */
static bool slave_file_opened(tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&ptys_lock);
    bool ok = take_slave_file_locked(tty_device(t));
    spinlock_unlock_irqrestore(&ptys_lock, f);
    return ok;
}

static const file_ops_t slave_node_ops = { .open = slave_open };

/* ---- the master --------------------------------------------------------------------- */

static bool slave_gone_locked(const pty_t *p)
{
    return p->slave_opened && p->slave_files == 0;
}

static long master_read(file_t *file, vfs_buf_t buf, size_t len, uint64_t *off)
{
    (void)off;
    pty_t *p = file->private;
    if (!len)
        return 0;
    char chunk[512];
    if (len > sizeof(chunk))
        len = sizeof(chunk);
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    while (p->ring_in == p->ring_out) {
        long err = slave_gone_locked(p) ? -VK_EIO
                   : (file->flags & VFS_O_NONBLOCK) ? -VK_EAGAIN
                   : sched_wait_interruptible(&p->readers, &p->lock, SCHED_WAIT_FOREVER);
        if (err) {
            spinlock_unlock_irqrestore(&p->lock, f);
            return err;
        }
    }
    size_t n = (size_t)(p->ring_in - p->ring_out);
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        chunk[i] = p->ring[(p->ring_out + i) % PTY_RING];
    p->ring_out += n;
    spinlock_unlock_irqrestore(&p->lock, f);
    sched_wake_all(&p->writers);
    int err = vfs_buf_put(buf, 0, chunk, n);
    return err ? err : (long)n;
}

static long master_write(file_t *file, vfs_buf_t buf, size_t len, uint64_t *off)
{
    (void)off;
    pty_t *p = file->private;
    char chunk[INPUT_CHUNK];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        int err = vfs_buf_get(chunk, buf, done, n);
        if (err)
            return done ? (long)done : err;
        tty_input(p->slave, chunk, n);
        /* The raw queue is small: let the worker take this before the next part, so a
         * long write (a paste) is never cut. */
        tty_drain_input(p->slave);
        done += n;
    }
    return (long)done;
}

static unsigned master_poll(file_t *file)
{
    pty_t *p = file->private;
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    unsigned events = VFS_POLLOUT;
    if (p->ring_in != p->ring_out)
        events |= VFS_POLLIN;
    if (slave_gone_locked(p))
        events |= VFS_POLLIN | VFS_POLLHUP;
    spinlock_unlock_irqrestore(&p->lock, f);
    return events;
}

static long master_ioctl(file_t *file, uint64_t request, uint64_t arg)
{
    pty_t *p = file->private;
    switch (request) {
    case TIOCGPTN: {
        uint32_t n = p->index;
        return vfs_buf_put(vfs_ubuf(arg), 0, &n, sizeof(n));
    }
    case TIOCSPTLCK: {
        int32_t lock;
        int err = vfs_buf_get(&lock, vfs_ubuf(arg), 0, sizeof(lock));
        if (err)
            return err;
        uint64_t f = spinlock_lock_irqsave(&p->lock);
        p->locked = lock != 0;
        spinlock_unlock_irqrestore(&p->lock, f);
        return 0;
    }
    default:
        /* termios and the window size are the slave's, as on Linux. */
        return tty_ioctl(p->slave, request, arg);
    }
}

static void master_close(file_t *file)
{
    pty_t *p = file->private;
    char name[12];
    pts_name(p->index, name, sizeof(name));
    ramfs_remove(pts_dir, name);
    uint64_t f = spinlock_lock_irqsave(&p->lock);
    p->master_open = false;
    spinlock_unlock_irqrestore(&p->lock, f);
    sched_wake_all(&p->writers); /* slave output is dropped from now on */
    tty_hangup(p->slave);
    pty_put(p);
}

static const file_ops_t master_ops = {
    .read = master_read, .write = master_write, .poll = master_poll,
    .ioctl = master_ioctl, .close = master_close,
};

/* ---- /dev/ptmx ---------------------------------------------------------------------- */

static int ptmx_open(file_t *file)
{
    if (!pts_dir)
        return -VK_ENODEV;
    pty_t *p = kzalloc(sizeof(*p));
    if (!p)
        return -VK_ENOMEM;
    uint64_t f = spinlock_lock_irqsave(&ptys_lock);
    unsigned index = 0;
    while (index < PTY_MAX && ptys[index])
        index++;
    if (index < PTY_MAX)
        ptys[index] = p; /* reserved; slave_open refuses it until master_open */
    spinlock_unlock_irqrestore(&ptys_lock, f);
    if (index == PTY_MAX) {
        kfree(p);
        return -VK_ENOSPC;
    }
    p->index = index;
    p->files = 1;
    p->locked = true; /* until unlockpt, as Linux starts it */
    sched_wait_queue_init(&p->readers);
    sched_wait_queue_init(&p->writers);
    char name[12], thread_name[16];
    pts_name(index, name, sizeof(name));
    fmt_snprintf(thread_name, sizeof(thread_name), "tty-pts%u", index);
    p->slave = tty_alloc(thread_name, slave_output, p);
    int err = !p->slave ? -VK_ENOMEM : 0;
    if (!err) {
        p->slave->file_opened = slave_file_opened;
        p->slave->file_closed = slave_file_closed;
        if (!tty_start(p->slave)) {
            kfree(p->slave);
            err = -VK_ENOMEM;
        }
    }
    if (!err) {
        p->master_open = true;
        err = ramfs_add_device(pts_dir, name, &slave_node_ops, (void *)(uintptr_t)(index + 1),
                               0620);
        if (err)
            tty_destroy(p->slave);
    }
    if (err) {
        f = spinlock_lock_irqsave(&ptys_lock);
        ptys[index] = NULL;
        spinlock_unlock_irqrestore(&ptys_lock, f);
        kfree(p);
        return err;
    }
    file->ops = &master_ops;
    file->private = p;
    return 0;
}

const file_ops_t pty_ptmx_ops = { .open = ptmx_open };

void pty_init(vnode_t *dir)
{
    pts_dir = dir;
}
