/* SPDX-License-Identifier: MIT */
/*
 * The line discipline (tty.h, docs/tty.md).
 *
 * Three queues, each with its own owner:
 *   raw    bytes from the device's interrupt, guarded by raw_lock (taken with
 *          interrupts off); the worker thread empties it;
 *   edit   the line being typed in canonical mode, guarded by lock;
 *   ready  what read() may return, guarded by lock. In canonical mode `delims` marks
 *          where each finished line ends (absolute positions in the ready stream); an
 *          end-of-file (VEOF on an empty line) is a line of length zero.
 * Echo is made by the worker under lock into its own buffer and written to the device
 * after lock is dropped, so the device (which may be slow: the framebuffer) is never
 * driven with a spinlock held. Signals are sent after lock is dropped too.
 */
#include "tty/tty_internal.h"
#include "proc/proc.h"
#include "proc/signal.h"
#include "sched/sched.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "core/log.h"
#include "mm/mm.h"
#include "time/time.h"
#include <vk/errno.h>

#define COPY_CHUNK 512
#define WORKER_PRIORITY 104 /* interactive class, ahead of ordinary threads */

#define SIGHUP  1
#define SIGINT  2
#define SIGQUIT 3
#define SIGCONT 18
#define SIGTSTP 20
#define SIGTTIN 21
#define SIGTTOU 22
#define SIG_IGN_HANDLER 1
#define SIGWINCH 28

#define TCGETS     0x5401
#define TCSETS     0x5402
#define TCSETSW    0x5403
#define TCSETSF    0x5404
#define TCSBRK     0x5409
#define TCXONC     0x540a
#define TCFLSH     0x540b
#define TIOCSCTTY  0x540e
#define TIOCGPGRP  0x540f
#define TIOCSPGRP  0x5410
#define TIOCOUTQ   0x5411
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414
#define FIONREAD   0x541b
#define TIOCNOTTY  0x5422
#define TIOCGSID   0x5429


static const tty_termios_t default_termios = {
    .iflag = TTY_ICRNL | TTY_IXON | TTY_IUTF8,
    .oflag = TTY_OPOST | TTY_ONLCR,
    .cflag = 0000277, /* B38400 | CS8 | CREAD */
    .lflag = TTY_ISIG | TTY_ICANON | TTY_ECHO | TTY_ECHOE | TTY_ECHOK | TTY_ECHOCTL |
             TTY_ECHOKE | TTY_IEXTEN,
    .cc = { [TTY_VINTR] = 3, [TTY_VQUIT] = 0x1c, [TTY_VERASE] = 0x7f, [TTY_VKILL] = 0x15,
            [TTY_VEOF] = 4, [TTY_VTIME] = 0, [TTY_VMIN] = 1, [8] = 0x11, [9] = 0x13,
            [TTY_VSUSP] = 0x1a, [TTY_VREPRINT] = 0x12, [13] = 0x0f, [TTY_VWERASE] = 0x17,
            [TTY_VLNEXT] = 0x16 },
};

/* ---- output ----------------------------------------------------------------------- */

/* Applies the output modes to src; returns the bytes used from src (out fills up). */
static size_t output_process(const tty_termios_t *tm, const char *src, size_t n, char *out,
                             size_t out_size, size_t *out_len)
{
    size_t used = 0, len = 0;
    bool post = tm->oflag & TTY_OPOST;
    while (used < n && len + 2 <= out_size) {
        char c = src[used++];
        if (post && c == '\n' && (tm->oflag & TTY_ONLCR))
            out[len++] = '\r';
        else if (post && c == '\r' && (tm->oflag & TTY_OCRNL))
            c = '\n';
        out[len++] = c;
    }
    *out_len = len;
    return used;
}

static void device_write(tty_t *t, const char *s, size_t n)
{
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    char out[2 * COPY_CHUNK];
    sched_mutex_lock(&t->output_lock);
    while (n) {
        size_t len;
        size_t used = output_process(&tm, s, n, out, sizeof(out), &len);
        t->output(t, out, len);
        s += used;
        n -= used;
    }
    sched_mutex_unlock(&t->output_lock);
}

/* ---- input: the worker's side ----------------------------------------------------- */

static void echo_bytes(tty_t *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n && t->echo_len < ECHO_SIZE; i++)
        t->echo[t->echo_len++] = s[i];
}

static bool is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
}

/* Echo of one typed byte: control bytes as ^X when ECHOCTL asks. */
static void echo_char(tty_t *t, unsigned char c)
{
    if (!(t->termios.lflag & TTY_ECHO))
        return;
    if (is_control(c) && (t->termios.lflag & TTY_ECHOCTL)) {
        char two[2] = { '^', (char)(c ^ 0x40) };
        echo_bytes(t, two, 2);
    } else {
        echo_bytes(t, (const char *)&c, 1);
    }
}

/* Screen columns the echo of c took. */
static unsigned echo_width(const tty_t *t, unsigned char c)
{
    if (is_control(c) && (t->termios.lflag & TTY_ECHOCTL))
        return 2;
    if ((t->termios.iflag & TTY_IUTF8) && (c & 0xc0) == 0x80)
        return 0; /* a UTF-8 continuation byte: its character counted once */
    return 1;
}

/* Removes the last character (all bytes of a UTF-8 one) from the line, rubbing it out
 * on the screen when ECHOE asks. */
static void erase_char(tty_t *t)
{
    if (!t->edit_len)
        return;
    unsigned columns = 0;
    unsigned char c;
    do {
        c = (unsigned char)t->edit[--t->edit_len];
        columns += echo_width(t, c);
    } while (t->edit_len && (t->termios.iflag & TTY_IUTF8) && (c & 0xc0) == 0x80);
    if ((t->termios.lflag & (TTY_ECHO | TTY_ECHOE)) == (TTY_ECHO | TTY_ECHOE))
        while (columns--)
            echo_bytes(t, "\b \b", 3);
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static void erase_word(tty_t *t)
{
    while (t->edit_len && is_space(t->edit[t->edit_len - 1]))
        erase_char(t);
    while (t->edit_len && !is_space(t->edit[t->edit_len - 1]))
        erase_char(t);
}

static size_t ready_count(const tty_t *t) { return (size_t)(t->ready_in - t->ready_out); }

static void ready_put(tty_t *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        t->ready[(t->ready_in + i) % READY_SIZE] = s[i];
    t->ready_in += n;
}

/* Moves the edited line (and its end) to the ready queue. A line that does not fit is
 * dropped and counted: the reader is behind by more than a screenful. */
static void finish_line(tty_t *t)
{
    if (ready_count(t) + t->edit_len > READY_SIZE || t->delim_count == DELIM_MAX) {
        t->stats.dropped_bytes += t->edit_len;
    } else {
        ready_put(t, t->edit, t->edit_len);
        t->delims[(t->delim_first + t->delim_count++) % DELIM_MAX] = t->ready_in;
        t->stats.lines++;
    }
    t->edit_len = 0;
}

static void flush_input_locked(tty_t *t)
{
    t->edit_len = 0;
    t->ready_out = t->ready_in;
    t->delim_count = 0;
}

static bool is_char(const tty_t *t, unsigned char c, int slot)
{
    return t->termios.cc[slot] && c == t->termios.cc[slot]; /* 0 disables a slot */
}

/* One input byte through the discipline. Returns a signal for the foreground group,
 * or 0. */
static int receive_byte(tty_t *t, unsigned char c)
{
    const tty_termios_t *tm = &t->termios;
    uint32_t lflag = tm->lflag;
    if (tm->iflag & TTY_ISTRIP)
        c &= 0x7f;
    if (c == '\r') {
        if (tm->iflag & TTY_IGNCR)
            return 0;
        if (tm->iflag & TTY_ICRNL)
            c = '\n';
    } else if (c == '\n' && (tm->iflag & TTY_INLCR)) {
        c = '\r';
    }
    if (t->literal_next) {
        t->literal_next = false;
    } else {
        if ((lflag & TTY_IEXTEN) && is_char(t, c, TTY_VLNEXT) && (lflag & TTY_ICANON)) {
            t->literal_next = true;
            return 0;
        }
        if (lflag & TTY_ISIG) {
            int sig = is_char(t, c, TTY_VINTR) ? SIGINT : is_char(t, c, TTY_VQUIT) ? SIGQUIT
                    : is_char(t, c, TTY_VSUSP) ? SIGTSTP : 0;
            if (sig) {
                if (!(lflag & TTY_NOFLSH))
                    flush_input_locked(t);
                echo_char(t, c);
                return sig;
            }
        }
        if (lflag & TTY_ICANON) {
            if (is_char(t, c, TTY_VERASE)) {
                erase_char(t);
                return 0;
            }
            if ((lflag & TTY_IEXTEN) && is_char(t, c, TTY_VWERASE)) {
                erase_word(t);
                return 0;
            }
            if (is_char(t, c, TTY_VKILL)) {
                if (lflag & TTY_ECHOKE) {
                    while (t->edit_len)
                        erase_char(t);
                } else {
                    t->edit_len = 0;
                    echo_char(t, c);
                    if (lflag & TTY_ECHOK)
                        echo_bytes(t, "\n", 1);
                }
                return 0;
            }
            if ((lflag & TTY_IEXTEN) && is_char(t, c, TTY_VREPRINT)) {
                echo_char(t, c);
                echo_bytes(t, "\n", 1);
                if (lflag & TTY_ECHO)
                    echo_bytes(t, t->edit, t->edit_len);
                return 0;
            }
            if (is_char(t, c, TTY_VEOF)) {
                finish_line(t); /* without the byte: an empty line reads as end of file */
                return 0;
            }
            if (c == '\n' || is_char(t, c, TTY_VEOL) || is_char(t, c, TTY_VEOL2)) {
                t->edit[t->edit_len++] = (char)c; /* edit keeps one byte free for it */
                if (c == '\n' && !(lflag & TTY_ECHO) && (lflag & TTY_ECHONL))
                    echo_bytes(t, "\n", 1);
                else
                    echo_char(t, c);
                finish_line(t);
                return 0;
            }
        }
    }
    if (lflag & TTY_ICANON) {
        if (t->edit_len >= EDIT_SIZE - 1) {
            t->stats.dropped_bytes++;
            echo_bytes(t, "\a", 1);
            return 0;
        }
        t->edit[t->edit_len++] = (char)c;
    } else {
        if (ready_count(t) >= READY_SIZE) {
            t->stats.dropped_bytes++;
            return 0;
        }
        ready_put(t, (const char *)&c, 1);
    }
    echo_char(t, c);
    return 0;
}

/* The worker runs bytes through the discipline in small batches, echoing and
 * signalling after each with no lock held. */
static void process_batch(tty_t *t, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t f = spinlock_lock_irqsave(&t->lock);
        t->echo_len = 0;
        int sig = receive_byte(t, (unsigned char)bytes[i]);
        t->stats.input_bytes++;
        t->last_input_ns = time_monotonic_ns();
        uint32_t group = t->foreground_pgid;
        if (sig && group)
            t->stats.signals_sent++;
        spinlock_unlock_irqrestore(&t->lock, f);
        /* Only this worker fills echo, so it is still ours without the lock. */
        if (t->echo_len)
            device_write(t, t->echo, t->echo_len);
        if (sig && group)
            proc_signal_group(group, sig);
    }
    sched_wake_all(&t->readers);
    vfs_poll_notify();
}

static void worker_main(void *arg)
{
    tty_t *t = arg;
    char batch[64];
    for (;;) {
        if (t->poll_device)
            t->poll_device(t);
        uint64_t f = spinlock_lock_irqsave(&t->raw_lock);
        size_t n = 0;
        while (t->raw_out != t->raw_in && n < sizeof(batch))
            batch[n++] = t->raw[t->raw_out++ % RAW_SIZE];
        if (n == 0) {
            if (t->stopping) {
                spinlock_unlock_irqrestore(&t->raw_lock, f);
                return;
            }
            if (t->poll_device)
                sched_wait_timeout(&t->worker_wakeup, &t->raw_lock, t->poll_ns);
            else
                sched_wait(&t->worker_wakeup, &t->raw_lock);
            spinlock_unlock_irqrestore(&t->raw_lock, f);
            continue;
        }
        spinlock_unlock_irqrestore(&t->raw_lock, f);
        process_batch(t, batch, n);
        f = spinlock_lock_irqsave(&t->raw_lock);
        t->raw_done += n;
        spinlock_unlock_irqrestore(&t->raw_lock, f);
        sched_wake_all(&t->drained);
    }
}

void tty_input(tty_t *t, const char *bytes, size_t n)
{
    if (!t || !n)
        return;
    uint64_t f = spinlock_lock_irqsave(&t->raw_lock);
    for (size_t i = 0; i < n; i++) {
        if (t->raw_in - t->raw_out >= RAW_SIZE) {
            t->stats.dropped_bytes += n - i; /* racy counter; diagnostics only */
            break;
        }
        t->raw[t->raw_in++ % RAW_SIZE] = bytes[i];
    }
    spinlock_unlock_irqrestore(&t->raw_lock, f);
    sched_wake_one(&t->worker_wakeup);
}

void tty_drain_input(tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&t->raw_lock);
    uint64_t target = t->raw_in;
    while (t->raw_done < target && !t->stopping)
        sched_wait(&t->drained, &t->raw_lock);
    spinlock_unlock_irqrestore(&t->raw_lock, f);
}

/* ---- reading ---------------------------------------------------------------------- */

/* A read (SIGTTIN) or, under TOSTOP or for a mode change, a write (SIGTTOU) from a
 * background process group of the terminal's session. As on Linux: when the caller
 * ignores or blocks the signal, a read fails with EIO and the rest goes ahead;
 * otherwise the group gets the signal (which stops it by default) and the call ends
 * with EINTR, to be restarted once the group is continued in the foreground. An
 * orphaned group would never be continued: its read or write fails with EIO. */
static int check_background(tty_t *t, int sig)
{
    process_t *p = proc_current();
    proc_thread_t *me = proc_thread_current();
    if (!p || !me || p->ctty != t)
        return 0;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    bool background = t->sid && t->sid == p->sid && t->foreground_pgid &&
                      p->pgid != t->foreground_pgid;
    spinlock_unlock_irqrestore(&t->lock, f);
    if (!background)
        return 0;
    bool refused = proc_signal_action(p, sig).handler == SIG_IGN_HANDLER ||
                   (me->signal_mask & signal_bit(sig));
    if (refused)
        return sig == SIGTTIN ? -VK_EIO : 0;
    if (proc_group_orphaned(p))
        return -VK_EIO;
    proc_signal_group(p->pgid, sig);
    return -VK_EINTR;
}

/* Bytes a read may take now (lock held); *line_end is set in canonical mode. */
static size_t readable_locked(const tty_t *t, bool *eof)
{
    *eof = t->hung_up;
    if (!(t->termios.lflag & TTY_ICANON))
        return ready_count(t);
    if (!t->delim_count)
        return 0;
    size_t n = (size_t)(t->delims[t->delim_first] - t->ready_out);
    *eof = n == 0;
    return n;
}

static size_t take_locked(tty_t *t, char *out, size_t len)
{
    bool eof;
    size_t n = readable_locked(t, &eof);
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        out[i] = t->ready[(t->ready_out + i) % READY_SIZE];
    t->ready_out += n;
    if ((t->termios.lflag & TTY_ICANON) && t->delim_count &&
        t->delims[t->delim_first] == t->ready_out) {
        t->delim_first = (t->delim_first + 1) % DELIM_MAX;
        t->delim_count--;
    }
    return n;
}

long tty_read(tty_t *t, vfs_buf_t buf, size_t len, bool nonblock)
{
    if (len == 0)
        return 0;
    int err = check_background(t, SIGTTIN);
    if (err)
        return err;
    char chunk[COPY_CHUNK];
    if (len > sizeof(chunk))
        len = sizeof(chunk);
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    uint64_t start = time_monotonic_ns();
    for (;;) {
        bool eof;
        size_t avail = readable_locked(t, &eof);
        bool canonical = t->termios.lflag & TTY_ICANON;
        unsigned min = t->termios.cc[TTY_VMIN], time = t->termios.cc[TTY_VTIME];
        uint64_t deadline = SCHED_WAIT_FOREVER;
        if (canonical) {
            if (avail || eof)
                break;
        } else if (t->hung_up) {
            break; /* what is left, then end of file */
        } else {
            size_t want = min < len ? min : len;
            if (avail && avail >= want)
                break;
            if (!min && !time)
                break; /* a poll: whatever is there, maybe nothing */
            if (time) {
                /* MIN 0: one timer for the whole read; MIN > 0: between bytes. */
                uint64_t from = min && avail ? t->last_input_ns : start;
                deadline = from + (uint64_t)time * 100000000ull;
                if (time_monotonic_ns() >= deadline)
                    break;
            }
        }
        if (nonblock) {
            spinlock_unlock_irqrestore(&t->lock, f);
            return -VK_EAGAIN;
        }
        int w = sched_wait_interruptible(&t->readers, &t->lock, deadline);
        if (w == -VK_EINTR) {
            spinlock_unlock_irqrestore(&t->lock, f);
            return -VK_EINTR;
        }
    }
    size_t n = take_locked(t, chunk, len);
    spinlock_unlock_irqrestore(&t->lock, f);
    err = n ? vfs_buf_put(buf, 0, chunk, n) : 0;
    return err ? err : (long)n;
}

long tty_write(tty_t *t, vfs_buf_t buf, size_t len)
{
    if (__atomic_load_n(&t->hung_up, __ATOMIC_ACQUIRE))
        return -VK_EIO;
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    if (tm.lflag & TTY_TOSTOP) {
        int err = check_background(t, SIGTTOU);
        if (err)
            return err;
    }
    char chunk[COPY_CHUNK];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
        int err = vfs_buf_get(chunk, buf, done, n);
        if (err)
            return done ? (long)done : err;
        device_write(t, chunk, n);
        done += n;
    }
    return (long)done;
}

/* ---- termios, sessions and the file operations ----------------------------------- */

void tty_get_termios(tty_t *t, tty_termios_t *out)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    *out = t->termios;
    spinlock_unlock_irqrestore(&t->lock, f);
}

void tty_set_termios(tty_t *t, const tty_termios_t *in)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    bool was_canonical = t->termios.lflag & TTY_ICANON;
    t->termios = *in;
    bool canonical = t->termios.lflag & TTY_ICANON;
    if (was_canonical && !canonical) {
        /* The half-typed line becomes readable bytes; line ends no longer matter. */
        if (ready_count(t) + t->edit_len <= READY_SIZE)
            ready_put(t, t->edit, t->edit_len);
        t->edit_len = 0;
        t->delim_count = 0;
    } else if (!was_canonical && canonical && ready_count(t)) {
        /* Bytes typed in raw mode are one finished line for the canonical reader. */
        t->delim_first = 0;
        t->delim_count = 1;
        t->delims[0] = t->ready_in;
    }
    spinlock_unlock_irqrestore(&t->lock, f);
    sched_wake_all(&t->readers);
    vfs_poll_notify();
}

void tty_set_session(tty_t *t, uint32_t sid, uint32_t foreground_pgid)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    t->sid = sid;
    t->foreground_pgid = foreground_pgid;
    spinlock_unlock_irqrestore(&t->lock, f);
}

void tty_session_ended(tty_t *t, uint32_t sid)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    uint32_t group = t->sid == sid ? t->foreground_pgid : 0;
    if (t->sid == sid)
        t->sid = t->foreground_pgid = 0;
    spinlock_unlock_irqrestore(&t->lock, f);
    if (group) {
        proc_signal_group(group, SIGHUP);
        proc_signal_group(group, SIGCONT);
    }
}

void tty_get_stats(tty_t *t, tty_stats_t *out)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    *out = t->stats;
    out->sid = t->sid;
    out->foreground_pgid = t->foreground_pgid;
    spinlock_unlock_irqrestore(&t->lock, f);
}

static long put_u32(uint64_t arg, uint32_t v)
{
    return vfs_buf_put(vfs_ubuf(arg), 0, &v, sizeof(v));
}

/* TIOCSPGRP: the caller's controlling terminal, a group of the caller's session. */
static long set_foreground(tty_t *t, uint64_t arg)
{
    int32_t pgid;
    int err = vfs_buf_get(&pgid, vfs_ubuf(arg), 0, sizeof(pgid));
    if (err)
        return err;
    process_t *p = proc_current();
    if (!p || p->ctty != t || p->sid != t->sid || !t->sid)
        return -VK_ENOTTY;
    if (pgid <= 0)
        return -VK_EINVAL;
    if (!proc_group_in_session(pgid, p->sid))
        return -VK_EPERM;
    err = check_background(t, SIGTTOU);
    if (err)
        return err;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    t->foreground_pgid = (uint32_t)pgid;
    spinlock_unlock_irqrestore(&t->lock, f);
    return 0;
}

long tty_ioctl(tty_t *t, uint64_t request, uint64_t arg)
{
    process_t *p = proc_current();
    switch (request) {
    case TCGETS: {
        tty_termios_t tm;
        tty_get_termios(t, &tm);
        return vfs_buf_put(vfs_ubuf(arg), 0, &tm, sizeof(tm));
    }
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
        int bg = check_background(t, SIGTTOU);
        if (bg)
            return bg;
        tty_termios_t tm;
        int err = vfs_buf_get(&tm, vfs_ubuf(arg), 0, sizeof(tm));
        if (err)
            return err;
        if (request == TCSETSF) {
            uint64_t f = spinlock_lock_irqsave(&t->lock);
            flush_input_locked(t);
            spinlock_unlock_irqrestore(&t->lock, f);
        }
        tty_set_termios(t, &tm); /* output is synchronous: nothing to drain */
        return 0;
    }
    case TCFLSH:
        if (arg > 2)
            return -VK_EINVAL;
        if (arg != 1) { /* TCIFLUSH or TCIOFLUSH; output is never queued */
            uint64_t f = spinlock_lock_irqsave(&t->lock);
            flush_input_locked(t);
            spinlock_unlock_irqrestore(&t->lock, f);
        }
        return 0;
    case TCSBRK:
    case TCXONC:
        return 0;
    case TIOCOUTQ:
        return put_u32(arg, 0);
    case FIONREAD: {
        uint64_t f = spinlock_lock_irqsave(&t->lock);
        bool eof;
        size_t n = readable_locked(t, &eof);
        spinlock_unlock_irqrestore(&t->lock, f);
        return put_u32(arg, (uint32_t)n);
    }
    case TIOCGWINSZ: {
        uint16_t ws[4] = { t->rows, t->cols, 0, 0 };
        return vfs_buf_put(vfs_ubuf(arg), 0, ws, sizeof(ws));
    }
    case TIOCSWINSZ: {
        uint16_t ws[4];
        int err = vfs_buf_get(ws, vfs_ubuf(arg), 0, sizeof(ws));
        if (err)
            return err;
        uint64_t f = spinlock_lock_irqsave(&t->lock);
        bool changed = t->rows != ws[0] || t->cols != ws[1];
        t->rows = ws[0];
        t->cols = ws[1];
        uint32_t group = t->foreground_pgid;
        spinlock_unlock_irqrestore(&t->lock, f);
        if (changed && group)
            proc_signal_group(group, SIGWINCH);
        return 0;
    }
    case TIOCGPGRP:
        if (!p || p->ctty != t || !t->sid)
            return -VK_ENOTTY;
        return put_u32(arg, t->foreground_pgid);
    case TIOCSPGRP:
        return set_foreground(t, arg);
    case TIOCGSID:
        if (!p || p->ctty != t || !t->sid)
            return -VK_ENOTTY;
        return put_u32(arg, t->sid);
    case TIOCSCTTY:
        return proc_set_controlling_tty(t, arg == 1);
    case TIOCNOTTY:
        return proc_drop_controlling_tty(t);
    default:
        return -VK_ENOTTY;
    }
}

static long file_read_op(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    (void)off;
    return tty_read(f->private, buf, len, f->flags & VFS_O_NONBLOCK);
}

static long file_write_op(file_t *f, vfs_buf_t buf, size_t len, uint64_t *off)
{
    (void)off;
    return tty_write(f->private, buf, len);
}

static unsigned file_poll_op(file_t *f)
{
    tty_t *t = f->private;
    uint64_t fl = spinlock_lock_irqsave(&t->lock);
    bool eof;
    bool readable = readable_locked(t, &eof) || eof;
    spinlock_unlock_irqrestore(&t->lock, fl);
    return VFS_POLLOUT | (readable ? VFS_POLLIN : 0);
}

static long file_ioctl_op(file_t *f, uint64_t request, uint64_t arg)
{
    return tty_ioctl(f->private, request, arg);
}

static void file_close_op(file_t *f)
{
    tty_t *t = f->private;
    if (t->file_closed)
        t->file_closed(t);
}

const file_ops_t tty_file_ops = {
    .read = file_read_op, .write = file_write_op, .poll = file_poll_op,
    .ioctl = file_ioctl_op, .close = file_close_op,
};

static bool hold_file(tty_t *t)
{
    return !t->file_opened || t->file_opened(t);
}

/* /dev/tty: the caller's controlling terminal, whichever it is. */
static int controlling_open(file_t *f)
{
    tty_t *t = proc_controlling_tty(hold_file);
    if (!t)
        return -VK_ENXIO; /* as Linux: no controlling terminal */
    f->ops = &tty_file_ops;
    f->private = t;
    return 0;
}

const file_ops_t tty_controlling_ops = { .open = controlling_open };

void tty_hangup(tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    __atomic_store_n(&t->hung_up, true, __ATOMIC_RELEASE);
    uint32_t sid = t->sid;
    spinlock_unlock_irqrestore(&t->lock, f);
    sched_wake_all(&t->readers);
    vfs_poll_notify();
    if (!sid)
        return;
    proc_signal(sid, SIGHUP); /* the session leader */
    tty_session_ended(t, sid); /* the foreground group */
    proc_forget_tty(t);
}

/* ---- life cycle ------------------------------------------------------------------- */

tty_t *tty_alloc(const char *name, tty_output_t output, void *device)
{
    tty_t *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    strlcpy(t->name, name, sizeof(t->name));
    t->output = output;
    t->device = device;
    t->termios = default_termios;
    t->rows = 25;
    t->cols = 80;
    sched_wait_queue_init(&t->worker_wakeup);
    sched_wait_queue_init(&t->drained);
    sched_wait_queue_init(&t->readers);
    sched_mutex_init(&t->output_lock);
    return t;
}

bool tty_start(tty_t *t)
{
    sched_thread_params_t params = {
        .name = t->name, .entry = worker_main, .arg = t, .priority = WORKER_PRIORITY,
    };
    t->worker = sched_thread_spawn(&params);
    return t->worker != NULL;
}

tty_t *tty_create(const char *name, tty_output_t output, void *device)
{
    tty_t *t = tty_alloc(name, output, device);
    if (t && !tty_start(t)) {
        kfree(t);
        return NULL;
    }
    return t;
}

void tty_destroy(tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&t->raw_lock);
    t->stopping = true;
    spinlock_unlock_irqrestore(&t->raw_lock, f);
    sched_wake_all(&t->worker_wakeup);
    sched_thread_join(t->worker);
    kfree(t);
}

void *tty_device(tty_t *t) { return t->device; }

