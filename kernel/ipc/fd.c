/* SPDX-License-Identifier: MIT */
/*
 * The descriptor face of a handle (vk_handle_fd): a file whose only operation is poll,
 * so poll, ppoll and select report an IPC object's signals next to ordinary files.
 * VK_SIGNAL_READABLE is POLLIN, VK_SIGNAL_WRITABLE POLLOUT, VK_SIGNAL_PEER_CLOSED
 * POLLHUP, and any user signal POLLPRI. Every signal change already calls
 * vfs_poll_notify(), so pollers wake without anything more here. The file holds one
 * reference to the object; the last close of the descriptor drops it. read and write
 * on it fail (EINVAL): messages still go through the handle.
 */
#include "ipc/ipc.h"
#include "fs/vfs.h"
#include "proc/proc.h"
#include <vk/errno.h>

static unsigned handle_file_poll(file_t *f)
{
    unsigned s = ipc_object_signals(f->private), events = 0;
    if (s & VK_SIGNAL_READABLE)
        events |= VFS_POLLIN;
    if (s & VK_SIGNAL_WRITABLE)
        events |= VFS_POLLOUT;
    if (s & VK_SIGNAL_PEER_CLOSED)
        events |= VFS_POLLHUP;
    if (s & VK_SIGNAL_USER_ALL)
        events |= VFS_POLLPRI;
    return events;
}

static void handle_file_close(file_t *f)
{
    ipc_object_unref(f->private);
}

static const file_ops_t handle_file_ops = {
    .poll = handle_file_poll,
    .close = handle_file_close,
};

int ipc_fd_create(ipc_object_t *o, bool cloexec)
{
    file_t *f = file_new(&handle_file_ops, VFS_O_RDONLY, o);
    if (!f) {
        ipc_object_unref(o);
        return -VK_ENOMEM;
    }
    int fd = fdtable_install(proc_current()->fds, f, 0, cloexec);
    if (fd < 0)
        file_unref(f); /* drops o through close */
    return fd;
}
