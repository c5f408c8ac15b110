/* SPDX-License-Identifier: MIT */
/* Memory's KObj nodes: /mem (physical memory). */
#include "kobj/kobj.h"
#include "mm/mm.h"

static int mem_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = node->field ? pmm_free_bytes() : pmm_total_bytes();
    return 0;
}

static kobj_node_t mem_nodes[] = {
    { .path = "/mem", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "Physical memory" },
    { .path = "/mem/total", .type = KOBJ_UINT, .access = KOBJ_READ, .get = mem_get,
      .field = 0, .unit = "bytes", .description = "Usable RAM the firmware reported" },
    { .path = "/mem/free", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = mem_get, .field = 1, .unit = "bytes", .description = "RAM not allocated now" },
};
KOBJ_TABLE(mem_nodes);
