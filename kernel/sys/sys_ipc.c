/* SPDX-License-Identifier: MIT */
/*
 * The IPC syscalls (include/vk/ipc.h): decode and check the user's arguments here, act
 * in kernel/ipc. Waits share poll's generation counter (kernel/fs/poll.c).
 */
#include "sys/syscall.h"
#include "ipc/ipc.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "time/time.h"
#include "fs/vfs.h"
#include <vk/ipc.h>

#define PROT_READ  0x1
#define PROT_WRITE 0x2

/* The time_monotonic_ns() deadline timeout_ns from now (VK_WAIT_FOREVER: none). */
static uint64_t deadline_after(uint64_t timeout_ns)
{
    if (timeout_ns == VK_WAIT_FOREVER)
        return SCHED_WAIT_FOREVER; /* no clock read on the call fast path */
    uint64_t now = time_monotonic_ns();
    return timeout_ns > SCHED_WAIT_FOREVER - now ? SCHED_WAIT_FOREVER : now + timeout_ns;
}

/* Installs a new object's first reference as a handle with every right; on failure
 * the object goes. */
static long install_new(ipc_object_t *o)
{
    long h = ipc_handle_install((ipc_capability_t){ o, VK_RIGHTS_ALL });
    if (h < 0)
        ipc_object_unref(o);
    return h;
}

long sys_vk_handle_close(const syscall_args_t *a)
{
    return ipc_handle_close((uint32_t)a->arg[0]);
}

long sys_vk_handle_inherit(const syscall_args_t *a)
{
    if (a->arg[1] > 1)
        return -VK_EINVAL;
    return ipc_handle_set_inherit((uint32_t)a->arg[0], a->arg[1] != 0);
}

long sys_vk_handle_duplicate(const syscall_args_t *a)
{
    uint32_t rights = (uint32_t)a->arg[1], have;
    ipc_object_t *o;
    if (rights != VK_RIGHT_SAME && (rights & ~VK_RIGHTS_ALL))
        return -VK_EINVAL;
    int err = ipc_handle_get((uint32_t)a->arg[0], 0, VK_RIGHT_DUPLICATE, &o, &have);
    if (err)
        return err;
    if (rights == VK_RIGHT_SAME)
        rights = have;
    if (rights & ~have) {
        ipc_object_unref(o);
        return -VK_EACCES; /* rights only shrink */
    }
    long h = ipc_handle_install((ipc_capability_t){ o, rights });
    if (h < 0)
        ipc_object_unref(o);
    return h;
}

long sys_vk_handle_info(const syscall_args_t *a)
{
    ipc_object_t *o;
    vk_handle_info_t info = { 0 };
    int err = ipc_handle_get((uint32_t)a->arg[0], 0, 0, &o, &info.rights);
    if (err)
        return err;
    info.type = o->ops->type;
    info.object_id = o->id;
    info.size = info.type == VK_OBJECT_SHM ? ipc_shm_size(o) : 0;
    ipc_object_unref(o);
    return usercopy_to(a->arg[1], &info, sizeof(info));
}

long sys_vk_channel_create(const syscall_args_t *a)
{
    ipc_object_t *ends[2];
    uint32_t values[2];
    int err = ipc_channel_create(ends);
    if (err)
        return err;
    ipc_capability_t caps[2] = { { ends[0], VK_RIGHTS_ALL }, { ends[1], VK_RIGHTS_ALL } };
    err = ipc_handle_install_many(caps, 2, values);
    if (!err && (err = usercopy_to(a->arg[0], values, sizeof(values)))) {
        ipc_handle_close(values[0]);
        ipc_handle_close(values[1]);
        return err;
    }
    if (err) {
        ipc_object_unref(ends[0]);
        ipc_object_unref(ends[1]);
    }
    return err;
}

/* Copies in the message descriptor of a channel read or write and checks its flags. */
static int copy_msg_args(const syscall_args_t *a, vk_channel_msg_t *msg)
{
    int err = usercopy_from(msg, a->arg[1], sizeof(*msg));
    if (err)
        return err;
    return (a->arg[2] & ~(uint64_t)VK_IPC_NONBLOCK) ? -VK_EINVAL : 0;
}

/* Checks what a write sends and copies in its handle values; the bytes go straight
 * from user memory into the message (kernel/ipc/channel.c). */
static int copy_write_msg(const vk_channel_msg_t *msg, uint32_t *handles)
{
    if (msg->num_bytes > VK_CHANNEL_BYTES_MAX || msg->num_handles > VK_CHANNEL_HANDLES_MAX)
        return -VK_EMSGSIZE;
    if (!msg->num_handles)
        return 0;
    return usercopy_from(handles, msg->handles, msg->num_handles * sizeof(uint32_t));
}

/* The counts of a received message go back to the user's descriptor at user_msg, on
 * success and on EMSGSIZE (which tells the sizes needed). */
static long put_read_counts(long result, uint64_t user_msg, const vk_channel_msg_t *msg)
{
    if (result != 0 && result != -VK_EMSGSIZE)
        return result;
    int err = usercopy_to(user_msg + offsetof(vk_channel_msg_t, num_bytes), &msg->num_bytes,
                          2 * sizeof(uint32_t));
    return err ? err : result;
}

long sys_vk_channel_write(const syscall_args_t *a)
{
    vk_channel_msg_t msg;
    uint32_t handles[VK_CHANNEL_HANDLES_MAX];
    uint32_t flags = (uint32_t)a->arg[2];
    int err = copy_msg_args(a, &msg);
    if (!err)
        err = copy_write_msg(&msg, handles);
    ipc_object_t *o = NULL;
    if (!err)
        err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_CHANNEL, VK_RIGHT_WRITE, &o, NULL);
    long result = err ? err : ipc_channel_write(o, msg.bytes, msg.num_bytes, handles,
                                                msg.num_handles, flags & VK_IPC_NONBLOCK);
    if (o)
        ipc_object_unref(o);
    return result;
}

long sys_vk_channel_call(const syscall_args_t *a)
{
    vk_channel_call_t call;
    uint32_t handles[VK_CHANNEL_HANDLES_MAX];
    ipc_object_t *o = NULL;
    int err = usercopy_from(&call, a->arg[1], sizeof(call));
    if (!err)
        err = copy_write_msg(&call.write, handles);
    if (!err && call.write.num_bytes < sizeof(uint32_t))
        err = -VK_EINVAL; /* no room for the transaction id */
    if (!err)
        err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_CHANNEL,
                             VK_RIGHT_WRITE | VK_RIGHT_READ, &o, NULL);
    long result = err ? err : ipc_channel_call(o, call.write.bytes, call.write.num_bytes,
                                               handles, call.write.num_handles, &call.read,
                                               deadline_after(a->arg[2]));
    if (o)
        ipc_object_unref(o);
    return put_read_counts(result, a->arg[1] + offsetof(vk_channel_call_t, read), &call.read);
}

long sys_vk_channel_reply_read(const syscall_args_t *a)
{
    vk_channel_reply_read_t args;
    uint32_t handles[VK_CHANNEL_HANDLES_MAX];
    uint32_t flags = (uint32_t)a->arg[2];
    ipc_object_t *o = NULL;
    bool replied = false;
    int err = usercopy_from(&args, a->arg[1], sizeof(args));
    if (!err && (flags & ~(uint32_t)VK_IPC_NONBLOCK))
        err = -VK_EINVAL;
    if (!err)
        err = copy_write_msg(&args.reply, handles);
    if (!err)
        err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_CHANNEL,
                             VK_RIGHT_WRITE | VK_RIGHT_READ, &o, NULL);
    long result = err ? err : ipc_channel_reply_read(o, args.reply.bytes, args.reply.num_bytes,
                                                     handles, args.reply.num_handles,
                                                     &args.next, flags & VK_IPC_NONBLOCK,
                                                     &replied);
    if (o)
        ipc_object_unref(o);
    uint32_t replied_value = replied;
    err = usercopy_to(a->arg[1] + offsetof(vk_channel_reply_read_t, replied), &replied_value,
                      sizeof(replied_value));
    if (err)
        return err;
    if (!replied)
        return result;
    return put_read_counts(result, a->arg[1] + offsetof(vk_channel_reply_read_t, next),
                           &args.next);
}

long sys_vk_channel_read(const syscall_args_t *a)
{
    vk_channel_msg_t msg;
    uint32_t flags = (uint32_t)a->arg[2];
    int err = copy_msg_args(a, &msg);
    if (err)
        return err;
    ipc_object_t *o;
    if ((err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_CHANNEL, VK_RIGHT_READ, &o, NULL)))
        return err;
    long result = ipc_channel_read(o, &msg, flags & VK_IPC_NONBLOCK);
    ipc_object_unref(o);
    return put_read_counts(result, a->arg[1], &msg);
}

long sys_vk_event_create(const syscall_args_t *a)
{
    (void)a;
    ipc_object_t *o = ipc_event_create();
    return o ? install_new(o) : -VK_ENOMEM;
}

long sys_vk_object_signal(const syscall_args_t *a)
{
    ipc_object_t *o;
    int err = ipc_handle_get((uint32_t)a->arg[0], 0, VK_RIGHT_SIGNAL, &o, NULL);
    if (err)
        return err;
    err = ipc_object_signal(o, (uint32_t)a->arg[1], (uint32_t)a->arg[2]);
    ipc_object_unref(o);
    return err;
}

/* Fills observed for every item; the number satisfied. */
static long scan(vk_wait_item_t *items, ipc_object_t **objects, uint64_t n)
{
    long ready = 0;
    for (uint64_t i = 0; i < n; i++) {
        items[i].observed = ipc_object_signals(objects[i]);
        if (items[i].observed & items[i].wanted)
            ready++;
    }
    return ready;
}

/* Waits until an item is satisfied: its count, -VK_ETIMEDOUT or -VK_EINTR. */
static long wait_items(vk_wait_item_t *items, ipc_object_t **objects, uint64_t n,
                       uint64_t timeout_ns)
{
    uint64_t deadline = deadline_after(timeout_ns);
    for (;;) {
        uint64_t seen = vfs_poll_generation();
        long ready = scan(items, objects, n);
        if (ready)
            return ready;
        if (timeout_ns == 0)
            return -VK_ETIMEDOUT;
        long err = vfs_poll_wait(seen, deadline);
        if (err)
            return err;
    }
}

long sys_vk_object_wait(const syscall_args_t *a)
{
    uint64_t n = a->arg[1];
    vk_wait_item_t items[VK_WAIT_ITEMS_MAX];
    ipc_object_t *objects[VK_WAIT_ITEMS_MAX];
    if (n == 0 || n > VK_WAIT_ITEMS_MAX)
        return -VK_EINVAL;
    int err = usercopy_from(items, a->arg[0], n * sizeof(items[0]));
    if (err)
        return err;
    uint64_t got = 0;
    long result = 0;
    for (; got < n && !result; got++)
        result = ipc_handle_get(items[got].handle, 0, VK_RIGHT_WAIT, &objects[got], NULL);
    if (result)
        got--; /* the failed one holds no reference */
    else
        result = wait_items(items, objects, n, a->arg[2]);
    for (uint64_t i = 0; i < got; i++)
        ipc_object_unref(objects[i]);
    if ((result >= 0 || result == -VK_ETIMEDOUT) &&
        (err = usercopy_to(a->arg[0], items, n * sizeof(items[0]))))
        return err;
    return result;
}

long sys_vk_shm_create(const syscall_args_t *a)
{
    ipc_object_t *o;
    int err = ipc_shm_create(a->arg[0], &o);
    return err ? err : install_new(o);
}

long sys_vk_shm_map(const syscall_args_t *a)
{
    uint64_t prot = a->arg[1];
    uint32_t need = VK_RIGHT_MAP, have;
    if (!prot || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE)))
        return -VK_EINVAL;
    if (prot & PROT_READ)
        need |= VK_RIGHT_READ;
    if (prot & PROT_WRITE)
        need |= VK_RIGHT_WRITE;
    ipc_object_t *o;
    int err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_SHM, need, &o, &have);
    if (err)
        return err;
    unsigned aprot = ((prot & PROT_READ) ? ASPACE_PROT_READ : 0) |
                     ((prot & PROT_WRITE) ? ASPACE_PROT_WRITE : 0);
    long addr = ipc_shm_map(o, aprot, (have & VK_RIGHT_WRITE) != 0);
    ipc_object_unref(o);
    return addr;
}

long sys_vk_ipc_stats(const syscall_args_t *a)
{
    vk_ipc_stats_t stats;
    ipc_stats(&stats);
    return usercopy_to(a->arg[0], &stats, sizeof(stats));
}

/* ---- named services and descriptors -------------------------------------------------- */

/* Copies in a service name of len bytes: 0, -VK_EINVAL, -VK_ENAMETOOLONG or -VK_EFAULT. */
static int copy_name(uint64_t user, uint64_t len, char name[VK_SERVICE_NAME_MAX])
{
    if (len == 0)
        return -VK_EINVAL;
    if (len > VK_SERVICE_NAME_MAX)
        return -VK_ENAMETOOLONG;
    int err = usercopy_from(name, user, len);
    return err ? err : ipc_service_name_check(name, len);
}

long sys_vk_service_register(const syscall_args_t *a)
{
    char name[VK_SERVICE_NAME_MAX];
    uint32_t end_handle = (uint32_t)a->arg[3];
    ipc_object_t *registry, *end;
    int err = copy_name(a->arg[1], a->arg[2], name);
    if (err)
        return err;
    err = ipc_handle_get((uint32_t)a->arg[0], VK_OBJECT_SERVICE_REGISTRY, VK_RIGHT_WRITE,
                         &registry, NULL);
    if (err)
        return err;
    ipc_object_unref(registry); /* the right is checked; the registry is static */
    err = ipc_handle_get(end_handle, VK_OBJECT_CHANNEL, VK_RIGHT_TRANSFER, &end, NULL);
    if (err)
        return err;
    err = ipc_service_register(name, a->arg[2], end);
    if (err) {
        ipc_object_unref(end);
        return err;
    }
    ipc_handle_close(end_handle); /* moved: the registry holds it now */
    return 0;
}

long sys_vk_service_connect(const syscall_args_t *a)
{
    char name[VK_SERVICE_NAME_MAX];
    ipc_object_t *o;
    int err = copy_name(a->arg[0], a->arg[1], name);
    if (!err)
        err = ipc_service_connect(name, a->arg[1], (uint32_t)proc_current()->pid, 0, &o);
    return err ? err : install_new(o);
}

long sys_vk_service_connect_timeout(const syscall_args_t *a)
{
    char name[VK_SERVICE_NAME_MAX];
    ipc_object_t *o;
    uint64_t deadline = a->arg[2] ? deadline_after(a->arg[2]) : 0; /* 0: do not wait */
    int err = copy_name(a->arg[0], a->arg[1], name);
    if (!err)
        err = ipc_service_connect(name, a->arg[1], (uint32_t)proc_current()->pid, deadline,
                                  &o);
    return err ? err : install_new(o);
}

long sys_vk_handle_fd(const syscall_args_t *a)
{
    ipc_object_t *o;
    if (a->arg[1] & ~(uint64_t)VK_HANDLE_FD_CLOEXEC)
        return -VK_EINVAL;
    int err = ipc_handle_get((uint32_t)a->arg[0], 0, VK_RIGHT_WAIT, &o, NULL);
    if (err)
        return err;
    return ipc_fd_create(o, (a->arg[1] & VK_HANDLE_FD_CLOEXEC) != 0);
}
