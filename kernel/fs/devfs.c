/* SPDX-License-Identifier: MIT */
/*
 * devfs: /dev as a ramfs whose entries are character devices.
 *
 *   null     reads end of file, writes vanish
 *   zero     reads zeros, writes vanish
 *   full     reads zeros, writes fail with ENOSPC
 *   random, urandom   the kernel generator (core/random.h)
 *   console           the console terminal (kernel/tty): the serial port and the
 *                     framebuffer out, the serial port and the keyboard in, through a
 *                     line discipline with termios and job control
 *   tty               the opening process's controlling terminal
 *   ptmx, pts/N       pseudo-terminals (kernel/tty/pty.c): each open of ptmx makes a
 *                     master and its slave pts/N
 */
#include "fs/fs_internal.h"
#include "core/log.h"
#include "core/random.h"
#include "core/string.h"
#include "tty/tty.h"
#include <vk/errno.h>

#define CHUNK 256

/* ---- null, zero, full, random ---------------------------------------------------- */

static long read_nothing(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    return 0;
}

static long write_anything(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    return (long)len;
}

static long write_full(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    return -VK_ENOSPC;
}

static long read_zeros(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    int err = vfs_buf_zero(buf, 0, len);
    return err ? err : (long)len;
}

static long read_random(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    uint8_t chunk[CHUNK];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < CHUNK ? len - done : CHUNK;
        random_bytes(chunk, n);
        int err = vfs_buf_put(buf, done, chunk, n);
        if (err)
            return done ? (long)done : err;
        done += n;
    }
    return (long)done;
}

static const file_ops_t null_ops = { .read = read_nothing, .write = write_anything };
static const file_ops_t zero_ops = { .read = read_zeros, .write = write_anything };
static const file_ops_t full_ops = { .read = read_zeros, .write = write_full };
static const file_ops_t random_ops = { .read = read_random, .write = write_anything };

/* ---- the tree --------------------------------------------------------------------- */

static const struct {
    const char *name;
    const file_ops_t *ops;
    uint32_t mode;
} devices[] = {
    { "null", &null_ops, 0666 },       { "zero", &zero_ops, 0666 },
    { "full", &full_ops, 0666 },       { "random", &random_ops, 0666 },
    { "urandom", &random_ops, 0666 },  { "console", &tty_file_ops, 0620 },
    { "tty", &tty_controlling_ops, 0666 }, { "ptmx", &pty_ptmx_ops, 0666 },
};

int devfs_mount(const char *path)
{
    mount_t *m = ramfs_create("devfs", true);
    if (!m)
        return -VK_ENOMEM;
    for (unsigned i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        /* The terminals' private data is their tty_t; without one (no memory at boot)
         * they are left out rather than half there. */
        void *private = devices[i].ops == &tty_file_ops ? tty_console() : NULL;
        if (devices[i].ops == &tty_file_ops && !private)
            continue;
        int err = ramfs_add_device(m->root, devices[i].name, devices[i].ops, private,
                                   devices[i].mode);
        if (err)
            return err;
    }
    vnode_t *pts;
    int err = ramfs_add_dir(m->root, "pts", &pts);
    if (err)
        return err;
    pty_init(pts); /* keeps the reference */
    return vfs_mount_at(m, path);
}
