/* SPDX-License-Identifier: MIT */
/*
 * Open file descriptions. A file on a vnode uses the vnode file ops below (offset,
 * O_APPEND, directories); devices and pipes bring their own ops. The offset is guarded
 * by pos_lock, so two threads sharing a description (dup, fork) never read the same
 * bytes twice or lose an update, as POSIX asks for regular files.
 */
#include "fs/vfs.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

static bool can_read(const file_t *f)
{
    return (f->flags & VFS_O_ACCMODE) != VFS_O_WRONLY && !(f->flags & VFS_O_PATH);
}

static bool can_write(const file_t *f)
{
    return (f->flags & VFS_O_ACCMODE) != VFS_O_RDONLY && !(f->flags & VFS_O_PATH);
}

/* ---- regular files and directories -------------------------------------------------- */

static long vnode_file_read(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset)
{
    long n = vfs_read_vnode(f->vnode, *offset, buf, len);
    if (n > 0)
        *offset += (uint64_t)n;
    return n;
}

static long vnode_file_write(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset)
{
    if (f->flags & VFS_O_APPEND) {
        vfs_stat_t st;
        int err = vfs_getattr(f->vnode, &st);
        if (err)
            return err;
        *offset = st.size;
    }
    long n = vfs_write_vnode(f->vnode, *offset, buf, len);
    if (n > 0)
        *offset += (uint64_t)n;
    return n;
}

static const file_ops_t vnode_file_ops = {
    .read = vnode_file_read,
    .write = vnode_file_write,
    .seekable = true,
};

/* ---- descriptions ------------------------------------------------------------------- */

file_t *file_new(const file_ops_t *ops, uint32_t flags, void *private)
{
    file_t *f = kzalloc(sizeof(*f));
    if (!f)
        return NULL;
    f->refs = 1;
    f->flags = flags & ~VFS_O_CLOEXEC;
    f->ops = ops;
    f->private = private;
    sched_mutex_init(&f->pos_lock);
    return f;
}

file_t *file_ref(file_t *f)
{
    __atomic_fetch_add(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

void file_unref(file_t *f)
{
    uint32_t left = __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL);
    KASSERT(left != UINT32_MAX);
    if (left)
        return;
    if (f->ops->close)
        f->ops->close(f);
    if (f->vnode)
        vnode_unref(f->vnode);
    kfree(f);
}

int vfs_open_vnode(vnode_t *v, uint32_t flags, file_t **out)
{
    bool writing = (flags & VFS_O_ACCMODE) != VFS_O_RDONLY && !(flags & VFS_O_PATH);
    if ((flags & VFS_O_ACCMODE) == VFS_O_ACCMODE)
        return -VK_EINVAL;
    if (v->type == VNODE_DIR && writing)
        return -VK_EISDIR;
    if ((flags & VFS_O_DIRECTORY) && v->type != VNODE_DIR)
        return -VK_ENOTDIR;
    if (writing && v->type == VNODE_REG && v->mount->read_only)
        return -VK_EROFS;
    file_t *f = file_new(&vnode_file_ops, flags, NULL);
    if (!f)
        return -VK_ENOMEM;
    f->vnode = vnode_ref(v);
    if (v->type == VNODE_CHR && !(flags & VFS_O_PATH)) {
        int err = v->ops->open ? v->ops->open(v, f) : -VK_ENXIO;
        if (err) {
            f->ops = &vnode_file_ops;
            file_unref(f);
            return err;
        }
    }
    *out = f;
    return 0;
}

/* Creates name in dir (O_CREAT), or finds what is there. */
static int open_create(vnode_t *dir, const char *name, uint32_t flags, uint32_t mode,
                       vnode_t **out)
{
    int err;
    sched_mutex_lock(&dir->mount->lock);
    err = dir->ops->lookup ? dir->ops->lookup(dir, name, out) : -VK_ENOENT;
    if (err == -VK_ENOENT) {
        if (dir->mount->read_only)
            err = -VK_EROFS;
        else if (!dir->ops->create)
            err = -VK_EPERM;
        else
            err = dir->ops->create(dir, name, VNODE_REG, mode, out);
    } else if (!err && (flags & VFS_O_EXCL)) {
        vnode_t *found = *out;
        sched_mutex_unlock(&dir->mount->lock);
        vnode_unref(found);
        return -VK_EEXIST;
    }
    sched_mutex_unlock(&dir->mount->lock);
    return err;
}

int vfs_open(vnode_t *at, const char *path, uint32_t flags, uint32_t mode, file_t **out)
{
    vnode_t *v;
    int err;
    if (flags & VFS_O_CREAT) {
        vnode_t *dir;
        char name[VFS_NAME_MAX + 1];
        err = vfs_lookup_parent(at, path, &dir, name);
        if (err == -VK_EINVAL) /* "/", "." or "..": an existing directory */
            return (flags & VFS_O_EXCL) ? -VK_EEXIST : -VK_EISDIR;
        if (err)
            return err;
        err = open_create(dir, name, flags, mode, &v);
        vnode_unref(dir);
        if (err)
            return err;
        /* A mount point found by name is the mounted root, as in any walk. */
        if (v->type == VNODE_DIR) {
            vnode_unref(v);
            return -VK_EISDIR;
        }
    } else {
        err = vfs_lookup(at, path, &v);
        if (err)
            return err;
    }
    if ((flags & VFS_O_TRUNC) && v->type == VNODE_REG &&
        (flags & VFS_O_ACCMODE) != VFS_O_RDONLY) {
        err = vfs_truncate(v, 0);
        if (err) {
            vnode_unref(v);
            return err;
        }
    }
    err = vfs_open_vnode(v, flags, out);
    vnode_unref(v);
    return err;
}

/* ---- I/O ---------------------------------------------------------------------------- */

long file_read(file_t *f, vfs_buf_t buf, size_t len)
{
    if (!can_read(f))
        return -VK_EBADF;
    if (f->vnode && f->vnode->type == VNODE_DIR)
        return -VK_EISDIR;
    if (!f->ops->read)
        return -VK_EINVAL;
    if (!f->ops->seekable)
        return f->ops->read(f, buf, len, &f->offset);
    sched_mutex_lock(&f->pos_lock);
    long n = f->ops->read(f, buf, len, &f->offset);
    sched_mutex_unlock(&f->pos_lock);
    return n;
}

long file_write(file_t *f, vfs_buf_t buf, size_t len)
{
    if (!can_write(f))
        return -VK_EBADF;
    if (!f->ops->write)
        return -VK_EINVAL;
    if (!f->ops->seekable)
        return f->ops->write(f, buf, len, &f->offset);
    sched_mutex_lock(&f->pos_lock);
    long n = f->ops->write(f, buf, len, &f->offset);
    sched_mutex_unlock(&f->pos_lock);
    return n;
}

long file_pread(file_t *f, vfs_buf_t buf, size_t len, uint64_t offset)
{
    if (!can_read(f))
        return -VK_EBADF;
    if (!f->ops->seekable)
        return -VK_ESPIPE;
    if (f->vnode && f->vnode->type == VNODE_DIR)
        return -VK_EISDIR;
    return f->ops->read(f, buf, len, &offset);
}

long file_pwrite(file_t *f, vfs_buf_t buf, size_t len, uint64_t offset)
{
    if (!can_write(f))
        return -VK_EBADF;
    if (!f->ops->seekable)
        return -VK_ESPIPE;
    /* Linux ignores the offset of pwrite on an O_APPEND file; so do we, via the op. */
    return f->ops->write(f, buf, len, &offset);
}

long file_seek(file_t *f, int64_t offset, int whence)
{
    if (!f->ops->seekable)
        return -VK_ESPIPE;
    sched_mutex_lock(&f->pos_lock);
    int64_t base = 0;
    long result = 0;
    if (whence == SEEK_CUR) {
        base = (int64_t)f->offset;
    } else if (whence == SEEK_END) {
        vfs_stat_t st;
        result = f->vnode ? vfs_getattr(f->vnode, &st) : -VK_EINVAL;
        base = (int64_t)st.size;
    } else if (whence != SEEK_SET) {
        result = -VK_EINVAL;
    }
    if (!result) {
        int64_t pos;
        if (__builtin_add_overflow(base, offset, &pos) || pos < 0) {
            result = -VK_EINVAL;
        } else {
            /* Directories: only rewinding makes sense for a cookie-based position. */
            if (f->vnode && f->vnode->type == VNODE_DIR && pos != 0)
                result = -VK_EINVAL;
            else
                f->offset = (uint64_t)(result = pos);
        }
    }
    sched_mutex_unlock(&f->pos_lock);
    return result;
}

unsigned file_poll(file_t *f)
{
    if (!f->ops->poll)
        return VFS_POLLIN | VFS_POLLOUT;
    return f->ops->poll(f);
}

long file_ioctl(file_t *f, uint64_t request, uint64_t arg)
{
    if (!f->ops->ioctl)
        return -VK_ENOTTY;
    return f->ops->ioctl(f, request, arg);
}

int file_readdir(file_t *f, vfs_dirent_t *out)
{
    vnode_t *v = f->vnode;
    if (!v || v->type != VNODE_DIR)
        return -VK_ENOTDIR;
    /* The offset is the filesystem's cookie; "." and ".." come first, made here. */
    sched_mutex_lock(&f->pos_lock);
    int got = 1;
    if (f->offset < 2) {
        vfs_stat_t st;
        vnode_t *which = f->offset == 1 && v->parent ? v->parent : v;
        out->type = VNODE_DIR;
        out->ino = vfs_getattr(which, &st) ? 0 : st.ino;
        strlcpy(out->name, f->offset == 0 ? "." : "..", sizeof(out->name));
        f->offset++;
    } else if (!v->ops->readdir) {
        got = 0;
    } else {
        uint64_t cookie = f->offset - 2;
        sched_mutex_lock(&v->mount->lock);
        got = v->ops->readdir(v, &cookie, out);
        sched_mutex_unlock(&v->mount->lock);
        if (got > 0)
            f->offset = cookie + 2;
    }
    sched_mutex_unlock(&f->pos_lock);
    return got;
}
