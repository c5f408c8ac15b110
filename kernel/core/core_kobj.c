/* SPDX-License-Identifier: MIT */
/* The kernel's own KObj nodes: /kernel (identity, uptime, the log level and route, the
 * deliberate panic). Writing any of them needs the KObj-write right (kobj_set). */
#include "kobj/kobj.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/panic.h"
#include "proc/proc.h"
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

/* Routes by enum index: index + 1 is the LOG_ROUTE_* mask. */
static const char *const log_routes[] = { "serial", "framebuffer", "both", NULL };

static int route_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    unsigned r = log_route();
    out->u = r ? r - 1 : 0;
    return 0;
}

static int route_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    if (in->u > 2)
        return -VK_ERANGE;
    log_set_route((unsigned)in->u + 1);
    return 0;
}

static int panic_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    process_t *p = proc_current();
    panic("deliberate panic through /kernel/panic (pid %u)", p ? p->pid : 0);
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
    { .path = "/kernel/log/route", .type = KOBJ_ENUM, .access = KOBJ_READ | KOBJ_WRITE,
      .get = route_get, .set = route_set, .choices = log_routes,
      .description = "Consoles the log goes to (console= at boot)" },
    { .path = "/kernel/panic", .type = KOBJ_ACTION, .access = KOBJ_WRITE, .set = panic_set,
      .description = "Setting it panics the kernel on purpose (the shell's panic command)" },
};
KOBJ_TABLE(kernel_nodes);
