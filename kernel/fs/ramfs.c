/* SPDX-License-Identifier: MIT */
/*
 * ramfs: a filesystem in kernel memory. The root filesystem until the disk is mounted
 * (and the fallback when there is none), /tmp, and the body of devfs.
 *
 * Each node embeds its vnode. A node linked into a directory holds one reference for
 * that link, so it lives while it has a name or an open file; unlinking drops the link
 * reference and the last vnode_unref frees it. Regular files keep their bytes in one
 * heap buffer that grows by doubling, or point at read-only memory (a boot module)
 * until the first change copies it. The VFS holds the mount lock around every call.
 */
#include "fs/fs_internal.h"
#include "core/string.h"
#include "mm/mm.h"
#include "time/time.h"
#include "config.h"
#include <vk/errno.h>

#define S_IFCHR 0020000u
#define S_IFDIR 0040000u
#define S_IFREG 0100000u

typedef struct ramfs_node {
    vnode_t v;
    char name[VFS_NAME_MAX + 1];
    struct ramfs_node *dir;             /* the directory holding the link; NULL if none */
    struct ramfs_node *children, *next; /* directories: entries, newest first */
    uint64_t ino;
    uint32_t mode;                      /* permission bits */
    uint64_t size, capacity;
    uint8_t *data;                      /* owned, capacity bytes */
    const uint8_t *backing;             /* read-only bytes until the first change */
    const file_ops_t *dev_ops;          /* character devices */
    void *dev_private;
    uint64_t mtime_ns, ctime_ns;
} ramfs_node_t;

typedef struct {
    uint64_t next_ino;
} ramfs_t;

static const vnode_ops_t ramfs_ops;

static ramfs_node_t *node_of(vnode_t *v)
{
    return v->data;
}

static uint64_t now_ns(void)
{
    return time_monotonic_ns(); /* the clock CLOCK_REALTIME reports until there is an RTC */
}

static ramfs_node_t *node_new(mount_t *m, vnode_type_t type, const char *name, uint32_t mode)
{
    ramfs_node_t *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    vnode_init(&n->v, type, &ramfs_ops, m, n);
    strlcpy(n->name, name, sizeof(n->name));
    n->ino = ++((ramfs_t *)m->fs_private)->next_ino;
    n->mode = mode & 07777u;
    n->mtime_ns = n->ctime_ns = now_ns();
    return n;
}

static ramfs_node_t *find(ramfs_node_t *dir, const char *name)
{
    for (ramfs_node_t *c = dir->children; c; c = c->next)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* Links n into dir; the link owns the reference n was created with. */
static void link_node(ramfs_node_t *dir, ramfs_node_t *n)
{
    n->dir = dir;
    n->next = dir->children;
    dir->children = n;
    dir->mtime_ns = now_ns();
}

/* Takes n out of its directory; the caller drops the link reference. */
static void unlink_node(ramfs_node_t *n)
{
    ramfs_node_t *dir = n->dir;
    for (ramfs_node_t **link = &dir->children; *link; link = &(*link)->next)
        if (*link == n) {
            *link = n->next;
            break;
        }
    n->dir = NULL;
    n->next = NULL;
    dir->mtime_ns = now_ns();
}

/* ---- vnode ops ---------------------------------------------------------------------- */

static int ramfs_lookup(vnode_t *dir, const char *name, vnode_t **out)
{
    ramfs_node_t *n = find(node_of(dir), name);
    if (!n)
        return -VK_ENOENT;
    *out = vnode_ref(&n->v);
    return 0;
}

static int ramfs_create_node(vnode_t *dir, const char *name, vnode_type_t type, uint32_t mode,
                             vnode_t **out)
{
    if (find(node_of(dir), name))
        return -VK_EEXIST;
    if (type != VNODE_REG && type != VNODE_DIR)
        return -VK_EPERM;
    ramfs_node_t *n = node_new(dir->mount, type, name, mode);
    if (!n)
        return -VK_ENOMEM;
    link_node(node_of(dir), n);
    *out = vnode_ref(&n->v);
    return 0;
}

static int ramfs_unlink(vnode_t *dir, const char *name, bool is_dir)
{
    ramfs_node_t *n = find(node_of(dir), name);
    if (!n)
        return -VK_ENOENT;
    if (is_dir != (n->v.type == VNODE_DIR))
        return is_dir ? -VK_ENOTDIR : -VK_EISDIR;
    if (is_dir && n->children)
        return -VK_ENOTEMPTY;
    unlink_node(n);
    vnode_unref(&n->v); /* the link's reference */
    return 0;
}

static int ramfs_rename(vnode_t *old_dir, const char *old_name, vnode_t *new_dir,
                        const char *new_name)
{
    ramfs_node_t *n = find(node_of(old_dir), old_name);
    if (!n)
        return -VK_ENOENT;
    ramfs_node_t *target = find(node_of(new_dir), new_name);
    if (target == n)
        return 0;
    if (target) {
        bool dir = n->v.type == VNODE_DIR, target_dir = target->v.type == VNODE_DIR;
        if (dir != target_dir)
            return target_dir ? -VK_EISDIR : -VK_ENOTDIR;
        if (target_dir && target->children)
            return -VK_ENOTEMPTY;
        unlink_node(target);
        vnode_unref(&target->v);
    }
    unlink_node(n);
    strlcpy(n->name, new_name, sizeof(n->name));
    link_node(node_of(new_dir), n);
    n->ctime_ns = now_ns();
    return 0;
}

static long ramfs_read(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    ramfs_node_t *n = node_of(v);
    if (offset >= n->size)
        return 0;
    size_t count = n->size - offset < len ? (size_t)(n->size - offset) : len;
    const uint8_t *bytes = n->data ? n->data : n->backing;
    int err = vfs_buf_put(buf, 0, bytes + offset, count);
    return err ? err : (long)count;
}

/* Makes the file's bytes owned and at least `size` bytes of capacity (zero-filled). */
static int reserve(ramfs_node_t *n, uint64_t size)
{
    if (size > CONFIG_RAMFS_FILE_MAX)
        return -VK_EFBIG;
    if (n->data && size <= n->capacity)
        return 0;
    uint64_t cap = n->capacity ? n->capacity : 256;
    while (cap < size)
        cap *= 2;
    if (cap > CONFIG_RAMFS_FILE_MAX)
        cap = CONFIG_RAMFS_FILE_MAX;
    uint8_t *data = kzalloc(cap);
    if (!data)
        return -VK_ENOSPC;
    const uint8_t *old = n->data ? n->data : n->backing;
    if (old)
        memcpy(data, old, n->size);
    kfree(n->data);
    n->data = data;
    n->backing = NULL;
    n->capacity = cap;
    return 0;
}

static long ramfs_write(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    ramfs_node_t *n = node_of(v);
    uint64_t end;
    if (__builtin_add_overflow(offset, len, &end))
        return -VK_EFBIG;
    int err = reserve(n, end);
    if (err)
        return err;
    err = vfs_buf_get(n->data + offset, buf, 0, len);
    if (err)
        return err;
    if (offset > n->size)
        memset(n->data + n->size, 0, offset - n->size); /* the gap reads as zeros */
    if (end > n->size)
        n->size = end;
    n->mtime_ns = now_ns();
    return (long)len;
}

static int ramfs_truncate(vnode_t *v, uint64_t size)
{
    ramfs_node_t *n = node_of(v);
    int err = reserve(n, size);
    if (err)
        return err;
    if (size > n->size)
        memset(n->data + n->size, 0, size - n->size);
    n->size = size;
    n->mtime_ns = now_ns();
    return 0;
}

static int ramfs_readdir(vnode_t *dir, uint64_t *cookie, vfs_dirent_t *out)
{
    ramfs_node_t *c = node_of(dir)->children;
    for (uint64_t i = 0; c && i < *cookie; i++)
        c = c->next;
    if (!c)
        return 0;
    out->ino = c->ino;
    out->type = c->v.type;
    strlcpy(out->name, c->name, sizeof(out->name));
    (*cookie)++;
    return 1;
}

static int ramfs_getattr(vnode_t *v, vfs_stat_t *st)
{
    ramfs_node_t *n = node_of(v);
    static const uint32_t type_bits[] = {
        [VNODE_REG] = S_IFREG, [VNODE_DIR] = S_IFDIR, [VNODE_CHR] = S_IFCHR,
    };
    st->ino = n->ino;
    st->mode = type_bits[v->type] | n->mode;
    st->nlink = v->type == VNODE_DIR ? 2 : (n->dir ? 1 : 0);
    st->size = v->type == VNODE_REG ? n->size : 0;
    st->blocks = (n->capacity + 511) / 512;
    st->atime_ns = st->mtime_ns = n->mtime_ns;
    st->ctime_ns = n->ctime_ns;
    return 0;
}

static int ramfs_open(vnode_t *v, file_t *f)
{
    ramfs_node_t *n = node_of(v);
    f->ops = n->dev_ops;
    f->private = n->dev_private;
    return f->ops->open ? f->ops->open(f) : 0;
}

static void ramfs_release(vnode_t *v)
{
    ramfs_node_t *n = node_of(v);
    kfree(n->data);
    kfree(n);
}

static const vnode_ops_t ramfs_ops = {
    .lookup = ramfs_lookup,
    .create = ramfs_create_node,
    .unlink = ramfs_unlink,
    .rename = ramfs_rename,
    .read = ramfs_read,
    .write = ramfs_write,
    .truncate = ramfs_truncate,
    .readdir = ramfs_readdir,
    .getattr = ramfs_getattr,
    .open = ramfs_open,
    .release = ramfs_release,
};

/* ---- building trees ----------------------------------------------------------------- */

mount_t *ramfs_create(const char *fs_name, bool read_only)
{
    mount_t *m = vfs_mount_new(fs_name, read_only);
    ramfs_t *fs = kzalloc(sizeof(*fs));
    if (!m || !fs) {
        kfree(m);
        kfree(fs);
        return NULL;
    }
    m->fs_private = fs;
    ramfs_node_t *root = node_new(m, VNODE_DIR, "", 0755);
    if (!root) {
        kfree(fs);
        kfree(m);
        return NULL;
    }
    m->root = &root->v;
    return m;
}

/* Adds a node under dir's mount lock; a device's ops are set before it can be found. */
static int add_node_with(vnode_t *dir, const char *name, vnode_type_t type, uint32_t mode,
                         const file_ops_t *dev_ops, void *dev_private, ramfs_node_t **out)
{
    if (dir->ops != &ramfs_ops)
        return -VK_EINVAL;
    sched_mutex_lock(&dir->mount->lock);
    int err = 0;
    if (find(node_of(dir), name)) {
        err = -VK_EEXIST;
    } else if (!(*out = node_new(dir->mount, type, name, mode))) {
        err = -VK_ENOMEM;
    } else {
        (*out)->dev_ops = dev_ops;
        (*out)->dev_private = dev_private;
        link_node(node_of(dir), *out);
    }
    sched_mutex_unlock(&dir->mount->lock);
    return err;
}

static int add_node(vnode_t *dir, const char *name, vnode_type_t type, uint32_t mode,
                    ramfs_node_t **out)
{
    return add_node_with(dir, name, type, mode, NULL, NULL, out);
}

int ramfs_remove(vnode_t *dir, const char *name)
{
    if (dir->ops != &ramfs_ops)
        return -VK_EINVAL;
    sched_mutex_lock(&dir->mount->lock);
    int err = ramfs_unlink(dir, name, false);
    sched_mutex_unlock(&dir->mount->lock);
    return err;
}

int ramfs_add_file(vnode_t *dir, const char *name, const void *data, uint64_t size,
                   uint32_t mode)
{
    ramfs_node_t *n;
    int err = add_node(dir, name, VNODE_REG, mode, &n);
    if (!err) {
        n->backing = data;
        n->size = size;
    }
    return err;
}

int ramfs_add_device(vnode_t *dir, const char *name, const file_ops_t *ops, void *private,
                     uint32_t mode)
{
    ramfs_node_t *n;
    return add_node_with(dir, name, VNODE_CHR, mode, ops, private, &n);
}

int ramfs_add_dir(vnode_t *dir, const char *name, vnode_t **out)
{
    ramfs_node_t *n;
    int err = add_node(dir, name, VNODE_DIR, 0755, &n);
    if (err == -VK_EEXIST)
        return vfs_lookup(dir, name, out);
    if (!err)
        *out = vnode_ref(&n->v);
    return err;
}
