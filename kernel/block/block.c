/* SPDX-License-Identifier: MIT */
/*
 * The block-device registry and the checked synchronous API (see block.h).
 */
#include "block/block.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "lib/fmt.h"
#include <vk/errno.h>

static spinlock_t registry_lock = SPINLOCK_INIT;
/* Guarded by registry_lock; entries are only ever appended. */
static blockdev_t *registry[CONFIG_BLOCK_MAX_DEVICES];
static unsigned registry_count;

static bool valid_geometry(const blockdev_t *dev)
{
    uint32_t ss = dev->sector_size;
    return ss >= 512 && ss <= 65536 && (ss & (ss - 1)) == 0 && dev->ops && dev->ops->read &&
           dev->name[0] && strnlen(dev->name, CONFIG_BLOCK_NAME_MAX) < CONFIG_BLOCK_NAME_MAX;
}

int blockdev_register(blockdev_t *dev)
{
    if (!valid_geometry(dev))
        return -VK_EINVAL;
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    int err = 0;
    for (unsigned i = 0; i < registry_count && !err; i++)
        if (strcmp(registry[i]->name, dev->name) == 0)
            err = -VK_EEXIST;
    if (!err && registry_count == CONFIG_BLOCK_MAX_DEVICES)
        err = -VK_ENOSPC;
    if (!err)
        __atomic_store_n(&registry[registry_count], dev, __ATOMIC_RELEASE);
    if (!err)
        __atomic_store_n(&registry_count, registry_count + 1, __ATOMIC_RELEASE);
    spinlock_unlock_irqrestore(&registry_lock, f);
    if (err == -VK_ENOSPC)
        log_error("block: cannot register %s: CONFIG_BLOCK_MAX_DEVICES (%u) reached", dev->name,
                  CONFIG_BLOCK_MAX_DEVICES);
    else if (err)
        log_error("block: cannot register %s: the name is taken", dev->name);
    return err;
}

int blockdev_add_disk(blockdev_t *disk)
{
    int err = blockdev_register(disk);
    if (err)
        return err;
    int n = blockdev_scan_partitions(disk);
    if (n == -VK_ENOENT)
        log_info("block: %s has no GPT; used as a whole", disk->name);
    return 0;
}

unsigned blockdev_count(void)
{
    return __atomic_load_n(&registry_count, __ATOMIC_ACQUIRE);
}

blockdev_t *blockdev_get(unsigned index)
{
    return index < blockdev_count() ? __atomic_load_n(&registry[index], __ATOMIC_ACQUIRE) : NULL;
}

blockdev_t *blockdev_find(const char *name)
{
    blockdev_t *d;
    for (unsigned i = 0; (d = blockdev_get(i)); i++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

blockdev_t *blockdev_find_serial(const char *serial)
{
    blockdev_t *d;
    for (unsigned i = 0; (d = blockdev_get(i)); i++)
        if (!d->parent && d->serial[0] && strcmp(d->serial, serial) == 0)
            return d;
    return NULL;
}

/* The range [sector, sector + count) inside the device, without wrap-around. */
static bool range_ok(const blockdev_t *dev, uint64_t sector, uint32_t count)
{
    return sector <= dev->sector_count && count <= dev->sector_count - sector;
}

static int account(blockdev_t *dev, int err, uint64_t *ops, uint64_t *sectors, uint32_t count)
{
    if (err < 0) {
        __atomic_fetch_add(&dev->errors, 1, __ATOMIC_RELAXED);
        return err;
    }
    __atomic_fetch_add(ops, 1, __ATOMIC_RELAXED);
    if (sectors)
        __atomic_fetch_add(sectors, count, __ATOMIC_RELAXED);
    return 0;
}

int blockdev_read(blockdev_t *dev, uint64_t sector, uint32_t count, void *buf)
{
    if (!buf || !range_ok(dev, sector, count))
        return -VK_EINVAL;
    if (count == 0)
        return 0;
    return account(dev, dev->ops->read(dev, sector, count, buf), &dev->reads, &dev->sectors_read,
                   count);
}

int blockdev_write(blockdev_t *dev, uint64_t sector, uint32_t count, const void *buf)
{
    if (dev->read_only || !dev->ops->write)
        return -VK_EROFS;
    if (!buf || !range_ok(dev, sector, count))
        return -VK_EINVAL;
    if (count == 0)
        return 0;
    return account(dev, dev->ops->write(dev, sector, count, buf), &dev->writes,
                   &dev->sectors_written, count);
}

int blockdev_flush(blockdev_t *dev)
{
    if (!dev->ops->flush)
        return 0;
    return account(dev, dev->ops->flush(dev), &dev->flushes, NULL, 0);
}

void blockdev_format_size(uint64_t bytes, char *out, unsigned out_size)
{
    /* The largest unit that still shows at least 1, rounded down. */
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes >= 1ull << (10 * (u + 1)))
        u++;
    fmt_snprintf(out, out_size, "%llu %s", (unsigned long long)(bytes >> (10 * u)), units[u]);
}
