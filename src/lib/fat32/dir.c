/* SPDX-License-Identifier: MIT */
/*
 * Directory entries: walking a directory's entries (assembling long names), finding a
 * name, inserting an entry with its long-name slots, deleting entries, and reading or
 * rewriting the short entry a node names.
 *
 * A directory is walked through its cluster chain with one cached sector (the volume's
 * dir_buffer). Walks stop at the spec's limit of 65536 entries. A cycle in the chain is
 * found as soon as it closes (fat32_loop_t), so a corrupt one-cluster loop costs a few
 * clusters of reading, not the 2 MiB the entry limit would allow.
 *
 * Long-name slots are accepted only as a complete sequence (N|0x40, N-1, ..., 1) whose
 * checksum matches the short entry that follows; anything else is ignored and the
 * short name is used, as the spec says.
 */
#include "lib/fat32/internal.h"

#define LFN_UNITS 13

typedef struct {
    uint32_t cluster;    /* cluster holding the current entry */
    uint32_t index;      /* entry number within the directory */
    fat32_loop_t loop;   /* finds a cycle in the chain */
} cursor_t;

static uint32_t entries_per_cluster(const fat32_volume_t *vol)
{
    return vol->cluster_size / FAT32_ENTRY_SIZE;
}

uint32_t fat32_entry_cluster(const uint8_t *entry)
{
    return (uint32_t)fat32_get16(entry + 20) << 16 | fat32_get16(entry + 26);
}

void fat32_entry_set_cluster(uint8_t *entry, uint32_t cluster)
{
    fat32_put16(entry + 20, (uint16_t)(cluster >> 16));
    fat32_put16(entry + 26, (uint16_t)cluster);
}

/* The entry at (cluster, offset) in the cached directory sector. */
static int entry_ptr(fat32_volume_t *vol, uint32_t cluster, uint32_t offset, uint8_t **p)
{
    if (!fat32_cluster_valid(vol, cluster) || offset >= vol->cluster_size || offset % 32) {
        fat32_log(vol, "fat32: directory entry at %u+%u is not on the volume", cluster, offset);
        return -VK_EIO;
    }
    uint64_t sector = fat32_cluster_sector(vol, cluster) + offset / vol->sector_size;
    if (vol->dir_cached != sector) {
        vol->dir_cached = FAT32_NO_SECTOR;
        int err = fat32_dev_read(vol, sector, 1, vol->dir_buffer);
        if (err)
            return err;
        vol->dir_cached = sector;
    }
    *p = vol->dir_buffer + offset % vol->sector_size;
    return 0;
}

static int write_entry(fat32_volume_t *vol, uint32_t cluster, uint32_t offset,
                       const uint8_t *entry)
{
    uint8_t *p;
    int err = entry_ptr(vol, cluster, offset, &p);
    if (err)
        return err;
    memcpy(p, entry, FAT32_ENTRY_SIZE);
    uint64_t sector = vol->dir_cached;
    err = fat32_dev_write_dir(vol, sector, 1, vol->dir_buffer);
    vol->dir_cached = err ? FAT32_NO_SECTOR : sector;
    return err;
}

static uint32_t cursor_offset(const fat32_volume_t *vol, const cursor_t *c)
{
    return c->index % entries_per_cluster(vol) * FAT32_ENTRY_SIZE;
}

static int too_long(fat32_volume_t *vol)
{
    fat32_log(vol, "fat32: directory longer than %u entries (a cycle?)", FAT32_DIR_ENTRIES_MAX);
    return -VK_EIO;
}

/* Moves the cursor to `next`, the cluster after its current one, unless that closes a
 * cycle. */
static int cursor_enter(fat32_volume_t *vol, cursor_t *c, uint32_t next)
{
    if (fat32_loop_closes(&c->loop, next)) {
        fat32_log(vol, "fat32: directory chain loops back to cluster %u", next);
        return -VK_EIO;
    }
    c->cluster = next;
    return 0;
}

/* Moves to the next entry; returns 1 at the end of the chain. */
static int cursor_next(fat32_volume_t *vol, cursor_t *c)
{
    c->index++;
    if (c->index % entries_per_cluster(vol))
        return 0;
    uint32_t next;
    int err = fat32_next_cluster(vol, c->cluster, &next);
    if (err)
        return err;
    if (!next)
        return 1;
    if (c->index >= FAT32_DIR_ENTRIES_MAX)
        return too_long(vol);
    return cursor_enter(vol, c, next);
}

/* Positions a cursor at entry `index`; returns 1 when the directory is shorter. */
static int cursor_seek(fat32_volume_t *vol, uint32_t first, uint32_t index, cursor_t *c)
{
    uint32_t per = entries_per_cluster(vol), limit = FAT32_DIR_ENTRIES_MAX / per;
    int err = fat32_check_start(vol, first);
    if (err)
        return err;
    *c = (cursor_t){ .cluster = first, .index = index };
    fat32_loop_start(&c->loop, first);
    for (uint32_t i = 0; i < index / per; i++) {
        uint32_t next;
        if ((err = fat32_next_cluster(vol, c->cluster, &next)) || !next)
            return err ? err : 1;
        if (i + 1 >= limit)
            return too_long(vol);
        if ((err = cursor_enter(vol, c, next)))
            return err;
    }
    return 0;
}

/* Long-name assembly state while walking. */
typedef struct {
    uint16_t units[FAT32_LFN_SLOTS_MAX * LFN_UNITS];
    uint32_t slots;       /* slot count of the sequence in progress (0: none) */
    uint32_t expect;      /* ordinal of the last slot seen */
    uint8_t checksum;
    uint32_t first_index;
} lfn_state_t;

static void lfn_take(lfn_state_t *s, const uint8_t *e, uint32_t index)
{
    uint32_t ord = e[0] & 0x1f;
    if (e[0] & 0x40) {
        s->slots = (ord && ord <= FAT32_LFN_SLOTS_MAX) ? ord : 0;
        s->checksum = e[13];
        s->first_index = index;
    } else if (!s->slots || ord == 0 || ord != s->expect - 1 || e[13] != s->checksum) {
        s->slots = 0; /* broken sequence: ignore it */
    }
    if (!s->slots)
        return;
    s->expect = ord;
    fat32_lfn_extract(e, s->units + (ord - 1) * LFN_UNITS);
}

/* The long name for the short entry `e`, if a complete sequence precedes it. */
static bool lfn_finish(lfn_state_t *s, const uint8_t *e, fat32_name_t *name)
{
    bool ok = s->slots && s->expect == 1 && s->checksum == fat32_lfn_checksum(e);
    uint32_t n = 0, max = s->slots * LFN_UNITS;
    s->slots = 0;
    if (!ok)
        return false;
    while (n < max && s->units[n] != 0)
        n++;
    if (n == 0 || n > FAT32_NAME_MAX)
        return false;
    memcpy(name->units, s->units, n * sizeof(uint16_t));
    name->length = n;
    return true;
}

static bool is_dot_entry(const uint8_t *e)
{
    return e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '));
}

typedef struct {
    lfn_state_t lfn;
    fat32_name_t long_name;
    fat32_slot_t slot;
} scan_state_t;

/* Handles one raw entry; returns 2 at the end marker, else what the visitor says. */
static int scan_entry(scan_state_t *st, const uint8_t *e, const cursor_t *c, uint32_t offset,
                      fat32_visit_t visit, void *context)
{
    if (e[0] == FAT32_ENTRY_FREE)
        return 2;
    if (e[0] == FAT32_ENTRY_DELETED) {
        st->lfn.slots = 0;
        return 0;
    }
    if ((e[11] & 0x3f) == FAT32_ATTR_LFN) {
        lfn_take(&st->lfn, e, c->index);
        return 0;
    }
    uint32_t first = st->lfn.slots ? st->lfn.first_index : c->index;
    bool has_long = lfn_finish(&st->lfn, e, &st->long_name);
    if ((e[11] & FAT32_ATTR_VOLUME_ID) || is_dot_entry(e))
        return 0;
    memcpy(st->slot.raw, e, FAT32_ENTRY_SIZE);
    st->slot.index = c->index;
    st->slot.first_index = has_long ? first : c->index;
    st->slot.cluster = c->cluster;
    st->slot.offset = offset;
    return visit(context, &st->slot, has_long ? &st->long_name : NULL);
}

/*
 * Calls visit for every live entry from entry `start_index` on, with its long name if it
 * has one. Stops when visit returns non-zero and returns that value; 0 at the end.
 */
int fat32_dir_scan(fat32_volume_t *vol, uint32_t first_cluster, uint32_t start_index,
                   fat32_visit_t visit, void *context)
{
    scan_state_t st;
    cursor_t c;
    st.lfn.slots = 0;
    int r = cursor_seek(vol, first_cluster, start_index, &c);
    while (r == 0) {
        uint8_t *e;
        uint32_t offset = cursor_offset(vol, &c);
        if ((r = entry_ptr(vol, c.cluster, offset, &e)))
            break;
        r = scan_entry(&st, e, &c, offset, visit, context);
        if (r == 2)
            return 0;
        if (r == 0)
            r = cursor_next(vol, &c);
        else
            return r;
    }
    return r < 0 ? r : 0;
}

typedef struct {
    const fat32_name_t *want;
    fat32_slot_t *out;
} find_t;

static int find_visit(void *context, const fat32_slot_t *slot, const fat32_name_t *long_name)
{
    find_t *f = context;
    if (!(long_name && fat32_name_equal(long_name, f->want)) &&
        !fat32_short_name_is(slot->raw, f->want))
        return 0;
    *f->out = *slot;
    return 1;
}

/* 0 and the entry, -VK_ENOENT, or another error. */
int fat32_dir_find(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_name_t *name,
                   fat32_slot_t *out)
{
    find_t f = { name, out };
    int r = fat32_dir_scan(vol, dir_cluster, 0, find_visit, &f);
    return r == 1 ? 0 : r < 0 ? r : -VK_ENOENT;
}

static int short_exists_visit(void *context, const fat32_slot_t *slot,
                              const fat32_name_t *long_name)
{
    return memcmp(slot->raw, context, 11) == 0;
}

/* Picks a short name not used in the directory; *with_lfn says whether slots are needed. */
static int choose_short(fat32_volume_t *vol, uint32_t dir, const fat32_name_t *name,
                        uint8_t *entry, bool *with_lfn)
{
    uint8_t basis[11], candidate[11], case_bits;
    *with_lfn = !fat32_short_exact(name, candidate, &case_bits);
    if (!*with_lfn) {
        memcpy(entry, candidate, 11);
        entry[12] = case_bits;
        return 0;
    }
    entry[12] = 0;
    bool lossless = fat32_short_basis(name, basis);
    for (uint32_t n = lossless ? 0 : 1;; n++) {
        if (n == 0)
            memcpy(candidate, basis, 11);
        else if (!fat32_short_candidate(basis, name, n, candidate))
            break;
        int r = fat32_dir_scan(vol, dir, 0, short_exists_visit, candidate);
        if (r < 0)
            return r;
        if (r == 0) {
            memcpy(entry, candidate, 11);
            return 0;
        }
    }
    fat32_log(vol, "fat32: no free short name for a new entry");
    return -VK_ENOSPC;
}

/* Appends a zeroed cluster to the directory whose last cluster is `last`. */
static int grow_dir(fat32_volume_t *vol, uint32_t last, uint32_t *added)
{
    int err = fat32_alloc_cluster(vol, last, added);
    if (!err)
        err = fat32_zero_cluster(vol, *added);
    if (!err)
        err = fat32_fat_flush(vol);
    return err;
}

/* Finds `count` consecutive unused entries, growing the directory when needed. */
static int find_free_run(fat32_volume_t *vol, uint32_t dir, uint32_t count, cursor_t *start)
{
    cursor_t c;
    uint32_t run = 0;
    int r = cursor_seek(vol, dir, 0, &c);
    while (r == 0) {
        uint8_t *e;
        if ((r = entry_ptr(vol, c.cluster, cursor_offset(vol, &c), &e)))
            return r;
        bool unused = e[0] == FAT32_ENTRY_FREE || e[0] == FAT32_ENTRY_DELETED;
        if (unused && run++ == 0)
            *start = c;
        if (!unused)
            run = 0;
        if (run == count)
            return 0;
        uint32_t last = c.cluster;
        r = cursor_next(vol, &c);
        if (r == 1) {
            if (c.index + count - run > FAT32_DIR_ENTRIES_MAX)
                return -VK_ENOSPC;
            uint32_t added;
            if ((r = grow_dir(vol, last, &added)))
                return r;
            c.cluster = added;
        }
    }
    return r;
}

static int write_slots(fat32_volume_t *vol, cursor_t c, const fat32_name_t *name,
                       uint32_t slots, const uint8_t *entry, fat32_slot_t *out)
{
    uint8_t checksum = fat32_lfn_checksum(entry), lfn[FAT32_ENTRY_SIZE];
    out->first_index = c.index;
    for (uint32_t ord = slots; ord > 0; ord--) {
        fat32_lfn_fill(lfn, name, ord, ord == slots, checksum);
        int err = write_entry(vol, c.cluster, cursor_offset(vol, &c), lfn);
        if (err || (err = cursor_next(vol, &c)))
            return err < 0 ? err : -VK_EIO;
    }
    memcpy(out->raw, entry, FAT32_ENTRY_SIZE);
    out->index = c.index;
    out->cluster = c.cluster;
    out->offset = cursor_offset(vol, &c);
    return write_entry(vol, out->cluster, out->offset, entry);
}

/*
 * Adds `name` to the directory with the fields of template_entry (attributes, cluster,
 * size, times); the short name and case bits are chosen here. The caller has checked
 * that the name is not taken.
 */
int fat32_dir_add(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_name_t *name,
                  const uint8_t *template_entry, fat32_slot_t *out)
{
    uint8_t entry[FAT32_ENTRY_SIZE];
    bool with_lfn;
    cursor_t start;
    memcpy(entry, template_entry, FAT32_ENTRY_SIZE);
    int err = choose_short(vol, dir_cluster, name, entry, &with_lfn);
    if (err)
        return err;
    uint32_t slots = with_lfn ? (name->length + LFN_UNITS - 1) / LFN_UNITS : 0;
    if ((err = find_free_run(vol, dir_cluster, slots + 1, &start)))
        return err;
    if ((err = fat32_fat_flush(vol)))
        return err;
    return write_slots(vol, start, name, slots, entry, out);
}

/* Marks the entry and its long-name slots deleted. */
int fat32_dir_remove(fat32_volume_t *vol, uint32_t dir_cluster, const fat32_slot_t *slot)
{
    cursor_t c;
    int r = cursor_seek(vol, dir_cluster, slot->first_index, &c);
    while (r == 0 && c.index <= slot->index) {
        uint8_t *e;
        if ((r = entry_ptr(vol, c.cluster, cursor_offset(vol, &c), &e)))
            break;
        uint8_t copy[FAT32_ENTRY_SIZE];
        memcpy(copy, e, sizeof(copy));
        copy[0] = FAT32_ENTRY_DELETED;
        if ((r = write_entry(vol, c.cluster, cursor_offset(vol, &c), copy)))
            break;
        if (c.index == slot->index)
            return 0;
        r = cursor_next(vol, &c);
    }
    return r < 0 ? r : -VK_EIO;
}

static int any_visit(void *context, const fat32_slot_t *slot, const fat32_name_t *long_name)
{
    return 1;
}

/* 1 when the directory holds nothing but "." and "..", 0 when not, or an error. */
int fat32_dir_is_empty(fat32_volume_t *vol, uint32_t dir_cluster)
{
    int r = fat32_dir_scan(vol, dir_cluster, 0, any_visit, NULL);
    return r < 0 ? r : !r;
}

/* Rewrites a node's short entry. The FAT goes first, so the entry never points at
 * clusters whose chain is not yet on the disk. */
int fat32_entry_update(fat32_volume_t *vol, const fat32_node_t *node, const uint8_t *entry)
{
    if (!node->entry_cluster)
        return 0; /* the root has no entry */
    int err = fat32_fat_flush(vol);
    return err ? err : write_entry(vol, node->entry_cluster, node->entry_offset, entry);
}

int fat32_entry_read(fat32_volume_t *vol, const fat32_node_t *node, uint8_t *entry)
{
    uint8_t *p;
    memset(entry, 0, FAT32_ENTRY_SIZE);
    if (!node->entry_cluster) {
        entry[11] = FAT32_ATTR_DIRECTORY;
        return 0;
    }
    int err = entry_ptr(vol, node->entry_cluster, node->entry_offset, &p);
    if (!err)
        memcpy(entry, p, FAT32_ENTRY_SIZE);
    return err;
}

void fat32_node_from_slot(const fat32_slot_t *slot, uint32_t dir_cluster, fat32_node_t *out)
{
    memset(out, 0, sizeof(*out));
    out->first_cluster = fat32_entry_cluster(slot->raw);
    out->attributes = slot->raw[11];
    out->size = (out->attributes & FAT32_ATTR_DIRECTORY) ? 0 : fat32_get32(slot->raw + 28);
    out->entry_cluster = slot->cluster;
    out->entry_offset = slot->offset;
    out->parent_cluster = dir_cluster;
    out->access_date = fat32_get16(slot->raw + 18);
}
