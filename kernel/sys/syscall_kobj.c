/* SPDX-License-Identifier: MIT */
/* The syscall layer's KObj nodes: /syscall/NAME, the count of each call seen so far. */
#include "kobj/kobj.h"
#include "sys/syscall.h"
#include "core/string.h"
#include <vk/errno.h>

#define NR(name, nr) nr,
static const uint64_t numbers[] = { VK_SYSCALLS_LINUX(NR) VK_SYSCALLS_VK(NR) };
#undef NR

/* Only calls made at least once are listed: the key is the syscall number. */
static int syscall_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
        if (!syscall_count(numbers[i]) || position--)
            continue;
        strlcpy(name, syscall_name(numbers[i]), size);
        *key = numbers[i];
        return 0;
    }
    return -VK_ENOENT;
}

static int count_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = syscall_count(key);
    return 0;
}

static int enosys_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = syscall_enosys_total();
    return 0;
}

static kobj_node_t syscall_nodes[] = {
    { .path = "/syscall", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "System call statistics" },
    { .path = "/syscall/enosys", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = enosys_get, .description = "Calls answered ENOSYS (not implemented or unknown)" },
    { .path = "/syscall/calls", .type = KOBJ_DIR, .access = KOBJ_READ,
      .enumerate = syscall_enumerate, .description = "Each syscall made since boot, by name" },
    { .path = "/syscall/calls/*", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = count_get, .description = "Times it was called, from every CPU" },
};
KOBJ_TABLE(syscall_nodes);
