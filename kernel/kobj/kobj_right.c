/* SPDX-License-Identifier: MIT */
/*
 * The KObj-write right (docs/kobj.md "The write right"): setting a node or running an
 * action changes how the kernel behaves, so it needs a handle to the one KObj-write
 * object (VK_OBJECT_KOBJ_WRITE) in the caller's handle table. The kernel grants it to
 * the processes it starts itself (init); from there it travels like any handle: kept by
 * execve, copied into a child by fork or vk_spawn only when the holder marked it with
 * vk_handle_inherit, sent in a channel message with VK_RIGHT_TRANSFER, dropped with
 * vk_handle_close. Kernel threads (no process) always may write.
 *
 * The object is a static singleton that kobj itself holds a reference to, so it is
 * never destroyed.
 */
#include "kobj/kobj.h"
#include "ipc/ipc.h"
#include "core/panic.h"
#include "lib/fmt.h"
#include <vk/errno.h>

static void never_destroyed(ipc_object_t *o)
{
    panic("kobj: the KObj-write object lost its last reference");
}

static const ipc_object_ops_t write_right_ops = {
    .type = VK_OBJECT_KOBJ_WRITE,
    .destroy = never_destroyed,
};
static ipc_object_t write_right;
static bool write_right_ready; /* set once at boot, before any process exists */

void kobj_right_init(void)
{
    ipc_object_init(&write_right, &write_right_ops); /* kobj's own reference */
    write_right_ready = true;
}

long kobj_write_grant(process_t *p, char *env_entry, size_t size)
{
    if (!write_right_ready)
        return -VK_ENODEV;
    ipc_capability_t cap = {
        ipc_object_ref(&write_right),
        VK_RIGHT_TRANSFER | VK_RIGHT_DUPLICATE | VK_RIGHT_WAIT,
    };
    long h = ipc_handle_install_in(p, cap);
    if (h < 0) {
        ipc_object_unref(cap.object);
        return h;
    }
    fmt_snprintf(env_entry, size, "%s=%ld", KOBJ_WRITE_ENV, h);
    return h;
}

bool kobj_write_allowed(void)
{
    process_t *p = proc_current();
    return !p || ipc_process_holds(p, VK_OBJECT_KOBJ_WRITE);
}
