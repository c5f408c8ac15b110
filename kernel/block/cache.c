/* SPDX-License-Identifier: MIT */
/*
 * The block cache: BCACHE_BLOCK_BYTES blocks of whole disks in an LRU, shared by every
 * filesystem (see block.h).
 *
 * Blocks are keyed by (disk, block number) with the disk's own sector numbering, so a
 * partition and its disk see the same cached bytes. Reads fill whole blocks, and a
 * read that continues where the previous one on that disk ended also reads the next
 * BCACHE_READAHEAD blocks in the same request. Writes go to the device at once
 * (write-through) and then update the blocks already cached: the order in which a
 * filesystem writes is the order the disk sees, which FAT32's crash guarantees rely on
 * (docs/storage.md). Write-back with ordering barriers is the next step.
 *
 * One mutex guards the cache and is held across device I/O: simple, and filesystems
 * serialise their own calls per volume anyway.
 */
#include "block/block.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include <vk/errno.h>

#define BCACHE_BLOCK_BYTES 4096u
#define BCACHE_READAHEAD   8u    /* blocks read ahead on a sequential read */
#define BCACHE_BUCKETS     1024u

typedef struct cache_block {
    blockdev_t *disk;
    uint64_t number;                 /* disk sector / sectors_per_block */
    uint32_t valid_sectors;          /* less than a block only at the end of a disk */
    struct cache_block *hash_next;
    struct cache_block *lru_prev, *lru_next; /* most recently used first */
    uint8_t data[BCACHE_BLOCK_BYTES];
} cache_block_t;

static sched_mutex_t cache_lock = SCHED_MUTEX_INIT;
/* Guarded by cache_lock. */
static cache_block_t *buckets[BCACHE_BUCKETS];
static cache_block_t *lru_first, *lru_last;
static unsigned block_count;
static bcache_stats_t stats;
static struct {
    blockdev_t *disk;
    uint64_t next_block;             /* where the last read on that disk ended */
} last_read;

static uint32_t sectors_per_block(const blockdev_t *disk)
{
    return disk->sector_size >= BCACHE_BLOCK_BYTES ? 1 : BCACHE_BLOCK_BYTES / disk->sector_size;
}

static cache_block_t **bucket_of(const blockdev_t *disk, uint64_t number)
{
    uint64_t h = ((uint64_t)disk >> 4) * 0x9e3779b97f4a7c15ull ^ number * 0xff51afd7ed558ccdull;
    return &buckets[(h >> 40) % BCACHE_BUCKETS];
}

static void lru_unlink(cache_block_t *b)
{
    if (b->lru_prev)
        b->lru_prev->lru_next = b->lru_next;
    else
        lru_first = b->lru_next;
    if (b->lru_next)
        b->lru_next->lru_prev = b->lru_prev;
    else
        lru_last = b->lru_prev;
    b->lru_prev = b->lru_next = NULL;
}

static void lru_push_front(cache_block_t *b)
{
    b->lru_next = lru_first;
    b->lru_prev = NULL;
    if (lru_first)
        lru_first->lru_prev = b;
    else
        lru_last = b;
    lru_first = b;
}

static cache_block_t *lookup(blockdev_t *disk, uint64_t number)
{
    for (cache_block_t *b = *bucket_of(disk, number); b; b = b->hash_next)
        if (b->disk == disk && b->number == number)
            return b;
    return NULL;
}

static void hash_remove(cache_block_t *b)
{
    for (cache_block_t **link = bucket_of(b->disk, b->number); *link; link = &(*link)->hash_next)
        if (*link == b) {
            *link = b->hash_next;
            return;
        }
}

/* A block to fill: a new one while under the limit, else the least recently used. */
static cache_block_t *take_block(void)
{
    if (block_count < CONFIG_BCACHE_BLOCKS) {
        cache_block_t *b = kmalloc(sizeof(*b));
        if (b) {
            block_count++;
            return b;
        }
    }
    cache_block_t *b = lru_last;
    if (!b)
        return NULL;
    lru_unlink(b);
    hash_remove(b);
    stats.evictions++;
    return b;
}

static void insert(cache_block_t *b, blockdev_t *disk, uint64_t number, uint32_t valid)
{
    b->disk = disk;
    b->number = number;
    b->valid_sectors = valid;
    cache_block_t **bucket = bucket_of(disk, number);
    b->hash_next = *bucket;
    *bucket = b;
    lru_push_front(b);
}

/* Reads blocks [number, number + count) of disk from the device into the cache (the
 * ones not cached yet); at most BCACHE_READAHEAD + 1 blocks. */
static int fill(blockdev_t *disk, uint64_t number, unsigned count)
{
    uint32_t spb = sectors_per_block(disk);
    uint64_t first = number * spb;
    if (first >= disk->sector_count)
        return -VK_EINVAL;
    uint64_t sectors = (uint64_t)count * spb;
    if (sectors > disk->sector_count - first)
        sectors = disk->sector_count - first;
    uint32_t bytes_per_block = spb * disk->sector_size;
    uint8_t *buf = kmalloc(sectors * disk->sector_size);
    if (!buf)
        return -VK_ENOMEM;
    int err = blockdev_read(disk, first, (uint32_t)sectors, buf);
    for (unsigned i = 0; !err && (uint64_t)i * spb < sectors; i++) {
        if (lookup(disk, number + i))
            continue; /* already cached, and the same bytes: writes go through */
        cache_block_t *b = take_block();
        if (!b)
            break;
        uint64_t left = sectors - (uint64_t)i * spb;
        uint32_t valid = left < spb ? (uint32_t)left : spb;
        memcpy(b->data, buf + (size_t)i * bytes_per_block, (size_t)valid * disk->sector_size);
        insert(b, disk, number + i, valid);
    }
    kfree(buf);
    return err;
}

/* The disk a device's sectors live on, and where its sector 0 is there. */
static blockdev_t *disk_of(blockdev_t *dev, uint64_t *offset)
{
    *offset = dev->parent ? dev->first_sector : 0;
    return dev->parent ? dev->parent : dev;
}

static bool range_ok(const blockdev_t *dev, uint64_t sector, uint32_t count)
{
    return sector <= dev->sector_count && count <= dev->sector_count - sector;
}

int bcache_read(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf)
{
    if (!buf || !range_ok(dev, sector, count))
        return -VK_EINVAL;
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    uint32_t spb = sectors_per_block(disk), ss = disk->sector_size;
    if (spb == 1 && ss > BCACHE_BLOCK_BYTES)
        return blockdev_read(dev, sector, count, buf); /* sectors bigger than a block */
    uint8_t *out = buf;
    uint64_t at = offset + sector, end = at + count;
    int err = 0;
    sched_mutex_lock(&cache_lock);
    while (at < end && !err) {
        uint64_t number = at / spb;
        cache_block_t *b = lookup(disk, number);
        if (b) {
            stats.hits++;
        } else {
            stats.misses++;
            bool sequential = last_read.disk == disk && last_read.next_block == number;
            unsigned ahead = sequential ? BCACHE_READAHEAD : 0;
            stats.readahead_blocks += ahead;
            err = fill(disk, number, 1 + ahead);
            b = err ? NULL : lookup(disk, number);
            if (!err && !b)
                err = -VK_ENOMEM;
        }
        if (err)
            break;
        uint32_t within = (uint32_t)(at - number * spb);
        uint32_t n = spb - within;
        if (n > end - at)
            n = (uint32_t)(end - at);
        if (within + n > b->valid_sectors) {
            err = -VK_EIO; /* past the end of the disk: range_ok makes this unreachable */
            break;
        }
        memcpy(out, b->data + (size_t)within * ss, (size_t)n * ss);
        out += (size_t)n * ss;
        at += n;
        lru_unlink(b);
        lru_push_front(b);
        last_read.disk = disk;
        last_read.next_block = number + 1;
    }
    sched_mutex_unlock(&cache_lock);
    return err;
}

int bcache_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf)
{
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    uint32_t spb = sectors_per_block(disk), ss = disk->sector_size;
    sched_mutex_lock(&cache_lock);
    int err = blockdev_write(dev, sector, count, buf); /* checks range and read-only */
    /* The device has the bytes now; cached copies of those sectors follow. */
    const uint8_t *in = buf;
    for (uint64_t at = offset + sector, end = at + count; !err && at < end;) {
        uint64_t number = at / spb;
        uint32_t within = (uint32_t)(at - number * spb);
        uint32_t n = spb - within;
        if (n > end - at)
            n = (uint32_t)(end - at);
        cache_block_t *b = lookup(disk, number);
        if (b)
            memcpy(b->data + (size_t)within * ss, in, (size_t)n * ss);
        in += (size_t)n * ss;
        at += n;
    }
    if (!err)
        stats.writes++;
    sched_mutex_unlock(&cache_lock);
    return err;
}

int bcache_sync(blockdev_t *dev)
{
    /* Nothing is dirty in a write-through cache: only the device's own cache. */
    return blockdev_flush(dev);
}

void bcache_invalidate(blockdev_t *dev)
{
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    sched_mutex_lock(&cache_lock);
    for (cache_block_t *b = lru_first, *next; b; b = next) {
        next = b->lru_next;
        if (b->disk != disk)
            continue;
        lru_unlink(b);
        hash_remove(b);
        kfree(b);
        block_count--;
    }
    if (last_read.disk == disk)
        last_read.disk = NULL;
    sched_mutex_unlock(&cache_lock);
}

void bcache_get_stats(bcache_stats_t *out)
{
    sched_mutex_lock(&cache_lock);
    *out = stats;
    out->cached_blocks = block_count;
    out->block_bytes = BCACHE_BLOCK_BYTES;
    sched_mutex_unlock(&cache_lock);
}
