/* SPDX-License-Identifier: MIT */
/*
 * Scheduling syscalls on threads (pid 0: the caller, otherwise any thread's tid),
 * mapped onto the scheduler's classes (docs/sched.md):
 *
 *   SCHED_FIFO, SCHED_RR  priority p (1..99)  ->  real-time 99 - p (0 is the most urgent)
 *   SCHED_OTHER           nice n (-20..19)    ->  interactive 120 + n
 *   SCHED_BATCH           nice n              ->  batch 160 + n
 *   SCHED_IDLE                                 ->  batch 199, the last of all
 *
 * Who may ask (docs/sched.md "Who may ask"): anyone may read. Changing a thread needs
 * the thread to be in the caller's process or a descendant of it, and making a thread
 * more urgent than SCHED_PRIORITY_DEFAULT (nice below 0, real-time) needs the
 * KObj-write right, the one administrative right; otherwise EPERM. Priority is
 * strict, so without these rules any program could starve any other, init included.
 */
#include "sys/syscall.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "kobj/kobj.h"
#include "mm/usercopy.h"
#include "arch/x86_64/arch.h"
#include <vk/errno.h>

#define SCHED_OTHER 0
#define SCHED_FIFO  1
#define SCHED_RR    2
#define SCHED_BATCH 3
#define SCHED_IDLE  5
#define SCHED_RESET_ON_FORK 0x40000000
#define PRIO_PROCESS 0
#define NICE_MIN (-20)
#define NICE_MAX 19
#define RR_SLICE_NS 100000000ull /* the real-time round-robin slice */

typedef struct {
    int policy;   /* SCHED_*, or -1 to keep the thread's */
    int value;    /* real-time priority 1..99, or a nice value */
    bool set;     /* set (else: read into the fields) */
    bool admin;   /* the caller holds the KObj-write right (set by sched_request) */
    uint64_t mask;
} sched_request_t;

/* The caller may change t: its own process's thread, a descendant's, or any with the
 * right. The process table is locked (proc_with_thread). */
static bool may_change(const proc_thread_t *t, bool admin)
{
    return admin || proc_is_self_or_descendant_locked(proc_current(), t->process);
}

static bool realtime(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }

/* The Linux view of a kernel priority and policy. */
static void describe(const sched_thread_t *s, int *policy, int *value)
{
    int prio = sched_thread_priority(s);
    switch (sched_priority_class(prio)) {
    case SCHED_CLASS_REALTIME:
        *policy = sched_thread_policy(s) == SCHED_POLICY_FIFO ? SCHED_FIFO : SCHED_RR;
        *value = 99 - prio;
        break;
    case SCHED_CLASS_INTERACTIVE:
        *policy = SCHED_OTHER;
        *value = prio - 120;
        break;
    default:
        *policy = prio == SCHED_PRIORITY_BATCH_MAX ? SCHED_IDLE : SCHED_BATCH;
        /* Batch 140..159 lies below the nice range; SCHED_IDLE reports nice 0. */
        *value = *policy == SCHED_IDLE ? 0 : prio >= 160 ? prio - 160 : NICE_MIN;
        if (*value > NICE_MAX)
            *value = NICE_MAX;
        break;
    }
}

static int on_thread(proc_thread_t *t, void *arg)
{
    sched_request_t *r = arg;
    sched_thread_t *s = t->sched;
    if (!r->set) {
        describe(s, &r->policy, &r->value);
        r->mask = sched_thread_affinity(s) & sched_online_mask();
        return 0;
    }
    int cur_policy, cur_value;
    describe(s, &cur_policy, &cur_value);
    int policy = r->policy < 0 ? cur_policy : r->policy;
    int priority;
    if (realtime(policy)) {
        if (r->value < 1 || r->value > 99)
            return -VK_EINVAL;
        priority = 99 - r->value;
    } else if (policy == SCHED_IDLE) {
        priority = SCHED_PRIORITY_BATCH_MAX;
    } else {
        int nice = r->value < NICE_MIN ? NICE_MIN : r->value > NICE_MAX ? NICE_MAX : r->value;
        priority = (policy == SCHED_BATCH ? 160 : 120) + nice;
    }
    if (!may_change(t, r->admin))
        return -VK_EPERM;
    /* More urgent than the default, and more than it is now: the right's business (as
     * Linux asks for CAP_SYS_NICE beyond RLIMIT_NICE and RLIMIT_RTPRIO, both 0). */
    if (!r->admin && priority < SCHED_PRIORITY_DEFAULT && priority < sched_thread_priority(s))
        return -VK_EPERM;
    int err = sched_set_priority(s, priority);
    if (!err && realtime(policy))
        err = sched_set_policy(s, policy == SCHED_FIFO ? SCHED_POLICY_FIFO : SCHED_POLICY_RR);
    return err;
}

static long sched_request(uint64_t tid, sched_request_t *r)
{
    if ((int32_t)tid < 0)
        return -VK_EINVAL;
    if (r->set)
        r->admin = kobj_write_allowed(); /* before the table lock: it takes others */
    return proc_with_thread((long)(int32_t)tid, on_thread, r);
}

static bool valid_policy(int policy)
{
    return policy == SCHED_OTHER || realtime(policy) || policy == SCHED_BATCH ||
           policy == SCHED_IDLE;
}

/* struct sched_param is one int. Non-real-time policies take priority 0 only. */
static long set_scheduler(uint64_t tid, int policy, uint64_t param)
{
    int32_t prio;
    if (!param)
        return -VK_EINVAL;
    int err = usercopy_from(&prio, param, sizeof(prio));
    if (err)
        return err;
    sched_request_t now = { .set = false };
    if ((err = (int)sched_request(tid, &now)))
        return err;
    int effective = policy < 0 ? now.policy : policy;
    if (!valid_policy(effective))
        return -VK_EINVAL;
    if (realtime(effective) ? (prio < 1 || prio > 99) : prio != 0)
        return -VK_EINVAL;
    /* A normal policy keeps the thread's nice value (0 when it comes from real-time). */
    int value = realtime(effective) ? prio : realtime(now.policy) ? 0 : now.value;
    sched_request_t r = { .policy = effective, .value = value, .set = true };
    return sched_request(tid, &r);
}

long sys_sched_setscheduler(const syscall_args_t *a)
{
    int policy = (int)a->arg[1] & ~SCHED_RESET_ON_FORK;
    if ((int)a->arg[1] < 0)
        return -VK_EINVAL;
    return set_scheduler(a->arg[0], policy, a->arg[2]);
}

long sys_sched_setparam(const syscall_args_t *a)
{
    return set_scheduler(a->arg[0], -1, a->arg[1]);
}

long sys_sched_getscheduler(const syscall_args_t *a)
{
    sched_request_t r = { .set = false };
    long err = sched_request(a->arg[0], &r);
    return err ? err : r.policy;
}

long sys_sched_getparam(const syscall_args_t *a)
{
    sched_request_t r = { .set = false };
    long err = sched_request(a->arg[0], &r);
    if (err)
        return err;
    int32_t prio = realtime(r.policy) ? r.value : 0;
    return usercopy_to(a->arg[1], &prio, sizeof(prio));
}

long sys_sched_get_priority_max(const syscall_args_t *a)
{
    int policy = (int)a->arg[0];
    return !valid_policy(policy) ? -VK_EINVAL : realtime(policy) ? 99 : 0;
}

long sys_sched_get_priority_min(const syscall_args_t *a)
{
    int policy = (int)a->arg[0];
    return !valid_policy(policy) ? -VK_EINVAL : realtime(policy) ? 1 : 0;
}

long sys_sched_rr_get_interval(const syscall_args_t *a)
{
    sched_request_t r = { .set = false };
    long err = sched_request(a->arg[0], &r);
    if (err)
        return err;
    /* FIFO threads have no slice: Linux reports 0 for them. */
    uint64_t ns = r.policy == SCHED_RR ? RR_SLICE_NS : r.policy == SCHED_FIFO ? 0 : 20000000ull;
    int64_t ts[2] = { (int64_t)(ns / 1000000000ull), (int64_t)(ns % 1000000000ull) };
    return usercopy_to(a->arg[1], ts, sizeof(ts));
}

/* getpriority/setpriority: PRIO_PROCESS only, on one thread as on Linux. The raw
 * syscall returns 20 - nice (1..40), so the result is never negative. */
long sys_getpriority(const syscall_args_t *a)
{
    if (a->arg[0] != PRIO_PROCESS)
        return -VK_EINVAL;
    sched_request_t r = { .set = false };
    long err = sched_request(a->arg[1], &r);
    if (err)
        return err;
    return 20 - (realtime(r.policy) ? 0 : r.value);
}

long sys_setpriority(const syscall_args_t *a)
{
    if (a->arg[0] != PRIO_PROCESS)
        return -VK_EINVAL;
    sched_request_t get = { .set = false };
    long err = sched_request(a->arg[1], &get);
    if (err)
        return err;
    if (realtime(get.policy))
        return 0; /* nice has no meaning for real-time threads; Linux keeps it aside */
    sched_request_t r = { .policy = get.policy, .value = (int)(int32_t)a->arg[2], .set = true };
    return sched_request(a->arg[1], &r);
}

long sys_sched_getaffinity(const syscall_args_t *a)
{
    if (a->arg[1] < sizeof(uint64_t) || (a->arg[1] & (sizeof(uint64_t) - 1)))
        return -VK_EINVAL;
    sched_request_t r = { .set = false };
    long err = sched_request(a->arg[0], &r);
    if (err)
        return err;
    err = usercopy_to(a->arg[2], &r.mask, sizeof(r.mask));
    return err ? err : (long)sizeof(r.mask); /* the kernel's mask size, as Linux does */
}

static int set_affinity(proc_thread_t *t, void *arg)
{
    sched_request_t *r = arg;
    if (!may_change(t, r->admin))
        return -VK_EPERM;
    return sched_set_affinity(t->sched, r->mask);
}

long sys_sched_setaffinity(const syscall_args_t *a)
{
    uint64_t mask = 0;
    size_t len = a->arg[1] < sizeof(mask) ? a->arg[1] : sizeof(mask);
    if (len == 0)
        return -VK_EINVAL;
    int err = usercopy_from(&mask, a->arg[2], len);
    if (err)
        return err;
    mask &= sched_online_mask();
    if (!mask)
        return -VK_EINVAL;
    if ((int32_t)a->arg[0] < 0)
        return -VK_EINVAL;
    sched_request_t r = { .set = true, .admin = kobj_write_allowed(), .mask = mask };
    return proc_with_thread((long)(int32_t)a->arg[0], set_affinity, &r);
}

/* getcpu(cpu, node, cache): where the caller runs now (it may move at once). */
long sys_getcpu(const syscall_args_t *a)
{
    uint32_t cpu = arch_cpu_index(), node = 0;
    int err = a->arg[0] ? usercopy_to(a->arg[0], &cpu, sizeof(cpu)) : 0;
    if (!err && a->arg[1])
        err = usercopy_to(a->arg[1], &node, sizeof(node));
    return err;
}
