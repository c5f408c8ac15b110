/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of virtio-blk that write. They run only on scratch disks the
 * integration test attaches (tests/integration/run.py, scratch_disks): found by serial,
 * and written only when the serial starts with "vkscratch", so the boot disk is never
 * touched. A missing scratch disk fails the test loudly rather than skipping it.
 *   vkscratch-m     modern-only (disable-legacy=on), MSI-X
 *   vkscratch-l     legacy-only (disable-modern=on), MSI-X
 *   vkscratch-ro    read-only (readonly=on on the drive)
 *   vkscratch-poll  no MSI-X vectors (vectors=0): the polling fallback
 */
#include "block/block.h"
#include "core/log.h"
#include "core/string.h"
#include "drivers/virtio_blk/virtio_blk.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "test/ktest.h"
#include <vk/errno.h>

#define SCRATCH_PREFIX "vkscratch"

static blockdev_t *scratch(const char *serial)
{
    blockdev_t *d = blockdev_find_serial(serial);
    if (!d || !vblk_owns(d) || strncmp(d->serial, SCRATCH_PREFIX, 9) != 0) {
        log_printf("ktest: scratch disk serial=%s missing: boot with the scratch disks "
                   "tests/integration/run.py attaches\n", serial);
        return NULL;
    }
    return d;
}

/* The one way these tests write: refuses anything but a scratch disk. */
static int scratch_write(blockdev_t *d, uint64_t sector, uint32_t count, const void *buf)
{
    if (strncmp(d->serial, SCRATCH_PREFIX, 9) != 0 || d->parent) {
        log_printf("ktest: refusing to write to %s (serial \"%s\")\n", d->name, d->serial);
        return -VK_EPERM;
    }
    return blockdev_write(d, sector, count, buf);
}

static void fill(uint8_t *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
}

/* Writes a pattern over `count` sectors (more than one request's worth when large),
 * reads it back into a different buffer and compares; then the same through a small
 * stack buffer (not direct-mapped memory). */
static void write_read_back(blockdev_t *d, uint64_t sector, uint32_t count, uint32_t seed)
{
    size_t bytes = (size_t)count * d->sector_size;
    uint8_t *out = kmalloc(bytes), *in = kmalloc(bytes);
    KTEST_EXPECT(out && in);
    if (out && in) {
        fill(out, bytes, seed);
        memset(in, 0, bytes);
        KTEST_EXPECT_EQ(scratch_write(d, sector, count, out), 0);
        KTEST_EXPECT_EQ(blockdev_read(d, sector, count, in), 0);
        KTEST_EXPECT(memcmp(out, in, bytes) == 0);
    }
    kfree(out);
    kfree(in);
    uint8_t stack_out[512], stack_in[512];
    fill(stack_out, sizeof(stack_out), seed + 1);
    memset(stack_in, 0, sizeof(stack_in));
    KTEST_EXPECT_EQ(scratch_write(d, sector + count, 1, stack_out), 0);
    KTEST_EXPECT_EQ(blockdev_read(d, sector + count, 1, stack_in), 0);
    KTEST_EXPECT(memcmp(stack_out, stack_in, sizeof(stack_in)) == 0);
}

KTEST(vblk_scratch_modern_write_read)
{
    blockdev_t *d = scratch("vkscratch-m");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT(vblk_is_modern(d));
    KTEST_EXPECT_EQ(vblk_irq_mode(d), VIRTIO_IRQ_MSIX);
    write_read_back(d, 100, 300, 1); /* 150 KiB: three device requests */
}

KTEST(vblk_scratch_legacy_write_read)
{
    blockdev_t *d = scratch("vkscratch-l");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT(!vblk_is_modern(d));
    KTEST_EXPECT_EQ(vblk_irq_mode(d), VIRTIO_IRQ_MSIX);
    write_read_back(d, 7, 300, 2);
}

KTEST(vblk_scratch_polling_write_read)
{
    blockdev_t *d = scratch("vkscratch-poll");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT_EQ(vblk_irq_mode(d), VIRTIO_IRQ_POLL);
    write_read_back(d, 0, 64, 3);
}

/* Several threads at once, each with its own region: requests overlap in the queue. */
#define WORKERS 4
#define WORKER_ROUNDS 16
#define WORKER_SECTORS 16

typedef struct {
    blockdev_t *disk;
    unsigned id;
    int failures;
} worker_t;

static void worker(void *arg)
{
    worker_t *w = arg;
    uint8_t *out = kmalloc(WORKER_SECTORS * 512), *in = kmalloc(WORKER_SECTORS * 512);
    if (!out || !in) {
        w->failures++;
        goto out;
    }
    for (unsigned r = 0; r < WORKER_ROUNDS; r++) {
        uint64_t sector = 4096 + (uint64_t)(w->id * WORKER_ROUNDS + r) * WORKER_SECTORS;
        fill(out, WORKER_SECTORS * 512, w->id * 1000 + r);
        if (scratch_write(w->disk, sector, WORKER_SECTORS, out) != 0)
            w->failures++;
    }
    for (unsigned r = 0; r < WORKER_ROUNDS; r++) {
        uint64_t sector = 4096 + (uint64_t)(w->id * WORKER_ROUNDS + r) * WORKER_SECTORS;
        fill(out, WORKER_SECTORS * 512, w->id * 1000 + r);
        if (blockdev_read(w->disk, sector, WORKER_SECTORS, in) != 0 ||
            memcmp(in, out, WORKER_SECTORS * 512) != 0)
            w->failures++;
    }
out:
    kfree(out);
    kfree(in);
}

static void concurrent(const char *serial)
{
    blockdev_t *d = scratch(serial);
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    worker_t w[WORKERS];
    sched_thread_t *t[WORKERS];
    for (unsigned i = 0; i < WORKERS; i++) {
        w[i] = (worker_t){ d, i, 0 };
        t[i] = sched_thread_create("vblk-worker", worker, &w[i], SCHED_PRIORITY_DEFAULT);
        KTEST_EXPECT(t[i] != NULL);
    }
    for (unsigned i = 0; i < WORKERS; i++) {
        if (t[i])
            sched_thread_join(t[i]);
        KTEST_EXPECT_EQ(w[i].failures, 0);
    }
    /* The requests really overlapped in the device's queue. */
    KTEST_EXPECT(vblk_peak_in_flight(d) >= 2);
}

KTEST(vblk_scratch_concurrent_threads_modern)
{
    concurrent("vkscratch-m");
}

KTEST(vblk_scratch_concurrent_threads_legacy)
{
    concurrent("vkscratch-l");
}

KTEST(vblk_scratch_flush)
{
    blockdev_t *d = scratch("vkscratch-m");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    uint64_t flushes = d->flushes, before = vblk_requests_submitted(d);
    KTEST_EXPECT_EQ(blockdev_flush(d), 0);
    KTEST_EXPECT_EQ(d->flushes, flushes + 1);
    /* QEMU offers VIRTIO_BLK_F_FLUSH (write cache on): the flush reached the device. */
    KTEST_EXPECT_EQ(vblk_requests_submitted(d), before + 1);
}

KTEST(vblk_scratch_out_of_range_refused)
{
    blockdev_t *d = scratch("vkscratch-m");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    uint8_t buf[1024];
    memset(buf, 0, sizeof(buf));
    uint64_t before = vblk_requests_submitted(d);
    KTEST_EXPECT_EQ(blockdev_write(d, d->sector_count, 1, buf), -VK_EINVAL);
    KTEST_EXPECT_EQ(blockdev_read(d, d->sector_count - 1, 2, buf), -VK_EINVAL);
    /* Straight to the driver, past the block layer's check: refused there too. */
    KTEST_EXPECT_EQ(d->ops->read(d, d->sector_count - 1, 2, buf), -VK_EINVAL);
    KTEST_EXPECT_EQ(d->ops->write(d, d->sector_count, 1, buf), -VK_EINVAL);
    KTEST_EXPECT_EQ(vblk_requests_submitted(d), before);
}

KTEST(vblk_scratch_read_only_refuses_writes)
{
    blockdev_t *d = scratch("vkscratch-ro");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    KTEST_EXPECT(d->read_only);
    uint8_t buf[512];
    memset(buf, 0xa5, sizeof(buf));
    uint64_t before = vblk_requests_submitted(d);
    KTEST_EXPECT_EQ(scratch_write(d, 0, 1, buf), -VK_EROFS);
    KTEST_EXPECT_EQ(d->ops->write(d, 0, 1, buf), -VK_EROFS); /* the driver's own check */
    KTEST_EXPECT_EQ(vblk_requests_submitted(d), before);
    KTEST_EXPECT_EQ(blockdev_read(d, 0, 1, buf), 0);          /* reading still works */
}

KTEST(vblk_scratch_serials_from_get_id)
{
    static const char *const serials[] = { "vkscratch-m", "vkscratch-l", "vkscratch-ro",
                                           "vkscratch-poll" };
    for (unsigned i = 0; i < 4; i++) {
        blockdev_t *d = scratch(serials[i]);
        KTEST_EXPECT(d != NULL);
        if (d)
            KTEST_EXPECT(strcmp(d->serial, serials[i]) == 0);
    }
}

/* ---- the block cache (kernel/block/cache.c) over a scratch disk and the boot disk ---- */

KTEST(vblk_scratch_bcache_writes_back_and_reads_back)
{
    blockdev_t *d = scratch("vkscratch-m");
    KTEST_EXPECT(d != NULL);
    if (!d)
        return;
    enum { SECTOR = 1003, COUNT = 21 }; /* straddles 4 KiB blocks on both ends */
    uint8_t *out = kmalloc(COUNT * 512), *in = kmalloc(COUNT * 512);
    KTEST_EXPECT(out && in);
    if (out && in) {
        fill(in, COUNT * 512, 0); /* a first read caches the old bytes ... */
        KTEST_EXPECT_EQ(bcache_read(d, SECTOR, COUNT, in), 0);
        fill(out, COUNT * 512, 77);
        KTEST_EXPECT(strncmp(d->serial, SCRATCH_PREFIX, 9) == 0);
        KTEST_EXPECT_EQ(bcache_write(d, SECTOR, COUNT, out), 0); /* ... which this updates */
        KTEST_EXPECT_EQ(bcache_sync(d), 0);
        KTEST_EXPECT_EQ(blockdev_read(d, SECTOR, COUNT, in), 0);
        KTEST_EXPECT(memcmp(out, in, COUNT * 512) == 0); /* on the device after the sync */
        bcache_stats_t before, after;
        bcache_get_stats(&before);
        memset(in, 0, COUNT * 512);
        KTEST_EXPECT_EQ(bcache_read(d, SECTOR, COUNT, in), 0);
        bcache_get_stats(&after);
        KTEST_EXPECT(memcmp(out, in, COUNT * 512) == 0);
        KTEST_EXPECT(after.hits > before.hits && after.misses == before.misses);
    }
    kfree(out);
    kfree(in);
}

KTEST(block_cache_partition_and_disk_share_blocks)
{
    blockdev_t *disk = blockdev_find("vda"), *esp = blockdev_find("vda1");
    KTEST_EXPECT(disk && esp && esp->parent == disk);
    if (!disk || !esp || esp->parent != disk)
        return;
    uint8_t a[512], b[512];
    KTEST_EXPECT_EQ(bcache_read(esp, 0, 1, a), 0);
    bcache_stats_t before, after;
    bcache_get_stats(&before);
    KTEST_EXPECT_EQ(bcache_read(disk, esp->first_sector, 1, b), 0);
    bcache_get_stats(&after);
    KTEST_EXPECT(memcmp(a, b, sizeof(a)) == 0);
    KTEST_EXPECT(after.hits == before.hits + 1 && after.misses == before.misses);
    KTEST_EXPECT(a[510] == 0x55 && a[511] == 0xaa);
}

KTEST(block_cache_reads_ahead_on_sequential_reads)
{
    blockdev_t *data = blockdev_find("vda2");
    KTEST_EXPECT(data != NULL);
    if (!data)
        return;
    bcache_invalidate(data);
    uint8_t *buf = kmalloc(4096);
    KTEST_EXPECT(buf != NULL);
    if (!buf)
        return;
    bcache_stats_t before, after;
    bcache_get_stats(&before);
    for (uint64_t block = 100; block < 110; block++)
        KTEST_EXPECT_EQ(bcache_read(data, block * 8, 8, buf), 0);
    bcache_get_stats(&after);
    /* Ten sequential blocks: the first two miss (the second starts the read-ahead),
     * the read-ahead brings the next eight, so the rest hit. */
    KTEST_EXPECT_EQ(after.misses - before.misses, 2);
    KTEST_EXPECT_EQ(after.hits - before.hits, 8);
    KTEST_EXPECT(after.readahead_blocks > before.readahead_blocks);
    kfree(buf);
}
