/* SPDX-License-Identifier: MIT */
/*
 * Interrupts' KObj nodes: /irq/N for each vector that has a handler or was ever taken,
 * with its owner's name, the count per CPU and the total. Counts come from the
 * per-CPU counters in interrupts.c; the owner of a device vector is the name of its
 * handler function, looked up in the kernel's symbol map (so no driver has to name
 * itself).
 */
#include "kobj/kobj.h"
#include "arch/x86_64/arch.h"
#include "core/kernel.h"
#include "lib/fmt.h"
#include "lib/symmap.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include <vk/errno.h>

enum { IRQ_NAME, IRQ_TOTAL, IRQ_PER_CPU };

/* IST vectors are not counted per CPU (interrupts.c); their totals are global. */
static bool counted_globally(unsigned vector)
{
    return vector == 2 || vector == 8 || vector == 18;
}

static uint64_t total(unsigned vector)
{
    if (counted_globally(vector))
        return arch_exception_count(vector);
    uint64_t sum = 0;
    for (unsigned cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++)
        sum += arch_irq_count(vector, cpu);
    return sum;
}

static bool listed(unsigned vector)
{
    return arch_irq_handler(vector) || total(vector);
}

static int irq_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    uint64_t seen = 0;
    for (unsigned v = 0; v < 256; v++) {
        if (!listed(v) || seen++ != position)
            continue;
        fmt_snprintf(name, size, "%u", v);
        *key = v;
        return 0;
    }
    return -VK_ENOENT;
}

static void owner_name(unsigned vector, kobj_value_t *out)
{
    const char *name = arch_exception_name(vector);
    if (name) {
        kobj_value_string(out, name);
        return;
    }
    if (vector == 0xff) {
        kobj_value_string(out, "spurious");
        return;
    }
    arch_irq_handler_t h = arch_irq_handler(vector);
    const vk_boot_module_t *map = kernel_find_module("vkernel.map");
    symmap_result_t r;
    if (h && map && symmap_lookup(phys_to_virt(map->base), map->size, (uint64_t)h, &r))
        kobj_value_string(out, r.name);
    else
        kobj_value_string(out, h ? "unknown" : "");
}

static int irq_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    unsigned vector = (unsigned)key;
    if (vector > 255 || !listed(vector))
        return -VK_ENOENT;
    switch (node->field) {
    case IRQ_NAME: owner_name(vector, out); break;
    case IRQ_TOTAL: out->u = total(vector); break;
    default: {
        uint64_t online = sched_online_mask();
        size_t n = 0;
        for (unsigned cpu = 0; cpu < CONFIG_MAX_CPUS && cpu < 64; cpu++) {
            if (!(online & (1ull << cpu)))
                continue;
            uint64_t c = counted_globally(vector) ? 0 : arch_irq_count(vector, cpu);
            n += (size_t)fmt_snprintf(out->text + n, sizeof(out->text) - n, "%s%llu",
                                      n ? " " : "", (unsigned long long)c);
            if (n >= sizeof(out->text))
                n = sizeof(out->text) - 1;
        }
        out->length = n;
        break;
    }
    }
    return 0;
}

#define RV (KOBJ_READ | KOBJ_VOLATILE)
static kobj_node_t irq_nodes[] = {
    { .path = "/irq", .type = KOBJ_DIR, .access = KOBJ_READ, .enumerate = irq_enumerate,
      .description = "Interrupt and exception vectors with a handler or ever taken, by number" },
    { .path = "/irq/*", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "One vector" },
    { .path = "/irq/*/name", .type = KOBJ_STRING, .access = KOBJ_READ, .get = irq_get,
      .field = IRQ_NAME,
      .description = "The exception's name, or the handler function that owns the vector" },
    { .path = "/irq/*/total", .type = KOBJ_UINT, .access = RV, .get = irq_get,
      .field = IRQ_TOTAL, .description = "Times taken since boot, on every CPU" },
    { .path = "/irq/*/per_cpu", .type = KOBJ_STRING, .access = RV, .get = irq_get,
      .field = IRQ_PER_CPU,
      .description = "Times taken on each online CPU, by index, space-separated (0 for NMI, #DF, #MC)" },
};
KOBJ_TABLE(irq_nodes);
