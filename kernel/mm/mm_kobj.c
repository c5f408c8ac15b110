/* SPDX-License-Identifier: MIT */
/* Memory's KObj nodes: /mem (physical memory, the kmalloc slab caches, what each
 * process holds). */
#include "kobj/kobj.h"
#include "mm/mm.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "proc/proc.h"
#include <vk/errno.h>

enum { SLAB_OBJECT_SIZE, SLAB_IN_USE, SLAB_TOTAL, SLAB_BYTES };
enum { PROCESS_NAME, PROCESS_RESIDENT };

static int mem_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = node->field ? pmm_free_bytes() : pmm_total_bytes();
    return 0;
}

static int slab_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    heap_cache_stats_t st;
    if (position > 64 || !heap_cache_stats((unsigned)position, &st))
        return -VK_ENOENT;
    strlcpy(name, st.name, size);
    *key = position;
    return 0;
}

static int slab_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    heap_cache_stats_t st;
    if (key > 64 || !heap_cache_stats((unsigned)key, &st))
        return -VK_ENOENT;
    switch (node->field) {
    case SLAB_OBJECT_SIZE: out->u = st.object_size; break;
    case SLAB_IN_USE: out->u = st.in_use; break;
    case SLAB_TOTAL: out->u = st.total; break;
    default: out->u = st.bytes; break;
    }
    return 0;
}

static int process_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    proc_info_t info;
    if (position > UINT32_MAX || !proc_info_at((unsigned)position, &info))
        return -VK_ENOENT;
    fmt_snprintf(name, size, "%u", info.pid);
    *key = info.pid;
    return 0;
}

static int process_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    proc_info_t info;
    if (key > UINT32_MAX || !proc_info_by_pid((uint32_t)key, &info))
        return -VK_ENOENT;
    if (node->field == PROCESS_NAME)
        kobj_value_string(out, info.name);
    else
        out->u = info.resident_pages * PAGE_SIZE;
    return 0;
}

#define RV (KOBJ_READ | KOBJ_VOLATILE)
static kobj_node_t mem_nodes[] = {
    { .path = "/mem", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "Physical memory" },
    { .path = "/mem/total", .type = KOBJ_UINT, .access = KOBJ_READ, .get = mem_get,
      .field = 0, .unit = "bytes", .description = "Usable RAM the firmware reported" },
    { .path = "/mem/free", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = mem_get, .field = 1, .unit = "bytes", .description = "RAM not allocated now" },
    { .path = "/mem/slab", .type = KOBJ_DIR, .access = KOBJ_READ, .enumerate = slab_enumerate,
      .description = "The kernel heap's slab caches (kmalloc size classes), by name" },
    { .path = "/mem/slab/*", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "One slab cache" },
    { .path = "/mem/slab/*/object_size", .type = KOBJ_UINT, .access = KOBJ_READ, .get = slab_get,
      .field = SLAB_OBJECT_SIZE, .unit = "bytes", .description = "Size of each object" },
    { .path = "/mem/slab/*/in_use", .type = KOBJ_UINT, .access = RV, .get = slab_get,
      .field = SLAB_IN_USE, .description = "Objects allocated now" },
    { .path = "/mem/slab/*/total", .type = KOBJ_UINT, .access = RV, .get = slab_get,
      .field = SLAB_TOTAL, .description = "Objects its slabs hold, allocated or free" },
    { .path = "/mem/slab/*/bytes", .type = KOBJ_UINT, .access = RV, .get = slab_get,
      .field = SLAB_BYTES, .unit = "bytes", .description = "Memory its slabs take" },
    { .path = "/mem/processes", .type = KOBJ_DIR, .access = KOBJ_READ,
      .enumerate = process_enumerate,
      .description = "Every process (zombies included), by pid, newest first" },
    { .path = "/mem/processes/*", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "One process" },
    { .path = "/mem/processes/*/name", .type = KOBJ_STRING, .access = RV, .get = process_get,
      .field = PROCESS_NAME, .description = "The process's name (its program's file name)" },
    { .path = "/mem/processes/*/resident", .type = KOBJ_UINT, .access = RV, .get = process_get,
      .field = PROCESS_RESIDENT, .unit = "bytes",
      .description = "Memory its address space holds (page tables not counted)" },
};
KOBJ_TABLE(mem_nodes);
