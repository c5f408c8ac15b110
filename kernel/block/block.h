/* SPDX-License-Identifier: MIT */
/*
 * Block devices: a registry of disks and partitions, and the synchronous API that
 * filesystems use. A driver fills a blockdev_t (name, geometry, ops) and calls
 * blockdev_add_disk, which registers it and the partitions of its GPT (each one a block
 * device of its own, "vda1", "vda2", ...).
 *
 *  - Ops take sector ranges and kernel buffers (any mapped kernel memory: the driver
 *    translates to physical pages). They are called from thread context only and may
 *    block. The blockdev_* wrappers check the range, the buffer and the read-only flag
 *    before a driver sees a request, so drivers never see an out-of-range request.
 *  - Devices are never unregistered (no hot-unplug yet), so blockdev_t pointers stay
 *    valid forever; lookups need no reference counting.
 *  - The block cache (LRU, write-back, below) sits between filesystems and these calls.
 */
#ifndef KERNEL_BLOCK_BLOCK_H
#define KERNEL_BLOCK_BLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "lib/gpt.h"

typedef struct blockdev blockdev_t;

typedef struct {
    /* count >= 1 sectors starting at `sector`; buf holds count * sector_size bytes.
     * 0 or a negative VK_E* code. */
    int (*read)(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf);
    int (*write)(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf);
    /* Makes completed writes durable; NULL when the device has no volatile cache. */
    int (*flush)(blockdev_t *dev);
} blockdev_ops_t;

struct blockdev {
    /* Filled by the driver before blockdev_add_disk; constant afterwards. */
    char name[CONFIG_BLOCK_NAME_MAX];
    uint32_t sector_size;          /* bytes, a power of two >= 512 */
    uint64_t sector_count;
    bool read_only;
    const blockdev_ops_t *ops;
    void *driver_data;
    char serial[CONFIG_BLOCK_SERIAL_MAX]; /* "" when the device has none */
    char driver_name[16];          /* "virtio-blk" */
    /* Partitions only (parent != NULL): where it lies in the parent and what the GPT
     * says of it, kept for KObj. */
    blockdev_t *parent;
    uint64_t first_sector;         /* in the parent's sectors */
    unsigned partition_number;     /* 1-based GPT entry index + 1 */
    uint8_t type_guid[16];
    uint8_t partition_guid[16];
    uint64_t attributes;
    char partition_name[GPT_NAME_UTF8_MAX];
    /* Statistics, updated atomically. */
    uint64_t reads, writes, flushes, errors;
    uint64_t sectors_read, sectors_written;
    /* Whole disks only, guarded by the block cache's lock: the first error of a
     * write-back not yet reported by bcache_sync, and whether it was logged. */
    int wb_error;
    bool wb_error_logged;
};

/* Registers a whole disk and the partitions of its GPT, if it has a valid one (a bad
 * GPT is logged and ignored: the disk stays usable as a whole). 0, -VK_EINVAL (bad
 * geometry or name), -VK_EEXIST (name taken) or -VK_ENOSPC (CONFIG_BLOCK_MAX_DEVICES). */
int blockdev_add_disk(blockdev_t *disk);
/* Registers one device as it is (no partition scan). Same errors. */
int blockdev_register(blockdev_t *dev);
/* Reads disk's GPT and registers its partitions; returns how many, or a negative
 * VK_E* code (-VK_ENOENT: no valid GPT). */
int blockdev_scan_partitions(blockdev_t *disk);

unsigned blockdev_count(void);
blockdev_t *blockdev_get(unsigned index);         /* registration order; NULL past the end */
blockdev_t *blockdev_find(const char *name);      /* NULL when absent */
blockdev_t *blockdev_find_serial(const char *serial); /* whole disks only */

/* The synchronous API. Errors: -VK_EINVAL (NULL buffer, or a range past the end or
 * wrapping), -VK_EROFS (write to a read-only device), or the driver's error (-VK_EIO).
 * count == 0 succeeds at once. Thread context only. */
int blockdev_read(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf);
int blockdev_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf);
int blockdev_flush(blockdev_t *dev);

/* "64 MiB"-style size for log lines. */
void blockdev_format_size(uint64_t bytes, char *out, unsigned out_size);

/* The block cache (kernel/block/cache.c): what filesystems read and write through.
 * Blocks of 4 KiB of the whole disk in an LRU of at most CONFIG_BCACHE_BLOCKS; a
 * partition and its disk share them. Reads fill whole blocks and read ahead on
 * sequential access. Writes are write-back: they land in cached blocks, which stay
 * dirty until the flusher thread (blocks older than dirty_expire_ms, or more dirty
 * than dirty_ratio percent of the cache), an eviction, a shrink or bcache_sync writes
 * them. Every write-back of a disk goes in passes (BCACHE_PASS_*, lowest first) and,
 * within a pass, in ascending block order, coalesced into multi-block requests.
 * Same errors as the blockdev_* calls; thread context only. */
enum {
    BCACHE_PASS_DATA,   /* file contents */
    BCACHE_PASS_MAP,    /* allocation maps (FAT) */
    BCACHE_PASS_INDEX,  /* directories */
    BCACHE_PASS_SUPER,  /* summary sectors (FSInfo) */
    BCACHE_PASSES
};
int bcache_read(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf);
/* bcache_write_pass: the blocks written are written back no earlier than pass `pass`
 * of the next write-back (a block written in several passes takes the latest). */
int bcache_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf);
int bcache_write_pass(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf,
                      unsigned pass);
/* Writes every dirty block in dev's range (a partition: only its own sectors) in
 * passes, then flushes the device. -VK_EIO when a write-back of dev's disk failed since
 * the last bcache_sync reported one (that error is reported once, then forgotten), or
 * when a write or the flush fails now. Blocks whose write failed stay dirty and are
 * retried: data is never dropped. */
int bcache_sync(blockdev_t *dev);
/* Writes back, then drops every cached block of dev's disk. */
void bcache_invalidate(blockdev_t *dev);
/* Memory pressure: frees up to `blocks` cached blocks, clean least recently used ones
 * first, then dirty ones after writing them back. Returns how many were freed. Thread
 * context, no locks of the block or filesystem layers held. */
unsigned bcache_shrink(unsigned blocks);

typedef struct {
    uint64_t hits, misses;        /* blocks found / read from the device by bcache_read */
    uint64_t readahead_blocks;    /* extra blocks asked for on sequential misses */
    uint64_t evictions, writes;   /* writes: bcache_write calls */
    uint64_t writebacks;          /* dirty blocks written to a device */
    uint64_t write_requests;      /* device requests those took (coalesced runs) */
    uint64_t flushes;             /* device flushes by bcache_sync */
    uint64_t write_errors;        /* failed write-back requests */
    uint64_t shrunk;              /* blocks freed by bcache_shrink */
    uint64_t cached_blocks, dirty_blocks, block_bytes;
} bcache_stats_t;
void bcache_get_stats(bcache_stats_t *out);

/* Tunables (KObj /fs/cache). Setters return -VK_ERANGE outside the limits noted. */
typedef struct {
    uint32_t dirty_expire_ms;     /* 1..600000: age after which the flusher writes */
    uint32_t flush_interval_ms;   /* 1..60000: how often the flusher looks */
    uint32_t dirty_ratio;         /* 1..90: percent of max_blocks dirty that wakes it */
    uint32_t max_blocks;          /* 16..CONFIG_BCACHE_BLOCKS; lowering it shrinks */
} bcache_tunables_t;
void bcache_get_tunables(bcache_tunables_t *out);
int bcache_set_tunables(const bcache_tunables_t *in);

#endif
