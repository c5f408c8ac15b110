/* SPDX-License-Identifier: MIT */
/*
 * FAT32 volumes in the VFS: the glue between vnode_ops_t and src/lib/fat32.
 *
 * The library names files by small fat32_node_t values; the VFS wants one vnode per
 * file. A per-volume cache maps fat32_node_key() to the live vnode, so two lookups of
 * one file share a vnode and the one copy of its node that writes keep up to date. A
 * vnode leaves the cache when its last reference goes. Renames update the moved
 * vnode's node (its key changes); unlink and rmdir mark the vnode gone, and further
 * I/O through files still open on it fails with ESTALE (FAT keeps no data for unlinked
 * files).
 *
 * The mount lock serialises every call into the library, as it requires. Data moves
 * through a bounce buffer, because the library works on kernel memory only.
 */
#include "fs/fs_internal.h"
#include "block/block.h"
#include "core/log.h"
#include "core/string.h"
#include "lib/fat32/fat32.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include "time/time.h"
#include <vk/errno.h>

#define S_IFDIR 0040000u
#define S_IFREG 0100000u
#define BOUNCE_BYTES 65536u
#define NS_PER_S 1000000000ull

typedef struct fat_vnode {
    vnode_t v;
    fat32_node_t node;
    uint64_t key;
    bool gone;                  /* unlinked or replaced: no data left to reach */
    struct fat_vnode *next;     /* the volume's cache */
} fat_vnode_t;

typedef struct {
    fat32_volume_t *vol;
    blockdev_t *dev;
    fat_vnode_t *cache;         /* live vnodes; guarded by the mount lock */
    uint8_t *bounce;            /* BOUNCE_BYTES; guarded by the mount lock */
    /* From the boot sector, to tell the block cache which write-back pass a sector
     * belongs to (docs/storage.md, "Write-back order"). */
    uint64_t fat_start, fat_end;
} fat_fs_t;

static const vnode_ops_t fat_ops;

static fat_fs_t *fs_of(vnode_t *v)
{
    return v->mount->fs_private;
}

static fat_vnode_t *fv_of(vnode_t *v)
{
    return v->data;
}

/* ---- the library's host callbacks -------------------------------------------------- */

/* Through the block cache (kernel/block/cache.c). The cache writes dirty blocks back in
 * passes: file data, then FAT sectors, then directory sectors, then the reserved area
 * (FSInfo, boot sector) last. */
static int dev_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
    fat_fs_t *fs = ctx;
    return bcache_read(fs->dev, sector, count, buf) ? -VK_EIO : 0;
}

static int dev_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    fat_fs_t *fs = ctx;
    unsigned pass = sector < fs->fat_start ? BCACHE_PASS_SUPER
                    : sector < fs->fat_end ? BCACHE_PASS_MAP
                                           : BCACHE_PASS_DATA;
    return bcache_write_pass(fs->dev, sector, count, buf, pass) ? -VK_EIO : 0;
}

static int dev_write_dir(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    fat_fs_t *fs = ctx;
    return bcache_write_pass(fs->dev, sector, count, buf, BCACHE_PASS_INDEX) ? -VK_EIO : 0;
}

static int dev_flush(void *ctx)
{
    fat_fs_t *fs = ctx;
    return bcache_sync(fs->dev) ? -VK_EIO : 0;
}

static void *mem_alloc(void *ctx, size_t size)
{
    return kmalloc(size);
}

static void mem_free(void *ctx, void *p)
{
    kfree(p);
}

static int64_t clock_now(void *ctx)
{
    return (int64_t)(time_monotonic_ns() / NS_PER_S); /* CLOCK_REALTIME until an RTC */
}

static void fat_log(void *ctx, const char *message)
{
    fat_fs_t *fs = ctx;
    log_warn("fat32 %s: %s", fs->dev->name, message);
}

/* ---- the vnode cache ---------------------------------------------------------------- */

/* A new reference to v unless its last one is already gone: vnode_unref drops it to
 * 0 without the mount lock and fat_release then waits for the lock to free it, so a
 * cached vnode at 0 is dying and must not come back. */
static bool ref_if_live(vnode_t *v)
{
    uint32_t refs = __atomic_load_n(&v->refs, __ATOMIC_ACQUIRE);
    while (refs)
        if (__atomic_compare_exchange_n(&v->refs, &refs, refs + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    return false;
}

/* The cached vnode for node, with a new reference, or a new one. Mount lock held. */
static int vnode_for(mount_t *m, const fat32_node_t *node, vnode_t **out)
{
    fat_fs_t *fs = m->fs_private;
    uint64_t key = fat32_node_key(node);
    for (fat_vnode_t *f = fs->cache; f; f = f->next)
        if (f->key == key && !f->gone && ref_if_live(&f->v)) {
            *out = &f->v;
            return 0;
        }
    fat_vnode_t *f = kzalloc(sizeof(*f));
    if (!f)
        return -VK_ENOMEM;
    vnode_init(&f->v, fat32_is_dir(node) ? VNODE_DIR : VNODE_REG, &fat_ops, m, f);
    f->node = *node;
    f->key = key;
    f->next = fs->cache;
    fs->cache = f;
    *out = &f->v;
    return 0;
}

/* Marks the cached vnode of (dir, name) gone before the name disappears. */
static void mark_gone(fat_fs_t *fs, const fat32_node_t *dir, const char *name)
{
    fat32_node_t victim;
    if (fat32_lookup(fs->vol, dir, name, &victim))
        return;
    uint64_t key = fat32_node_key(&victim);
    for (fat_vnode_t *f = fs->cache; f; f = f->next)
        if (f->key == key)
            f->gone = true;
}

static void fat_release(vnode_t *v)
{
    fat_vnode_t *f = fv_of(v);
    mount_t *m = v->mount;
    fat_fs_t *fs = m->fs_private;
    sched_mutex_lock(&m->lock);
    for (fat_vnode_t **link = &fs->cache; *link; link = &(*link)->next)
        if (*link == f) {
            *link = f->next;
            break;
        }
    sched_mutex_unlock(&m->lock);
    kfree(f);
}

/* ---- vnode ops ---------------------------------------------------------------------- */

static int fat_lookup(vnode_t *dir, const char *name, vnode_t **out)
{
    if (!fs_of(dir)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    fat32_node_t node;
    int err = fat32_lookup(fs_of(dir)->vol, &fv_of(dir)->node, name, &node);
    return err ? err : vnode_for(dir->mount, &node, out);
}

static int fat_create(vnode_t *dir, const char *name, vnode_type_t type, uint32_t mode,
                      vnode_t **out)
{
    if (!fs_of(dir)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    if (type != VNODE_REG && type != VNODE_DIR)
        return -VK_EPERM;
    fat32_node_t node;
    int err = fat32_create(fs_of(dir)->vol, &fv_of(dir)->node, name, type == VNODE_DIR, &node);
    return err ? err : vnode_for(dir->mount, &node, out);
}

static int fat_unlink(vnode_t *dir, const char *name, bool is_dir)
{
    if (!fs_of(dir)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    fat_fs_t *fs = fs_of(dir);
    const fat32_node_t *d = &fv_of(dir)->node;
    fat32_node_t victim;
    int err = fat32_lookup(fs->vol, d, name, &victim);
    if (err)
        return err;
    if (is_dir != fat32_is_dir(&victim))
        return is_dir ? -VK_ENOTDIR : -VK_EISDIR;
    mark_gone(fs, d, name);
    err = is_dir ? fat32_rmdir(fs->vol, d, name) : fat32_unlink(fs->vol, d, name);
    if (err) { /* still there: undo the mark */
        uint64_t key = fat32_node_key(&victim);
        for (fat_vnode_t *f = fs->cache; f; f = f->next)
            if (f->key == key)
                f->gone = false;
    }
    return err;
}

static int fat_rename(vnode_t *old_dir, const char *old_name, vnode_t *new_dir,
                      const char *new_name)
{
    if (!fs_of(old_dir)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    fat_fs_t *fs = fs_of(old_dir);
    fat32_node_t moving, moved;
    int err = fat32_lookup(fs->vol, &fv_of(old_dir)->node, old_name, &moving);
    if (err)
        return err;
    uint64_t old_key = fat32_node_key(&moving);
    fat32_node_t target;
    bool replaces = !fat32_lookup(fs->vol, &fv_of(new_dir)->node, new_name, &target) &&
                    fat32_node_key(&target) != old_key;
    err = fat32_rename(fs->vol, &fv_of(old_dir)->node, old_name, &fv_of(new_dir)->node,
                       new_name, &moved);
    if (err)
        return err;
    uint64_t target_key = replaces ? fat32_node_key(&target) : 0;
    for (fat_vnode_t *f = fs->cache; f; f = f->next) {
        if (replaces && f->key == target_key && !f->gone)
            f->gone = true;
        else if (f->key == old_key && !f->gone) {
            f->node = moved;
            f->key = fat32_node_key(&moved);
        }
    }
    return 0;
}

/* 0 when v's data can be reached: -VK_EIO after unmount, -VK_ESTALE once unlinked. */
static int data_reachable(vnode_t *v)
{
    if (!fs_of(v)->vol)
        return -VK_EIO;
    return fv_of(v)->gone ? -VK_ESTALE : 0;
}

static long fat_read(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    int bad = data_reachable(v);
    if (bad)
        return bad;
    fat_fs_t *fs = fs_of(v);
    fat_vnode_t *f = fv_of(v);
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < BOUNCE_BYTES ? len - done : BOUNCE_BYTES;
        int64_t n = fat32_read(fs->vol, &f->node, offset + done, fs->bounce, chunk);
        if (n < 0)
            return done ? (long)done : (long)n;
        if (n == 0)
            break;
        int err = vfs_buf_put(buf, done, fs->bounce, (size_t)n);
        if (err)
            return done ? (long)done : err;
        done += (size_t)n;
        if ((size_t)n < chunk)
            break;
    }
    return (long)done;
}

static long fat_write(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    int bad = data_reachable(v);
    if (bad)
        return bad;
    fat_fs_t *fs = fs_of(v);
    fat_vnode_t *f = fv_of(v);
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done < BOUNCE_BYTES ? len - done : BOUNCE_BYTES;
        int err = vfs_buf_get(fs->bounce, buf, done, chunk);
        if (err)
            return done ? (long)done : err;
        int64_t n = fat32_write(fs->vol, &f->node, offset + done, fs->bounce, chunk);
        if (n < 0)
            return done ? (long)done : (long)n;
        done += (size_t)n;
        if ((size_t)n < chunk)
            break;
    }
    return (long)done;
}

static int fat_truncate(vnode_t *v, uint64_t size)
{
    int bad = data_reachable(v);
    return bad ? bad : fat32_truncate(fs_of(v)->vol, &fv_of(v)->node, size);
}

static int fat_readdir(vnode_t *dir, uint64_t *cookie, vfs_dirent_t *out)
{
    if (!fs_of(dir)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    if (*cookie > UINT32_MAX)
        return 0;
    fat32_dirent_t *e = kmalloc(sizeof(*e));
    if (!e)
        return -VK_ENOMEM;
    uint32_t c = (uint32_t)*cookie;
    int got = fat32_readdir(fs_of(dir)->vol, &fv_of(dir)->node, &c, e);
    if (got > 0) {
        *cookie = c;
        out->ino = fat32_node_key(&e->node) + 1; /* never 0: glibc skips those entries */
        out->type = e->is_dir ? VNODE_DIR : VNODE_REG;
        strlcpy(out->name, e->name, sizeof(out->name));
    }
    kfree(e);
    return got;
}

static int fat_getattr(vnode_t *v, vfs_stat_t *st)
{
    if (!fs_of(v)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    fat_vnode_t *f = fv_of(v);
    fat32_stat_t s;
    int err = f->gone ? 0 : fat32_stat(fs_of(v)->vol, &f->node, &s);
    if (err)
        return err;
    if (f->gone)
        memset(&s, 0, sizeof(s));
    /* As Linux's vfat with its default umask: everything rwxr-xr-x, read-only files
     * without the write bits. */
    uint32_t perm = (f->node.attributes & FAT32_ATTR_READ_ONLY) ? 0555 : 0755;
    st->ino = f->key + 1;
    st->mode = (v->type == VNODE_DIR ? S_IFDIR : S_IFREG) | perm;
    st->nlink = f->gone ? 0 : 1;
    st->size = v->type == VNODE_DIR ? 0 : f->node.size;
    st->blocks = (st->size + 511) / 512;
    st->mtime_ns = (uint64_t)s.modify_time * NS_PER_S;
    st->ctime_ns = st->mtime_ns;
    st->atime_ns = (uint64_t)s.access_time * NS_PER_S;
    return 0;
}

static int fat_sync(vnode_t *v)
{
    if (!fs_of(v)->vol)
        return -VK_EIO; /* unmounted at shutdown */
    return fat32_sync(fs_of(v)->vol);
}

static const vnode_ops_t fat_ops = {
    .lookup = fat_lookup,
    .create = fat_create,
    .unlink = fat_unlink,
    .rename = fat_rename,
    .read = fat_read,
    .write = fat_write,
    .truncate = fat_truncate,
    .readdir = fat_readdir,
    .getattr = fat_getattr,
    .sync = fat_sync,
    .release = fat_release,
};

/* ---- mounting ----------------------------------------------------------------------- */

mount_t *fat32fs_open(blockdev_t *dev)
{
    fat_fs_t *fs = kzalloc(sizeof(*fs));
    uint8_t *bounce = kmalloc(BOUNCE_BYTES);
    mount_t *m = vfs_mount_new("fat32", dev->read_only);
    if (!fs || !bounce || !m) {
        kfree(fs);
        kfree(bounce);
        kfree(m);
        log_warn("fat32: %s not mounted: no memory", dev->name);
        return NULL;
    }
    fs->dev = dev;
    fs->bounce = bounce;
    /* Where the FATs lie (the library checks these fields again at mount). */
    if (bcache_read(dev, 0, 1, bounce) == 0) {
        uint32_t reserved = bounce[14] | bounce[15] << 8;
        uint32_t fat_size = bounce[36] | bounce[37] << 8 | bounce[38] << 16 |
                            (uint32_t)bounce[39] << 24;
        fs->fat_start = reserved;
        fs->fat_end = reserved + (uint64_t)bounce[16] * fat_size;
    }
    fat32_ops_t ops = {
        .context = fs, .sector_size = dev->sector_size, .sector_count = dev->sector_count,
        .read = dev_read, .write = dev->read_only ? NULL : dev_write,
        .write_dir = dev->read_only ? NULL : dev_write_dir, .flush = dev_flush,
        .alloc = mem_alloc, .free = mem_free, .now = clock_now, .log = fat_log,
        .read_only = dev->read_only,
    };
    fat32_info_t info;
    int err = fat32_mount(&ops, &fs->vol, &info);
    if (err) {
        log_warn("fat32: %s not mounted: error %d", dev->name, err);
        kfree(bounce);
        kfree(fs);
        kfree(m);
        return NULL;
    }
    if (info.was_dirty)
        log_warn("fat32 %s: the volume was not cleanly unmounted (or has an error flagged); "
                 "run fsck.fat on it", dev->name);
    m->fs_private = fs;
    fat32_node_t root;
    fat32_root(fs->vol, &root);
    sched_mutex_lock(&m->lock);
    err = vnode_for(m, &root, &m->root);
    sched_mutex_unlock(&m->lock);
    if (err) {
        fat32_unmount(fs->vol);
        log_warn("fat32: %s not mounted: error %d", dev->name, err);
        return NULL; /* the mount stays allocated: rare, and harmless */
    }
    char size[16];
    blockdev_format_size((uint64_t)info.cluster_count * info.cluster_size, size, sizeof(size));
    if (info.free_clusters == FAT32_FREE_UNKNOWN)
        log_info("fat32 %s: %s, %u-byte clusters, free space not counted (not cleanly "
                 "unmounted)", dev->name, size, info.cluster_size);
    else
        log_info("fat32 %s: %s, %u-byte clusters, %u free", dev->name, size,
                 info.cluster_size, info.free_clusters);
    return m;
}

int fat32fs_unmount(mount_t *m)
{
    if (strcmp(m->fs_name, "fat32"))
        return 0;
    fat_fs_t *fs = m->fs_private;
    sched_mutex_lock(&m->lock);
    int err = fs->vol ? fat32_unmount(fs->vol) : 0;
    fs->vol = NULL;
    m->read_only = true; /* nothing reaches the volume any more */
    sched_mutex_unlock(&m->lock);
    return err;
}
