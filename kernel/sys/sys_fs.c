/* SPDX-License-Identifier: MIT */
/*
 * Path syscalls: open/openat, the stat family, access, getdents64, the working
 * directory, mkdir/rmdir/unlink/rename and their *at forms, truncate, readlink, umask.
 * There are no symbolic links yet, so the NOFOLLOW flags change nothing.
 */
#include "sys/sys_internal.h"
#include "lib/fmt.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/usercopy.h"

#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR        0x200
#define AT_EACCESS          0x200
#define AT_EMPTY_PATH       0x1000
#define RENAME_NOREPLACE    1
#define R_OK 4
#define W_OK 2
#define X_OK 1
#define DT_CHR 2
#define DT_DIR 4
#define DT_REG 8
#define DT_FIFO 1

/* ---- helpers ------------------------------------------------------------------------ */

int sys_copy_path(uint64_t user, char **out)
{
    char *path = kmalloc(VFS_PATH_MAX);
    if (!path)
        return -VK_ENOMEM;
    long len = usercopy_strncpy_from(path, user, VFS_PATH_MAX);
    if (len <= 0) {
        kfree(path);
        return len == 0 ? -VK_ENOENT : (int)len;
    }
    *out = path;
    return 0;
}

int sys_at_dir(int64_t dirfd, const char *path, vnode_t **out)
{
    if (path[0] == '/' || (int32_t)dirfd == SYS_AT_FDCWD) {
        *out = proc_cwd(proc_current());
        return 0;
    }
    file_t *f = sys_file((uint64_t)(uint32_t)dirfd);
    if (!f)
        return -VK_EBADF;
    int err = 0;
    if (!f->vnode || f->vnode->type != VNODE_DIR)
        err = -VK_ENOTDIR;
    else
        *out = vnode_ref(f->vnode);
    file_unref(f);
    return err;
}

/* Copies the path and resolves the starting directory of a *at() call. */
static int path_args(int64_t dirfd, uint64_t user_path, char **path, vnode_t **at)
{
    int err = sys_copy_path(user_path, path);
    if (err)
        return err;
    err = sys_at_dir(dirfd, *path, at);
    if (err)
        kfree(*path);
    return err;
}

static void path_done(char *path, vnode_t *at)
{
    kfree(path);
    vnode_unref(at);
}

/* The vnode a *at() call names (a reference). */
static int lookup_at(int64_t dirfd, uint64_t user_path, vnode_t **out)
{
    char *path;
    vnode_t *at;
    int err = path_args(dirfd, user_path, &path, &at);
    if (err)
        return err;
    err = vfs_lookup(at, path, out);
    path_done(path, at);
    return err;
}

/* ---- open --------------------------------------------------------------------------- */

static long do_open(int64_t dirfd, uint64_t user_path, uint64_t flags, uint64_t mode)
{
    char *path;
    vnode_t *at;
    int err = path_args(dirfd, user_path, &path, &at);
    if (err)
        return err;
    process_t *p = proc_current();
    file_t *f;
    err = vfs_open(at, path, (uint32_t)flags, (uint32_t)mode & ~__atomic_load_n(&p->umask, __ATOMIC_RELAXED) & 07777u, &f);
    path_done(path, at);
    if (err)
        return err;
    int fd = fdtable_install(p->fds, f, 0, (flags & VFS_O_CLOEXEC) != 0);
    if (fd < 0)
        file_unref(f);
    return fd;
}

long sys_open(const syscall_args_t *a)
{
    return do_open(SYS_AT_FDCWD, a->arg[0], a->arg[1], a->arg[2]);
}

long sys_openat(const syscall_args_t *a)
{
    return do_open((int64_t)a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
}

/* ---- stat --------------------------------------------------------------------------- */

typedef struct {
    uint64_t dev, ino, nlink;
    uint32_t mode, uid, gid, pad0;
    uint64_t rdev;
    int64_t size, blksize, blocks;
    uint64_t atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
    int64_t unused[3];
} linux_stat_t;
_Static_assert(sizeof(linux_stat_t) == 144, "struct stat (x86-64)");

static int put_stat(uint64_t user, vnode_t *v)
{
    vfs_stat_t st;
    int err = vfs_getattr(v, &st);
    if (err)
        return err;
    linux_stat_t out;
    memset(&out, 0, sizeof(out));
    out.dev = st.dev;
    out.ino = st.ino;
    out.nlink = st.nlink;
    out.mode = st.mode;
    out.rdev = st.rdev;
    out.size = (int64_t)st.size;
    out.blksize = 4096;
    out.blocks = (int64_t)st.blocks;
    out.atime = st.atime_ns / 1000000000ull;
    out.atime_nsec = st.atime_ns % 1000000000ull;
    out.mtime = st.mtime_ns / 1000000000ull;
    out.mtime_nsec = st.mtime_ns % 1000000000ull;
    out.ctime = st.ctime_ns / 1000000000ull;
    out.ctime_nsec = st.ctime_ns % 1000000000ull;
    return usercopy_to(user, &out, sizeof(out));
}

static long stat_fd(uint64_t fd, uint64_t user_stat)
{
    file_t *f = sys_file(fd);
    if (!f)
        return -VK_EBADF;
    long err;
    if (f->vnode) {
        err = put_stat(user_stat, f->vnode);
    } else {
        /* A pipe: a FIFO with nothing else to say. */
        linux_stat_t out;
        memset(&out, 0, sizeof(out));
        out.mode = 0010600;
        out.blksize = 4096;
        err = usercopy_to(user_stat, &out, sizeof(out));
    }
    file_unref(f);
    return err;
}

static long stat_at(int64_t dirfd, uint64_t user_path, uint64_t user_stat, uint64_t flags)
{
    if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -VK_EINVAL;
    if (flags & AT_EMPTY_PATH) {
        char first;
        int err = usercopy_from(&first, user_path, 1);
        if (err)
            return err;
        if (!first && (int32_t)dirfd == SYS_AT_FDCWD) {
            vnode_t *cwd = proc_cwd(proc_current());
            err = put_stat(user_stat, cwd);
            vnode_unref(cwd);
            return err;
        }
        if (!first)
            return stat_fd((uint64_t)(uint32_t)dirfd, user_stat);
    }
    vnode_t *v;
    int err = lookup_at(dirfd, user_path, &v);
    if (err)
        return err;
    err = put_stat(user_stat, v);
    vnode_unref(v);
    return err;
}

long sys_stat(const syscall_args_t *a) { return stat_at(SYS_AT_FDCWD, a->arg[0], a->arg[1], 0); }
long sys_lstat(const syscall_args_t *a) { return stat_at(SYS_AT_FDCWD, a->arg[0], a->arg[1], 0); }
long sys_fstat(const syscall_args_t *a) { return stat_fd(a->arg[0], a->arg[1]); }

long sys_newfstatat(const syscall_args_t *a)
{
    return stat_at((int64_t)a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
}

static long access_at(int64_t dirfd, uint64_t user_path, uint64_t mode, uint64_t flags)
{
    if ((mode & ~7ull) || (flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)))
        return -VK_EINVAL;
    vnode_t *v;
    int err = lookup_at(dirfd, user_path, &v);
    if (err)
        return err;
    vfs_stat_t st;
    err = vfs_getattr(v, &st);
    /* Everyone is root: only "writable at all" and "executable at all" can fail. */
    if (!err && (mode & W_OK) && v->mount->read_only && v->type != VNODE_CHR)
        err = -VK_EROFS;
    if (!err && (mode & X_OK) && v->type != VNODE_DIR && !(st.mode & 0111))
        err = -VK_EACCES;
    vnode_unref(v);
    return err;
}

long sys_access(const syscall_args_t *a) { return access_at(SYS_AT_FDCWD, a->arg[0], a->arg[1], 0); }

long sys_faccessat(const syscall_args_t *a)
{
    return access_at((int64_t)a->arg[0], a->arg[1], a->arg[2], 0);
}

/* ---- directories -------------------------------------------------------------------- */

static uint8_t dirent_type(vnode_type_t t)
{
    switch (t) {
    case VNODE_DIR: return DT_DIR;
    case VNODE_CHR: return DT_CHR;
    case VNODE_FIFO: return DT_FIFO;
    default: return DT_REG;
    }
}

long sys_getdents64(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    vfs_dirent_t *d = kmalloc(sizeof(*d));
    uint8_t *rec = kmalloc(24 + VFS_NAME_MAX + 1 + 8);
    uint64_t size = a->arg[2], used = 0;
    long r = d && rec ? 0 : -VK_ENOMEM;
    while (!r) {
        uint64_t before = f->offset;
        int got = file_readdir(f, d);
        if (got <= 0) {
            r = got;
            break;
        }
        size_t name_len = strlen(d->name);
        uint16_t reclen = (uint16_t)((19 + name_len + 1 + 7) & ~7ull);
        if (used + reclen > size) {
            f->offset = before; /* this entry goes into the next call */
            r = used ? 0 : -VK_EINVAL;
            break;
        }
        memset(rec, 0, reclen);
        uint64_t off = f->offset;
        memcpy(rec, &d->ino, 8);
        memcpy(rec + 8, &off, 8);
        memcpy(rec + 16, &reclen, 2);
        rec[18] = dirent_type(d->type);
        memcpy(rec + 19, d->name, name_len + 1);
        r = usercopy_to(a->arg[1] + used, rec, reclen);
        used += reclen;
    }
    kfree(d);
    kfree(rec);
    file_unref(f);
    return r < 0 ? r : (long)used;
}

long sys_getcwd(const syscall_args_t *a)
{
    char *buf = kmalloc(VFS_PATH_MAX);
    if (!buf)
        return -VK_ENOMEM;
    vnode_t *cwd = proc_cwd(proc_current());
    long len = vfs_path_of(cwd, buf, VFS_PATH_MAX);
    vnode_unref(cwd);
    if (len >= 0 && (uint64_t)len + 1 > a->arg[1])
        len = -VK_ERANGE;
    if (len >= 0) {
        int err = usercopy_to(a->arg[0], buf, (size_t)len + 1);
        len = err ? err : len + 1;
    }
    kfree(buf);
    return len;
}

static long change_dir(vnode_t *v)
{
    if (v->type != VNODE_DIR) {
        vnode_unref(v);
        return -VK_ENOTDIR;
    }
    proc_set_cwd(proc_current(), v);
    return 0;
}

long sys_chdir(const syscall_args_t *a)
{
    char *path;
    int err = sys_copy_path(a->arg[0], &path);
    if (err)
        return err;
    vnode_t *v, *cwd = proc_cwd(proc_current());
    err = vfs_lookup(cwd, path, &v);
    vnode_unref(cwd);
    kfree(path);
    return err ? err : change_dir(v);
}

long sys_fchdir(const syscall_args_t *a)
{
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r = f->vnode ? change_dir(vnode_ref(f->vnode)) : -VK_ENOTDIR;
    file_unref(f);
    return r;
}

/* ---- changing names ----------------------------------------------------------------- */

static long mkdir_at(int64_t dirfd, uint64_t user_path, uint64_t mode)
{
    char *path;
    vnode_t *at;
    int err = path_args(dirfd, user_path, &path, &at);
    if (err)
        return err;
    err = vfs_mkdir(at, path, (uint32_t)mode & ~__atomic_load_n(&proc_current()->umask, __ATOMIC_RELAXED) & 07777u);
    path_done(path, at);
    return err;
}

long sys_mkdir(const syscall_args_t *a) { return mkdir_at(SYS_AT_FDCWD, a->arg[0], a->arg[1]); }
long sys_mkdirat(const syscall_args_t *a) { return mkdir_at((int64_t)a->arg[0], a->arg[1], a->arg[2]); }

static long unlink_at(int64_t dirfd, uint64_t user_path, bool is_dir)
{
    char *path;
    vnode_t *at;
    int err = path_args(dirfd, user_path, &path, &at);
    if (err)
        return err;
    err = vfs_unlink(at, path, is_dir);
    path_done(path, at);
    return err;
}

long sys_unlink(const syscall_args_t *a) { return unlink_at(SYS_AT_FDCWD, a->arg[0], false); }
long sys_rmdir(const syscall_args_t *a) { return unlink_at(SYS_AT_FDCWD, a->arg[0], true); }

long sys_unlinkat(const syscall_args_t *a)
{
    if (a->arg[2] & ~(uint64_t)AT_REMOVEDIR)
        return -VK_EINVAL;
    return unlink_at((int64_t)a->arg[0], a->arg[1], (a->arg[2] & AT_REMOVEDIR) != 0);
}

static long rename_at(int64_t old_dirfd, uint64_t old_user, int64_t new_dirfd,
                      uint64_t new_user, uint64_t flags)
{
    if (flags & ~(uint64_t)RENAME_NOREPLACE)
        return -VK_EINVAL;
    char *old_path, *new_path;
    vnode_t *old_at, *new_at;
    int err = path_args(old_dirfd, old_user, &old_path, &old_at);
    if (err)
        return err;
    err = path_args(new_dirfd, new_user, &new_path, &new_at);
    if (err) {
        path_done(old_path, old_at);
        return err;
    }
    vnode_t *existing;
    if ((flags & RENAME_NOREPLACE) && !vfs_lookup(new_at, new_path, &existing)) {
        vnode_unref(existing);
        err = -VK_EEXIST;
    }
    if (!err)
        err = vfs_rename(old_at, old_path, new_at, new_path);
    path_done(old_path, old_at);
    path_done(new_path, new_at);
    return err;
}

long sys_rename(const syscall_args_t *a)
{
    return rename_at(SYS_AT_FDCWD, a->arg[0], SYS_AT_FDCWD, a->arg[1], 0);
}

long sys_renameat(const syscall_args_t *a)
{
    return rename_at((int64_t)a->arg[0], a->arg[1], (int64_t)a->arg[2], a->arg[3], 0);
}

long sys_renameat2(const syscall_args_t *a)
{
    return rename_at((int64_t)a->arg[0], a->arg[1], (int64_t)a->arg[2], a->arg[3], a->arg[4]);
}

long sys_truncate(const syscall_args_t *a)
{
    if ((int64_t)a->arg[1] < 0)
        return -VK_EINVAL;
    char *path;
    int err = sys_copy_path(a->arg[0], &path);
    if (err)
        return err;
    vnode_t *v, *cwd = proc_cwd(proc_current());
    err = vfs_lookup(cwd, path, &v);
    vnode_unref(cwd);
    kfree(path);
    if (err)
        return err;
    err = vfs_truncate(v, a->arg[1]);
    vnode_unref(v);
    return err;
}

long sys_ftruncate(const syscall_args_t *a)
{
    if ((int64_t)a->arg[1] < 0)
        return -VK_EINVAL;
    file_t *f = sys_file(a->arg[0]);
    if (!f)
        return -VK_EBADF;
    long r = !f->vnode || (f->flags & VFS_O_ACCMODE) == VFS_O_RDONLY ? -VK_EINVAL
                                                                      : vfs_truncate(f->vnode, a->arg[1]);
    file_unref(f);
    return r;
}

/* /proc/self/exe (and /proc/<own pid>/exe): the one link there is, so programs such
 * as SDL can find their own file. There is no /proc filesystem; only readlink knows. */
static bool is_own_exe_link(const char *path)
{
    static const char prefix[] = "/proc/";
    if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
        return false;
    path += sizeof(prefix) - 1;
    char own[24];
    fmt_snprintf(own, sizeof(own), "%u/exe", proc_current()->pid);
    return strcmp(path, "self/exe") == 0 || strcmp(path, own) == 0;
}

static long readlink_at(int64_t dirfd, uint64_t user_path, uint64_t buf, uint64_t size)
{
    char *path;
    int err = sys_copy_path(user_path, &path);
    if (err)
        return err;
    bool exe = is_own_exe_link(path);
    kfree(path);
    if (exe) {
        if ((int64_t)size <= 0)
            return -VK_EINVAL;
        const char *target = proc_current()->exe;
        size_t n = strlen(target) < size ? strlen(target) : size; /* no NUL, as Linux */
        err = usercopy_to(buf, target, n);
        return err ? err : (long)n;
    }
    vnode_t *v;
    err = lookup_at(dirfd, user_path, &v);
    if (err)
        return err;
    vnode_unref(v);
    return -VK_EINVAL; /* it exists and, with no symbolic links yet, is not one */
}

long sys_readlink(const syscall_args_t *a)
{
    return readlink_at(SYS_AT_FDCWD, a->arg[0], a->arg[1], a->arg[2]);
}

long sys_readlinkat(const syscall_args_t *a)
{
    return readlink_at((int64_t)a->arg[0], a->arg[1], a->arg[2], a->arg[3]);
}

long sys_umask(const syscall_args_t *a)
{
    return __atomic_exchange_n(&proc_current()->umask, (uint32_t)a->arg[0] & 0777u,
                               __ATOMIC_RELAXED);
}
