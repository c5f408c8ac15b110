/* SPDX-License-Identifier: MIT */
/*
 * devfs: /dev as a ramfs whose entries are character devices.
 *
 *   null     reads end of file, writes vanish
 *   zero     reads zeros, writes vanish
 *   full     reads zeros, writes fail with ENOSPC
 *   random, urandom   the kernel generator (core/random.h)
 *   console, tty      the kernel console: writes go to every console route (serial,
 *                     framebuffer, log ring), reads take bytes from the serial port
 *
 * FIXME(issue: shell): the console becomes a real tty with a line discipline, job
 * control and keyboard input; today termios calls are accepted and ignored.
 */
#include "fs/fs_internal.h"
#include "core/log.h"
#include "core/random.h"
#include "core/string.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "time/time.h"
#include <vk/errno.h>

#define CHUNK 256
#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define CONSOLE_POLL_NS 5000000ull /* serial input is polled (no UART interrupt yet) */

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

/* ---- console ---------------------------------------------------------------------- */

static long console_write(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    char chunk[CHUNK + 1];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < CHUNK ? len - done : CHUNK;
        int err = vfs_buf_get(chunk, buf, done, n);
        if (err)
            return done ? (long)done : err;
        chunk[n] = 0;
        /* log_puts stops at NUL: write binary-safe in NUL-free pieces. */
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && chunk[j])
                j++;
            chunk[j] = 0;
            log_puts(chunk + i);
            i = j + 1;
        }
        done += n;
    }
    return (long)done;
}

static long console_read(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    if (len == 0)
        return 0;
    /* Block until at least one byte arrives, then take what is there. */
    int c;
    while ((c = serial_read_byte()) < 0) {
        if (f->flags & VFS_O_NONBLOCK)
            return -VK_EAGAIN;
        if (sched_sleep_interruptible(time_monotonic_ns() + CONSOLE_POLL_NS))
            return -VK_EINTR;
    }
    char chunk[CHUNK];
    size_t n = 0;
    do {
        chunk[n++] = (char)(c == '\r' ? '\n' : c);
    } while (n < len && n < sizeof(chunk) && (c = serial_read_byte()) >= 0);
    int err = vfs_buf_put(buf, 0, chunk, n);
    return err ? err : (long)n;
}

static unsigned console_poll(file_t *f)
{
    return VFS_POLLOUT | (serial_input_ready() ? VFS_POLLIN : 0);
}

static long console_ioctl(file_t *f, uint64_t request, uint64_t arg)
{
    switch (request) {
    case TIOCGWINSZ: {
        unsigned cols = 80, rows = 25;
        if (fbcon_ready())
            fbcon_size(&cols, &rows);
        uint16_t ws[4] = { (uint16_t)rows, (uint16_t)cols, 0, 0 };
        return vfs_buf_put(vfs_ubuf(arg), 0, ws, sizeof(ws));
    }
    case TCGETS: {
        /* struct termios as the kernel sees it: 4 flag words, c_line, 19 c_cc. */
        uint8_t t[36];
        memset(t, 0, sizeof(t));
        uint32_t flags[4] = { 0x500 /* ICRNL|IXON */, 0x5 /* OPOST|ONLCR */,
                              0xbf /* B38400|CS8|CREAD */, 0x8a3b /* ISIG|ICANON|ECHO.. */ };
        memcpy(t, flags, sizeof(flags));
        return vfs_buf_put(vfs_ubuf(arg), 0, t, sizeof(t));
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TIOCSWINSZ:
        return 0; /* FIXME(issue: shell): a real tty with a line discipline */
    default:
        return -VK_ENOTTY;
    }
}

static const file_ops_t console_ops = {
    .read = console_read, .write = console_write, .poll = console_poll,
    .ioctl = console_ioctl, .poll_by_timer = true,
};

/* ---- the tree --------------------------------------------------------------------- */

static const struct {
    const char *name;
    const file_ops_t *ops;
    uint32_t mode;
} devices[] = {
    { "null", &null_ops, 0666 },       { "zero", &zero_ops, 0666 },
    { "full", &full_ops, 0666 },       { "random", &random_ops, 0666 },
    { "urandom", &random_ops, 0666 },  { "console", &console_ops, 0620 },
    { "tty", &console_ops, 0666 },
};

int devfs_mount(const char *path)
{
    mount_t *m = ramfs_create("devfs", true);
    if (!m)
        return -VK_ENOMEM;
    for (unsigned i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
        int err = ramfs_add_device(m->root, devices[i].name, devices[i].ops, NULL,
                                   devices[i].mode);
        if (err)
            return err;
    }
    return vfs_mount_at(m, path);
}
