/* SPDX-License-Identifier: MIT */
/*
 * Descriptor I/O syscalls: read/write and their vector and positional forms, close,
 * lseek, ioctl, dup*, fcntl, pipe*, fsync/sync (poll and select are in sys_poll.c).
 * They go through the calling process's descriptor table to open files
 * (kernel/fs/vfs.h).
 */
#include "sys/sys_internal.h"
#include "proc/signal.h"
#include "mm/mm.h"
#include "mm/usercopy.h"

#define IOV_MAX      1024
#define IO_MAX       0x7ffff000ull /* Linux caps one transfer at this many bytes */
#define SIGPIPE      13
#define FIONBIO      0x5421
#define FIONCLEX     0x5450
#define FIOCLEX      0x5451
#define F_DUPFD      0
#define F_GETFD      1
#define F_SETFD      2
#define F_GETFL      3
#define F_SETFL      4
#define F_DUPFD_CLOEXEC 1030
#define FD_CLOEXEC   1

file_t *sys_file(uint64_t fd)
{
    if (fd > INT32_MAX)
        return NULL;
    return fdtable_get(proc_current()->fds, (int)fd);
}

/* EPIPE also raises SIGPIPE, as POSIX asks. */
static long after_write(long n)
{
    if (n == -VK_EPIPE)
        signal_raise(proc_current(), SIGPIPE);
    return n;
}

long sys_read(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long n = file_read(f, vfs_ubuf(a->arg[1]), a->arg[2] > IO_MAX ? IO_MAX : a->arg[2]);
    file_unref(f);
    return n;
}

long sys_write(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long n = file_write(f, vfs_ubuf(a->arg[1]), a->arg[2] > IO_MAX ? IO_MAX : a->arg[2]);
    file_unref(f);
    return after_write(n);
}

long sys_pread64(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long n = (int64_t)a->arg[3] < 0 ? -VK_EINVAL
             : file_pread(f, vfs_ubuf(a->arg[1]), a->arg[2] > IO_MAX ? IO_MAX : a->arg[2],
                          a->arg[3]);
    file_unref(f);
    return n;
}

long sys_pwrite64(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long n = (int64_t)a->arg[3] < 0 ? -VK_EINVAL
             : file_pwrite(f, vfs_ubuf(a->arg[1]), a->arg[2] > IO_MAX ? IO_MAX : a->arg[2],
                           a->arg[3]);
    file_unref(f);
    return after_write(n);
}

/* readv/writev: one call per iovec; stops at the first short transfer or error (an
 * error after some bytes returns the bytes). */
static long vector_io(const syscall_args_t *a, bool writing)
{
    if (a->arg[2] > IOV_MAX)
        return -VK_EINVAL;
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long total = 0;
    for (uint64_t i = 0; i < a->arg[2]; i++) {
        uint64_t iov[2];
        long n = usercopy_from(iov, a->arg[1] + 16 * i, sizeof(iov));
        if (!n && iov[1] > IO_MAX - (uint64_t)total)
            n = -VK_EINVAL;
        if (!n && iov[1])
            n = writing ? file_write(f, vfs_ubuf(iov[0]), iov[1])
                        : file_read(f, vfs_ubuf(iov[0]), iov[1]);
        if (n < 0) {
            total = total ? total : n;
            break;
        }
        total += n;
        if ((uint64_t)n < iov[1])
            break;
    }
    file_unref(f);
    return writing ? after_write(total) : total;
}

long sys_readv(const syscall_args_t *a) { return vector_io(a, false); }
long sys_writev(const syscall_args_t *a) { return vector_io(a, true); }

long sys_close(const syscall_args_t *a)
{
    if (a->arg[0] > INT32_MAX)
        return -VK_EBADF;
    return fdtable_close(proc_current()->fds, (int)a->arg[0]);
}

long sys_lseek(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r = file_seek(f, (int64_t)a->arg[1], (int)a->arg[2]);
    file_unref(f);
    return r;
}

static long set_status_flags(file_t *f, uint32_t flags)
{
    uint32_t changeable = VFS_O_APPEND | VFS_O_NONBLOCK;
    f->flags = (f->flags & ~changeable) | (flags & changeable);
    return 0;
}

long sys_ioctl(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r;
    switch (a->arg[1]) {
    case FIONBIO: {
        int on;
        r = usercopy_from(&on, a->arg[2], sizeof(on));
        if (!r)
            r = set_status_flags(f, on ? f->flags | VFS_O_NONBLOCK : f->flags & ~VFS_O_NONBLOCK);
        break;
    }
    case FIOCLEX:
    case FIONCLEX:
        r = fdtable_set_cloexec(proc_current()->fds, (int)a->arg[0], a->arg[1] == FIOCLEX);
        break;
    default:
        r = file_ioctl(f, a->arg[1], a->arg[2]);
    }
    file_unref(f);
    return r;
}

/* ---- duplication -------------------------------------------------------------------- */

static long dup_to(uint64_t oldfd, uint64_t newfd, bool cloexec)
{
    file_t *f = sys_file(oldfd);
    if (!f)
        return -VK_EBADF;
    long r = fdtable_install_at(proc_current()->fds, newfd > INT32_MAX ? -1 : (int)newfd, f,
                                cloexec);
    if (r < 0)
        file_unref(f);
    return r;
}

long sys_dup(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r = fdtable_install(proc_current()->fds, f, 0, false);
    if (r < 0)
        file_unref(f);
    return r;
}

long sys_dup2(const syscall_args_t *a)
{
    if (a->arg[0] == a->arg[1]) {
        file_t *f = sys_file(a->arg[0]);
        if (!f)
            return -VK_EBADF;
        file_unref(f);
        return (long)a->arg[1];
    }
    return dup_to(a->arg[0], a->arg[1], false);
}

long sys_dup3(const syscall_args_t *a)
{
    if (a->arg[0] == a->arg[1] || (a->arg[2] & ~(uint64_t)VFS_O_CLOEXEC))
        return -VK_EINVAL;
    return dup_to(a->arg[0], a->arg[1], (a->arg[2] & VFS_O_CLOEXEC) != 0);
}

long sys_fcntl(const syscall_args_t *a)
{
    fdtable_t *fds = proc_current()->fds;
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    int fd = (int)a->arg[0];
    long r;
    switch (a->arg[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        r = a->arg[2] >= FDTABLE_MAX ? -VK_EINVAL
            : fdtable_install(fds, file_ref(f), (int)a->arg[2], a->arg[1] == F_DUPFD_CLOEXEC);
        if (r < 0 && r != -VK_EINVAL)
            file_unref(f);
        break;
    case F_GETFD:
        r = fdtable_get_cloexec(fds, fd);
        break;
    case F_SETFD:
        r = fdtable_set_cloexec(fds, fd, (a->arg[2] & FD_CLOEXEC) != 0);
        break;
    case F_GETFL:
        r = f->flags;
        break;
    case F_SETFL:
        r = set_status_flags(f, (uint32_t)a->arg[2]);
        break;
    default:
        r = -VK_EINVAL; /* FIXME(issue: storage): record locks (F_GETLK/F_SETLK) */
    }
    file_unref(f);
    return r;
}

/* ---- pipes -------------------------------------------------------------------------- */

long sys_pipe2(const syscall_args_t *a)
{
    uint64_t flags = a->arg[1];
    if (flags & ~(uint64_t)(VFS_O_CLOEXEC | VFS_O_NONBLOCK))
        return -VK_EINVAL;
    file_t *ends[2];
    int err = pipe_create((uint32_t)flags, ends);
    if (err)
        return err;
    fdtable_t *fds = proc_current()->fds;
    bool cloexec = (flags & VFS_O_CLOEXEC) != 0;
    int fd[2] = { fdtable_install(fds, ends[0], 0, cloexec), -1 };
    if (fd[0] >= 0)
        fd[1] = fdtable_install(fds, ends[1], 0, cloexec);
    if (fd[1] < 0) {
        if (fd[0] >= 0)
            fdtable_close(fds, fd[0]);
        else
            file_unref(ends[0]);
        file_unref(ends[1]);
        return -VK_EMFILE;
    }
    err = usercopy_to(a->arg[0], fd, sizeof(fd));
    if (err) {
        fdtable_close(fds, fd[0]);
        fdtable_close(fds, fd[1]);
    }
    return err;
}

long sys_pipe(const syscall_args_t *a)
{
    syscall_args_t two = { { a->arg[0], 0, 0, 0, 0, 0 }, a->frame };
    return sys_pipe2(&two);
}

/* ---- sync --------------------------------------------------------------------------- */

long sys_fsync(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r = f->vnode ? vfs_sync(f->vnode) : 0;
    file_unref(f);
    return r;
}

/* FAT32 keeps no separate metadata worth skipping: the same as fsync. */
long sys_fdatasync(const syscall_args_t *a) { return sys_fsync(a); }

/* vfs_sync on any vnode syncs its whole filesystem (docs/vfs.md), so syncfs is fsync
 * by another name; it reports a write-back error (EIO) as fsync does. */
long sys_syncfs(const syscall_args_t *a) { return sys_fsync(a); }

/* Every filesystem is synced before it returns. Errors are logged, not returned (sync
 * has no error to report); they are reported to the next fsync or syncfs only if they
 * happen again, since reporting consumes them. */
long sys_sync(const syscall_args_t *a)
{
    (void)a;
    vfs_sync_all();
    return 0;
}
