/* SPDX-License-Identifier: MIT */
/*
 * vk_kobj_rpc(request, length, reply, reply_size): one KObj JSON request in, its
 * reply out (kernel/kobj/kobj_rpc.c, docs/kobj.md). Returns the reply's length (the
 * NUL after it is written too), -VK_E2BIG for a request over CONFIG_KOBJ_REQUEST_MAX
 * bytes, -VK_ERANGE when the reply does not fit reply_size, -VK_EFAULT. Request errors
 * (bad JSON, unknown paths, bad values) are error objects in the reply, not errnos.
 */
#include "sys/syscall.h"
#include "kobj/kobj.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "config.h"

long sys_vk_kobj_rpc(const syscall_args_t *a)
{
    uint64_t length = a->arg[1], reply_size = a->arg[3];
    if (length > CONFIG_KOBJ_REQUEST_MAX)
        return -VK_E2BIG;
    if (reply_size == 0)
        return -VK_ERANGE;
    size_t capacity = reply_size < CONFIG_KOBJ_REPLY_MAX ? reply_size : CONFIG_KOBJ_REPLY_MAX;
    char *request = kmalloc(length + 1), *reply = kmalloc(capacity);
    long r = -VK_ENOMEM;
    if (!request || !reply)
        goto free_buffers;
    r = usercopy_from(request, a->arg[0], length);
    if (r)
        goto free_buffers;
    r = kobj_rpc(request, length, reply, capacity);
    if (r >= 0) {
        int err = usercopy_to(a->arg[2], reply, (size_t)r + 1);
        if (err)
            r = err;
    }
free_buffers:
    kfree(request);
    kfree(reply);
    return r;
}
