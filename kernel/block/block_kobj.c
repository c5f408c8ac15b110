/* SPDX-License-Identifier: MIT */
/* The block layer's KObj nodes: /block/NAME for every disk and partition. */
#include "kobj/kobj.h"
#include "block/block.h"
#include "core/string.h"
#include <vk/errno.h>

enum { BLK_SIZE, BLK_SECTOR_SIZE, BLK_READ_ONLY, BLK_READS, BLK_WRITES, BLK_SECTORS_READ,
       BLK_SECTORS_WRITTEN, BLK_ERRORS, BLK_PARENT, BLK_PARTITION_NAME, BLK_DRIVER };

static int block_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    blockdev_t *d = position < blockdev_count() ? blockdev_get((unsigned)position) : NULL;
    if (!d)
        return -VK_ENOENT;
    strlcpy(name, d->name, size);
    *key = position;
    return 0;
}

static int block_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    blockdev_t *d = key < blockdev_count() ? blockdev_get((unsigned)key) : NULL;
    if (!d)
        return -VK_ENOENT;
    switch (node->field) {
    case BLK_PARENT: kobj_value_string(out, d->parent ? d->parent->name : ""); return 0;
    case BLK_PARTITION_NAME: kobj_value_string(out, d->partition_name); return 0;
    case BLK_DRIVER: kobj_value_string(out, d->driver_name); return 0;
    default: break;
    }
    const uint64_t fields[] = {
        [BLK_SIZE] = d->sector_count * d->sector_size, [BLK_SECTOR_SIZE] = d->sector_size,
        [BLK_READ_ONLY] = d->read_only,
        [BLK_READS] = __atomic_load_n(&d->reads, __ATOMIC_RELAXED),
        [BLK_WRITES] = __atomic_load_n(&d->writes, __ATOMIC_RELAXED),
        [BLK_SECTORS_READ] = __atomic_load_n(&d->sectors_read, __ATOMIC_RELAXED),
        [BLK_SECTORS_WRITTEN] = __atomic_load_n(&d->sectors_written, __ATOMIC_RELAXED),
        [BLK_ERRORS] = __atomic_load_n(&d->errors, __ATOMIC_RELAXED),
    };
    out->u = fields[node->field];
    return 0;
}

#define BLK_FIELD(name_, field_, type_, access_, unit_, text_)                              \
    { .path = "/block/*/" name_, .type = type_, .access = access_, .get = block_get,        \
      .field = field_, .unit = unit_, .description = text_ }
#define RV (KOBJ_READ | KOBJ_VOLATILE)
static kobj_node_t block_nodes[] = {
    { .path = "/block", .type = KOBJ_DIR, .access = KOBJ_READ, .enumerate = block_enumerate,
      .description = "Block devices: whole disks and their GPT partitions, by name" },
    { .path = "/block/*", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "One disk or partition" },
    BLK_FIELD("size", BLK_SIZE, KOBJ_UINT, KOBJ_READ, "bytes", "Capacity"),
    BLK_FIELD("sector_size", BLK_SECTOR_SIZE, KOBJ_UINT, KOBJ_READ, "bytes", "Bytes per sector"),
    BLK_FIELD("read_only", BLK_READ_ONLY, KOBJ_BOOL, KOBJ_READ, NULL, "Writes are refused"),
    BLK_FIELD("parent", BLK_PARENT, KOBJ_STRING, KOBJ_READ, NULL,
              "The disk a partition lies on; empty for a whole disk"),
    BLK_FIELD("partition_name", BLK_PARTITION_NAME, KOBJ_STRING, KOBJ_READ, NULL,
              "The GPT partition name; empty for a whole disk"),
    BLK_FIELD("driver", BLK_DRIVER, KOBJ_STRING, KOBJ_READ, NULL, "The driver behind the disk"),
    BLK_FIELD("reads", BLK_READS, KOBJ_UINT, RV, NULL, "Read requests completed"),
    BLK_FIELD("writes", BLK_WRITES, KOBJ_UINT, RV, NULL, "Write requests completed"),
    BLK_FIELD("sectors_read", BLK_SECTORS_READ, KOBJ_UINT, RV, "sectors", "Sectors read"),
    BLK_FIELD("sectors_written", BLK_SECTORS_WRITTEN, KOBJ_UINT, RV, "sectors", "Sectors written"),
    BLK_FIELD("errors", BLK_ERRORS, KOBJ_UINT, RV, NULL, "Requests that failed"),
};
KOBJ_TABLE(block_nodes);
