/* SPDX-License-Identifier: MIT */
/* The VFS's KObj nodes: /fs/mounts/N, every mounted filesystem, newest first, and
 * /fs/cache, the block cache under them (kernel/block/cache.c). */
#include "kobj/kobj.h"
#include "fs/fs_internal.h"
#include "block/block.h"
#include "core/string.h"
#include "lib/fmt.h"
#include <vk/errno.h>

enum { MOUNT_PATH, MOUNT_TYPE, MOUNT_READ_ONLY };

static int mount_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    if (position > UINT32_MAX || !vfs_mount_get((unsigned)position))
        return -VK_ENOENT;
    fmt_snprintf(name, size, "%llu", (unsigned long long)position);
    *key = position;
    return 0;
}

static int mount_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    mount_t *m = vfs_mount_get((unsigned)key);
    if (!m)
        return -VK_ENOENT;
    switch (node->field) {
    case MOUNT_PATH:
        if (!m->covered) {
            kobj_value_string(out, "/");
        } else {
            long n = vfs_path_of(m->covered, out->text, sizeof(out->text));
            if (n < 0)
                return (int)n;
            out->length = (size_t)n;
        }
        break;
    case MOUNT_TYPE:
        kobj_value_string(out, m->fs_name);
        break;
    default:
        out->u = m->read_only;
        break;
    }
    return 0;
}

enum { CACHE_BLOCKS, CACHE_DIRTY, CACHE_HITS, CACHE_MISSES, CACHE_READAHEAD,
       CACHE_WRITEBACKS, CACHE_WRITE_REQUESTS, CACHE_FLUSHES, CACHE_EVICTIONS,
       CACHE_WRITE_ERRORS, CACHE_EXPIRE, CACHE_INTERVAL, CACHE_RATIO, CACHE_MAX_BLOCKS };

static int cache_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)key;
    bcache_stats_t s;
    bcache_tunables_t t;
    bcache_get_stats(&s);
    bcache_get_tunables(&t);
    const uint64_t fields[] = {
        [CACHE_BLOCKS] = s.cached_blocks, [CACHE_DIRTY] = s.dirty_blocks,
        [CACHE_HITS] = s.hits, [CACHE_MISSES] = s.misses,
        [CACHE_READAHEAD] = s.readahead_blocks, [CACHE_WRITEBACKS] = s.writebacks,
        [CACHE_WRITE_REQUESTS] = s.write_requests, [CACHE_FLUSHES] = s.flushes,
        [CACHE_EVICTIONS] = s.evictions, [CACHE_WRITE_ERRORS] = s.write_errors,
        [CACHE_EXPIRE] = t.dirty_expire_ms, [CACHE_INTERVAL] = t.flush_interval_ms,
        [CACHE_RATIO] = t.dirty_ratio, [CACHE_MAX_BLOCKS] = t.max_blocks,
    };
    out->u = fields[node->field];
    return 0;
}

static int cache_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    (void)key;
    bcache_tunables_t t;
    bcache_get_tunables(&t);
    if (in->u > UINT32_MAX)
        return -VK_ERANGE;
    uint32_t v = (uint32_t)in->u;
    switch (node->field) {
    case CACHE_EXPIRE: t.dirty_expire_ms = v; break;
    case CACHE_INTERVAL: t.flush_interval_ms = v; break;
    case CACHE_RATIO: t.dirty_ratio = v; break;
    default: t.max_blocks = v; break;
    }
    return bcache_set_tunables(&t);
}

#define CACHE_STAT(name_, field_, unit_, text_)                                             \
    { .path = "/fs/cache/" name_, .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,    \
      .get = cache_get, .field = field_, .unit = unit_, .description = text_ }
#define CACHE_TUNABLE(name_, field_, unit_, text_)                                          \
    { .path = "/fs/cache/" name_, .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_WRITE,       \
      .get = cache_get, .set = cache_set, .field = field_, .unit = unit_, .description = text_ }

static kobj_node_t fs_nodes[] = {
    { .path = "/fs", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "Filesystems" },
    { .path = "/fs/mounts", .type = KOBJ_DIR, .access = KOBJ_READ, .enumerate = mount_enumerate,
      .description = "Mounted filesystems, newest first" },
    { .path = "/fs/mounts/*", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "One mounted filesystem" },
    { .path = "/fs/mounts/*/path", .type = KOBJ_STRING, .access = KOBJ_READ, .get = mount_get,
      .field = MOUNT_PATH, .description = "Where it is mounted" },
    { .path = "/fs/mounts/*/type", .type = KOBJ_STRING, .access = KOBJ_READ, .get = mount_get,
      .field = MOUNT_TYPE, .description = "Filesystem type: ramfs, devfs, fat32, kobjfs" },
    { .path = "/fs/mounts/*/read_only", .type = KOBJ_BOOL, .access = KOBJ_READ, .get = mount_get,
      .field = MOUNT_READ_ONLY, .description = "Mounted read-only" },
    { .path = "/fs/cache", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "The block cache under every filesystem: 4 KiB blocks, write-back" },
    CACHE_STAT("blocks", CACHE_BLOCKS, "blocks", "Blocks cached now"),
    CACHE_STAT("dirty", CACHE_DIRTY, "blocks", "Cached blocks not yet written back"),
    CACHE_STAT("hits", CACHE_HITS, "blocks", "Blocks reads found in the cache"),
    CACHE_STAT("misses", CACHE_MISSES, "blocks", "Blocks reads had to fetch from a device"),
    CACHE_STAT("readahead", CACHE_READAHEAD, "blocks", "Blocks read ahead on sequential reads"),
    CACHE_STAT("writebacks", CACHE_WRITEBACKS, "blocks", "Dirty blocks written to a device"),
    CACHE_STAT("write_requests", CACHE_WRITE_REQUESTS, NULL,
               "Device writes those took (adjacent blocks go in one)"),
    CACHE_STAT("flushes", CACHE_FLUSHES, NULL, "Device flushes by sync, fsync and unmount"),
    CACHE_STAT("evictions", CACHE_EVICTIONS, "blocks", "Blocks reused for other data"),
    CACHE_STAT("write_errors", CACHE_WRITE_ERRORS, NULL,
               "Failed write-back requests (their blocks stay dirty)"),
    CACHE_TUNABLE("dirty_expire_ms", CACHE_EXPIRE, "ms",
                  "Age after which the flusher writes a dirty block back (1..600000)"),
    CACHE_TUNABLE("flush_interval_ms", CACHE_INTERVAL, "ms",
                  "How often the flusher looks for old dirty blocks (1..60000)"),
    CACHE_TUNABLE("dirty_ratio", CACHE_RATIO, "%",
                  "Percent of max_blocks dirty that makes the flusher write everything (1..90)"),
    CACHE_TUNABLE("max_blocks", CACHE_MAX_BLOCKS, "blocks",
                  "Most blocks cached (16..4096); lowering it shrinks the cache"),
};
KOBJ_TABLE(fs_nodes);
