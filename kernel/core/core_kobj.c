/* SPDX-License-Identifier: MIT */
/* The kernel's own KObj nodes: /kernel (identity, uptime, the log level). */
#include "kobj/kobj.h"
#include "core/kernel.h"
#include "core/log.h"
#include "time/time.h"
#include <vk/errno.h>

enum { KERNEL_VERSION_FIELD, KERNEL_BUILD_ID, KERNEL_CMDLINE, KERNEL_BANNER };

static const char *const log_levels[] = {
    [LOG_LEVEL_DEBUG] = "debug", [LOG_LEVEL_INFO] = "info", [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_ERROR] = "error", NULL,
};

static int text_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    const char *text[] = {
        [KERNEL_VERSION_FIELD] = KERNEL_VERSION, [KERNEL_BUILD_ID] = kernel_build_id(),
        [KERNEL_CMDLINE] = kernel_cmdline_text(), [KERNEL_BANNER] = kernel_banner(),
    };
    kobj_value_string(out, text[node->field]);
    return 0;
}

static int uptime_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = time_monotonic_ns();
    return 0;
}

static int level_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = (uint64_t)log_level();
    return 0;
}

static int level_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    if (in->u > LOG_LEVEL_ERROR)
        return -VK_ERANGE;
    log_set_level((int)in->u);
    return 0;
}

static kobj_node_t kernel_nodes[] = {
    { .path = "/kernel", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "The running kernel" },
    { .path = "/kernel/version", .type = KOBJ_STRING, .access = KOBJ_READ, .get = text_get,
      .field = KERNEL_VERSION_FIELD, .description = "Release version" },
    { .path = "/kernel/build_id", .type = KOBJ_STRING, .access = KOBJ_READ, .get = text_get,
      .field = KERNEL_BUILD_ID, .description = "The git description of the sources it was built from" },
    { .path = "/kernel/banner", .type = KOBJ_STRING, .access = KOBJ_READ, .get = text_get,
      .field = KERNEL_BANNER, .description = "The boot banner" },
    { .path = "/kernel/cmdline", .type = KOBJ_STRING, .access = KOBJ_READ, .get = text_get,
      .field = KERNEL_CMDLINE, .description = "The command line the loader passed" },
    { .path = "/kernel/uptime_ns", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = uptime_get, .unit = "ns", .description = "Time since the timers started at boot" },
    { .path = "/kernel/log", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "The kernel log" },
    { .path = "/kernel/log/level", .type = KOBJ_ENUM, .access = KOBJ_READ | KOBJ_WRITE,
      .get = level_get, .set = level_set, .choices = log_levels,
      .description = "Least severe level written to the console (log= at boot)" },
};
KOBJ_TABLE(kernel_nodes);
