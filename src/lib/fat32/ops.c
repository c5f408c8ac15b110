/* SPDX-License-Identifier: MIT */
/*
 * Namespace operations: lookup, path walk, readdir, create, unlink, rmdir and rename.
 *
 * Each parses and checks its names first and then acts. New entries are written before
 * old ones are removed (rename), and clusters are freed only after the entry that used
 * them is gone, so a crash leaves at worst a duplicate entry or lost clusters, both of
 * which fsck.fat repairs.
 */
#include "lib/fat32/internal.h"

#define WALK_DEPTH_MAX 32     /* path components kept for ".." in fat32_walk (stack) */

static int parse_name(const char *utf8, fat32_name_t *name)
{
    int err = fat32_name_from_utf8(utf8, name);
    return err ? err : fat32_name_check(name);
}

static int check_dir(const fat32_node_t *dir)
{
    return fat32_is_dir(dir) ? 0 : -VK_ENOTDIR;
}

/* Finds a checked name in a directory. */
static int find(fat32_volume_t *vol, const fat32_node_t *dir, const char *utf8,
                fat32_name_t *name, fat32_slot_t *slot)
{
    int err = check_dir(dir);
    if (!err)
        err = parse_name(utf8, name);
    return err ? err : fat32_dir_find(vol, dir->first_cluster, name, slot);
}

int fat32_lookup(fat32_volume_t *vol, const fat32_node_t *dir, const char *name,
                 fat32_node_t *out)
{
    fat32_name_t n;
    fat32_slot_t slot;
    int err = find(vol, dir, name, &n, &slot);
    if (err == -VK_EINVAL)
        return -VK_ENOENT; /* a name that cannot exist on FAT */
    if (!err)
        fat32_node_from_slot(&slot, dir->first_cluster, out);
    return err;
}

/* Copies the next path component; returns its length, or -1 when too long. */
static int next_component(const char **path, char *out)
{
    const char *p = *path;
    int n = 0;
    while (*p == '/')
        p++;
    while (*p && *p != '/') {
        if (n == FAT32_NAME_UTF8_MAX - 1)
            return -1;
        out[n++] = *p++;
    }
    out[n] = 0;
    *path = p;
    return n;
}

static bool is_dots(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] != '.')
            return false;
    return s[n] == 0;
}

int fat32_walk(fat32_volume_t *vol, const char *path, fat32_node_t *out)
{
    fat32_node_t stack[WALK_DEPTH_MAX];
    char part[FAT32_NAME_UTF8_MAX];
    int depth = 0, n;
    fat32_root(vol, &stack[0]);
    while ((n = next_component(&path, part)) != 0) {
        if (n < 0)
            return -VK_ENAMETOOLONG;
        if (is_dots(part, 1)) {
            if (!fat32_is_dir(&stack[depth]))
                return -VK_ENOTDIR;
            continue;
        }
        if (is_dots(part, 2)) {
            depth -= depth > 0;
            continue;
        }
        if (depth + 1 == WALK_DEPTH_MAX)
            return -VK_ENAMETOOLONG;
        int err = fat32_lookup(vol, &stack[depth], part, &stack[depth + 1]);
        if (err)
            return err;
        depth++;
    }
    *out = stack[depth];
    return 0;
}

typedef struct {
    fat32_dirent_t *out;
    uint32_t dir_cluster;
    uint32_t next_cookie;
} readdir_t;

static int readdir_visit(void *context, const fat32_slot_t *slot, const fat32_name_t *long_name)
{
    readdir_t *r = context;
    fat32_name_t short_name;
    if (!long_name) {
        fat32_short_to_name(slot->raw, &short_name);
        long_name = &short_name;
    }
    fat32_name_to_utf8(long_name, r->out->name, sizeof(r->out->name));
    fat32_node_from_slot(slot, r->dir_cluster, &r->out->node);
    r->out->is_dir = fat32_is_dir(&r->out->node);
    r->next_cookie = slot->index + 1;
    return 1;
}

int fat32_readdir(fat32_volume_t *vol, const fat32_node_t *dir, uint32_t *cookie,
                  fat32_dirent_t *out)
{
    readdir_t r = { out, dir->first_cluster, 0 };
    int err = check_dir(dir);
    if (err)
        return err;
    int found = fat32_dir_scan(vol, dir->first_cluster, *cookie, readdir_visit, &r);
    if (found == 1)
        *cookie = r.next_cookie;
    return found;
}

static void dot_entry(uint8_t *e, const uint8_t *like, const char *name, uint32_t cluster)
{
    memcpy(e, like, FAT32_ENTRY_SIZE);
    memcpy(e, name, 11);
    e[12] = 0;
    fat32_entry_set_cluster(e, cluster);
}

/* A new directory's first cluster, holding "." and "..". */
static int make_dir_cluster(fat32_volume_t *vol, const fat32_node_t *parent, uint8_t *entry)
{
    uint32_t c, parent_ref = parent->first_cluster == vol->root_cluster ? 0 : parent->first_cluster;
    int err = fat32_alloc_cluster(vol, 0, &c);
    if (err)
        return err;
    if ((err = fat32_zero_cluster(vol, c)))
        goto free_cluster;
    fat32_node_t at = { .entry_cluster = c, .entry_offset = 0 };
    uint8_t dot[FAT32_ENTRY_SIZE];
    dot_entry(dot, entry, ".          ", c);
    if ((err = fat32_entry_update(vol, &at, dot)))
        goto free_cluster;
    at.entry_offset = FAT32_ENTRY_SIZE;
    dot_entry(dot, entry, "..         ", parent_ref);
    if ((err = fat32_entry_update(vol, &at, dot)))
        goto free_cluster;
    fat32_entry_set_cluster(entry, c);
    return 0;
free_cluster:
    fat32_free_chain(vol, c);
    return err;
}

int fat32_create(fat32_volume_t *vol, const fat32_node_t *dir, const char *name, bool is_dir,
                 fat32_node_t *out)
{
    fat32_name_t n;
    fat32_slot_t slot;
    uint8_t entry[FAT32_ENTRY_SIZE];
    if (vol->read_only)
        return -VK_EROFS;
    int err = find(vol, dir, name, &n, &slot);
    if (err != -VK_ENOENT)
        return err ? err : -VK_EEXIST;
    memset(entry, 0, sizeof(entry));
    entry[11] = is_dir ? FAT32_ATTR_DIRECTORY : FAT32_ATTR_ARCHIVE;
    fat32_stamp(vol, entry, true, true);
    if (is_dir && (err = make_dir_cluster(vol, dir, entry)))
        return err;
    if ((err = fat32_dir_add(vol, dir->first_cluster, &n, entry, &slot))) {
        if (is_dir)
            fat32_free_chain(vol, fat32_entry_cluster(entry));
        return err;
    }
    if (out)
        fat32_node_from_slot(&slot, dir->first_cluster, out);
    return 0;
}

/* Removes an entry, then frees its clusters. */
static int remove_entry(fat32_volume_t *vol, const fat32_node_t *dir, const fat32_slot_t *slot)
{
    uint32_t first = fat32_entry_cluster(slot->raw);
    int err = fat32_dir_remove(vol, dir->first_cluster, slot);
    if (!err && first)
        err = fat32_free_chain(vol, first);
    return err;
}

/* Finds an entry to delete and checks its kind (a directory or not, as asked). */
static int find_removable(fat32_volume_t *vol, const fat32_node_t *dir, const char *name,
                          bool want_dir, fat32_slot_t *slot)
{
    fat32_name_t n;
    if (vol->read_only)
        return -VK_EROFS;
    int err = find(vol, dir, name, &n, slot);
    if (err)
        return err;
    bool is_dir = slot->raw[11] & FAT32_ATTR_DIRECTORY;
    return is_dir == want_dir ? 0 : is_dir ? -VK_EISDIR : -VK_ENOTDIR;
}

int fat32_unlink(fat32_volume_t *vol, const fat32_node_t *dir, const char *name)
{
    fat32_slot_t slot;
    int err = find_removable(vol, dir, name, false, &slot);
    return err ? err : remove_entry(vol, dir, &slot);
}

/* A directory that may be removed or replaced: empty, and not the root or the parent. */
static int check_removable_dir(fat32_volume_t *vol, const fat32_node_t *dir,
                               const fat32_slot_t *slot)
{
    uint32_t c = fat32_entry_cluster(slot->raw);
    if (c == vol->root_cluster || c == dir->first_cluster) {
        fat32_log(vol, "fat32: directory entry points at the root or its own parent");
        return -VK_EIO;
    }
    int empty = fat32_dir_is_empty(vol, c);
    return empty < 0 ? empty : empty ? 0 : -VK_ENOTEMPTY;
}

int fat32_rmdir(fat32_volume_t *vol, const fat32_node_t *dir, const char *name)
{
    fat32_slot_t slot;
    int err = find_removable(vol, dir, name, true, &slot);
    if (!err)
        err = check_removable_dir(vol, dir, &slot);
    return err ? err : remove_entry(vol, dir, &slot);
}

/* The parent of directory `cluster`, from its ".." entry (0 there means the root). */
static int parent_of(fat32_volume_t *vol, uint32_t cluster, uint32_t *parent)
{
    uint8_t e[FAT32_ENTRY_SIZE];
    fat32_node_t at = { .entry_cluster = cluster, .entry_offset = FAT32_ENTRY_SIZE };
    int err = fat32_entry_read(vol, &at, e);
    if (err)
        return err;
    if (memcmp(e, "..         ", 11) != 0) {
        fat32_log(vol, "fat32: directory at cluster %u has no \"..\" entry", cluster);
        return -VK_EIO;
    }
    *parent = fat32_entry_cluster(e) ? fat32_entry_cluster(e) : vol->root_cluster;
    return 0;
}

/* -VK_EINVAL when `dir` is `moved` or lies inside it. */
static int check_not_inside(fat32_volume_t *vol, uint32_t moved, uint32_t dir)
{
    for (uint32_t steps = 0; steps < vol->cluster_count; steps++) {
        if (dir == moved)
            return -VK_EINVAL;
        if (dir == vol->root_cluster)
            return 0;
        int err = parent_of(vol, dir, &dir);
        if (err)
            return err;
    }
    fat32_log(vol, "fat32: \"..\" entries form a cycle");
    return -VK_EIO;
}

/* Removes an existing rename target if POSIX allows replacing it with `src`. */
static int take_target(fat32_volume_t *vol, const fat32_node_t *dir, const fat32_slot_t *src,
                       const fat32_slot_t *target)
{
    bool src_dir = src->raw[11] & FAT32_ATTR_DIRECTORY;
    bool target_dir = target->raw[11] & FAT32_ATTR_DIRECTORY;
    int err;
    if (target_dir && !src_dir)
        return -VK_EISDIR;
    if (!target_dir && src_dir)
        return -VK_ENOTDIR;
    if (target_dir && (err = check_removable_dir(vol, dir, target)))
        return err;
    return fat32_dir_remove(vol, dir->first_cluster, target);
}

/* Points a moved directory's ".." at its new parent. */
static int repoint_dotdot(fat32_volume_t *vol, uint32_t moved, uint32_t new_parent)
{
    uint8_t e[FAT32_ENTRY_SIZE];
    fat32_node_t at = { .entry_cluster = moved, .entry_offset = FAT32_ENTRY_SIZE };
    int err = fat32_entry_read(vol, &at, e);
    if (err)
        return err;
    fat32_entry_set_cluster(e, new_parent == vol->root_cluster ? 0 : new_parent);
    return fat32_entry_update(vol, &at, e);
}

typedef struct {
    fat32_name_t old_name, new_name;
    fat32_slot_t src, target, added;
} rename_t;

static int do_rename(fat32_volume_t *vol, const fat32_node_t *old_dir,
                     const fat32_node_t *new_dir, rename_t *r, fat32_node_t *out)
{
    bool src_dir = r->src.raw[11] & FAT32_ATTR_DIRECTORY;
    uint32_t moved = fat32_entry_cluster(r->src.raw), freed = 0;
    bool same_dir = old_dir->first_cluster == new_dir->first_cluster;
    int err = fat32_dir_find(vol, new_dir->first_cluster, &r->new_name, &r->target);
    if (src_dir && !same_dir && (err == 0 || err == -VK_ENOENT)) {
        int inside = check_not_inside(vol, moved, new_dir->first_cluster);
        err = inside ? inside : err;
    }
    if (err == 0 && !(same_dir && r->target.index == r->src.index)) {
        if ((err = take_target(vol, new_dir, &r->src, &r->target)))
            return err;
        freed = fat32_entry_cluster(r->target.raw);
    } else if (err && err != -VK_ENOENT) {
        return err;
    }
    if ((err = fat32_dir_add(vol, new_dir->first_cluster, &r->new_name, r->src.raw, &r->added)) ||
        (err = fat32_dir_remove(vol, old_dir->first_cluster, &r->src)))
        return err;
    if (src_dir && !same_dir && moved && (err = repoint_dotdot(vol, moved, new_dir->first_cluster)))
        return err;
    if (out)
        fat32_node_from_slot(&r->added, new_dir->first_cluster, out);
    return freed ? fat32_free_chain(vol, freed) : 0;
}

int fat32_rename(fat32_volume_t *vol, const fat32_node_t *old_dir, const char *old_name,
                 const fat32_node_t *new_dir, const char *new_name, fat32_node_t *out)
{
    rename_t *r;
    if (vol->read_only)
        return -VK_EROFS;
    int err = check_dir(new_dir);
    if (err)
        return err;
    r = vol->ops.alloc(vol->ops.context, sizeof(*r)); /* ~1.2 KiB: kept off the stack */
    if (!r)
        return -VK_ENOMEM;
    err = find(vol, old_dir, old_name, &r->old_name, &r->src);
    if (!err)
        err = parse_name(new_name, &r->new_name);
    if (!err)
        err = do_rename(vol, old_dir, new_dir, r, out);
    vol->ops.free(vol->ops.context, r);
    return err;
}
