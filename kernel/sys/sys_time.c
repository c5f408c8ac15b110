/* SPDX-License-Identifier: MIT */
/*
 * Clocks, sleeping and randomness.
 * FIXME(issue: processes): CLOCK_REALTIME counts from the Unix epoch at boot (no RTC read
 * yet), and getrandom uses a TSC-seeded xorshift generator: neither is good enough for
 * wall-clock time or cryptography.
 */
#include "sys/sys_internal.h"
#include "core/random.h"
#include "proc/proc.h"
#include "mm/usercopy.h"
#include "time/time.h"
#include "sched/sched.h"
#include "arch/x86_64/arch.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define TIMER_ABSTIME 1
#define NS 1000000000ull

typedef struct { int64_t sec, nsec; } timespec_t;

static int clock_now(uint64_t clock, uint64_t *ns)
{
    uint64_t now = time_monotonic_ns();
    switch (clock) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        *ns = now;
        return 0;
    case CLOCK_PROCESS_CPUTIME_ID: {
        proc_cpu_times_t t;
        proc_self_times(&t);
        *ns = t.user_ns + t.kernel_ns;
        return 0;
    }
    case CLOCK_THREAD_CPUTIME_ID: {
        sched_thread_info_t info;
        sched_thread_info(sched_current(), &info);
        *ns = info.run_ns;
        return 0;
    }
    default:
        return -VK_EINVAL;
    }
}

long sys_clock_gettime(const syscall_args_t *a)
{
    uint64_t ns;
    int err = clock_now(a->arg[0], &ns);
    if (err)
        return err;
    timespec_t ts = { (int64_t)(ns / NS), (int64_t)(ns % NS) };
    return usercopy_to(a->arg[1], &ts, sizeof(ts));
}

long sys_clock_getres(const syscall_args_t *a)
{
    uint64_t ns;
    int err = clock_now(a->arg[0], &ns);
    if (err || !a->arg[1])
        return err;
    timespec_t ts = { 0, 1 };
    return usercopy_to(a->arg[1], &ts, sizeof(ts));
}

long sys_gettimeofday(const syscall_args_t *a)
{
    if (!a->arg[0])
        return 0;
    uint64_t ns = time_monotonic_ns();
    int64_t tv[2] = { (int64_t)(ns / NS), (int64_t)(ns % NS / 1000) };
    return usercopy_to(a->arg[0], tv, sizeof(tv));
}

long sys_time(const syscall_args_t *a)
{
    int64_t t = (int64_t)(time_monotonic_ns() / NS);
    if (a->arg[0]) {
        int err = usercopy_to(a->arg[0], &t, sizeof(t));
        if (err)
            return err;
    }
    return t;
}

/* ---- CPU time: getrusage and times ------------------------------------------------ */

#define RUSAGE_SELF     0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD   1
#define USER_HZ         100 /* times() counts in these; musl's sysconf(_SC_CLK_TCK) */

/* Linux's struct rusage: two timevals, then fourteen longs (maxrss ... nivcsw). */
typedef struct {
    int64_t utime_sec, utime_usec, stime_sec, stime_usec;
    int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock;
    int64_t msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
} rusage_t;
_Static_assert(sizeof(rusage_t) == 144, "struct rusage");

static int cpu_times_of(int64_t who, proc_cpu_times_t *out)
{
    switch (who) {
    case RUSAGE_SELF:
        proc_self_times(out);
        return 0;
    case RUSAGE_CHILDREN:
        proc_children_times(out);
        return 0;
    case RUSAGE_THREAD: {
        sched_thread_info_t info;
        sched_thread_info(sched_current(), &info);
        *out = (proc_cpu_times_t){ info.user_ns, info.kernel_ns, info.voluntary_switches,
                                   info.involuntary_switches };
        return 0;
    }
    default:
        return -VK_EINVAL;
    }
}

long sys_getrusage(const syscall_args_t *a)
{
    proc_cpu_times_t t;
    int err = cpu_times_of((int64_t)(int32_t)a->arg[0], &t);
    if (err)
        return err;
    rusage_t r = {
        .utime_sec = (int64_t)(t.user_ns / NS), .utime_usec = (int64_t)(t.user_ns % NS / 1000),
        .stime_sec = (int64_t)(t.kernel_ns / NS),
        .stime_usec = (int64_t)(t.kernel_ns % NS / 1000),
        .nvcsw = (int64_t)t.voluntary_switches, .nivcsw = (int64_t)t.involuntary_switches,
    };
    return usercopy_to(a->arg[1], &r, sizeof(r));
}

long sys_times(const syscall_args_t *a)
{
    if (a->arg[0]) {
        proc_cpu_times_t self, children;
        proc_self_times(&self);
        proc_children_times(&children);
        const uint64_t tick = NS / USER_HZ;
        int64_t tms[4] = { (int64_t)(self.user_ns / tick), (int64_t)(self.kernel_ns / tick),
                           (int64_t)(children.user_ns / tick),
                           (int64_t)(children.kernel_ns / tick) };
        int err = usercopy_to(a->arg[0], tms, sizeof(tms));
        if (err)
            return err;
    }
    return (long)(time_monotonic_ns() / (NS / USER_HZ)); /* ticks since boot */
}

/* Sleeps until the deadline or a signal. On EINTR, writes what was left to user_rem
 * (when given), as nanosleep reports it. */
static long sleep_until(uint64_t deadline, uint64_t user_rem)
{
    if (!sched_sleep_interruptible(deadline))
        return 0;
    if (user_rem) {
        uint64_t now = time_monotonic_ns(), left = deadline > now ? deadline - now : 0;
        timespec_t ts = { (int64_t)(left / NS), (int64_t)(left % NS) };
        int err = usercopy_to(user_rem, &ts, sizeof(ts));
        if (err)
            return err;
    }
    return -VK_EINTR;
}

int sys_read_timespec(uint64_t user, uint64_t *ns)
{
    timespec_t ts;
    int err = usercopy_from(&ts, user, sizeof(ts));
    if (err)
        return err;
    if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NS)
        return -VK_EINVAL;
    *ns = (uint64_t)ts.sec > (UINT64_MAX / NS - 1) ? UINT64_MAX / 2
                                                   : (uint64_t)ts.sec * NS + (uint64_t)ts.nsec;
    return 0;
}

int sys_timespec_deadline(uint64_t user, bool absolute, uint64_t *deadline)
{
    *deadline = SCHED_WAIT_FOREVER;
    if (!user)
        return 0;
    uint64_t ns;
    int err = sys_read_timespec(user, &ns);
    if (!err)
        *deadline = absolute ? ns : time_monotonic_ns() + ns; /* ns <= UINT64_MAX / 2 */
    return err;
}

long sys_nanosleep(const syscall_args_t *a)
{
    uint64_t ns;
    int err = sys_read_timespec(a->arg[0], &ns);
    if (err)
        return err;
    return sleep_until(time_monotonic_ns() + ns, a->arg[1]);
}

long sys_clock_nanosleep(const syscall_args_t *a)
{
    uint64_t now, ns;
    int err = clock_now(a->arg[0], &now);
    if (err)
        return err;
    if ((err = sys_read_timespec(a->arg[2], &ns)))
        return err;
    bool absolute = (a->arg[1] & TIMER_ABSTIME) != 0;
    return sleep_until(absolute ? ns : now + ns, absolute ? 0 : a->arg[3]);
}

long sys_vk_monotonic_ns(const syscall_args_t *a)
{
    (void)a;
    return (long)time_monotonic_ns();
}

long sys_vk_sleep_ns(const syscall_args_t *a)
{
    return sleep_until(time_monotonic_ns() + a->arg[0], 0);
}

long sys_getrandom(const syscall_args_t *a)
{
    if (a->arg[2] & ~7ull)
        return -VK_EINVAL;
    uint64_t len = a->arg[1] > 256 ? 256 : a->arg[1]; /* Linux also returns short counts */
    uint8_t buf[256];
    random_bytes(buf, len);
    int err = usercopy_to(a->arg[0], buf, len);
    return err ? err : (long)len;
}
