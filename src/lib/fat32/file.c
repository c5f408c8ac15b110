/* SPDX-License-Identifier: MIT */
/*
 * File contents: read, write (growing the chain, zero-filling gaps), truncate, stat and
 * the FAT date/time encoding.
 *
 * Order of writes when a file grows: the new clusters are linked in the FAT, the data is
 * written, then the FAT sector is flushed and only then the directory entry (first
 * cluster, size) is rewritten. When a file shrinks the entry is rewritten first and the
 * clusters are freed after. A crash can so lose recent data or leave lost clusters, but
 * never leaves an entry pointing into free or foreign clusters.
 */
#include "lib/fat32/internal.h"

#define FAT_EPOCH        315532800ll  /* 1980-01-01 00:00:00 UTC */
#define FAT_LAST_YEAR    2107
#define SECONDS_PER_DAY  86400

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t fat32_time_from_fat(uint16_t date, uint16_t time)
{
    unsigned m = (date >> 5) & 0xf, d = date & 0x1f;
    if (m < 1 || m > 12 || d < 1)
        return FAT_EPOCH; /* an unset or invalid date */
    int64_t days = days_from_civil(1980 + (date >> 9), m, d);
    return days * SECONDS_PER_DAY + (time >> 11) * 3600 + ((time >> 5) & 0x3f) * 60 +
           (time & 0x1f) * 2;
}

static void time_to_fat(int64_t t, uint16_t *date, uint16_t *time, uint8_t *tenths)
{
    int64_t y;
    unsigned m, d;
    if (t < FAT_EPOCH)
        t = FAT_EPOCH;
    int64_t days = t / SECONDS_PER_DAY, secs = t % SECONDS_PER_DAY;
    civil_from_days(days, &y, &m, &d);
    if (y > FAT_LAST_YEAR) {
        y = FAT_LAST_YEAR, m = 12, d = 31;
        secs = SECONDS_PER_DAY - 1;
    }
    *date = (uint16_t)((y - 1980) << 9 | m << 5 | d);
    *time = (uint16_t)((secs / 3600) << 11 | (secs / 60 % 60) << 5 | (secs % 60) / 2);
    *tenths = (uint8_t)((secs % 2) * 100);
}

static int64_t now(fat32_volume_t *vol)
{
    return vol->ops.now ? vol->ops.now(vol->ops.context) : FAT_EPOCH;
}

/* Writes the current time into an entry: access date always, plus creation and/or
 * modification time; a modified file gets the archive bit as on other systems. */
void fat32_stamp(fat32_volume_t *vol, uint8_t *entry, bool create, bool modify)
{
    uint16_t date, time;
    uint8_t tenths;
    time_to_fat(now(vol), &date, &time, &tenths);
    fat32_put16(entry + 18, date);
    if (create) {
        entry[13] = tenths;
        fat32_put16(entry + 14, time);
        fat32_put16(entry + 16, date);
    }
    if (modify) {
        fat32_put16(entry + 22, time);
        fat32_put16(entry + 24, date);
        if (!(entry[11] & FAT32_ATTR_DIRECTORY))
            entry[11] |= FAT32_ATTR_ARCHIVE;
    }
}

/* Part of one sector through the bounce buffer (dst and src both NULL: zeros). */
static int partial_io(fat32_volume_t *vol, uint64_t sector, uint32_t in, uint8_t *dst,
                      const uint8_t *src, uint32_t n)
{
    uint8_t *bounce = vol->dir_buffer;
    int err = (n == vol->sector_size && !dst) ? 0 : fat32_dev_read(vol, sector, 1, bounce);
    if (err)
        return err;
    if (dst) {
        memcpy(dst, bounce + in, n);
        return 0;
    }
    if (src)
        memcpy(bounce + in, src, n);
    else
        memset(bounce + in, 0, n);
    return fat32_dev_write(vol, sector, 1, bounce);
}

/* Copies n bytes at byte `offset` of a cluster (and, past its end, of the clusters that
 * follow it on the volume) to or from memory (src NULL: zeros). Whole sectors move
 * straight between the device and the caller's buffer. */
static int cluster_io(fat32_volume_t *vol, uint32_t cluster, uint32_t offset, uint8_t *dst,
                      const uint8_t *src, uint32_t n)
{
    uint64_t sector = fat32_cluster_sector(vol, cluster) + offset / vol->sector_size;
    uint32_t in = offset % vol->sector_size, ss = vol->sector_size;
    vol->dir_cached = FAT32_NO_SECTOR; /* the bounce buffer is the directory sector's */
    while (n) {
        uint32_t chunk = n < ss - in ? n : ss - in, count = n / ss;
        int err;
        if (chunk == ss && (dst || src)) {
            chunk = count * ss;
            err = dst ? fat32_dev_read(vol, sector, count, dst)
                      : fat32_dev_write(vol, sector, count, src);
            sector += count;
        } else {
            err = partial_io(vol, sector++, in, dst, src, chunk);
        }
        if (err)
            return err;
        dst = dst ? dst + chunk : NULL;
        src = src ? src + chunk : NULL;
        n -= chunk;
        in = 0;
    }
    return 0;
}

/* Most bytes one file_io step moves: a run of contiguous clusters is one device call. */
#define FILE_IO_RUN_MAX (1u << 20)

/* Reads or writes [pos, pos + n) of a file whose chain already covers it. Clusters that
 * follow each other on the volume go to the device in one call (files written in one go
 * are contiguous), so small clusters do not mean small requests. */
static int file_io(fat32_volume_t *vol, fat32_node_t *node, uint64_t pos, uint8_t *dst,
                   const uint8_t *src, uint64_t n)
{
    uint32_t cs = vol->cluster_size;
    while (n) {
        uint32_t cluster, index = (uint32_t)(pos / cs), in = (uint32_t)(pos % cs);
        int r = fat32_chain_seek(vol, node, index, &cluster);
        if (r == 1)
            fat32_log(vol, "fat32: file at cluster %u is shorter than its size",
                      node->first_cluster);
        if (r)
            return r < 0 ? r : -VK_EIO;
        /* Extend the run while the bytes need the next cluster and it is the adjacent
         * one. A chain error stops the run; the next step's seek reports it. */
        uint32_t run = 1, next;
        while ((uint64_t)run * cs < in + n && (run + 1) * (uint64_t)cs <= FILE_IO_RUN_MAX &&
               fat32_chain_seek(vol, node, index + run, &next) == 0 && next == cluster + run)
            run++;
        uint64_t room = (uint64_t)run * cs - in;
        uint32_t chunk = (uint32_t)(room < n ? room : n);
        if ((r = cluster_io(vol, cluster, in, dst, src, chunk)))
            return r;
        pos += chunk;
        n -= chunk;
        if (dst)
            dst += chunk;
        if (src)
            src += chunk;
    }
    return 0;
}

/* After reading up to the end: the chain must end (a longer chain is tolerated, as other
 * implementations do, but a cycle is an error). */
static int check_tail(fat32_volume_t *vol, fat32_node_t *node)
{
    uint32_t last, length;
    if (!node->hint_cluster)
        return 0;
    int err = fat32_chain_last(vol, node->hint_cluster, &last, &length);
    if (!err && (uint64_t)node->hint_index + length > vol->cluster_count) {
        fat32_log(vol, "fat32: chain of file at cluster %u never ends", node->first_cluster);
        err = -VK_EIO;
    }
    return err;
}

static int check_file(fat32_volume_t *vol, const fat32_node_t *node)
{
    if (node->attributes & FAT32_ATTR_DIRECTORY)
        return -VK_EISDIR;
    if (node->size && !node->first_cluster) {
        fat32_log(vol, "fat32: file of %u bytes has no clusters", node->size);
        return -VK_EIO;
    }
    if (node->size > (uint64_t)vol->cluster_count * vol->cluster_size) {
        fat32_log(vol, "fat32: file size %u exceeds the volume", node->size);
        return -VK_EIO;
    }
    return 0;
}

static void touch_access(fat32_volume_t *vol, fat32_node_t *node)
{
    uint8_t entry[FAT32_ENTRY_SIZE];
    uint16_t date, time;
    uint8_t tenths;
    time_to_fat(now(vol), &date, &time, &tenths);
    if (vol->read_only || date == node->access_date || fat32_entry_read(vol, node, entry))
        return;
    fat32_put16(entry + 18, date);
    if (!fat32_entry_update(vol, node, entry))
        node->access_date = date;
}

int64_t fat32_read(fat32_volume_t *vol, fat32_node_t *node, uint64_t offset, void *buffer,
                   size_t length)
{
    int err = check_file(vol, node);
    if (err)
        return err;
    if (offset >= node->size || length == 0)
        return 0;
    uint64_t n = node->size - offset < length ? node->size - offset : length;
    if ((err = file_io(vol, node, offset, buffer, NULL, n)))
        return err;
    if (offset + n == node->size && (err = check_tail(vol, node)))
        return err;
    touch_access(vol, node);
    return (int64_t)n;
}

/* Cuts the chain back to `keep` clusters (0: the whole chain) after a failed extension. */
static void undo_growth(fat32_volume_t *vol, fat32_node_t *node, uint32_t old_last,
                        uint32_t first_new)
{
    if (old_last)
        fat32_fat_set(vol, old_last, FAT32_EOC);
    else
        node->first_cluster = 0;
    fat32_free_chain(vol, first_new);
    node->hint_cluster = 0;
    node->contig = 0;
}

/* Makes the chain at least `bytes` long. */
static int grow_chain(fat32_volume_t *vol, fat32_node_t *node, uint64_t bytes)
{
    uint32_t need = (uint32_t)((bytes + vol->cluster_size - 1) / vol->cluster_size);
    uint32_t last = 0, have = 0, first_new = 0;
    int r = 0;
    if (need == 0)
        return 0;
    if (need > vol->cluster_count)
        return -VK_ENOSPC;
    if (node->first_cluster) {
        r = fat32_chain_seek(vol, node, need - 1, &last);
        if (r <= 0)
            return r;
        have = node->hint_index + 1;
    }
    uint32_t old_last = last;
    for (; have < need; have++) {
        uint32_t c;
        if ((r = fat32_alloc_cluster(vol, last, &c))) {
            if (first_new)
                undo_growth(vol, node, old_last, first_new);
            return r;
        }
        if (!first_new)
            first_new = c;
        if (!node->first_cluster)
            node->first_cluster = c;
        last = c;
    }
    node->hint_index = need - 1;
    node->hint_cluster = last;
    return 0;
}

static int save_entry(fat32_volume_t *vol, fat32_node_t *node)
{
    uint8_t entry[FAT32_ENTRY_SIZE];
    int err = fat32_entry_read(vol, node, entry);
    if (err)
        return err;
    fat32_entry_set_cluster(entry, node->first_cluster);
    fat32_put32(entry + 28, node->size);
    fat32_stamp(vol, entry, false, true);
    node->access_date = fat32_get16(entry + 18);
    return fat32_entry_update(vol, node, entry);
}

/* Grows to `end` bytes: links clusters and zero-fills [size, fill_to). */
static int extend(fat32_volume_t *vol, fat32_node_t *node, uint64_t end, uint64_t fill_to)
{
    int err = grow_chain(vol, node, end);
    if (!err && fill_to > node->size)
        err = file_io(vol, node, node->size, NULL, NULL, fill_to - node->size);
    return err;
}

int64_t fat32_write(fat32_volume_t *vol, fat32_node_t *node, uint64_t offset,
                    const void *buffer, size_t length)
{
    int err = check_file(vol, node);
    if (err)
        return err;
    if (vol->read_only)
        return -VK_EROFS;
    if (length == 0)
        return 0;
    if (offset > FAT32_FILE_SIZE_MAX || length > FAT32_FILE_SIZE_MAX - offset)
        return -VK_EFBIG;
    uint64_t end = offset + length;
    if ((err = extend(vol, node, end, offset)) ||
        (err = file_io(vol, node, offset, NULL, buffer, length)))
        return err;
    if (end > node->size)
        node->size = (uint32_t)end;
    err = save_entry(vol, node);
    return err ? err : (int64_t)length;
}

static int shrink(fat32_volume_t *vol, fat32_node_t *node, uint32_t size)
{
    uint32_t keep = (uint32_t)((size + (uint64_t)vol->cluster_size - 1) / vol->cluster_size);
    uint32_t first = node->first_cluster, last = 0, rest = first;
    int err = 0;
    if (keep && first) {
        if ((err = fat32_chain_seek(vol, node, keep - 1, &last)) ||
            (err = fat32_next_cluster(vol, last, &rest)))
            return err < 0 ? err : -VK_EIO;
    }
    node->size = size;
    if (!keep)
        node->first_cluster = 0;
    if (node->hint_index >= keep)
        node->hint_cluster = 0;
    if (node->contig > keep)
        node->contig = keep;
    if ((err = save_entry(vol, node)))
        return err;
    if (last && rest && (err = fat32_fat_set(vol, last, FAT32_EOC)))
        return err;
    return rest ? fat32_free_chain(vol, rest) : 0;
}

int fat32_truncate(fat32_volume_t *vol, fat32_node_t *node, uint64_t size)
{
    int err = check_file(vol, node);
    if (err)
        return err;
    if (vol->read_only)
        return -VK_EROFS;
    if (size > FAT32_FILE_SIZE_MAX)
        return -VK_EFBIG;
    if (size <= node->size)
        return shrink(vol, node, (uint32_t)size);
    if ((err = extend(vol, node, size, size)))
        return err;
    node->size = (uint32_t)size;
    return save_entry(vol, node);
}

int fat32_stat(fat32_volume_t *vol, const fat32_node_t *node, fat32_stat_t *out)
{
    uint8_t e[FAT32_ENTRY_SIZE];
    int err = fat32_entry_read(vol, node, e);
    if (err)
        return err;
    memset(out, 0, sizeof(*out));
    out->size = node->size;
    out->first_cluster = node->first_cluster;
    out->attributes = node->attributes;
    out->is_dir = fat32_is_dir(node);
    out->create_time = fat32_time_from_fat(fat32_get16(e + 16), fat32_get16(e + 14)) +
                       (e[13] >= 100 && e[13] < 200);
    out->modify_time = fat32_time_from_fat(fat32_get16(e + 24), fat32_get16(e + 22));
    out->access_time = fat32_time_from_fat(fat32_get16(e + 18), 0);
    return 0;
}

/* Sets the modification time and access date (utimes); the root has none to set. */
int fat32_set_times(fat32_volume_t *vol, fat32_node_t *node, int64_t modify_time,
                    int64_t access_time)
{
    uint8_t e[FAT32_ENTRY_SIZE];
    uint16_t date, time;
    uint8_t tenths;
    if (vol->read_only)
        return -VK_EROFS;
    int err = fat32_entry_read(vol, node, e);
    if (err || !node->entry_cluster)
        return err;
    time_to_fat(modify_time, &date, &time, &tenths);
    fat32_put16(e + 22, time);
    fat32_put16(e + 24, date);
    time_to_fat(access_time, &date, &time, &tenths);
    fat32_put16(e + 18, date);
    node->access_date = date;
    return fat32_entry_update(vol, node, e);
}

/* Replaces the read-only, hidden, system and archive bits (the others are structural). */
int fat32_set_attributes(fat32_volume_t *vol, fat32_node_t *node, uint8_t attributes)
{
    const uint8_t settable = FAT32_ATTR_READ_ONLY | FAT32_ATTR_HIDDEN | FAT32_ATTR_SYSTEM |
                             FAT32_ATTR_ARCHIVE;
    uint8_t e[FAT32_ENTRY_SIZE];
    if (vol->read_only)
        return -VK_EROFS;
    if ((attributes & ~settable) || !node->entry_cluster)
        return -VK_EINVAL;
    int err = fat32_entry_read(vol, node, e);
    if (err)
        return err;
    e[11] = (uint8_t)((e[11] & ~settable) | attributes);
    node->attributes = e[11];
    return fat32_entry_update(vol, node, e);
}
