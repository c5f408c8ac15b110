/* SPDX-License-Identifier: MIT */
/*
 * Process groups and sessions, as POSIX job control has them (docs/tty.md).
 *
 * Every process is in a process group (pgid) inside a session (sid); both are pids of
 * the processes that began them. fork and spawn inherit them and the controlling
 * terminal; setpgid moves a process between groups of its session, setsid starts a new
 * session without a terminal. All of it is guarded by proc_table_lock, so a group is
 * never seen half-moved.
 */
#include "proc/proc_internal.h"
#include "proc/signal.h"
#include "tty/tty.h"
#include <vk/errno.h>

static process_t *find_locked(long pid)
{
    for (process_t *p = proc_table; p; p = p->next)
        if ((long)p->pid == pid && p->state == PROC_RUNNING)
            return p;
    return NULL;
}

bool proc_is_self_or_descendant_locked(const process_t *ancestor, const process_t *p)
{
    /* Bounded: parent links never form a cycle, but a bound costs nothing. */
    for (unsigned depth = 0; p && depth <= CONFIG_PROC_MAX; depth++) {
        if (p == ancestor)
            return true;
        if (!p->parent_pid || p->parent_pid == PROC_ORPHAN)
            return false;
        p = find_locked(p->parent_pid);
    }
    return false;
}

static bool group_in_session_locked(long pgid, uint32_t sid)
{
    for (process_t *p = proc_table; p; p = p->next)
        if ((long)p->pgid == pgid && p->sid == sid && p->state == PROC_RUNNING)
            return true;
    return false;
}

/* POSIX's orphaned process group: no member has a parent in another group of the same
 * session, so no shell is left that could continue it. `ignore` counts as gone (a
 * process that is ending). */
static bool group_orphaned_locked(long pgid, uint32_t sid, const process_t *ignore)
{
    for (process_t *p = proc_table; p; p = p->next) {
        if ((long)p->pgid != pgid || p->state != PROC_RUNNING || p == ignore ||
            p->parent_pid == PROC_ORPHAN)
            continue;
        process_t *parent = find_locked(p->parent_pid);
        if (parent && parent != ignore && (long)parent->pgid != pgid && parent->sid == sid)
            return false;
    }
    return true;
}

bool proc_group_orphaned(const process_t *p)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    bool orphaned = group_orphaned_locked(p->pgid, p->sid, NULL);
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return orphaned;
}

/* A group that `leaving` was keeping from being orphaned, and that has a stopped
 * member, gets SIGHUP and then SIGCONT in every member (POSIX, _exit): otherwise it
 * would stay stopped with nobody to continue it. */
static void hang_up_if_orphaned_locked(long pgid, uint32_t sid, const process_t *leaving)
{
    if (!group_orphaned_locked(pgid, sid, leaving))
        return;
    bool stopped = false;
    for (process_t *q = proc_table; q && !stopped; q = q->next)
        stopped = (long)q->pgid == pgid && q != leaving && q->state == PROC_RUNNING &&
                  __atomic_load_n(&q->stopped, __ATOMIC_ACQUIRE);
    if (!stopped)
        return;
    for (process_t *q = proc_table; q; q = q->next)
        if ((long)q->pgid == pgid && q != leaving && q->state == PROC_RUNNING) {
            signal_raise(q, SIG_HUP);
            signal_raise(q, SIG_CONT);
        }
}

void proc_orphan_groups_of_locked(process_t *p)
{
    process_t *parent = p->parent_pid == PROC_ORPHAN ? NULL : find_locked(p->parent_pid);
    if (parent && parent->pgid != p->pgid && parent->sid == p->sid)
        hang_up_if_orphaned_locked(p->pgid, p->sid, p);
    for (process_t *c = proc_table; c; c = c->next)
        if (c->parent_pid == p->pid && c != p && c->state == PROC_RUNNING &&
            c->pgid != p->pgid && c->sid == p->sid)
            hang_up_if_orphaned_locked(c->pgid, c->sid, p);
}

long proc_setpgid(long pid, long pgid)
{
    process_t *me = proc_current();
    if (pgid < 0)
        return -VK_EINVAL;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    process_t *p = pid ? find_locked(pid) : me;
    long err = 0;
    if (!p || (p != me && p->parent_pid != me->pid))
        err = -VK_ESRCH; /* only the caller and its children */
    else if (p->sid != me->sid || p->pid == p->sid)
        err = -VK_EPERM; /* another session, or a session leader */
    else {
        if (!pgid)
            pgid = p->pid;
        if (pgid != (long)p->pid && !group_in_session_locked(pgid, me->sid))
            err = -VK_EPERM; /* joins only an existing group of the same session */
        else
            p->pgid = (uint32_t)pgid;
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return err;
}

/* getpgid and getsid: a field of the caller (pid 0) or of any live process. */
static long get_id(long pid, bool session)
{
    if (pid < 0)
        return -VK_EINVAL;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    process_t *p = pid ? find_locked(pid) : proc_current();
    long id = !p ? -VK_ESRCH : session ? (long)p->sid : (long)p->pgid;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return id;
}

long proc_getpgid(long pid) { return get_id(pid, false); }
long proc_getsid(long pid) { return get_id(pid, true); }

long proc_setsid(void)
{
    process_t *me = proc_current();
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    long r;
    /* A group leader may not: its group would straddle two sessions. */
    bool leader = false;
    for (process_t *p = proc_table; p && !leader; p = p->next)
        leader = p->pgid == me->pid && p->state == PROC_RUNNING;
    if (leader) {
        r = -VK_EPERM;
    } else {
        me->sid = me->pgid = me->pid;
        me->ctty = NULL;
        r = me->pid;
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return r;
}

int proc_signal_group(long pgid, int sig)
{
    if (pgid <= 0)
        return -VK_ESRCH;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    int err = -VK_ESRCH;
    for (process_t *p = proc_table; p; p = p->next)
        if ((long)p->pgid == pgid && p->state == PROC_RUNNING) {
            if (sig)
                signal_raise(p, sig);
            err = 0;
        }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return err;
}

int proc_signal_all(int sig)
{
    process_t *me = proc_current();
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    int err = -VK_ESRCH;
    for (process_t *p = proc_table; p; p = p->next)
        if (p != me && p->pid != 1 && p->state == PROC_RUNNING) {
            if (sig)
                signal_raise(p, sig);
            err = 0;
        }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return err;
}

bool proc_group_in_session(long pgid, uint32_t sid)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    bool found = group_in_session_locked(pgid, sid);
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return found;
}

long proc_set_controlling_tty(tty_t *t, bool steal)
{
    process_t *me = proc_current();
    if (!me)
        return -VK_EPERM;
    tty_stats_t st;
    tty_get_stats(t, &st);
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    long err = 0;
    if (me->ctty == t && me->sid == st.sid)
        err = 0; /* already */
    else if (me->pid != me->sid || me->ctty)
        err = -VK_EPERM; /* only a session leader without a terminal */
    else if (st.sid && st.sid != me->sid && !steal)
        err = -VK_EPERM; /* another session's terminal */
    else
        me->ctty = t;
    uint32_t sid = me->sid, pgid = me->pgid;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    if (!err)
        tty_set_session(t, sid, pgid);
    return err;
}

long proc_drop_controlling_tty(tty_t *t)
{
    process_t *me = proc_current();
    if (!me || me->ctty != t)
        return -VK_ENOTTY;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    bool leader = me->pid == me->sid;
    uint32_t sid = me->sid;
    if (leader) {
        /* The whole session loses it, as when the leader ends. */
        for (process_t *p = proc_table; p; p = p->next)
            if (p->sid == sid && p->ctty == t)
                p->ctty = NULL;
    } else {
        me->ctty = NULL;
    }
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    if (leader)
        tty_session_ended(t, sid);
    return 0;
}

void proc_start_session_on(process_t *p, tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    p->sid = p->pgid = p->pid;
    p->ctty = t;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    if (t)
        tty_set_session(t, p->pid, p->pid);
}

void proc_forget_tty(tty_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    for (process_t *p = proc_table; p; p = p->next)
        if (p->ctty == t)
            p->ctty = NULL;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
}

tty_t *proc_controlling_tty(bool (*hold)(tty_t *t))
{
    process_t *me = proc_current();
    if (!me)
        return NULL;
    uint64_t f = spinlock_lock_irqsave(&proc_table_lock);
    tty_t *t = me->ctty;
    if (t && !hold(t))
        t = NULL;
    spinlock_unlock_irqrestore(&proc_table_lock, f);
    return t;
}
