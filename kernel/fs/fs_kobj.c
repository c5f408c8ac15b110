/* SPDX-License-Identifier: MIT */
/* The VFS's KObj nodes: /fs/mounts/N, every mounted filesystem, newest first. */
#include "kobj/kobj.h"
#include "fs/fs_internal.h"
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
};
KOBJ_TABLE(fs_nodes);
