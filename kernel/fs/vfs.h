/* SPDX-License-Identifier: MIT */
/*
 * The VFS: vnodes, mounts, path walk, open file descriptions, per-process descriptor
 * tables, pipes and poll. docs/storage.md ("The VFS") explains the design; in short:
 *
 *  - A vnode is one file, directory or device of some filesystem, reference-counted.
 *    Filesystems implement vnode_ops_t; the VFS never looks inside vnode->data.
 *  - A file (file_t) is an open file description: a vnode or a pipe end, the open
 *    flags and the offset. dup() and fork() share it; close() drops one reference.
 *  - A descriptor table (fdtable_t) maps small integers to files with a close-on-exec
 *    bit each. Each process has one.
 *  - Path walk follows mounts in both directions; "." and ".." are resolved by the VFS
 *    (directories remember their parent), so filesystems only look up real names.
 *
 * Errors are negative VK_E* values. Data moves through vfs_buf_t, which names either a
 * kernel or a user buffer, so one read/write path serves syscalls and the kernel itself
 * (exec reading a program); user memory is only touched through mm/usercopy.h.
 */
#ifndef KERNEL_FS_VFS_H
#define KERNEL_FS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/spinlock.h"
#include "sched/sched.h"

#define VFS_NAME_MAX 255  /* one path component, bytes */
#define VFS_PATH_MAX 4096 /* a whole path, bytes including the NUL */

/* ---- buffers ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *kernel; /* a kernel buffer, or NULL */
    uint64_t user;   /* else a user address */
} vfs_buf_t;

static inline vfs_buf_t vfs_kbuf(void *p) { return (vfs_buf_t){ (uint8_t *)p, 0 }; }
static inline vfs_buf_t vfs_ubuf(uint64_t u) { return (vfs_buf_t){ NULL, u }; }
/* Copy n bytes into / out of the buffer at byte offset off: 0 or -VK_EFAULT. */
int vfs_buf_put(vfs_buf_t b, size_t off, const void *src, size_t n);
int vfs_buf_get(void *dst, vfs_buf_t b, size_t off, size_t n);
int vfs_buf_zero(vfs_buf_t b, size_t off, size_t n);

/* ---- vnodes ------------------------------------------------------------------------- */

typedef enum {
    VNODE_REG = 1,
    VNODE_DIR = 2,
    VNODE_CHR = 3,
    VNODE_FIFO = 4,
} vnode_type_t;

typedef struct vnode vnode_t;
typedef struct file file_t;
typedef struct mount mount_t;

/* What stat reports; the syscall layer turns it into struct stat / statx. */
typedef struct {
    uint64_t dev, ino, nlink, size, blocks, rdev;
    uint32_t mode; /* S_IF* type bits and permissions */
    uint64_t atime_ns, mtime_ns, ctime_ns;
} vfs_stat_t;

typedef struct {
    uint64_t ino;
    vnode_type_t type;
    char name[VFS_NAME_MAX + 1];
} vfs_dirent_t;

/* Calls the VFS makes on a filesystem. Names are NUL-terminated single components,
 * never "." or "..". Each call that returns a vnode returns a new reference. The
 * VFS holds the filesystem's mount lock around every call (see mount_t), so a simple
 * filesystem needs no locking of its own. NULL entries mean "not supported"
 * (-VK_EPERM / -VK_EINVAL / -VK_ENOTDIR as fits). */
typedef struct {
    int (*lookup)(vnode_t *dir, const char *name, vnode_t **out);
    int (*create)(vnode_t *dir, const char *name, vnode_type_t type, uint32_t mode,
                  vnode_t **out);
    int (*unlink)(vnode_t *dir, const char *name, bool is_dir); /* rmdir when is_dir */
    /* Replaces an existing target of the same kind (an empty directory for a directory). */
    int (*rename)(vnode_t *old_dir, const char *old_name, vnode_t *new_dir,
                  const char *new_name);
    long (*read)(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len);
    long (*write)(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len);
    int (*truncate)(vnode_t *v, uint64_t size);
    /* Next entry at *cookie (0 = first): 1 and advances *cookie, 0 at the end, or <0. */
    int (*readdir)(vnode_t *dir, uint64_t *cookie, vfs_dirent_t *out);
    int (*getattr)(vnode_t *v, vfs_stat_t *st);
    int (*sync)(vnode_t *v);
    /* Character devices: set f->ops (and f->private) for the new open file. */
    int (*open)(vnode_t *v, file_t *f);
    /* The last reference went away. Called WITHOUT the mount lock (a filesystem may
     * drop references inside its own calls); take it if the release needs it. */
    void (*release)(vnode_t *v);
} vnode_ops_t;

struct vnode {
    uint32_t refs;             /* atomic */
    vnode_type_t type;
    const vnode_ops_t *ops;
    mount_t *mount;            /* the filesystem instance this vnode belongs to */
    void *data;                /* the filesystem's */
    /* Directories only, set by the VFS: the parent (a reference), and the root of a
     * filesystem mounted on this directory (guarded by the mount table lock). */
    vnode_t *parent;
    mount_t *mounted;
};

/* Filesystems call this for each new vnode (refs = 1). */
void vnode_init(vnode_t *v, vnode_type_t type, const vnode_ops_t *ops, mount_t *m, void *data);
vnode_t *vnode_ref(vnode_t *v);
void vnode_unref(vnode_t *v);

/* ---- mounts --------------------------------------------------------------------- */

struct mount {
    char fs_name[16];          /* "ramfs", "devfs", "fat32" */
    vnode_t *root;
    vnode_t *covered;          /* the directory this is mounted on; NULL for "/" */
    uint64_t dev;              /* st_dev of everything on it */
    sched_mutex_t lock;        /* held around every vnode_ops_t call */
    bool read_only;
    void *fs_private;          /* the filesystem's per-instance state */
    mount_t *next;
};

/* Creates a mount for a filesystem instance whose root the caller makes next. */
mount_t *vfs_mount_new(const char *fs_name, bool read_only);
/* Attaches m at path ("/" for the root, once). 0 or -VK_E*. */
int vfs_mount_at(mount_t *m, const char *path);
/* Makes m (not mounted anywhere yet) the root in place of the boot ramfs. Mounts on the
 * old root stay where they were until vfs_move_mount moves them; call it only at boot,
 * before any process has a working directory. */
void vfs_set_root(mount_t *m);
/* Moves mounted m from the directory it covers to the directory at path. 0 (also when m
 * is already what path names), or -VK_E* (EBUSY when something is mounted there). */
int vfs_move_mount(mount_t *m, const char *path);
vnode_t *vfs_root(void);

/* ---- path walk ------------------------------------------------------------------- */

/* Resolves path (absolute, or relative to `at`, which may be NULL for the root) to a
 * vnode reference. */
int vfs_lookup(vnode_t *at, const char *path, vnode_t **out);
/* Resolves all but the last component: the parent directory (a reference) and the
 * last name (copied into name[VFS_NAME_MAX + 1]). Trailing slashes are ignored. A
 * last component of "." or ".." (or the path "/") gives -VK_EINVAL. */
int vfs_lookup_parent(vnode_t *at, const char *path, vnode_t **dir, char *name);

int vfs_getattr(vnode_t *v, vfs_stat_t *st);
int vfs_mkdir(vnode_t *at, const char *path, uint32_t mode);
int vfs_unlink(vnode_t *at, const char *path, bool is_dir);
int vfs_rename(vnode_t *at_old, const char *old_path, vnode_t *at_new, const char *new_path);
int vfs_truncate(vnode_t *v, uint64_t size);
/* Writes v's (or every filesystem's) changes to its device. 0 or -VK_EIO. */
int vfs_sync(vnode_t *v);
void vfs_sync_all(void);
/* Reads/writes a vnode directly (kernel use: exec, tests). */
long vfs_read_vnode(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len);
long vfs_write_vnode(vnode_t *v, uint64_t offset, vfs_buf_t buf, size_t len);
/* Absolute path of directory v into buf: its length, or -VK_ERANGE. */
long vfs_path_of(vnode_t *v, char *buf, size_t size);

/* ---- open files ------------------------------------------------------------------ */

/* Open flags as Linux x86-64 defines them. */
#define VFS_O_ACCMODE   03
#define VFS_O_RDONLY    00
#define VFS_O_WRONLY    01
#define VFS_O_RDWR      02
#define VFS_O_CREAT     0100
#define VFS_O_EXCL      0200
#define VFS_O_NOCTTY    0400
#define VFS_O_TRUNC     01000
#define VFS_O_APPEND    02000
#define VFS_O_NONBLOCK  04000
#define VFS_O_DIRECTORY 0200000
#define VFS_O_NOFOLLOW  0400000
#define VFS_O_CLOEXEC   02000000
#define VFS_O_PATH      010000000

/* poll events. */
#define VFS_POLLIN   0x001
#define VFS_POLLPRI  0x002
#define VFS_POLLOUT  0x004
#define VFS_POLLERR  0x008
#define VFS_POLLHUP  0x010
#define VFS_POLLNVAL 0x020

typedef struct {
    /* A device node is being opened: f->private is the node's; the hook may replace
     * f->private and f->ops (/dev/ptmx makes a new terminal pair). An error fails the
     * open (close is not called then). NULL: nothing to do. */
    int (*open)(file_t *f);
    /* offset: the file position to use and advance (NULL for pread/pwrite-less
     * streams that ignore it). */
    long (*read)(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset);
    long (*write)(file_t *f, vfs_buf_t buf, size_t len, uint64_t *offset);
    /* Ready events now (VFS_POLL*); never blocks. NULL: always readable and writable. */
    unsigned (*poll)(file_t *f);
    long (*ioctl)(file_t *f, uint64_t request, uint64_t arg);
    /* The last reference to the file went away. */
    void (*close)(file_t *f);
    bool seekable;
    bool poll_by_timer; /* poll state changes without vfs_poll_notify: re-check often */
} file_ops_t;

struct file {
    uint32_t refs;          /* atomic */
    uint32_t flags;         /* VFS_O_* status and access mode (CLOEXEC lives in the fd) */
    const file_ops_t *ops;
    vnode_t *vnode;         /* NULL for pipes */
    void *private;          /* the ops' own */
    sched_mutex_t pos_lock; /* serialises read/write/lseek that use offset */
    uint64_t offset;
};

/* Opens path relative to `at` with VFS_O_* flags and a creation mode. */
int vfs_open(vnode_t *at, const char *path, uint32_t flags, uint32_t mode, file_t **out);
/* A file on an existing vnode (takes a new reference on v). */
int vfs_open_vnode(vnode_t *v, uint32_t flags, file_t **out);
/* A file with its own ops and no vnode (pipes, devices). refs = 1. */
file_t *file_new(const file_ops_t *ops, uint32_t flags, void *private);
file_t *file_ref(file_t *f);
void file_unref(file_t *f);
long file_read(file_t *f, vfs_buf_t buf, size_t len);
long file_write(file_t *f, vfs_buf_t buf, size_t len);
long file_pread(file_t *f, vfs_buf_t buf, size_t len, uint64_t offset);
long file_pwrite(file_t *f, vfs_buf_t buf, size_t len, uint64_t offset);
/* whence: 0 SEEK_SET, 1 SEEK_CUR, 2 SEEK_END. The new offset or -VK_E*. */
long file_seek(file_t *f, int64_t offset, int whence);
unsigned file_poll(file_t *f);
long file_ioctl(file_t *f, uint64_t request, uint64_t arg);
/* Next directory entry of an open directory: 1, 0 at the end, or <0. */
int file_readdir(file_t *f, vfs_dirent_t *out);

/* ---- descriptor tables -------------------------------------------------------------- */

#define FDTABLE_MAX 256 /* descriptors per process (RLIMIT_NOFILE) */

typedef struct fdtable fdtable_t;

fdtable_t *fdtable_new(void);
/* A copy sharing every open file (fork). NULL when out of memory. */
fdtable_t *fdtable_clone(fdtable_t *t);
void fdtable_free(fdtable_t *t);
/* Installs f at the lowest free descriptor >= min; takes over the caller's reference
 * on success. The descriptor or -VK_EMFILE. */
int fdtable_install(fdtable_t *t, file_t *f, int min, bool cloexec);
/* Puts f at exactly fd, closing what was there (dup2). Takes over the reference. */
int fdtable_install_at(fdtable_t *t, int fd, file_t *f, bool cloexec);
/* A new reference to the file at fd, or NULL (EBADF). */
file_t *fdtable_get(fdtable_t *t, int fd);
int fdtable_close(fdtable_t *t, int fd);
int fdtable_get_cloexec(fdtable_t *t, int fd);        /* 0/1 or -VK_EBADF */
int fdtable_set_cloexec(fdtable_t *t, int fd, bool on);
/* Closes every close-on-exec descriptor (execve). */
void fdtable_close_on_exec(fdtable_t *t);

/* ---- pipes ---------------------------------------------------------------------- */

#define PIPE_BUF_BYTES 4096    /* writes up to this size are atomic (POSIX PIPE_BUF) */
#define PIPE_CAPACITY  65536   /* bytes buffered before writers block */

/* A new pipe: ends[0] reads, ends[1] writes. flags: VFS_O_NONBLOCK. */
int pipe_create(uint32_t flags, file_t *ends[2]);

/* ---- poll ------------------------------------------------------------------------ */

/* Anything that can change a file's poll state calls this afterwards; pollers wake and
 * re-check. (One global queue: simple, and there are few pollers.) */
void vfs_poll_notify(void);
/* The current poll generation, and a wait until it moves past `seen` or the deadline
 * (time_monotonic_ns; SCHED_WAIT_FOREVER) passes or a signal interrupts: 0,
 * -VK_ETIMEDOUT or -VK_EINTR. */
uint64_t vfs_poll_generation(void);
int vfs_poll_wait(uint64_t seen, uint64_t deadline_ns);

/* ---- boot ------------------------------------------------------------------------ */

/* Mounts a ramfs as "/", with read-only ramfs mounts of the boot modules on /bin
 * (programs) and /boot/modules, a ramfs on /tmp, devfs on /dev and KObj on /kobj. Call
 * once, after the heap and scheduler. */
void vfs_init(void);
/* Once the block devices exist: makes the boot disk's GPT partition named "vkernel data"
 * (FAT32) the root, with the mounts above moved onto it, and mounts the EFI system
 * partition on /boot (with /boot/modules on top). Without a data partition that mounts,
 * the ramfs stays the root (logged). Runs before any process exists. */
void vfs_mount_disks(void);
/* Before power-off or reboot: every filesystem written out and marked clean. */
void vfs_shutdown(void);

#endif
