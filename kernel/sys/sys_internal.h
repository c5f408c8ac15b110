/* SPDX-License-Identifier: MIT */
/* Helpers shared by the syscall files of kernel/sys. */
#ifndef KERNEL_SYS_SYS_INTERNAL_H
#define KERNEL_SYS_SYS_INTERNAL_H

#include "sys/syscall.h"
#include "proc/proc.h"
#include "fs/vfs.h"

#define SYS_AT_FDCWD (-100)

/* A reference to the open file at descriptor fd of the calling process, or NULL. */
file_t *sys_file(uint64_t fd);
/* Copies a user path into a new kernel buffer of VFS_PATH_MAX bytes (kfree it).
 * 0, -VK_EFAULT, -VK_ENAMETOOLONG or -VK_ENOMEM; an empty path is -VK_ENOENT. */
int sys_copy_path(uint64_t user, char **out);
/* The directory a *at() call starts from: the working directory for AT_FDCWD, else the
 * directory open at dirfd (a reference; -VK_EBADF, -VK_ENOTDIR). For an absolute path
 * the result is unused, but dirfd is still not checked, as on Linux. */
int sys_at_dir(int64_t dirfd, const char *path, vnode_t **out);

/* A user struct timespec as nanoseconds (sys_time.c). 0, -VK_EFAULT or -VK_EINVAL. */
int sys_read_timespec(uint64_t user, uint64_t *ns);
/* The deadline (time_monotonic_ns) a timespec argument gives: SCHED_WAIT_FOREVER when
 * user is 0; the time itself when absolute, else now plus it. */
int sys_timespec_deadline(uint64_t user, bool absolute, uint64_t *deadline);

#endif
