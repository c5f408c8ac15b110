/* SPDX-License-Identifier: MIT */
/*
 * Per-process descriptor tables: FDTABLE_MAX slots, each an open file and a
 * close-on-exec bit. A spinlock guards the slots; files are closed (file_unref) only
 * after it is released, because closing may sleep.
 */
#include "fs/vfs.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

struct fdtable {
    spinlock_t lock;
    /* Guarded by lock. */
    file_t *files[FDTABLE_MAX];
    uint64_t cloexec[FDTABLE_MAX / 64];
};

static void set_cloexec_bit(fdtable_t *t, int fd, bool on)
{
    uint64_t bit = 1ull << (fd % 64);
    if (on)
        t->cloexec[fd / 64] |= bit;
    else
        t->cloexec[fd / 64] &= ~bit;
}

static bool valid_fd(int fd)
{
    return fd >= 0 && fd < FDTABLE_MAX;
}

fdtable_t *fdtable_new(void)
{
    return kzalloc(sizeof(fdtable_t));
}

fdtable_t *fdtable_clone(fdtable_t *t)
{
    fdtable_t *c = kzalloc(sizeof(*c));
    if (!c)
        return NULL;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    for (int fd = 0; fd < FDTABLE_MAX; fd++)
        if (t->files[fd])
            c->files[fd] = file_ref(t->files[fd]);
    memcpy(c->cloexec, t->cloexec, sizeof(c->cloexec));
    spinlock_unlock_irqrestore(&t->lock, f);
    return c;
}

void fdtable_free(fdtable_t *t)
{
    if (!t)
        return;
    for (int fd = 0; fd < FDTABLE_MAX; fd++)
        if (t->files[fd])
            file_unref(t->files[fd]);
    kfree(t);
}

int fdtable_install(fdtable_t *t, file_t *f, int min, bool cloexec)
{
    if (min < 0)
        return -VK_EINVAL;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    for (int fd = min; fd < FDTABLE_MAX; fd++) {
        if (t->files[fd])
            continue;
        t->files[fd] = f;
        set_cloexec_bit(t, fd, cloexec);
        spinlock_unlock_irqrestore(&t->lock, flags);
        return fd;
    }
    spinlock_unlock_irqrestore(&t->lock, flags);
    return -VK_EMFILE;
}

int fdtable_install_at(fdtable_t *t, int fd, file_t *f, bool cloexec)
{
    if (!valid_fd(fd))
        return -VK_EBADF;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    file_t *old = t->files[fd];
    t->files[fd] = f;
    set_cloexec_bit(t, fd, cloexec);
    spinlock_unlock_irqrestore(&t->lock, flags);
    if (old)
        file_unref(old);
    return fd;
}

file_t *fdtable_get(fdtable_t *t, int fd)
{
    if (!valid_fd(fd))
        return NULL;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    file_t *f = t->files[fd] ? file_ref(t->files[fd]) : NULL;
    spinlock_unlock_irqrestore(&t->lock, flags);
    return f;
}

int fdtable_close(fdtable_t *t, int fd)
{
    if (!valid_fd(fd))
        return -VK_EBADF;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    file_t *f = t->files[fd];
    t->files[fd] = NULL;
    set_cloexec_bit(t, fd, false);
    spinlock_unlock_irqrestore(&t->lock, flags);
    if (!f)
        return -VK_EBADF;
    file_unref(f);
    return 0;
}

int fdtable_get_cloexec(fdtable_t *t, int fd)
{
    if (!valid_fd(fd))
        return -VK_EBADF;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    int r = !t->files[fd] ? -VK_EBADF : (int)((t->cloexec[fd / 64] >> (fd % 64)) & 1);
    spinlock_unlock_irqrestore(&t->lock, flags);
    return r;
}

int fdtable_set_cloexec(fdtable_t *t, int fd, bool on)
{
    if (!valid_fd(fd))
        return -VK_EBADF;
    uint64_t flags = spinlock_lock_irqsave(&t->lock);
    int r = t->files[fd] ? 0 : -VK_EBADF;
    if (!r)
        set_cloexec_bit(t, fd, on);
    spinlock_unlock_irqrestore(&t->lock, flags);
    return r;
}

void fdtable_close_on_exec(fdtable_t *t)
{
    for (int fd = 0; fd < FDTABLE_MAX; fd++) {
        uint64_t flags = spinlock_lock_irqsave(&t->lock);
        file_t *f = NULL;
        if ((t->cloexec[fd / 64] >> (fd % 64)) & 1) {
            f = t->files[fd];
            t->files[fd] = NULL;
            set_cloexec_bit(t, fd, false);
        }
        spinlock_unlock_irqrestore(&t->lock, flags);
        if (f)
            file_unref(f);
    }
}
