/* SPDX-License-Identifier: MIT */
/*
 * Partitions: reads a disk's GPT through src/lib/gpt.c and registers every used entry
 * as a block device whose ops forward to the disk with an offset. A bad table is
 * logged and ignored (the disk stays usable whole); it never faults.
 */
#include "block/block.h"
#include "core/log.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include <vk/errno.h>

static int partition_read(blockdev_t *p, uint64_t sector, uint32_t count, void *buf)
{
    return blockdev_read(p->parent, p->first_sector + sector, count, buf);
}

static int partition_write(blockdev_t *p, uint64_t sector, uint32_t count, const void *buf)
{
    return blockdev_write(p->parent, p->first_sector + sector, count, buf);
}

static int partition_flush(blockdev_t *p)
{
    return blockdev_flush(p->parent);
}

static const blockdev_ops_t partition_ops = {
    .read = partition_read,
    .write = partition_write,
    .flush = partition_flush,
};

static int disk_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    return blockdev_read(ctx, lba, count, buf);
}

static void add_partition(blockdev_t *disk, uint32_t index, const gpt_partition_t *gp)
{
    blockdev_t *p = kzalloc(sizeof(*p));
    if (!p) {
        log_error("block: %s: out of memory for partition %u", disk->name, index + 1);
        return;
    }
    fmt_snprintf(p->name, sizeof(p->name), "%s%u", disk->name, index + 1);
    p->sector_size = disk->sector_size;
    p->first_sector = gp->first_lba;
    p->sector_count = gp->last_lba - gp->first_lba + 1;
    p->read_only = disk->read_only;
    p->ops = &partition_ops;
    p->parent = disk;
    p->partition_number = index + 1;
    memcpy(p->type_guid, gp->type_guid, 16);
    memcpy(p->partition_guid, gp->partition_guid, 16);
    p->attributes = gp->attributes;
    strlcpy(p->partition_name, gp->name, sizeof(p->partition_name));
    strlcpy(p->driver_name, "partition", sizeof(p->driver_name));
    if (blockdev_register(p) < 0) {
        kfree(p);
        return;
    }
    char size[24], type[GPT_GUID_STRING_SIZE];
    blockdev_format_size(p->sector_count * p->sector_size, size, sizeof(size));
    gpt_guid_format(p->type_guid, type);
    log_info("block: %s %s \"%s\", sectors %llu..%llu, type %s", p->name, size,
             p->partition_name, (unsigned long long)gp->first_lba,
             (unsigned long long)gp->last_lba, type);
}

int blockdev_scan_partitions(blockdev_t *disk)
{
    if (disk->sector_size > GPT_MAX_SECTOR_SIZE)
        return -VK_ENOENT;
    void *scratch = kmalloc(GPT_SCRATCH_BYTES);
    if (!scratch)
        return -VK_ENOMEM;
    gpt_disk_t gd = { disk->sector_size, disk->sector_count, disk_read, disk };
    gpt_table_t table;
    gpt_error_t err = gpt_read_table(&gd, scratch, GPT_SCRATCH_BYTES, &table);
    int found = 0;
    if (err == GPT_ERR_NO_PROTECTIVE_MBR) {
        found = -VK_ENOENT;
        goto out;
    }
    if (err != GPT_OK) {
        log_warn("block: %s: GPT ignored: %s", disk->name, gpt_error_string(err));
        found = -VK_ENOENT;
        goto out;
    }
    if (table.from_backup)
        log_warn("block: %s: primary GPT bad (%s); using the backup", disk->name,
                 gpt_error_string(table.primary_error));
    for (uint32_t i = 0; i < table.header.entry_count; i++) {
        gpt_partition_t gp;
        if (gpt_entry_get(&table, i, &gp) != GPT_OK)
            continue;
        if (found == CONFIG_BLOCK_MAX_PARTITIONS) {
            log_warn("block: %s: more than CONFIG_BLOCK_MAX_PARTITIONS (%u) partitions; "
                     "the rest are ignored", disk->name, CONFIG_BLOCK_MAX_PARTITIONS);
            break;
        }
        add_partition(disk, i, &gp);
        found++;
    }
out:
    kfree(scratch);
    return found;
}
