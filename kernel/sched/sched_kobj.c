/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's KObj nodes: /cpu/N (per-CPU accounting), /sched/classes (the
 * priority ranges), /sched/run_queues (lengths per CPU) and /sched/tasks/ID (every
 * thread, with its process's pid, name and resident memory from kernel/proc). The
 * directories are dynamic; a thread that exits between a listing and a read gives
 * ENOENT.
 * Times split into user (ring 3) and kernel at every crossing (docs/sched.md).
 */
#include "kobj/kobj.h"
#include "sched/sched.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include <vk/errno.h>

enum { CPU_ONLINE, CPU_IDLE, CPU_BUSY, CPU_SWITCHES, CPU_PREEMPTIONS, CPU_RUNNABLE,
       CPU_TICKS, CPU_MIGRATIONS, CPU_WAKEUPS, CPU_USER, CPU_KERNEL, CPU_BALANCE_PULLS,
       CPU_RT_THROTTLED, CPU_HANDOFFS };
enum { TASK_NAME, TASK_STATE, TASK_PRIORITY, TASK_CPU, TASK_RUN, TASK_SWITCHES,
       TASK_CLASS, TASK_EFFECTIVE_PRIORITY, TASK_VOLUNTARY, TASK_INVOLUNTARY, TASK_WAKEUPS,
       TASK_PID, TASK_TID, TASK_PROCESS, TASK_RESIDENT, TASK_USER, TASK_KERNEL };
enum { CLASS_MIN, CLASS_MAX };

static const char *const class_names[] = {
    [SCHED_CLASS_REALTIME] = "realtime", [SCHED_CLASS_INTERACTIVE] = "interactive",
    [SCHED_CLASS_BATCH] = "batch", [SCHED_CLASS_IDLE] = "idle", NULL,
};
/* Priority ranges by class; the idle threads sit below every priority. */
static const int class_range[][2] = {
    [SCHED_CLASS_REALTIME] = { SCHED_PRIORITY_REALTIME_MIN, SCHED_PRIORITY_REALTIME_MAX },
    [SCHED_CLASS_INTERACTIVE] = { SCHED_PRIORITY_INTERACTIVE_MIN, SCHED_PRIORITY_INTERACTIVE_MAX },
    [SCHED_CLASS_BATCH] = { SCHED_PRIORITY_BATCH_MIN, SCHED_PRIORITY_BATCH_MAX },
    [SCHED_CLASS_IDLE] = { SCHED_PRIORITY_LEVELS, SCHED_PRIORITY_LEVELS },
};

static const char *const task_states[] = {
    [SCHED_THREAD_RUNNABLE] = "runnable", [SCHED_THREAD_RUNNING] = "running",
    [SCHED_THREAD_BLOCKED] = "blocked", [SCHED_THREAD_SLEEPING] = "sleeping",
    [SCHED_THREAD_DEAD] = "dead", NULL,
};

static int cpu_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    /* Online CPUs only, by index. */
    uint64_t online = sched_online_mask(), seen = 0;
    for (unsigned cpu = 0; cpu < 64; cpu++) {
        if (!(online & (1ull << cpu)) || seen++ != position)
            continue;
        fmt_snprintf(name, size, "%u", cpu);
        *key = cpu;
        return 0;
    }
    return -VK_ENOENT;
}

static int cpu_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    sched_cpu_info_t info;
    if (!sched_cpu_info((unsigned)key, &info))
        return -VK_ENOENT;
    switch (node->field) {
    case CPU_ONLINE: out->u = info.online; break;
    case CPU_IDLE: out->u = info.idle_ns; break;
    case CPU_BUSY: out->u = info.busy_ns; break;
    case CPU_SWITCHES: out->u = info.context_switches; break;
    case CPU_PREEMPTIONS: out->u = info.preemptions; break;
    case CPU_TICKS: out->u = info.ticks; break;
    case CPU_MIGRATIONS: out->u = info.migrations_in; break;
    case CPU_WAKEUPS: out->u = info.wakeups; break;
    case CPU_USER: out->u = info.user_ns; break;
    case CPU_KERNEL: out->u = info.kernel_ns; break;
    case CPU_BALANCE_PULLS: out->u = info.balance_pulls; break;
    case CPU_RT_THROTTLED: out->u = info.rt_throttled; break;
    case CPU_HANDOFFS: out->u = info.handoffs; break;
    default: out->u = info.runnable; break;
    }
    return 0;
}

static int class_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    if (position > SCHED_CLASS_IDLE)
        return -VK_ENOENT;
    fmt_snprintf(name, size, "%s", class_names[position]);
    *key = position;
    return 0;
}

static int class_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    if (key > SCHED_CLASS_IDLE)
        return -VK_ENOENT;
    out->i = class_range[key][node->field == CLASS_MAX];
    return 0;
}

static int run_queue_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    sched_cpu_info_t info;
    if (!sched_cpu_info((unsigned)key, &info))
        return -VK_ENOENT;
    out->u = info.runnable;
    return 0;
}

static int task_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    sched_thread_info_t info;
    if (position > UINT32_MAX || !sched_thread_info_at((unsigned)position, &info))
        return -VK_ENOENT;
    fmt_snprintf(name, size, "%llu", (unsigned long long)info.id);
    *key = info.id;
    return 0;
}

static int task_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    sched_thread_info_t info;
    if (!sched_thread_info_by_id(key, &info))
        return -VK_ENOENT;
    proc_info_t owner = { 0 };
    bool user = node->field >= TASK_PID && proc_info_by_thread(key, &owner);
    switch (node->field) {
    case TASK_NAME: kobj_value_string(out, info.name); break;
    case TASK_CLASS: out->u = info.class_id; break;
    case TASK_EFFECTIVE_PRIORITY: out->i = info.effective_priority; break;
    case TASK_VOLUNTARY: out->u = info.voluntary_switches; break;
    case TASK_INVOLUNTARY: out->u = info.involuntary_switches; break;
    case TASK_WAKEUPS: out->u = info.wakeups; break;
    case TASK_PID: out->u = user ? owner.pid : 0; break;
    case TASK_TID: out->u = user ? owner.tid : 0; break;
    case TASK_PROCESS: kobj_value_string(out, user ? owner.name : ""); break;
    case TASK_RESIDENT: out->u = user ? owner.resident_pages * PAGE_SIZE : 0; break;
    case TASK_STATE: out->u = info.state; break;
    case TASK_PRIORITY: out->i = info.priority; break;
    case TASK_CPU: out->u = info.cpu; break;
    case TASK_RUN: out->u = info.run_ns; break;
    case TASK_USER: out->u = info.user_ns; break;
    case TASK_KERNEL: out->u = info.kernel_ns; break;
    default: out->u = info.voluntary_switches + info.involuntary_switches; break;
    }
    return 0;
}

static int thread_count_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->u = sched_thread_count();
    return 0;
}

#define R KOBJ_READ
#define RV (KOBJ_READ | KOBJ_VOLATILE)
static kobj_node_t sched_nodes[] = {
    { .path = "/cpu", .type = KOBJ_DIR, .access = R, .enumerate = cpu_enumerate,
      .description = "Online CPUs, by index" },
    { .path = "/cpu/*", .type = KOBJ_DIR, .access = R, .description = "One CPU" },
    { .path = "/cpu/*/online", .type = KOBJ_BOOL, .access = R, .get = cpu_get,
      .field = CPU_ONLINE, .description = "The CPU runs the scheduler" },
    { .path = "/cpu/*/idle_ns", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_IDLE, .unit = "ns", .description = "Time spent in the idle thread" },
    { .path = "/cpu/*/busy_ns", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_BUSY, .unit = "ns", .description = "Time spent in any other thread" },
    { .path = "/cpu/*/user_ns", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_USER, .unit = "ns", .description = "Of busy_ns, time its threads spent in ring 3" },
    { .path = "/cpu/*/kernel_ns", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_KERNEL, .unit = "ns",
      .description = "Of busy_ns, the rest: syscalls, interrupts and kernel threads" },
    { .path = "/cpu/*/balance_pulls", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_BALANCE_PULLS,
      .description = "Threads the periodic balancer pulled here from a busier CPU" },
    { .path = "/cpu/*/rt_throttled", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_RT_THROTTLED,
      .description = "Periods in which real-time threads used up their 95% budget here" },
    { .path = "/cpu/*/context_switches", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_SWITCHES, .description = "Thread switches on this CPU since boot" },
    { .path = "/cpu/*/preemptions", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_PREEMPTIONS, .description = "Of those, involuntary ones" },
    { .path = "/cpu/*/runnable", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_RUNNABLE, .description = "Threads waiting on this CPU's run queue now" },
    { .path = "/cpu/*/ticks", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_TICKS, .description = "Scheduler ticks taken on this CPU" },
    { .path = "/cpu/*/migrations_in", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_MIGRATIONS,
      .description = "Threads moved here from another CPU (wake-up, affinity, steal)" },
    { .path = "/cpu/*/wakeups", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_WAKEUPS, .description = "Threads woken from a wait or sleep to run on this CPU" },
    { .path = "/cpu/*/handoffs", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_HANDOFFS,
      .description = "Of those, switched to directly by a blocking thread (IPC calls)" },
    { .path = "/sched", .type = KOBJ_DIR, .access = R, .description = "The scheduler" },
    { .path = "/sched/classes", .type = KOBJ_DIR, .access = R, .enumerate = class_enumerate,
      .description = "Scheduling classes, most urgent first; a priority picks the class" },
    { .path = "/sched/classes/*", .type = KOBJ_DIR, .access = R,
      .description = "One class" },
    { .path = "/sched/classes/*/priority_min", .type = KOBJ_INT, .access = R, .get = class_get,
      .field = CLASS_MIN, .description = "Most urgent priority of the class (idle: below all)" },
    { .path = "/sched/classes/*/priority_max", .type = KOBJ_INT, .access = R, .get = class_get,
      .field = CLASS_MAX, .description = "Least urgent priority of the class" },
    { .path = "/sched/run_queues", .type = KOBJ_DIR, .access = R, .enumerate = cpu_enumerate,
      .description = "Run-queue lengths, by CPU index" },
    { .path = "/sched/run_queues/*", .type = KOBJ_UINT, .access = RV, .get = run_queue_get,
      .description = "Threads waiting on this CPU's run queue now" },
    { .path = "/sched/thread_count", .type = KOBJ_UINT, .access = RV, .get = thread_count_get,
      .description = "Threads that exist, dead but unjoined ones included" },
    { .path = "/sched/tasks", .type = KOBJ_DIR, .access = R, .enumerate = task_enumerate,
      .description = "Every thread, by thread id, in creation order" },
    { .path = "/sched/tasks/*", .type = KOBJ_DIR, .access = R, .description = "One thread" },
    { .path = "/sched/tasks/*/name", .type = KOBJ_STRING, .access = R, .get = task_get,
      .field = TASK_NAME, .description = "Thread name (a process's threads carry its name)" },
    { .path = "/sched/tasks/*/state", .type = KOBJ_ENUM, .access = RV, .get = task_get,
      .field = TASK_STATE, .choices = task_states, .description = "Scheduling state" },
    { .path = "/sched/tasks/*/priority", .type = KOBJ_INT, .access = RV, .get = task_get,
      .field = TASK_PRIORITY,
      .description = "Base priority: 0-99 real-time, 100-139 interactive, 140-199 batch" },
    { .path = "/sched/tasks/*/cpu", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_CPU, .description = "The CPU it runs or last ran on" },
    { .path = "/sched/tasks/*/run_ns", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_RUN, .unit = "ns", .description = "Time on a CPU since it started" },
    { .path = "/sched/tasks/*/user_ns", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_USER, .unit = "ns", .description = "Of run_ns, time in ring 3" },
    { .path = "/sched/tasks/*/kernel_ns", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_KERNEL, .unit = "ns",
      .description = "Of run_ns, time in the kernel (syscalls, interrupts, kernel code)" },
    { .path = "/sched/tasks/*/switches", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_SWITCHES, .description = "Times it left a CPU, voluntarily or not" },
    { .path = "/sched/tasks/*/class", .type = KOBJ_ENUM, .access = RV, .get = task_get,
      .field = TASK_CLASS, .choices = class_names,
      .description = "Scheduling class (from the base priority)" },
    { .path = "/sched/tasks/*/effective_priority", .type = KOBJ_INT, .access = RV,
      .get = task_get, .field = TASK_EFFECTIVE_PRIORITY,
      .description = "Priority it is scheduled at now, with the interactive boost" },
    { .path = "/sched/tasks/*/voluntary_switches", .type = KOBJ_UINT, .access = RV,
      .get = task_get, .field = TASK_VOLUNTARY, .description = "Times it blocked, slept or yielded" },
    { .path = "/sched/tasks/*/involuntary_switches", .type = KOBJ_UINT, .access = RV,
      .get = task_get, .field = TASK_INVOLUNTARY, .description = "Times it was preempted" },
    { .path = "/sched/tasks/*/wakeups", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_WAKEUPS, .description = "Times it was woken from a wait or sleep" },
    { .path = "/sched/tasks/*/pid", .type = KOBJ_UINT, .access = R, .get = task_get,
      .field = TASK_PID, .description = "Its process's id; 0 for a kernel thread" },
    { .path = "/sched/tasks/*/tid", .type = KOBJ_UINT, .access = R, .get = task_get,
      .field = TASK_TID, .description = "Its thread id in the pid space (gettid); 0 for a kernel thread" },
    { .path = "/sched/tasks/*/process", .type = KOBJ_STRING, .access = RV, .get = task_get,
      .field = TASK_PROCESS, .description = "Its process's name; empty for a kernel thread" },
    { .path = "/sched/tasks/*/resident", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_RESIDENT, .unit = "bytes",
      .description = "Memory its process's address space holds (shared by its threads); 0 for a kernel thread" },
};
KOBJ_TABLE(sched_nodes);
