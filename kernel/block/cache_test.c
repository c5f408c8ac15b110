/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the write-back block cache (kernel/block/cache.c) over two RAM
 * disks made here: they record every write request and flush, and can be told to fail
 * writes. They are not registered, so nothing else (filesystems, KObj) ever sees them.
 */
#include "block/block.h"
#include "core/string.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "test/ktest.h"
#include "time/time.h"
#include <vk/errno.h>

#define RAM_SECTORS 2048u /* 1 MiB: 256 cache blocks */
#define LOG_MAX     64u
#define SPB         8u    /* 512-byte sectors per 4 KiB block */

typedef struct {
    blockdev_t dev;
    uint8_t *bytes;
    bool fail_writes;
    unsigned writes, flushes;
    struct { uint64_t sector; uint32_t count; } log[LOG_MAX];
} ramdisk_t;

static int ram_read(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf)
{
    ramdisk_t *r = dev->driver_data;
    memcpy(buf, r->bytes + sector * 512, (size_t)count * 512);
    return 0;
}

static int ram_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf)
{
    ramdisk_t *r = dev->driver_data;
    if (r->fail_writes)
        return -VK_EIO;
    if (r->writes < LOG_MAX) {
        r->log[r->writes].sector = sector;
        r->log[r->writes].count = count;
    }
    r->writes++;
    memcpy(r->bytes + sector * 512, buf, (size_t)count * 512);
    return 0;
}

static int ram_flush(blockdev_t *dev)
{
    ramdisk_t *r = dev->driver_data;
    r->flushes++;
    return 0;
}

static const blockdev_ops_t ram_ops = { .read = ram_read, .write = ram_write,
                                        .flush = ram_flush };
static ramdisk_t rams[2];

/* RAM disk i, emptied, with nothing of it in the cache and no error pending. */
static blockdev_t *ramdisk(unsigned i)
{
    ramdisk_t *r = &rams[i];
    if (!r->bytes) {
        r->bytes = kzalloc(RAM_SECTORS * 512);
        if (!r->bytes)
            return NULL;
        strlcpy(r->dev.name, i ? "ktram1" : "ktram0", sizeof(r->dev.name));
        r->dev.sector_size = 512;
        r->dev.sector_count = RAM_SECTORS;
        r->dev.ops = &ram_ops;
        r->dev.driver_data = r;
    }
    r->fail_writes = false;
    bcache_invalidate(&r->dev);
    (void)bcache_sync(&r->dev); /* forgets an error a previous test left */
    memset(r->bytes, 0, RAM_SECTORS * 512);
    r->writes = r->flushes = 0;
    return &r->dev;
}

static void pattern(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

/* The block of a RAM disk holds pattern `seed`. */
static bool on_disk(unsigned i, uint64_t block, unsigned seed)
{
    uint8_t *want = kmalloc(4096);
    if (!want)
        return false;
    pattern(want, 4096, seed);
    bool same = memcmp(rams[i].bytes + block * 4096, want, 4096) == 0;
    kfree(want);
    return same;
}

static bool write_block(blockdev_t *d, uint64_t block, unsigned seed, unsigned pass)
{
    uint8_t *buf = kmalloc(4096);
    if (!buf)
        return false;
    pattern(buf, 4096, seed);
    bool ok = bcache_write_pass(d, block * SPB, SPB, buf, pass) == 0;
    kfree(buf);
    return ok;
}

KTEST(bcache_dirty_block_reads_back_from_cache)
{
    blockdev_t *d = ramdisk(0);
    KTEST_EXPECT(d != NULL);
    uint8_t *in = kmalloc(4096), *out = kmalloc(4096);
    KTEST_EXPECT(in && out);
    if (!d || !in || !out) {
        kfree(in);
        kfree(out);
        return;
    }
    /* A part of a block: the rest is read from the device first. */
    pattern(out, 1024, 5);
    KTEST_EXPECT_EQ(bcache_write(d, 8 * 3 + 2, 2, out), 0);
    KTEST_EXPECT_EQ(rams[0].writes, 0);
    bcache_stats_t s;
    bcache_get_stats(&s);
    KTEST_EXPECT(s.dirty_blocks >= 1);
    memset(in, 0xee, 1024);
    KTEST_EXPECT_EQ(bcache_read(d, 8 * 3 + 2, 2, in), 0);
    KTEST_EXPECT(memcmp(in, out, 1024) == 0);
    KTEST_EXPECT_EQ(bcache_read(d, 8 * 3, 1, in), 0); /* untouched sector of that block */
    KTEST_EXPECT(in[0] == 0 && in[511] == 0);
    KTEST_EXPECT_EQ(bcache_sync(d), 0);
    KTEST_EXPECT_EQ(rams[0].writes, 1);
    KTEST_EXPECT_EQ(rams[0].flushes, 1);
    KTEST_EXPECT(memcmp(rams[0].bytes + (8 * 3 + 2) * 512, out, 1024) == 0);
    kfree(in);
    kfree(out);
}

KTEST(bcache_sync_writes_passes_in_order_and_coalesces)
{
    blockdev_t *d = ramdisk(0);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    /* Made in the opposite order to the one the device must see. */
    KTEST_EXPECT(write_block(d, 0, 1, BCACHE_PASS_SUPER));
    KTEST_EXPECT(write_block(d, 3, 2, BCACHE_PASS_INDEX));
    KTEST_EXPECT(write_block(d, 5, 3, BCACHE_PASS_MAP));
    KTEST_EXPECT(write_block(d, 12, 4, BCACHE_PASS_DATA));
    KTEST_EXPECT(write_block(d, 10, 5, BCACHE_PASS_DATA));
    KTEST_EXPECT(write_block(d, 11, 6, BCACHE_PASS_DATA));
    KTEST_EXPECT(write_block(d, 20, 7, BCACHE_PASS_DATA));
    KTEST_EXPECT_EQ(bcache_sync(d), 0);
    ramdisk_t *r = &rams[0];
    KTEST_EXPECT_EQ(r->writes, 5);
    KTEST_EXPECT(r->log[0].sector == 10 * SPB && r->log[0].count == 3 * SPB); /* one run */
    KTEST_EXPECT(r->log[1].sector == 20 * SPB && r->log[1].count == SPB);
    KTEST_EXPECT_EQ(r->log[2].sector, 5 * SPB);
    KTEST_EXPECT_EQ(r->log[3].sector, 3 * SPB);
    KTEST_EXPECT_EQ(r->log[4].sector, 0);
    KTEST_EXPECT_EQ(r->flushes, 1);
    KTEST_EXPECT(on_disk(0, 0, 1) && on_disk(0, 3, 2) && on_disk(0, 5, 3) &&
                 on_disk(0, 10, 5) && on_disk(0, 11, 6) && on_disk(0, 12, 4) &&
                 on_disk(0, 20, 7));
    /* Nothing dirty is left: another sync only flushes. */
    KTEST_EXPECT_EQ(bcache_sync(d), 0);
    KTEST_EXPECT_EQ(r->writes, 5);
    KTEST_EXPECT_EQ(r->flushes, 2);
}

KTEST(bcache_sync_of_one_device_leaves_the_others)
{
    blockdev_t *a = ramdisk(0), *b = ramdisk(1);
    KTEST_EXPECT(a && b);
    if (!a || !b)
        return;
    KTEST_EXPECT(write_block(a, 7, 11, BCACHE_PASS_DATA));
    KTEST_EXPECT(write_block(b, 7, 12, BCACHE_PASS_DATA));
    KTEST_EXPECT_EQ(bcache_sync(a), 0);
    KTEST_EXPECT(on_disk(0, 7, 11));
    KTEST_EXPECT_EQ(rams[1].writes, 0);
    KTEST_EXPECT_EQ(rams[1].flushes, 0);
    KTEST_EXPECT(!on_disk(1, 7, 12));
    KTEST_EXPECT_EQ(bcache_sync(b), 0);
    KTEST_EXPECT(on_disk(1, 7, 12));
}

KTEST(bcache_eviction_and_shrink_write_dirty_blocks)
{
    blockdev_t *d = ramdisk(0);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    bcache_tunables_t saved, small;
    bcache_get_tunables(&saved);
    small = saved;
    small.max_blocks = 16;
    small.dirty_ratio = 90;          /* the flusher stays out of the way */
    small.dirty_expire_ms = 600000;
    KTEST_EXPECT_EQ(bcache_set_tunables(&small), 0);
    bcache_stats_t before, after;
    bcache_get_stats(&before);
    KTEST_EXPECT(before.cached_blocks <= 16);
    for (unsigned i = 0; i < 40; i++)
        KTEST_EXPECT(write_block(d, 100 + i, 100 + i, BCACHE_PASS_DATA));
    bcache_get_stats(&after);
    KTEST_EXPECT(after.cached_blocks <= 16);
    KTEST_EXPECT(after.evictions > before.evictions);
    KTEST_EXPECT(rams[0].writes > 0); /* evicting a dirty block wrote it first */
    /* Every block reads back right, whether it was evicted or not. */
    uint8_t *in = kmalloc(4096), *want = kmalloc(4096);
    KTEST_EXPECT(in && want);
    for (unsigned i = 0; in && want && i < 40; i++) {
        pattern(want, 4096, 100 + i);
        KTEST_EXPECT_EQ(bcache_read(d, (100 + i) * SPB, SPB, in), 0);
        KTEST_EXPECT(memcmp(in, want, 4096) == 0);
    }
    /* Memory pressure: a shrink of everything writes the dirty ones, then drops them. */
    KTEST_EXPECT(write_block(d, 200, 9, BCACHE_PASS_DATA));
    unsigned freed = bcache_shrink(1000);
    bcache_get_stats(&after);
    KTEST_EXPECT(freed > 0);
    KTEST_EXPECT_EQ(after.cached_blocks, 0);
    KTEST_EXPECT_EQ(after.dirty_blocks, 0);
    KTEST_EXPECT(on_disk(0, 200, 9));
    for (unsigned i = 0; i < 40; i++)
        KTEST_EXPECT(on_disk(0, 100 + i, 100 + i));
    KTEST_EXPECT_EQ(bcache_set_tunables(&saved), 0);
    kfree(in);
    kfree(want);
}

KTEST(bcache_write_error_is_remembered_and_reported)
{
    blockdev_t *d = ramdisk(0);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    bcache_stats_t before, after;
    bcache_get_stats(&before);
    rams[0].fail_writes = true;
    KTEST_EXPECT(write_block(d, 30, 21, BCACHE_PASS_DATA));
    KTEST_EXPECT_EQ(bcache_sync(d), -VK_EIO);
    bcache_get_stats(&after);
    KTEST_EXPECT(after.write_errors > before.write_errors);
    KTEST_EXPECT(after.dirty_blocks >= 1); /* kept, not dropped */
    uint8_t *in = kmalloc(4096), *want = kmalloc(4096);
    KTEST_EXPECT(in && want);
    if (in && want) {
        pattern(want, 4096, 21);
        KTEST_EXPECT_EQ(bcache_read(d, 30 * SPB, SPB, in), 0);
        KTEST_EXPECT(memcmp(in, want, 4096) == 0);
    }
    /* A failure in a write-back nobody waits for (here a shrink) is remembered on the
     * disk and reported by the next sync, even when that sync's own writes work. */
    KTEST_EXPECT(write_block(d, 31, 22, BCACHE_PASS_DATA));
    bcache_shrink(1000);
    KTEST_EXPECT(d->wb_error == -VK_EIO);
    rams[0].fail_writes = false;
    KTEST_EXPECT_EQ(bcache_sync(d), -VK_EIO);
    KTEST_EXPECT(on_disk(0, 30, 21) && on_disk(0, 31, 22)); /* the retry wrote them */
    KTEST_EXPECT_EQ(bcache_sync(d), 0);                     /* reported once */
    kfree(in);
    kfree(want);
}

KTEST(bcache_flusher_writes_after_the_expiry)
{
    blockdev_t *d = ramdisk(1);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    bcache_tunables_t saved, quick;
    bcache_get_tunables(&saved);
    quick = saved;
    quick.dirty_expire_ms = 200;
    quick.flush_interval_ms = 20;
    KTEST_EXPECT_EQ(bcache_set_tunables(&quick), 0);
    uint64_t start = time_monotonic_ns();
    KTEST_EXPECT(write_block(d, 40, 31, BCACHE_PASS_DATA));
    uint64_t written_at = 0;
    while (time_monotonic_ns() - start < 3000000000ull) {
        if (rams[1].writes) {
            written_at = time_monotonic_ns();
            break;
        }
        sched_sleep_ns(5000000);
    }
    KTEST_EXPECT(written_at != 0);
    KTEST_EXPECT(written_at - start >= 200000000ull); /* not before it expired */
    KTEST_EXPECT(on_disk(1, 40, 31));
    KTEST_EXPECT_EQ(rams[1].flushes, 0); /* the flusher writes; only sync flushes */
    KTEST_EXPECT_EQ(bcache_set_tunables(&saved), 0);
}
