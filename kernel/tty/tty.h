/* SPDX-License-Identifier: MIT */
/*
 * Terminals: a line discipline between a character device and the programs that read
 * and write it, with the Linux termios interface (docs/tty.md).
 *
 * Input arrives from device interrupts (tty_input), which only queue raw bytes; a
 * worker thread per terminal applies the input modes, echo, line editing (canonical
 * mode) and the signal characters (ISIG: ^C SIGINT, ^\ SIGQUIT, ^Z SIGTSTP to the
 * foreground process group). Programs read finished lines (canonical) or bytes as
 * VMIN/VTIME ask (raw), and their output goes through the output modes (ONLCR) to the
 * device. The terminal belongs to one session at a time (its controlling terminal) and
 * knows that session's foreground process group, as POSIX job control needs.
 *
 * The console terminal (/dev/console, /dev/tty) writes to the serial port and the
 * framebuffer console and reads from the serial port (by interrupt, or polled when the
 * I/O APIC cannot route IRQ 4) and from the keyboard.
 */
#ifndef KERNEL_TTY_TTY_H
#define KERNEL_TTY_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fs/vfs.h"

/* struct termios as the Linux x86-64 kernel copies it (TCGETS/TCSETS). */
#define TTY_NCCS 19
typedef struct {
    uint32_t iflag, oflag, cflag, lflag;
    uint8_t line;
    uint8_t cc[TTY_NCCS];
} tty_termios_t;

/* The flag bits and control-character slots the line discipline acts on. */
#define TTY_ISTRIP 0000040u
#define TTY_INLCR  0000100u
#define TTY_IGNCR  0000200u
#define TTY_ICRNL  0000400u
#define TTY_IXON   0002000u
#define TTY_IUTF8  0040000u
#define TTY_OPOST  0000001u
#define TTY_ONLCR  0000004u
#define TTY_OCRNL  0000010u
#define TTY_ISIG   0000001u
#define TTY_ICANON 0000002u
#define TTY_ECHO   0000010u
#define TTY_ECHOE  0000020u
#define TTY_ECHOK  0000040u
#define TTY_ECHONL 0000100u
#define TTY_NOFLSH 0000200u
#define TTY_TOSTOP 0000400u
#define TTY_ECHOCTL 0001000u
#define TTY_ECHOKE 0004000u
#define TTY_IEXTEN 0100000u
enum {
    TTY_VINTR = 0, TTY_VQUIT = 1, TTY_VERASE = 2, TTY_VKILL = 3, TTY_VEOF = 4,
    TTY_VTIME = 5, TTY_VMIN = 6, TTY_VSUSP = 10, TTY_VEOL = 11, TTY_VREPRINT = 12,
    TTY_VWERASE = 14, TTY_VLNEXT = 15, TTY_VEOL2 = 16,
};

typedef struct tty tty_t;
/* Where a terminal's output goes: the device. Called from thread context only. */
typedef void (*tty_output_t)(tty_t *t, const char *bytes, size_t n);

/* Creates the console terminal and its worker; routes the serial port's receive
 * interrupt to it. Once, after the scheduler and the I/O APIC are up. */
void tty_init(void);
/* The console terminal (NULL before tty_init). */
tty_t *tty_console(void);
/* Bytes typed on the console's input devices (the keyboard sink). Interrupt context. */
void tty_console_input(const char *bytes, size_t n);

/* A terminal with its own worker thread, for other devices and for tests. */
tty_t *tty_create(const char *name, tty_output_t output, void *device);
/* Stops the worker and frees t (tests). Nobody may use it any more. */
void tty_destroy(tty_t *t);
void *tty_device(tty_t *t);
/* Queues raw input bytes (from any context; bytes beyond the raw queue are dropped
 * and counted) and wakes the worker. */
void tty_input(tty_t *t, const char *bytes, size_t n);
/* Waits until the worker has processed every byte queued so far (tests). */
void tty_drain_input(tty_t *t);

/* What file descriptors on a terminal use: private is the tty_t. */
extern const file_ops_t tty_file_ops;
/* /dev/tty: opens the calling process's controlling terminal (ENXIO without one). */
extern const file_ops_t tty_controlling_ops;
/* The same operations for kernel callers (the monitor, tests). nonblock: EAGAIN
 * rather than waiting. */
long tty_read(tty_t *t, vfs_buf_t buf, size_t len, bool nonblock);
long tty_write(tty_t *t, vfs_buf_t buf, size_t len);
void tty_get_termios(tty_t *t, tty_termios_t *out);
/* The terminal ioctls (termios, window size, job control) on t. */
long tty_ioctl(tty_t *t, uint64_t request, uint64_t arg);
/* The device behind t is gone (a pseudo-terminal's master closed): reads return end
 * of file, writes fail with EIO, and the session hears SIGHUP (its leader, and the
 * foreground group with SIGCONT) and loses t as its controlling terminal. */
void tty_hangup(tty_t *t);

/* Pseudo-terminals (pty.c): opening /dev/ptmx makes a pair, a master file whose reads
 * are what programs write to the slave /dev/pts/N and whose writes are typed on it. */
extern const file_ops_t pty_ptmx_ops;
/* Called once by devfs with its /dev/pts directory (a reference kept for good). */
void pty_init(vnode_t *pts_dir);
void tty_set_termios(tty_t *t, const tty_termios_t *in);

/* Sessions (kernel/proc calls these). The first process becomes the session leader
 * of the console with it as its controlling terminal. */
void tty_set_session(tty_t *t, uint32_t sid, uint32_t foreground_pgid);
/* The leader of session sid ended: when t is its controlling terminal, the foreground
 * group gets SIGHUP and SIGCONT and t has no session any more. */
void tty_session_ended(tty_t *t, uint32_t sid);

typedef struct {
    uint64_t input_bytes, dropped_bytes, signals_sent, lines;
    uint32_t sid, foreground_pgid;
} tty_stats_t;
void tty_get_stats(tty_t *t, tty_stats_t *out);

#endif
