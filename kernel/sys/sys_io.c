/* SPDX-License-Identifier: MIT */
/*
 * I/O syscalls. Until the VFS exists (issue: storage) a process has exactly three file
 * descriptors, 0, 1 and 2, all on the kernel console: writes go to every console route,
 * reads take bytes from the serial port. Other descriptors are EBADF; open finds no
 * files (ENOENT).
 */
#include "sys/syscall.h"
#include "proc/proc.h"
#include "mm/usercopy.h"
#include "core/log.h"
#include "core/string.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "sched/sched.h"

#define CHUNK 256
#define IOV_MAX 1024
#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

static bool console_fd(uint64_t fd)
{
    return fd < 3 && (proc_current()->console_fds & (1u << fd));
}

static long console_write(uint64_t buf, uint64_t len)
{
    char chunk[CHUNK + 1];
    uint64_t done = 0;
    while (done < len) {
        size_t n = len - done < CHUNK ? len - done : CHUNK;
        int err = usercopy_from(chunk, buf + done, n);
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

long sys_write(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    if (a->arg[2] > (1ull << 31))
        return -VK_EINVAL;
    return console_write(a->arg[1], a->arg[2]);
}

long sys_writev(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    if (a->arg[2] > IOV_MAX)
        return -VK_EINVAL;
    long total = 0;
    for (uint64_t i = 0; i < a->arg[2]; i++) {
        uint64_t iov[2];
        int err = usercopy_from(iov, a->arg[1] + 16 * i, sizeof(iov));
        if (err)
            return total ? total : err;
        long n = console_write(iov[0], iov[1]);
        if (n < 0)
            return total ? total : n;
        total += n;
    }
    return total;
}

long sys_read(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    if (a->arg[2] == 0)
        return 0;
    /* Block until at least one byte arrives, then take what is there. */
    /* FIXME(issue: shell): an interrupt-driven tty instead of polling every 5 ms. */
    int c;
    while ((c = serial_read_byte()) < 0)
        sched_sleep_ns(5000000ull);
    char buf[CHUNK];
    size_t n = 0;
    do {
        buf[n++] = (char)(c == '\r' ? '\n' : c);
    } while (n < a->arg[2] && n < sizeof(buf) && (c = serial_read_byte()) >= 0);
    int err = usercopy_to(a->arg[1], buf, n);
    return err ? err : (long)n;
}

long sys_readv(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    if (a->arg[2] == 0)
        return 0;
    uint64_t iov[2];
    int err = usercopy_from(iov, a->arg[1], sizeof(iov));
    if (err)
        return err;
    syscall_args_t one = { { a->arg[0], iov[0], iov[1], 0, 0, 0 }, a->frame };
    return sys_read(&one);
}

long sys_close(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    proc_current()->console_fds &= (uint8_t)~(1u << a->arg[0]);
    return 0;
}

long sys_open(const syscall_args_t *a)
{
    char path[256];
    long len = usercopy_strncpy_from(path, a->arg[0], sizeof(path));
    if (len < 0)
        return len;
    return -VK_ENOENT; /* FIXME(issue: storage): the VFS */
}

long sys_openat(const syscall_args_t *a)
{
    syscall_args_t shifted = { { a->arg[1], a->arg[2], a->arg[3], 0, 0, 0 }, a->frame };
    return sys_open(&shifted);
}

long sys_ioctl(const syscall_args_t *a)
{
    if (!console_fd(a->arg[0]))
        return -VK_EBADF;
    switch (a->arg[1]) {
    case TIOCGWINSZ: {
        unsigned cols = 80, rows = 25;
        if (fbcon_ready())
            fbcon_size(&cols, &rows);
        uint16_t ws[4] = { (uint16_t)rows, (uint16_t)cols, 0, 0 };
        return usercopy_to(a->arg[2], ws, sizeof(ws));
    }
    case TCGETS: {
        /* struct termios as the kernel sees it: 4 flag words, c_line, 19 c_cc. */
        uint8_t t[36];
        memset(t, 0, sizeof(t));
        uint32_t iflag = 0x500 /* ICRNL|IXON */, oflag = 0x5 /* OPOST|ONLCR */,
                 cflag = 0xbf /* B38400|CS8|CREAD */, lflag = 0x8a3b /* ISIG|ICANON|ECHO.. */;
        memcpy(t, &iflag, 4);
        memcpy(t + 4, &oflag, 4);
        memcpy(t + 8, &cflag, 4);
        memcpy(t + 12, &lflag, 4);
        return usercopy_to(a->arg[2], t, sizeof(t));
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF:
    case TIOCSWINSZ:
        return 0; /* FIXME(issue: shell): a real tty with line discipline */
    default:
        return -VK_ENOTTY;
    }
}
