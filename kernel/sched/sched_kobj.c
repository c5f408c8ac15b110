/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's KObj nodes: /cpu/N (per-CPU accounting) and /sched/tasks/ID (every
 * thread). Both directories are dynamic; a thread that exits between a listing and a
 * read gives ENOENT.
 */
#include "kobj/kobj.h"
#include "sched/sched.h"
#include "lib/fmt.h"
#include <vk/errno.h>

enum { CPU_ONLINE, CPU_IDLE, CPU_BUSY, CPU_SWITCHES, CPU_PREEMPTIONS, CPU_RUNNABLE };
enum { TASK_NAME, TASK_STATE, TASK_PRIORITY, TASK_CPU, TASK_RUN, TASK_SWITCHES };

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
    default: out->u = info.runnable; break;
    }
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
    switch (node->field) {
    case TASK_NAME: kobj_value_string(out, info.name); break;
    case TASK_STATE: out->u = info.state; break;
    case TASK_PRIORITY: out->i = info.priority; break;
    case TASK_CPU: out->u = info.cpu; break;
    case TASK_RUN: out->u = info.run_ns; break;
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
    { .path = "/cpu/*/context_switches", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_SWITCHES, .description = "Thread switches on this CPU since boot" },
    { .path = "/cpu/*/preemptions", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_PREEMPTIONS, .description = "Of those, involuntary ones" },
    { .path = "/cpu/*/runnable", .type = KOBJ_UINT, .access = RV, .get = cpu_get,
      .field = CPU_RUNNABLE, .description = "Threads waiting on this CPU's run queue now" },
    { .path = "/sched", .type = KOBJ_DIR, .access = R, .description = "The scheduler" },
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
    { .path = "/sched/tasks/*/switches", .type = KOBJ_UINT, .access = RV, .get = task_get,
      .field = TASK_SWITCHES, .description = "Times it left a CPU, voluntarily or not" },
};
KOBJ_TABLE(sched_nodes);
