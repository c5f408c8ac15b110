/* SPDX-License-Identifier: MIT */
/*
 * Lockup watchdog. Every CPU's timer tick bumps that CPU's heartbeat and then checks:
 *
 *  - Hard lockup, the next CPU in a ring (CPU i watches CPU i+1 mod n, so each target has
 *    exactly one checker and its state needs no lock): when the target's heartbeat has not
 *    moved while the checker itself ticked for the threshold, the target is taking no
 *    interrupts (spinning with interrupts off, or dead). It is reported once per stall,
 *    with its backtrace: an NMI makes it walk its own interrupted stack
 *    (arch_cpu_backtrace), and the checker prints it symbolized as panic does.
 *    Time is counted in the checker's own ticks, not the clock, so a host that stops the
 *    whole virtual machine for a while (TCG on a loaded machine) does not look like a
 *    stuck CPU: the checker did not tick either.
 *  - Soft lockup, on the CPU itself every SOFT_CHECK_TICKS: when it has made no context
 *    switch for the threshold while its run queue was never empty, the running thread
 *    kept the CPU from the others (preemption disabled, or a real-time FIFO hog). The
 *    backtrace is the tick's interrupted context.
 *
 * It only reports (log and counters, KObj /kernel/watchdog) and never stops anything.
 * Caveat: reporting takes the log lock; a stuck CPU that holds it makes the checker wait
 * too (the report then never prints, but the checker's own checker reports it).
 */
#include "core/watchdog.h"
#include "core/log.h"
#include "core/panic.h"
#include "kobj/kobj.h"
#include "sched/sched.h"
#include "config.h"
#include <vk/errno.h>

#define WATCHDOG_FRAMES      24
#define WATCHDOG_NMI_WAIT_US 200000 /* how long a checker waits for the backtrace */
#define SOFT_CHECK_TICKS     10

static uint64_t threshold_ms = CONFIG_WATCHDOG_MS; /* atomic */
static uint64_t heartbeat[CONFIG_MAX_CPUS];        /* written by its own CPU (atomic) */

/* hard[t] is written only by t's checker; soft[c] only by CPU c. */
static struct { uint64_t seen_beat, seen_at; bool reported; } hard[CONFIG_MAX_CPUS];
static struct { uint64_t switches, since; bool reported; } soft[CONFIG_MAX_CPUS];

/* Atomic. */
static uint64_t hard_reports, soft_reports, hard_by_cpu[CONFIG_MAX_CPUS];
static uint32_t last_cpu, last_frames;

void watchdog_set_threshold_ms(uint64_t ms) { __atomic_store_n(&threshold_ms, ms, __ATOMIC_RELAXED); }
uint64_t watchdog_threshold_ms(void) { return __atomic_load_n(&threshold_ms, __ATOMIC_RELAXED); }

void watchdog_stats(watchdog_stats_t *out)
{
    out->hard_reports = __atomic_load_n(&hard_reports, __ATOMIC_ACQUIRE);
    out->soft_reports = __atomic_load_n(&soft_reports, __ATOMIC_ACQUIRE);
    out->last_cpu = __atomic_load_n(&last_cpu, __ATOMIC_RELAXED);
    out->last_frames = __atomic_load_n(&last_frames, __ATOMIC_RELAXED);
}

uint64_t watchdog_hard_reports_of(unsigned cpu)
{
    return cpu < CONFIG_MAX_CPUS ? __atomic_load_n(&hard_by_cpu[cpu], __ATOMIC_ACQUIRE) : 0;
}

static uint64_t ticks_to_ms(uint64_t ticks) { return ticks * 1000 / CONFIG_TIMER_HZ; }

static void report_hard(unsigned me, unsigned target, uint64_t ticks)
{
    uint64_t addrs[WATCHDOG_FRAMES];
    log_printf("\nwatchdog: CPU %u is stuck: no timer tick for %llu ms (interrupts off?), "
               "seen from CPU %u\n", target, (unsigned long long)ticks_to_ms(ticks), me);
    unsigned n = arch_cpu_backtrace(target, addrs, WATCHDOG_FRAMES, WATCHDOG_NMI_WAIT_US);
    if (n) {
        log_printf("watchdog: CPU %u was running:\n", target);
        panic_print_backtrace(addrs, n);
    } else {
        log_printf("watchdog: CPU %u did not answer the NMI\n", target);
    }
    __atomic_store_n(&last_cpu, target, __ATOMIC_RELAXED);
    __atomic_store_n(&last_frames, n, __ATOMIC_RELAXED);
    __atomic_fetch_add(&hard_by_cpu[target], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&hard_reports, 1, __ATOMIC_RELEASE);
}

static void check_hard(unsigned me, uint64_t now, uint64_t limit)
{
    unsigned n = arch_cpu_count();
    if (n < 2)
        return;
    unsigned target = (me + 1) % n;
    uint64_t beat = __atomic_load_n(&heartbeat[target], __ATOMIC_ACQUIRE);
    if (beat == 0)
        return; /* its tick has not started */
    if (beat != hard[target].seen_beat) {
        hard[target].seen_beat = beat;
        hard[target].seen_at = now;
        hard[target].reported = false;
        return;
    }
    if (hard[target].reported || now - hard[target].seen_at < limit)
        return;
    hard[target].reported = true;
    report_hard(me, target, now - hard[target].seen_at);
}

static void check_soft(unsigned me, uint64_t now, uint64_t limit, const arch_frame_t *frame)
{
    sched_cpu_info_t info;
    if (!sched_cpu_info(me, &info))
        return;
    if (info.context_switches != soft[me].switches || info.runnable == 0) {
        soft[me].switches = info.context_switches;
        soft[me].since = now;
        soft[me].reported = false;
        return;
    }
    if (soft[me].reported || now - soft[me].since < limit)
        return;
    soft[me].reported = true;
    log_printf("\nwatchdog: CPU %u soft lockup: thread %llu kept it for %llu ms while %u "
               "thread(s) waited to run\n", me, (unsigned long long)info.current_id,
               (unsigned long long)ticks_to_ms(now - soft[me].since), (unsigned)info.runnable);
    if (arch_frame_from_user(frame))
        log_printf("watchdog: in ring 3 at 0x%016llx\n", (unsigned long long)frame->rip);
    else
        panic_backtrace(frame->rip, frame->rbp);
    __atomic_store_n(&last_cpu, me, __ATOMIC_RELAXED);
    __atomic_fetch_add(&soft_reports, 1, __ATOMIC_RELEASE);
}

void watchdog_tick(const arch_frame_t *frame)
{
    unsigned me = arch_cpu_index();
    if (me >= CONFIG_MAX_CPUS)
        return;
    uint64_t now = heartbeat[me] + 1;
    __atomic_store_n(&heartbeat[me], now, __ATOMIC_RELEASE);
    uint64_t limit = watchdog_threshold_ms() * CONFIG_TIMER_HZ / 1000;
    if (watchdog_threshold_ms() == 0)
        return;
    if (limit == 0)
        limit = 1;
    check_hard(me, now, limit);
    if (now % SOFT_CHECK_TICKS == 0)
        check_soft(me, now, limit, frame);
}

/* ---- KObj: /kernel/watchdog ----------------------------------------------------- */

enum { FIELD_THRESHOLD, FIELD_HARD, FIELD_SOFT };

static int field_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)key;
    watchdog_stats_t s;
    watchdog_stats(&s);
    out->u = node->field == FIELD_THRESHOLD ? watchdog_threshold_ms()
           : node->field == FIELD_HARD      ? s.hard_reports : s.soft_reports;
    return 0;
}

static int threshold_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    (void)node;
    (void)key;
    if (in->u != 0 && in->u < 100)
        return -VK_ERANGE; /* below a few ticks every busy moment would look stuck */
    watchdog_set_threshold_ms(in->u);
    return 0;
}

static kobj_node_t watchdog_nodes[] = {
    { .path = "/kernel/watchdog", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "The lockup watchdog (docs/sched.md)" },
    { .path = "/kernel/watchdog/threshold_ms", .type = KOBJ_UINT,
      .access = KOBJ_READ | KOBJ_WRITE, .get = field_get, .set = threshold_set,
      .field = FIELD_THRESHOLD, .unit = "ms",
      .description = "A CPU without a tick, or without a switch while threads wait, this long is reported; 0: off (min 100)" },
    { .path = "/kernel/watchdog/hard_lockups", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = field_get, .field = FIELD_HARD, .description = "CPUs reported with no timer tick" },
    { .path = "/kernel/watchdog/soft_lockups", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = field_get, .field = FIELD_SOFT,
      .description = "CPUs reported holding one thread while others waited" },
};
KOBJ_TABLE(watchdog_nodes);
