/* SPDX-License-Identifier: MIT */
/*
 * The file allocation table: entry access through one cached FAT sector, chain walks and
 * cluster allocation.
 *
 * The cached sector is written back to every FAT copy (or only the active one when the
 * BPB's ExtFlags turn mirroring off) when another sector is needed and on fat32_fat_flush.
 * Every step of a chain walk is checked: a chain that reaches a free cluster, a
 * bad-cluster mark, or a number outside the volume, or that loops back on itself
 * (fat32_loop_t finds that as the loop closes), is reported as -VK_EIO with a log line.
 * Entries keep their top four reserved bits.
 */
#include "lib/fat32/internal.h"

static uint32_t read_copy(const fat32_volume_t *vol)
{
    return vol->mirror ? 0 : vol->active_fat;
}

int fat32_fat_flush(fat32_volume_t *vol)
{
    if (!vol->fat_dirty)
        return 0;
    for (uint32_t copy = 0; copy < vol->fat_count; copy++) {
        if (!vol->mirror && copy != vol->active_fat)
            continue;
        uint64_t sector = vol->fat_start + (uint64_t)copy * vol->fat_sectors + vol->fat_cached;
        int err = fat32_dev_write(vol, sector, 1, vol->fat_buffer);
        if (err)
            return err;
    }
    vol->fat_dirty = false;
    return 0;
}

/* Makes the FAT sector holding entry `cluster` the cached one; returns its byte offset. */
static int load_entry(fat32_volume_t *vol, uint32_t cluster, uint32_t *offset)
{
    uint64_t byte = (uint64_t)cluster * 4;
    uint64_t index = byte / vol->sector_size;
    if (cluster >= vol->cluster_count + 2u) {
        fat32_log(vol, "fat32: FAT entry %u beyond the volume", cluster);
        return -VK_EIO;
    }
    *offset = (uint32_t)(byte % vol->sector_size);
    if (index == vol->fat_cached)
        return 0;
    int err = fat32_fat_flush(vol);
    if (err)
        return err;
    uint64_t sector = vol->fat_start + (uint64_t)read_copy(vol) * vol->fat_sectors + index;
    vol->fat_cached = FAT32_NO_SECTOR;
    err = fat32_dev_read(vol, sector, 1, vol->fat_buffer);
    if (err)
        return err;
    vol->fat_cached = index;
    return 0;
}

int fat32_fat_get(fat32_volume_t *vol, uint32_t cluster, uint32_t *value)
{
    uint32_t offset;
    int err = load_entry(vol, cluster, &offset);
    if (!err)
        *value = fat32_get32(vol->fat_buffer + offset) & FAT32_CLUSTER_MASK;
    return err;
}

int fat32_fat_set(fat32_volume_t *vol, uint32_t cluster, uint32_t value)
{
    if (vol->read_only)
        return -VK_EROFS;
    uint32_t offset;
    int err = load_entry(vol, cluster, &offset);
    if (err)
        return err;
    uint32_t old = fat32_get32(vol->fat_buffer + offset);
    fat32_put32(vol->fat_buffer + offset, (old & ~FAT32_CLUSTER_MASK) | (value & FAT32_CLUSTER_MASK));
    vol->fat_dirty = true;
    return 0;
}

/* The FAT entry of a cluster that must be on the volume (`what` names it in the log). */
static int entry_of(fat32_volume_t *vol, uint32_t cluster, const char *what, uint32_t *v)
{
    if (fat32_cluster_valid(vol, cluster))
        return fat32_fat_get(vol, cluster, v);
    fat32_log(vol, "fat32: %s cluster %u is outside the volume", what, cluster);
    return -VK_EIO;
}

/* The cluster after `cluster`, or 0 at the end of the chain. */
int fat32_next_cluster(fat32_volume_t *vol, uint32_t cluster, uint32_t *next)
{
    uint32_t v;
    int err = entry_of(vol, cluster, "chain", &v);
    if (err)
        return err;
    if (v >= 0x0ffffff8u) {
        *next = 0;
        return 0;
    }
    if (v == 0 || v == FAT32_BAD || !fat32_cluster_valid(vol, v)) {
        fat32_log(vol, "fat32: chain at cluster %u continues to %s %#x", cluster,
                  v == 0 ? "a free entry" : "an invalid value", v);
        return -VK_EIO;
    }
    *next = v;
    return 0;
}

/* A chain may start here: a cluster of the volume whose entry is neither free nor bad. */
int fat32_check_start(fat32_volume_t *vol, uint32_t first)
{
    uint32_t v;
    int err = entry_of(vol, first, "first", &v);
    if (err)
        return err;
    if (v == 0 || v == FAT32_BAD) {
        fat32_log(vol, "fat32: chain starts at cluster %u, which is marked %s", first,
                  v ? "bad" : "free");
        return -VK_EIO;
    }
    return 0;
}

static int loop_found(fat32_volume_t *vol, uint32_t from, uint32_t at)
{
    fat32_log(vol, "fat32: chain from cluster %u loops back to cluster %u", from, at);
    return -VK_EIO;
}

/*
 * The cluster at position `index` of the node's chain, starting from the node's hint
 * when it is at or before `index`. Returns 1 (and the last cluster) when the chain is
 * shorter, so writers can extend it.
 */
int fat32_chain_seek(fat32_volume_t *vol, fat32_node_t *node, uint32_t index,
                     uint32_t *cluster)
{
    uint32_t pos = 0, first = node->first_cluster, c = first;
    if (index < node->contig) { /* in the known-consecutive start: no walk */
        node->hint_index = index;
        node->hint_cluster = *cluster = first + index;
        return 0;
    }
    if (node->hint_cluster && node->hint_index <= index) {
        pos = node->hint_index;
        c = node->hint_cluster;
    }
    if (node->contig && node->contig - 1 > pos) {
        pos = node->contig - 1;
        c = first + pos;
    }
    int err = fat32_check_start(vol, c);
    if (err)
        return err;
    if (!node->contig && c == first)
        node->contig = 1;
    if (index >= vol->cluster_count) {
        fat32_log(vol, "fat32: offset beyond any chain on this volume");
        return -VK_EIO;
    }
    fat32_loop_t loop;
    fat32_loop_start(&loop, c);
    while (pos < index) {
        uint32_t next;
        if ((err = fat32_next_cluster(vol, c, &next)))
            return err;
        if (!next)
            break;
        if (fat32_loop_closes(&loop, next))
            return loop_found(vol, first, next);
        if (pos + 1 == node->contig && next == c + 1)
            node->contig = pos + 2; /* one more consecutive cluster, checked as a link */
        c = next;
        pos++;
    }
    node->hint_index = pos;
    node->hint_cluster = c;
    *cluster = c;
    return pos < index ? 1 : 0;
}

/* Walks a whole chain: its last cluster and length. -VK_EIO for a cycle. */
int fat32_chain_last(fat32_volume_t *vol, uint32_t first, uint32_t *last, uint32_t *length)
{
    int err = fat32_check_start(vol, first);
    uint32_t c = first, n = 1;
    fat32_loop_t loop;
    fat32_loop_start(&loop, first);
    while (!err) {
        uint32_t next;
        if ((err = fat32_next_cluster(vol, c, &next)) || !next)
            break;
        if (fat32_loop_closes(&loop, next))
            return loop_found(vol, first, next);
        c = next;
        n++;
    }
    *last = c;
    *length = n;
    return err;
}

static int claim(fat32_volume_t *vol, uint32_t previous, uint32_t cluster, uint32_t *out)
{
    int err = fat32_fat_set(vol, cluster, FAT32_EOC);
    if (!err && previous)
        err = fat32_fat_set(vol, previous, cluster);
    if (err)
        return err;
    if (vol->free_known && vol->free_count)
        vol->free_count--;
    vol->next_free = cluster + 1 - 2 < vol->cluster_count ? cluster + 1 : 2;
    *out = cluster;
    return 0;
}

/*
 * Allocates one cluster, marks it end-of-chain and links it after `previous` (0: a new
 * chain). Takes previous + 1 when free (contiguous files), else the first free cluster
 * at or after the next-free hint, wrapping around once.
 */
int fat32_alloc_cluster(fat32_volume_t *vol, uint32_t previous, uint32_t *out)
{
    uint32_t v;
    int err;
    if (previous && fat32_cluster_valid(vol, previous + 1)) {
        if ((err = fat32_fat_get(vol, previous + 1, &v)))
            return err;
        if (v == 0)
            return claim(vol, previous, previous + 1, out);
    }
    uint32_t start = fat32_cluster_valid(vol, vol->next_free) ? vol->next_free : 2;
    for (uint32_t i = 0; i < vol->cluster_count; i++) {
        uint32_t c = 2 + (start - 2 + i) % vol->cluster_count;
        if ((err = fat32_fat_get(vol, c, &v)))
            return err;
        if (v == 0)
            return claim(vol, previous, c, out);
    }
    vol->free_count = 0;
    vol->free_known = true;
    return -VK_ENOSPC;
}

/* Marks every cluster of the chain free. */
int fat32_free_chain(fat32_volume_t *vol, uint32_t first)
{
    int err = fat32_check_start(vol, first);
    uint32_t c = first;
    for (uint32_t n = 0; !err; n++) {
        uint32_t next;
        if (n >= vol->cluster_count) {
            fat32_log(vol, "fat32: chain from cluster %u never ends (a cycle)", first);
            return -VK_EIO;
        }
        if ((err = fat32_next_cluster(vol, c, &next)) || (err = fat32_fat_set(vol, c, 0)))
            return err;
        if (vol->free_known && vol->free_count < vol->cluster_count)
            vol->free_count++;
        if (!next)
            break;
        c = next;
    }
    return err;
}

/*
 * Counts free entries a FAT sector at a time: one load per sector, then a plain loop over
 * its entries (a whole-FAT scan at mount was a function call and a cache check per
 * cluster). The loop has no integer compare: it steps a pointer, and (v - 1) >> 31 is 1
 * exactly when the 28-bit v is 0. The host fuzzer traces every integer compare, and
 * with three per entry this loop of 65,525 entries or more was a fifth of its time.
 */
int fat32_count_free(fat32_volume_t *vol)
{
    uint32_t per_sector = vol->sector_size / 4, free = 0;
    uint32_t end = vol->cluster_count + 2u; /* one past the last cluster */
    for (uint32_t c = 2; c < end;) {
        uint32_t offset;
        int err = load_entry(vol, c, &offset);
        if (err)
            return err;
        uint32_t stop = c - offset / 4 + per_sector; /* first cluster of the next sector */
        if (stop > end)
            stop = end;
        const uint8_t *p = vol->fat_buffer + offset, *last = p + (stop - c) * 4;
        for (; p != last; p += 4)
            free += ((fat32_get32(p) & FAT32_CLUSTER_MASK) - 1u) >> 31;
        c = stop;
    }
    vol->free_count = free;
    vol->free_known = true;
    return 0;
}

int fat32_zero_cluster(fat32_volume_t *vol, uint32_t cluster)
{
    uint64_t sector = fat32_cluster_sector(vol, cluster);
    vol->dir_cached = FAT32_NO_SECTOR;
    memset(vol->dir_buffer, 0, vol->sector_size);
    for (uint32_t i = 0; i < vol->sectors_per_cluster; i++) {
        int err = fat32_dev_write_dir(vol, sector + i, 1, vol->dir_buffer);
        if (err)
            return err;
    }
    return 0;
}
