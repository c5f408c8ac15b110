/* SPDX-License-Identifier: MIT */
/*
 * The block cache: BCACHE_BLOCK_BYTES blocks of whole disks in an LRU, shared by every
 * filesystem (see block.h).
 *
 * Blocks are keyed by (disk, block number) with the disk's own sector numbering, so a
 * partition and its disk see the same cached bytes. Reads fill whole blocks: a miss
 * reads every block the call still needs (up to BCACHE_FILL_BLOCKS) in one request, and
 * a read that continues where the previous one on that disk ended also reads the next
 * BCACHE_READAHEAD blocks in it.
 *
 * Writes are write-back. A written block is dirty until a write-back of its disk:
 *  - the flusher thread, every flush_interval_ms, writes back each disk that has a
 *    block dirty for dirty_expire_ms, or every disk when more than dirty_ratio percent
 *    of max_blocks are dirty (a writer past that wakes it at once);
 *  - bcache_sync (then a device flush), eviction of a dirty block, bcache_shrink.
 * A write-back writes all of a disk's (or a partition's) dirty blocks in passes: the
 * filesystem tags each write with a pass (data, allocation map, directories, summary)
 * and every block of a lower pass reaches the device before any of a higher one. Within
 * a pass blocks go in ascending order, adjacent ones coalesced into one request.
 *
 * A failed write-back leaves its blocks dirty (they are retried by the next one) and
 * remembers the error on the disk; bcache_sync reports it once. It is logged once.
 *
 * One mutex guards the cache and is held across device I/O: simple, and filesystems
 * serialise their own calls per volume anyway.
 */
#include "block/block.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "time/time.h"
#include <vk/errno.h>

#define BCACHE_BLOCK_BYTES 4096u
#define BCACHE_READAHEAD   16u   /* blocks read ahead on a sequential read */
#define BCACHE_FILL_BLOCKS 32u   /* most blocks one fill reads (128 KiB) */
#define BCACHE_BUCKETS     1024u
#define BCACHE_RUN_BLOCKS  32u   /* blocks per coalesced write request (128 KiB) */
#define NS_PER_MS          1000000ull

typedef struct cache_block {
    blockdev_t *disk;
    uint64_t number;                 /* disk sector / sectors_per_block */
    uint32_t valid_sectors;          /* less than a block only at the end of a disk */
    bool dirty;
    uint8_t pass;                    /* BCACHE_PASS_* of a dirty block */
    uint64_t dirty_since;            /* time_monotonic_ns() when it became dirty */
    struct cache_block *hash_next;
    struct cache_block *lru_prev, *lru_next; /* most recently used first */
    uint8_t data[BCACHE_BLOCK_BYTES];
} cache_block_t;

static sched_mutex_t cache_lock = SCHED_MUTEX_INIT;
/* Guarded by cache_lock. */
static cache_block_t *buckets[BCACHE_BUCKETS];
static cache_block_t *lru_first, *lru_last;
static unsigned block_count, dirty_count;
static bcache_stats_t stats;
static bcache_tunables_t tunables = {
    .dirty_expire_ms = 5000, .flush_interval_ms = 1000, .dirty_ratio = 25,
    .max_blocks = CONFIG_BCACHE_BLOCKS,
};
static struct {
    blockdev_t *disk;
    uint64_t next_block;             /* where the last read on that disk ended */
} last_read;
/* Write-back scratch, static so that writing back never needs memory. */
static cache_block_t *sorted[CONFIG_BCACHE_BLOCKS];
static uint8_t run_buffer[BCACHE_RUN_BLOCKS * BCACHE_BLOCK_BYTES];

/* The flusher thread, started by the first write. */
static spinlock_t flusher_spin = SPINLOCK_INIT;
static sched_wait_queue_t flusher_wq = SCHED_WAIT_QUEUE_INIT;
static bool flusher_kicked, flusher_started;

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

/* ---- write-back ---------------------------------------------------------------------- */

static void remember_error(blockdev_t *disk, uint64_t block, unsigned count, int err)
{
    stats.write_errors++;
    if (!disk->wb_error)
        disk->wb_error = err;
    if (!disk->wb_error_logged) {
        disk->wb_error_logged = true;
        log_error("bcache: write-back of %s blocks %llu..%llu failed (error %d); the data "
                  "stays cached and dirty, and the next sync of %s reports EIO",
                  disk->name, (unsigned long long)block,
                  (unsigned long long)(block + count - 1), err, disk->name);
    }
}

/* Writes sorted[0..n) (dirty blocks of disk, ascending) in runs of adjacent blocks. */
static int write_sorted(blockdev_t *disk, unsigned n)
{
    uint32_t spb = sectors_per_block(disk), ss = disk->sector_size;
    int first_err = 0;
    for (unsigned i = 0; i < n;) {
        unsigned run = 1;
        while (i + run < n && run < BCACHE_RUN_BLOCKS &&
               sorted[i + run]->number == sorted[i]->number + run &&
               sorted[i + run - 1]->valid_sectors == spb)
            run++;
        uint32_t sectors = 0;
        for (unsigned k = 0; k < run; k++) {
            cache_block_t *b = sorted[i + k];
            memcpy(run_buffer + (size_t)sectors * ss, b->data, (size_t)b->valid_sectors * ss);
            sectors += b->valid_sectors;
        }
        int err = blockdev_write(disk, sorted[i]->number * spb, sectors, run_buffer);
        if (err) {
            remember_error(disk, sorted[i]->number, run, err);
            if (!first_err)
                first_err = err;
        } else {
            stats.write_requests++;
            stats.writebacks += run;
            for (unsigned k = 0; k < run; k++) {
                sorted[i + k]->dirty = false;
                dirty_count--;
            }
        }
        i += run;
    }
    return first_err;
}

/* Shell sort of sorted[0..n) by block number. */
static void sort_blocks(unsigned n)
{
    static const unsigned gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        unsigned gap = gaps[g];
        for (unsigned i = gap; i < n; i++) {
            cache_block_t *b = sorted[i];
            unsigned j = i;
            for (; j >= gap && sorted[j - gap]->number > b->number; j -= gap)
                sorted[j] = sorted[j - gap];
            sorted[j] = b;
        }
    }
}

/* Writes back disk's dirty blocks in [first, end) (block numbers), pass by pass. The
 * first error, after trying everything. cache_lock held. */
static int writeback_range(blockdev_t *disk, uint64_t first, uint64_t end)
{
    int first_err = 0;
    for (unsigned pass = 0; pass < BCACHE_PASSES; pass++) {
        unsigned n = 0;
        for (cache_block_t *b = lru_first; b; b = b->lru_next)
            if (b->dirty && b->disk == disk && b->pass == pass && b->number >= first &&
                b->number < end)
                sorted[n++] = b;
        if (!n)
            continue;
        sort_blocks(n);
        int err = write_sorted(disk, n);
        if (err && !first_err)
            first_err = err;
    }
    return first_err;
}

static int writeback_disk(blockdev_t *disk)
{
    return writeback_range(disk, 0, UINT64_MAX);
}

/* Writes back every disk with a dirty block (oldest first when `expired_ns` is not
 * 0: only disks with a block dirty since before it). cache_lock held. */
static void writeback_all(uint64_t expired_before)
{
    for (;;) {
        blockdev_t *disk = NULL;
        for (cache_block_t *b = lru_last; b && !disk; b = b->lru_prev)
            if (b->dirty && (!expired_before || b->dirty_since < expired_before) &&
                !b->disk->wb_error)
                disk = b->disk;
        if (!disk)
            return;
        writeback_disk(disk); /* a failure sets wb_error: that disk waits for a sync */
    }
}

/* ---- blocks ---------------------------------------------------------------------------- */

static void free_block(cache_block_t *b)
{
    lru_unlink(b);
    hash_remove(b);
    kfree(b);
    block_count--;
}

/* The least recently used clean block, or NULL. */
static cache_block_t *clean_victim(void)
{
    for (cache_block_t *b = lru_last; b; b = b->lru_prev)
        if (!b->dirty)
            return b;
    return NULL;
}

/* A block to fill: a new one while under the limit, else the least recently used clean
 * one, else (all dirty) the least recently used after writing back its disk. NULL when
 * nothing can be had (out of memory, or every block dirty and failing to write). */
static cache_block_t *take_block(void)
{
    if (block_count < tunables.max_blocks) {
        cache_block_t *b = kmalloc(sizeof(*b));
        if (b) {
            block_count++;
            b->dirty = false;
            return b;
        }
    }
    cache_block_t *b = clean_victim();
    if (!b && lru_last) {
        writeback_disk(lru_last->disk);
        b = clean_victim();
    }
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
    b->dirty = false;
    cache_block_t **bucket = bucket_of(disk, number);
    b->hash_next = *bucket;
    *bucket = b;
    lru_push_front(b);
}

static uint32_t valid_in_block(blockdev_t *disk, uint64_t number)
{
    uint32_t spb = sectors_per_block(disk);
    uint64_t left = disk->sector_count - number * spb;
    return left < spb ? (uint32_t)left : spb;
}

/* Reads blocks [number, number + count) of disk from the device into the cache (the
 * ones not cached yet); at most BCACHE_FILL_BLOCKS. Without memory for that many, only
 * block `number`. */
static int fill(blockdev_t *disk, uint64_t number, unsigned count)
{
    KASSERT(count >= 1 && count <= BCACHE_FILL_BLOCKS);
    uint32_t spb = sectors_per_block(disk);
    uint64_t first = number * spb;
    if (first >= disk->sector_count)
        return -VK_EINVAL;
    uint64_t sectors = (uint64_t)count * spb;
    if (sectors > disk->sector_count - first)
        sectors = disk->sector_count - first;
    uint32_t bytes_per_block = spb * disk->sector_size;
    uint8_t *buf = kmalloc(sectors * disk->sector_size);
    if (!buf && sectors > spb) {
        sectors = spb < disk->sector_count - first ? spb : disk->sector_count - first;
        buf = kmalloc(sectors * disk->sector_size);
    }
    if (!buf)
        return -VK_ENOMEM;
    int err = blockdev_read(disk, first, (uint32_t)sectors, buf);
    /* Last block first, so the one asked for ends up most recently used: a small cache
     * may evict read-ahead blocks of this very fill, but never that one. */
    unsigned blocks = (unsigned)((sectors + spb - 1) / spb);
    for (unsigned i = blocks; !err && i-- > 0;) {
        if (lookup(disk, number + i))
            continue; /* already cached: that copy is the newer one when dirty */
        cache_block_t *b = take_block();
        if (!b)
            continue;
        uint32_t valid = valid_in_block(disk, number + i);
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
            uint64_t wanted = (end - 1) / spb - number + 1; /* blocks this call needs */
            unsigned ahead = sequential ? BCACHE_READAHEAD : 0;
            unsigned count = wanted + ahead < BCACHE_FILL_BLOCKS
                                 ? (unsigned)(wanted + ahead) : BCACHE_FILL_BLOCKS;
            if (count > wanted)
                stats.readahead_blocks += count - wanted;
            err = fill(disk, number, count);
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

static void flusher_main(void *arg);

/* Wakes the flusher now (too many dirty blocks). */
static void kick_flusher(void)
{
    uint64_t f = spinlock_lock_irqsave(&flusher_spin);
    flusher_kicked = true;
    sched_wake_one(&flusher_wq);
    spinlock_unlock_irqrestore(&flusher_spin, f);
}

static unsigned dirty_limit(void)
{
    unsigned limit = (unsigned)((uint64_t)tunables.max_blocks * tunables.dirty_ratio / 100);
    return limit ? limit : 1;
}

int bcache_write_pass(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf,
                      unsigned pass)
{
    if (dev->read_only || !dev->ops->write)
        return -VK_EROFS;
    if (!buf || !range_ok(dev, sector, count) || pass >= BCACHE_PASSES)
        return -VK_EINVAL;
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    uint32_t spb = sectors_per_block(disk), ss = disk->sector_size;
    if (spb == 1 && ss > BCACHE_BLOCK_BYTES)
        return blockdev_write(dev, sector, count, buf); /* sectors bigger than a block */
    sched_mutex_lock(&cache_lock);
    if (!flusher_started) {
        flusher_started = sched_thread_create("bcache-flush", flusher_main, NULL,
                                                 SCHED_PRIORITY_DEFAULT) != NULL;
        if (!flusher_started)
            log_warn("bcache: no flusher thread; dirty blocks wait for sync or eviction");
    }
    const uint8_t *in = buf;
    int err = 0;
    uint64_t now = time_monotonic_ns();
    for (uint64_t at = offset + sector, end = at + count; at < end;) {
        uint64_t number = at / spb;
        uint32_t within = (uint32_t)(at - number * spb);
        uint32_t n = spb - within;
        if (n > end - at)
            n = (uint32_t)(end - at);
        cache_block_t *b = lookup(disk, number);
        if (!b && within == 0 && n == valid_in_block(disk, number)) {
            b = take_block(); /* the whole block is new: nothing to read */
            if (b)
                insert(b, disk, number, n);
        } else if (!b) {
            err = fill(disk, number, 1);
            b = err ? NULL : lookup(disk, number);
        }
        if (!b) {
            err = err ? err : -VK_ENOMEM;
            break;
        }
        memcpy(b->data + (size_t)within * ss, in, (size_t)n * ss);
        if (!b->dirty) {
            b->dirty = true;
            b->dirty_since = now;
            b->pass = (uint8_t)pass;
            dirty_count++;
        } else if (pass > b->pass) {
            b->pass = (uint8_t)pass;
        }
        lru_unlink(b);
        lru_push_front(b);
        in += (size_t)n * ss;
        at += n;
    }
    if (!err)
        stats.writes++;
    bool over = dirty_count > dirty_limit();
    sched_mutex_unlock(&cache_lock);
    if (over)
        kick_flusher();
    return err;
}

int bcache_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf)
{
    return bcache_write_pass(dev, sector, count, buf, BCACHE_PASS_DATA);
}

int bcache_sync(blockdev_t *dev)
{
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    uint32_t spb = sectors_per_block(disk);
    sched_mutex_lock(&cache_lock);
    int err = writeback_range(disk, offset / spb, (offset + dev->sector_count + spb - 1) / spb);
    int flushed = dev->read_only ? 0 : blockdev_flush(dev);
    if (!dev->read_only)
        stats.flushes++;
    /* Reported now, so forgotten: a block still failing sets it again next time. */
    bool failed = err || flushed || disk->wb_error;
    disk->wb_error = 0;
    disk->wb_error_logged = false;
    sched_mutex_unlock(&cache_lock);
    return failed ? -VK_EIO : 0;
}

void bcache_invalidate(blockdev_t *dev)
{
    uint64_t offset;
    blockdev_t *disk = disk_of(dev, &offset);
    sched_mutex_lock(&cache_lock);
    writeback_disk(disk);
    for (cache_block_t *b = lru_first, *next; b; b = next) {
        next = b->lru_next;
        if (b->disk == disk && !b->dirty) /* dirty: its write failed; never dropped */
            free_block(b);
    }
    if (last_read.disk == disk)
        last_read.disk = NULL;
    sched_mutex_unlock(&cache_lock);
}

/* Frees up to `want` clean blocks from the LRU's tail. cache_lock held. */
static unsigned drop_clean(unsigned want)
{
    unsigned freed = 0;
    for (cache_block_t *b = lru_last, *prev; b && freed < want; b = prev) {
        prev = b->lru_prev;
        if (!b->dirty) {
            if (last_read.disk == b->disk && last_read.next_block == b->number + 1)
                last_read.disk = NULL;
            free_block(b);
            freed++;
        }
    }
    return freed;
}

static unsigned shrink_locked(unsigned want)
{
    unsigned freed = drop_clean(want);
    if (freed < want && dirty_count) {
        writeback_all(0);
        freed += drop_clean(want - freed);
    }
    stats.shrunk += freed;
    return freed;
}

unsigned bcache_shrink(unsigned blocks)
{
    sched_mutex_lock(&cache_lock);
    unsigned freed = shrink_locked(blocks);
    sched_mutex_unlock(&cache_lock);
    return freed;
}

/* ---- the flusher ----------------------------------------------------------------------- */

static void flusher_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint64_t f = spinlock_lock_irqsave(&flusher_spin);
        if (!flusher_kicked)
            sched_wait_timeout(&flusher_wq, &flusher_spin,
                               (uint64_t)__atomic_load_n(&tunables.flush_interval_ms,
                                                         __ATOMIC_RELAXED) * NS_PER_MS);
        flusher_kicked = false;
        spinlock_unlock_irqrestore(&flusher_spin, f);

        sched_mutex_lock(&cache_lock);
        if (dirty_count > dirty_limit()) {
            writeback_all(0);
        } else if (dirty_count) {
            uint64_t now = time_monotonic_ns(), age = tunables.dirty_expire_ms * NS_PER_MS;
            if (now > age)
                writeback_all(now - age);
        }
        sched_mutex_unlock(&cache_lock);
    }
}

/* ---- statistics and tunables ---------------------------------------------------------- */

void bcache_get_stats(bcache_stats_t *out)
{
    sched_mutex_lock(&cache_lock);
    *out = stats;
    out->cached_blocks = block_count;
    out->dirty_blocks = dirty_count;
    out->block_bytes = BCACHE_BLOCK_BYTES;
    sched_mutex_unlock(&cache_lock);
}

void bcache_get_tunables(bcache_tunables_t *out)
{
    sched_mutex_lock(&cache_lock);
    *out = tunables;
    sched_mutex_unlock(&cache_lock);
}

int bcache_set_tunables(const bcache_tunables_t *in)
{
    if (in->dirty_expire_ms < 1 || in->dirty_expire_ms > 600000 ||
        in->flush_interval_ms < 1 || in->flush_interval_ms > 60000 ||
        in->dirty_ratio < 1 || in->dirty_ratio > 90 || in->max_blocks < 16 ||
        in->max_blocks > CONFIG_BCACHE_BLOCKS)
        return -VK_ERANGE;
    sched_mutex_lock(&cache_lock);
    tunables = *in;
    if (block_count > tunables.max_blocks)
        shrink_locked(block_count - tunables.max_blocks);
    sched_mutex_unlock(&cache_lock);
    kick_flusher(); /* a shorter interval or expiry applies now */
    return 0;
}
