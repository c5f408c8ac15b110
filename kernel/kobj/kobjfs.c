/* SPDX-License-Identifier: MIT */
/*
 * kobjfs: the KObj tree as a filesystem (mounted on /kobj by vfs_init). Directories
 * are KObj dirs; every other node is a regular file whose content is its value as one
 * line of text (kobj_value.c), computed afresh on each read. Writing a writable node
 * parses what was written (one trailing newline allowed) and sets it in one go:
 * EINVAL for a malformed value, ERANGE out of range, EACCES for a read-only node.
 * Nothing can be created, removed or renamed (EPERM from the VFS).
 *
 * A vnode is made per lookup and holds a kobj_ref_t; st_size is 0, as values are made
 * on demand. Inode numbers come from node ids and keys, never from addresses.
 */
#include "kobj/kobj.h"
#include "fs/vfs.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

#define S_IFDIR 0040000u
#define S_IFREG 0100000u

typedef struct {
    vnode_t v;
    kobj_ref_t ref;
} kobjfs_node_t;

static const vnode_ops_t kobjfs_ops;

static kobj_ref_t ref_of(vnode_t *v)
{
    return ((kobjfs_node_t *)v->data)->ref;
}

static vnode_t *node_new(mount_t *m, kobj_ref_t ref)
{
    kobjfs_node_t *n = kzalloc(sizeof(*n));
    if (!n)
        return NULL;
    n->ref = ref;
    vnode_init(&n->v, ref.node->type == KOBJ_DIR ? VNODE_DIR : VNODE_REG, &kobjfs_ops, m, n);
    return &n->v;
}

static uint64_t inode_of(kobj_ref_t ref)
{
    return ((uint64_t)ref.node->id << 40 ^ ref.key) + 1;
}

static int kobjfs_lookup(vnode_t *dir, const char *name, vnode_t **out)
{
    kobj_ref_t ref;
    int err = kobj_lookup(ref_of(dir), name, &ref);
    if (err)
        return err;
    *out = node_new(dir->mount, ref);
    return *out ? 0 : -VK_ENOMEM;
}

static long kobjfs_read(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    /* Values are up to CONFIG_KOBJ_VALUE_MAX bytes (twice that as hex): off the stack. */
    kobj_value_t *value = kmalloc(sizeof(*value) + 2 * CONFIG_KOBJ_VALUE_MAX + 2);
    if (!value)
        return -VK_ENOMEM;
    char *text = (char *)(value + 1);
    long n = kobj_get(ref_of(v), value);
    if (n == 0) {
        size_t size = 2 * CONFIG_KOBJ_VALUE_MAX + 1;
        size_t length = kobj_format(ref_of(v).node, value, text, size);
        if (length > size - 1)
            length = size - 1;
        text[length++] = '\n';
        n = 0;
        if (offset < length) {
            n = (long)(length - offset < len ? length - offset : len);
            int err = vfs_buf_put(buf, 0, text + offset, (size_t)n);
            if (err)
                n = err;
        }
    }
    kfree(value);
    return n;
}

static long kobjfs_write(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len)
{
    kobj_ref_t ref = ref_of(v);
    if (!(ref.node->access & KOBJ_WRITE))
        return -VK_EACCES;
    /* A value is set by one write from its start: no partial updates. */
    if (offset != 0 || len > 2 * CONFIG_KOBJ_VALUE_MAX + 1)
        return -VK_EINVAL;
    kobj_value_t *value = kmalloc(sizeof(*value) + len + 1);
    if (!value)
        return -VK_ENOMEM;
    char *text = (char *)(value + 1);
    long r = vfs_buf_get(text, buf, 0, len);
    if (r == 0) {
        size_t n = len && text[len - 1] == '\n' ? len - 1 : len;
        r = kobj_parse(ref.node, text, n, value);
        if (r == 0)
            r = kobj_set(ref, value);
    }
    kfree(value);
    return r ? r : (long)len;
}

static int kobjfs_truncate(vnode_t *v, uint64_t size)
{
    /* `echo x > file` truncates first: fine for a writable node, the write follows. */
    return (ref_of(v).node->access & KOBJ_WRITE) ? 0 : -VK_EACCES;
}

static int kobjfs_readdir(vnode_t *dir, uint64_t *cookie, vfs_dirent_t *out)
{
    kobj_ref_t child;
    int err = kobj_child(ref_of(dir), *cookie, out->name, sizeof(out->name), &child);
    if (err == -VK_ENOENT)
        return 0;
    if (err)
        return err;
    out->ino = inode_of(child);
    out->type = child.node->type == KOBJ_DIR ? VNODE_DIR : VNODE_REG;
    (*cookie)++;
    return 1;
}

static int kobjfs_getattr(vnode_t *v, vfs_stat_t *st)
{
    kobj_ref_t ref = ref_of(v);
    memset(st, 0, sizeof(*st));
    st->dev = v->mount->dev;
    st->ino = inode_of(ref);
    st->nlink = 1;
    if (v->type == VNODE_DIR) {
        st->mode = S_IFDIR | 0555;
    } else {
        st->mode = S_IFREG | ((ref.node->access & KOBJ_READ) ? 0444 : 0) |
                   ((ref.node->access & KOBJ_WRITE) ? 0200 : 0);
    }
    return 0;
}

static void kobjfs_release(vnode_t *v)
{
    kfree(v->data);
}

static const vnode_ops_t kobjfs_ops = {
    .lookup = kobjfs_lookup,
    .read = kobjfs_read,
    .write = kobjfs_write,
    .truncate = kobjfs_truncate,
    .readdir = kobjfs_readdir,
    .getattr = kobjfs_getattr,
    .release = kobjfs_release,
};

int kobjfs_mount(const char *path)
{
    mount_t *m = vfs_mount_new("kobjfs", false);
    if (!m)
        return -VK_ENOMEM;
    m->root = node_new(m, kobj_root());
    if (!m->root) {
        kfree(m);
        return -VK_ENOMEM;
    }
    int err = vfs_mkdir(NULL, path, 0555);
    if (err && err != -VK_EEXIST)
        return err;
    return vfs_mount_at(m, path);
}
