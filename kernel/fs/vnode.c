/* SPDX-License-Identifier: MIT */
/*
 * Vnodes, the mount table and the path walk.
 *
 * Locking: each mount has a mutex held around every call into its filesystem, so
 * filesystems are single-threaded per instance. The mount table (mounts, and each
 * directory's `mounted`) is guarded by mount_lock, a spinlock taken only for short
 * reads and the rare mount. Reference counts are atomic. A walk holds one reference
 * at a time (plus the parent chain each directory keeps), never two mount locks.
 */
#include "fs/fs_internal.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include <vk/errno.h>

#define WALK_MAX_COMPONENTS 256 /* a bound on every walk; no symlinks yet, so no loops */

static spinlock_t mount_lock = SPINLOCK_INIT;
static mount_t *mounts;
static vnode_t *root;
static uint64_t next_dev = 1;

/* ---- buffers ------------------------------------------------------------------------ */

int vfs_buf_put(vfs_buf_t b, size_t off, const void *src, size_t n)
{
    if (b.kernel) {
        memcpy(b.kernel + off, src, n);
        return 0;
    }
    return usercopy_to(b.user + off, src, n);
}

int vfs_buf_get(void *dst, vfs_buf_t b, size_t off, size_t n)
{
    if (b.kernel) {
        memcpy(dst, b.kernel + off, n);
        return 0;
    }
    return usercopy_from(dst, b.user + off, n);
}

int vfs_buf_zero(vfs_buf_t b, size_t off, size_t n)
{
    if (b.kernel) {
        memset(b.kernel + off, 0, n);
        return 0;
    }
    return usercopy_clear(b.user + off, n);
}

/* ---- vnodes --------------------------------------------------------------------- */

void vnode_init(vnode_t *v, vnode_type_t type, const vnode_ops_t *ops, mount_t *m, void *data)
{
    memset(v, 0, sizeof(*v));
    v->refs = 1;
    v->type = type;
    v->ops = ops;
    v->mount = m;
    v->data = data;
}

vnode_t *vnode_ref(vnode_t *v)
{
    __atomic_fetch_add(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

void vnode_unref(vnode_t *v)
{
    while (v) {
        uint32_t left = __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL);
        KASSERT(left != UINT32_MAX);
        if (left)
            return;
        vnode_t *parent = v->parent;
        if (v->ops->release)
            v->ops->release(v); /* without the mount lock: see vnode_ops_t */
        v = parent; /* the reference the child held on its parent */
    }
}

/* ---- mounts --------------------------------------------------------------------- */

mount_t *vfs_mount_new(const char *fs_name, bool read_only)
{
    mount_t *m = kzalloc(sizeof(*m));
    if (!m)
        return NULL;
    strlcpy(m->fs_name, fs_name, sizeof(m->fs_name));
    m->read_only = read_only;
    sched_mutex_init(&m->lock);
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    m->dev = next_dev++;
    spinlock_unlock_irqrestore(&mount_lock, f);
    return m;
}

vnode_t *vfs_root(void)
{
    return root;
}

/* Puts m on the directory at path, taking it off the one it covered (if any). 0 also
 * when m is already what path names. */
static int cover(mount_t *m, const char *path)
{
    vnode_t *dir;
    int err = vfs_lookup(NULL, path, &dir);
    if (err)
        return err;
    if (dir->mount == m) { /* already there */
        vnode_unref(dir);
        return 0;
    }
    if (dir->type != VNODE_DIR) {
        vnode_unref(dir);
        return -VK_ENOTDIR;
    }
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    if (dir->mounted) {
        spinlock_unlock_irqrestore(&mount_lock, f);
        vnode_unref(dir);
        return -VK_EBUSY;
    }
    vnode_t *old = m->covered;
    if (old)
        old->mounted = NULL;
    dir->mounted = m;
    m->covered = dir; /* keeps the walk's reference */
    spinlock_unlock_irqrestore(&mount_lock, f);
    if (old)
        vnode_unref(old);
    return 0;
}

int vfs_mount_at(mount_t *m, const char *path)
{
    KASSERT(m->root && m->root->type == VNODE_DIR && !m->covered);
    if (!strcmp(path, "/") && !root) {
        root = vnode_ref(m->root);
        m->root->parent = NULL;
    } else {
        int err = cover(m, path);
        if (err)
            return err;
    }
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    m->next = mounts;
    mounts = m;
    spinlock_unlock_irqrestore(&mount_lock, f);
    log_info("vfs: %s mounted on %s%s", m->fs_name, path, m->read_only ? " (read-only)" : "");
    return 0;
}

void vfs_set_root(mount_t *m)
{
    KASSERT(m->root && m->root->type == VNODE_DIR && root && !m->covered);
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    mount_t *old = root->mount;
    /* The old root leaves the list (a walker standing on it still finds its `next`:
     * mounts are never freed) and the new one joins it. */
    for (mount_t **p = &mounts; *p; p = &(*p)->next) {
        if (*p == old) {
            *p = old->next;
            break;
        }
    }
    m->root->parent = NULL;
    root = vnode_ref(m->root);
    m->next = mounts;
    mounts = m;
    spinlock_unlock_irqrestore(&mount_lock, f);
    log_info("vfs: %s is now the root, in place of the boot %s", m->fs_name, old->fs_name);
}

int vfs_move_mount(mount_t *m, const char *path)
{
    int err = cover(m, path);
    if (!err)
        log_info("vfs: %s moved to %s", m->fs_name, path);
    return err;
}

/* The root of whatever is mounted on v (repeatedly), as a new reference; v's reference
 * is consumed. */
static vnode_t *cross_mounts(vnode_t *v)
{
    for (;;) {
        uint64_t f = spinlock_lock_irqsave(&mount_lock);
        mount_t *m = v->type == VNODE_DIR ? v->mounted : NULL;
        vnode_t *next = m ? vnode_ref(m->root) : NULL;
        spinlock_unlock_irqrestore(&mount_lock, f);
        if (!next)
            return v;
        vnode_unref(v);
        v = next;
    }
}

/* ---- path walk ------------------------------------------------------------------- */

/* One step from directory dir (a reference, consumed) through component name. */
static int step(vnode_t *dir, const char *name, vnode_t **out)
{
    if (dir->type != VNODE_DIR) {
        vnode_unref(dir);
        return -VK_ENOTDIR;
    }
    if (!strcmp(name, ".")) {
        *out = dir;
        return 0;
    }
    if (!strcmp(name, "..")) {
        /* At a filesystem's root, ".." belongs to the directory it covers. */
        while (dir != root && dir->mount->root == dir && dir->mount->covered) {
            vnode_t *covered = vnode_ref(dir->mount->covered);
            vnode_unref(dir);
            dir = covered;
        }
        vnode_t *up = dir->parent ? vnode_ref(dir->parent) : vnode_ref(dir);
        vnode_unref(dir);
        *out = up;
        return 0;
    }
    if (!dir->ops->lookup) {
        vnode_unref(dir);
        return -VK_ENOENT;
    }
    vnode_t *child = NULL;
    sched_mutex_lock(&dir->mount->lock);
    int err = dir->ops->lookup(dir, name, &child);
    if (!err && child->type == VNODE_DIR && !child->parent && child != dir->mount->root)
        child->parent = vnode_ref(dir);
    sched_mutex_unlock(&dir->mount->lock);
    vnode_unref(dir);
    if (err)
        return err;
    *out = cross_mounts(child);
    return 0;
}

/* Copies the next component of *path into name and advances past it and its slashes.
 * Returns its length (0 at the end) or -VK_ENAMETOOLONG. */
static long next_component(const char **path, char *name)
{
    const char *s = *path;
    while (*s == '/')
        s++;
    size_t n = 0;
    while (s[n] && s[n] != '/')
        n++;
    if (n > VFS_NAME_MAX)
        return -VK_ENAMETOOLONG;
    memcpy(name, s, n);
    name[n] = 0;
    s += n;
    while (*s == '/')
        s++;
    *path = s;
    return (long)n;
}

static vnode_t *walk_start(vnode_t *at, const char *path)
{
    if (path[0] == '/' || !at)
        return vnode_ref(root);
    return vnode_ref(at);
}

/* Walks `path` from start (a reference, consumed) component by component; stops before
 * the last component when `last` is non-NULL (copying it there). */
static int walk(vnode_t *v, const char *path, char *last, vnode_t **out)
{
    char name[VFS_NAME_MAX + 1];
    for (unsigned i = 0;; i++) {
        if (i == WALK_MAX_COMPONENTS) {
            vnode_unref(v);
            return -VK_ENAMETOOLONG;
        }
        long n = next_component(&path, name);
        if (n < 0) {
            vnode_unref(v);
            return (int)n;
        }
        if (n == 0)
            break;
        if (last && !*path) {
            memcpy(last, name, (size_t)n + 1);
            break;
        }
        int err = step(v, name, &v);
        if (err)
            return err;
    }
    *out = v;
    return 0;
}

int vfs_lookup(vnode_t *at, const char *path, vnode_t **out)
{
    if (!path[0])
        return -VK_ENOENT;
    vnode_t *v;
    int err = walk(walk_start(at, path), path, NULL, &v);
    if (err)
        return err;
    *out = v;
    return 0;
}

int vfs_lookup_parent(vnode_t *at, const char *path, vnode_t **dir, char *name)
{
    if (!path[0])
        return -VK_ENOENT;
    name[0] = 0;
    vnode_t *v;
    int err = walk(walk_start(at, path), path, name, &v);
    if (err)
        return err;
    if (!name[0] || !strcmp(name, ".") || !strcmp(name, "..")) {
        vnode_unref(v);
        return -VK_EINVAL;
    }
    if (v->type != VNODE_DIR) {
        vnode_unref(v);
        return -VK_ENOTDIR;
    }
    *dir = v;
    return 0;
}

/* ---- operations through the mount lock --------------------------------------------- */

int vfs_getattr(vnode_t *v, vfs_stat_t *st)
{
    memset(st, 0, sizeof(*st));
    if (!v->ops->getattr)
        return -VK_EINVAL;
    sched_mutex_lock(&v->mount->lock);
    int err = v->ops->getattr(v, st);
    sched_mutex_unlock(&v->mount->lock);
    st->dev = v->mount->dev;
    return err;
}

long vfs_read_vnode(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    if (v->type == VNODE_DIR)
        return -VK_EISDIR;
    if (!v->ops->read)
        return -VK_EINVAL;
    sched_mutex_lock(&v->mount->lock);
    long n = v->ops->read(v, offset, buf, len);
    sched_mutex_unlock(&v->mount->lock);
    return n;
}

long vfs_write_vnode(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    if (v->type == VNODE_DIR)
        return -VK_EISDIR;
    if (v->mount->read_only)
        return -VK_EROFS;
    if (!v->ops->write)
        return -VK_EINVAL;
    sched_mutex_lock(&v->mount->lock);
    long n = v->ops->write(v, offset, buf, len);
    sched_mutex_unlock(&v->mount->lock);
    return n;
}

int vfs_truncate(vnode_t *v, uint64_t size)
{
    if (v->type == VNODE_DIR)
        return -VK_EISDIR;
    if (v->type != VNODE_REG)
        return -VK_EINVAL;
    if (v->mount->read_only)
        return -VK_EROFS;
    if (!v->ops->truncate)
        return -VK_EPERM;
    sched_mutex_lock(&v->mount->lock);
    int err = v->ops->truncate(v, size);
    sched_mutex_unlock(&v->mount->lock);
    return err;
}

int vfs_sync(vnode_t *v)
{
    if (!v->ops->sync)
        return 0;
    sched_mutex_lock(&v->mount->lock);
    int err = v->ops->sync(v);
    sched_mutex_unlock(&v->mount->lock);
    return err;
}

void vfs_for_each_mount(int (*fn)(mount_t *m))
{
    /* Mounts are never removed, so the list can be walked without the lock held. */
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    mount_t *m = mounts;
    spinlock_unlock_irqrestore(&mount_lock, f);
    for (; m; m = m->next) {
        int err = fn(m);
        if (err)
            log_warn("vfs: %s: error %d", m->fs_name, err);
    }
}

mount_t *vfs_mount_get(unsigned index)
{
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    mount_t *m = mounts;
    for (; m && index; index--)
        m = m->next;
    spinlock_unlock_irqrestore(&mount_lock, f);
    return m;
}

static int sync_mount(mount_t *m)
{
    return vfs_sync(m->root);
}

void vfs_sync_all(void)
{
    vfs_for_each_mount(sync_mount);
}

/* Lookup of the parent of path, checked for a writable filesystem that can `op`. */
static int writable_parent(vnode_t *at, const char *path, vnode_t **dir, char *name,
                           bool can)
{
    int err = vfs_lookup_parent(at, path, dir, name);
    if (err)
        return err;
    if ((*dir)->mount->read_only || !can) {
        err = (*dir)->mount->read_only ? -VK_EROFS : -VK_EPERM;
        vnode_unref(*dir);
    }
    return err;
}

int vfs_mkdir(vnode_t *at, const char *path, uint32_t mode)
{
    vnode_t *dir, *made;
    char name[VFS_NAME_MAX + 1];
    int err = vfs_lookup_parent(at, path, &dir, name);
    if (err)
        return err == -VK_EINVAL ? -VK_EEXIST : err; /* mkdir "." or "/" */
    if (dir->mount->read_only || !dir->ops->create) {
        err = dir->mount->read_only ? -VK_EROFS : -VK_EPERM;
    } else {
        sched_mutex_lock(&dir->mount->lock);
        err = dir->ops->create(dir, name, VNODE_DIR, mode, &made);
        sched_mutex_unlock(&dir->mount->lock);
        if (!err)
            vnode_unref(made);
    }
    vnode_unref(dir);
    return err;
}

/* True when v is the root of a mount or has something mounted on it. */
static bool is_mount_point(vnode_t *v)
{
    uint64_t f = spinlock_lock_irqsave(&mount_lock);
    bool busy = v->mounted || v == root || v->mount->root == v;
    spinlock_unlock_irqrestore(&mount_lock, f);
    return busy;
}

int vfs_unlink(vnode_t *at, const char *path, bool is_dir)
{
    vnode_t *dir, *victim;
    char name[VFS_NAME_MAX + 1];
    int err = vfs_lookup_parent(at, path, &dir, name);
    if (err)
        return err == -VK_EINVAL && is_dir ? -VK_EBUSY : err;
    err = step(vnode_ref(dir), name, &victim);
    if (!err) {
        if (is_dir && victim->type != VNODE_DIR)
            err = -VK_ENOTDIR;
        else if (!is_dir && victim->type == VNODE_DIR)
            err = -VK_EISDIR;
        else if (is_dir && is_mount_point(victim))
            err = -VK_EBUSY;
        vnode_unref(victim);
    }
    if (!err && (dir->mount->read_only || !dir->ops->unlink))
        err = dir->mount->read_only ? -VK_EROFS : -VK_EPERM;
    if (!err) {
        sched_mutex_lock(&dir->mount->lock);
        err = dir->ops->unlink(dir, name, is_dir);
        sched_mutex_unlock(&dir->mount->lock);
    }
    vnode_unref(dir);
    return err;
}

/* True when `dir` is `ancestor` or lies below it (following the parent chain). */
static bool is_below(vnode_t *dir, vnode_t *ancestor)
{
    for (unsigned i = 0; dir && i < WALK_MAX_COMPONENTS * 16; i++, dir = dir->parent)
        if (dir == ancestor)
            return true;
    return false;
}

int vfs_rename(vnode_t *at_old, const char *old_path, vnode_t *at_new, const char *new_path)
{
    vnode_t *odir, *ndir = NULL, *moved = NULL;
    char oname[VFS_NAME_MAX + 1], nname[VFS_NAME_MAX + 1];
    int err = writable_parent(at_old, old_path, &odir, oname, true);
    if (err)
        return err == -VK_EINVAL ? -VK_EBUSY : err;
    err = writable_parent(at_new, new_path, &ndir, nname, true);
    if (err) {
        vnode_unref(odir);
        return err == -VK_EINVAL ? -VK_EBUSY : err;
    }
    if (odir->mount != ndir->mount)
        err = -VK_EXDEV;
    else if (!odir->ops->rename)
        err = -VK_EPERM;
    if (!err)
        err = step(vnode_ref(odir), oname, &moved);
    if (!err && moved->type == VNODE_DIR && (is_mount_point(moved) || is_below(ndir, moved)))
        err = is_mount_point(moved) ? -VK_EBUSY : -VK_EINVAL;
    if (!err) {
        sched_mutex_lock(&odir->mount->lock);
        err = odir->ops->rename(odir, oname, ndir, nname);
        if (!err && moved->type == VNODE_DIR && moved->parent != ndir) {
            vnode_t *old_parent = moved->parent;
            moved->parent = vnode_ref(ndir);
            sched_mutex_unlock(&odir->mount->lock);
            vnode_unref(old_parent);
        } else {
            sched_mutex_unlock(&odir->mount->lock);
        }
    }
    if (moved)
        vnode_unref(moved);
    vnode_unref(odir);
    vnode_unref(ndir);
    return err;
}

/* The name under which directory `parent` lists `child`, by scanning parent. */
static int name_in_parent(vnode_t *parent, vnode_t *child, char *name)
{
    vfs_stat_t want;
    int err = vfs_getattr(child, &want);
    if (err)
        return err;
    vfs_dirent_t *d = kmalloc(sizeof(*d));
    if (!d)
        return -VK_ENOMEM;
    uint64_t cookie = 0;
    sched_mutex_lock(&parent->mount->lock);
    for (;;) {
        err = parent->ops->readdir ? parent->ops->readdir(parent, &cookie, d) : 0;
        if (err <= 0) {
            err = err ? err : -VK_ENOENT;
            break;
        }
        if (d->ino == want.ino && strcmp(d->name, ".") && strcmp(d->name, "..")) {
            strlcpy(name, d->name, VFS_NAME_MAX + 1);
            err = 0;
            break;
        }
    }
    sched_mutex_unlock(&parent->mount->lock);
    kfree(d);
    return err;
}

long vfs_path_of(vnode_t *v, char *buf, size_t size)
{
    /* Built backwards from the end of buf, one component at a time. */
    if (size < 2)
        return -VK_ERANGE;
    size_t at = size - 1;
    buf[at] = 0;
    char name[VFS_NAME_MAX + 1];
    vnode_ref(v);
    for (unsigned depth = 0; v != root; depth++) {
        while (v != root && v->mount->root == v && v->mount->covered) {
            vnode_t *covered = vnode_ref(v->mount->covered);
            vnode_unref(v);
            v = covered;
        }
        if (v == root)
            break;
        vnode_t *parent = v->parent;
        int err = depth > WALK_MAX_COMPONENTS || !parent ? -VK_ENOENT
                                                           : name_in_parent(parent, v, name);
        size_t n = err ? 0 : strlen(name);
        if (!err && at < n + 1)
            err = -VK_ERANGE;
        if (err) {
            vnode_unref(v);
            return err;
        }
        at -= n;
        memcpy(buf + at, name, n);
        buf[--at] = '/';
        vnode_t *up = vnode_ref(parent);
        vnode_unref(v);
        v = up;
    }
    vnode_unref(v);
    if (at == size - 1)
        buf[--at] = '/';
    size_t len = size - 1 - at;
    memmove(buf, buf + at, len + 1);
    return (long)len;
}
