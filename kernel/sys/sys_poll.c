/* SPDX-License-Identifier: MIT */
/*
 * poll, ppoll, select and pselect6, all over one wait loop (kernel/fs/poll.c explains
 * the generation counter). ppoll and pselect6 apply their signal mask for the wait the
 * way rt_sigsuspend does, so a signal it unblocks is delivered with the caller's own
 * mask coming back after the handler.
 */
#include "sys/sys_internal.h"
#include "proc/signal.h"
#include "core/string.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "time/time.h"

#define POLL_MAX        FDTABLE_MAX  /* more pollfds than descriptors is EINVAL */
#define POLL_RECHECK_NS 5000000ull   /* for files that cannot notify (serial console) */
#define NS              1000000000ull
#define SELECT_READ  (VFS_POLLIN | VFS_POLLHUP | VFS_POLLERR)
#define SELECT_WRITE (VFS_POLLOUT | VFS_POLLERR)
#define SELECT_EXCEPT VFS_POLLPRI

typedef struct {
    int32_t fd;
    int16_t events, revents;
} pollfd_t;

/* Fills revents; returns how many are ready and whether any file needs re-checking on
 * a timer because it cannot notify. */
static unsigned poll_scan(pollfd_t *pfd, uint64_t n, bool *timer)
{
    unsigned ready = 0;
    for (uint64_t i = 0; i < n; i++) {
        pfd[i].revents = 0;
        if (pfd[i].fd < 0)
            continue;
        file_t *f = sys_file((uint64_t)pfd[i].fd);
        unsigned ev = VFS_POLLNVAL;
        if (f) {
            ev = file_poll(f) & ((uint16_t)pfd[i].events | VFS_POLLERR | VFS_POLLHUP);
            *timer |= f->ops->poll_by_timer;
            file_unref(f);
        }
        pfd[i].revents = (int16_t)ev;
        if (ev)
            ready++;
    }
    return ready;
}

/* Scans until something is ready (its count), the deadline passes (0) or a signal
 * comes (-VK_EINTR). */
static long poll_until(pollfd_t *pfd, uint64_t n, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t generation = vfs_poll_generation();
        bool timer = false;
        unsigned ready = poll_scan(pfd, n, &timer);
        uint64_t now = time_monotonic_ns();
        if (ready || now >= deadline_ns)
            return ready;
        uint64_t until = deadline_ns;
        if (timer && until - now > POLL_RECHECK_NS)
            until = now + POLL_RECHECK_NS;
        if (vfs_poll_wait(generation, until) == -VK_EINTR)
            return -VK_EINTR;
    }
}

/* ppoll/pselect6: the mask for the duration of the wait (restored on the way out by
 * signal delivery, as for rt_sigsuspend). 0 when user_mask is 0. */
static int apply_wait_mask(uint64_t user_mask, uint64_t size)
{
    if (!user_mask)
        return 0;
    if (size != 8)
        return -VK_EINVAL;
    uint64_t mask;
    int err = usercopy_from(&mask, user_mask, sizeof(mask));
    if (err)
        return err;
    proc_thread_t *t = proc_thread_current();
    if (!t->sigsuspend_active) {
        t->sigsuspend_saved = t->signal_mask;
        t->sigsuspend_active = true;
    }
    t->signal_mask = mask & ~(signal_bit(SIG_KILL) | signal_bit(SIG_STOP));
    /* A signal pending already that this mask lets in ends the wait at once. */
    if (signal_deliverable(t))
        sched_thread_interrupt(t->sched);
    return 0;
}

/* ---- poll ----------------------------------------------------------------------------- */

static long do_poll(uint64_t user_fds, uint64_t n, uint64_t deadline_ns)
{
    if (n > POLL_MAX)
        return -VK_EINVAL;
    pollfd_t *pfd = kmalloc(n ? n * sizeof(pollfd_t) : 1);
    if (!pfd)
        return -VK_ENOMEM;
    long r = usercopy_from(pfd, user_fds, n * sizeof(pollfd_t));
    if (!r)
        r = poll_until(pfd, n, deadline_ns);
    if (r >= 0) {
        int err = usercopy_to(user_fds, pfd, n * sizeof(pollfd_t));
        r = err ? err : r;
    }
    kfree(pfd);
    return r;
}

long sys_poll(const syscall_args_t *a)
{
    int32_t timeout_ms = (int32_t)a->arg[2];
    uint64_t deadline = timeout_ms < 0 ? SCHED_WAIT_FOREVER
                                       : time_monotonic_ns() + (uint64_t)timeout_ms * 1000000ull;
    return do_poll(a->arg[0], a->arg[1], deadline);
}

long sys_ppoll(const syscall_args_t *a)
{
    uint64_t deadline;
    int err = sys_timespec_deadline(a->arg[2], false, &deadline);
    if (!err)
        err = apply_wait_mask(a->arg[3], a->arg[4]);
    return err ? err : do_poll(a->arg[0], a->arg[1], deadline);
}

/* ---- select ----------------------------------------------------------------------------- */

typedef struct {
    uint64_t in[FDTABLE_MAX / 64], out[FDTABLE_MAX / 64], ex[FDTABLE_MAX / 64];
} fd_sets_t;

static bool bit(const uint64_t *set, int fd)
{
    return (set[fd / 64] >> (fd % 64)) & 1;
}

/* select: fd_sets in, pollfds through the same loop, fd_sets out. */
static long do_select(uint64_t nfds, uint64_t user_sets[3], uint64_t deadline_ns)
{
    if ((int64_t)nfds < 0)
        return -VK_EINVAL;
    if (nfds > FDTABLE_MAX)
        nfds = FDTABLE_MAX; /* as Linux: descriptors past the table cannot be open */
    fd_sets_t *sets = kzalloc(sizeof(*sets));
    pollfd_t *pfd = kmalloc(FDTABLE_MAX * sizeof(pollfd_t));
    long r = sets && pfd ? 0 : -VK_ENOMEM;
    uint64_t *set[3] = { sets ? sets->in : NULL, sets ? sets->out : NULL, sets ? sets->ex : NULL };
    size_t bytes = (nfds + 63) / 64 * 8;
    for (int k = 0; k < 3 && !r; k++)
        if (user_sets[k])
            r = usercopy_from(set[k], user_sets[k], bytes);
    uint64_t n = 0;
    for (int fd = 0; fd < (int)nfds && !r; fd++) {
        int16_t ev = (bit(set[0], fd) ? VFS_POLLIN : 0) | (bit(set[1], fd) ? VFS_POLLOUT : 0) |
                     (bit(set[2], fd) ? VFS_POLLPRI : 0);
        if (ev)
            pfd[n++] = (pollfd_t){ fd, ev, 0 };
    }
    if (!r)
        r = poll_until(pfd, n, deadline_ns);
    if (r >= 0) {
        memset(sets, 0, sizeof(*sets));
        long count = 0;
        for (uint64_t i = 0; i < n && r >= 0; i++) {
            int fd = pfd[i].fd;
            uint16_t rev = (uint16_t)pfd[i].revents;
            if (rev & VFS_POLLNVAL)
                r = -VK_EBADF;
            const uint16_t want[3] = { SELECT_READ, SELECT_WRITE, SELECT_EXCEPT };
            const int16_t asked[3] = { VFS_POLLIN, VFS_POLLOUT, VFS_POLLPRI };
            for (int k = 0; k < 3; k++)
                if ((pfd[i].events & asked[k]) && (rev & want[k])) {
                    set[k][fd / 64] |= 1ull << (fd % 64);
                    count++;
                }
        }
        for (int k = 0; k < 3 && r >= 0; k++)
            if (user_sets[k]) {
                int err = usercopy_to(user_sets[k], set[k], bytes);
                r = err ? err : r;
            }
        if (r >= 0)
            r = count;
    }
    kfree(sets);
    kfree(pfd);
    return r;
}

long sys_select(const syscall_args_t *a)
{
    uint64_t deadline = SCHED_WAIT_FOREVER;
    int64_t tv[2];
    if (a->arg[4]) {
        int err = usercopy_from(tv, a->arg[4], sizeof(tv));
        if (err)
            return err;
        if (tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000)
            return -VK_EINVAL;
        deadline = time_monotonic_ns() + (uint64_t)tv[0] * NS + (uint64_t)tv[1] * 1000;
    }
    uint64_t sets[3] = { a->arg[1], a->arg[2], a->arg[3] };
    long r = do_select((uint64_t)(int64_t)(int32_t)a->arg[0], sets, deadline);
    if (a->arg[4] && r >= 0) {
        /* Linux reports the time left in the timeval. */
        uint64_t now = time_monotonic_ns(), left = deadline > now ? deadline - now : 0;
        int64_t rem[2] = { (int64_t)(left / NS), (int64_t)(left % NS / 1000) };
        usercopy_to(a->arg[4], rem, sizeof(rem));
    }
    return r;
}

long sys_pselect6(const syscall_args_t *a)
{
    uint64_t deadline;
    int err = sys_timespec_deadline(a->arg[4], false, &deadline);
    if (!err && a->arg[5]) {
        uint64_t mask_arg[2]; /* { const sigset_t *ss; size_t ss_len; } */
        err = usercopy_from(mask_arg, a->arg[5], sizeof(mask_arg));
        if (!err)
            err = apply_wait_mask(mask_arg[0], mask_arg[1]);
    }
    if (err)
        return err;
    uint64_t sets[3] = { a->arg[1], a->arg[2], a->arg[3] };
    return do_select((uint64_t)(int64_t)(int32_t)a->arg[0], sets, deadline);
}
