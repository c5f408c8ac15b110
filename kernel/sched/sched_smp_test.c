/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the scheduler on several CPUs (test=kernel; the integration suite
 * boots them with -smp 4). On one CPU each test says so and checks nothing more.
 *
 * Under TCG with more vCPUs than host cores a vCPU can stall for a long time, so every
 * loop is bounded by an iteration count and every wait by the 5-second "it did not
 * hang" limit, never by a performance figure.
 */
#include "sched/sched_internal.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/aspace.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "arch/x86_64/arch.h"
#include "test/ktest.h"
#include "sched/sched_test_util.h"
#include "time/time.h"
#include <vk/errno.h>

#define NS_PER_MS     SCHED_TEST_NS_PER_MS
#define HANG_LIMIT_NS SCHED_TEST_HANG_LIMIT_NS
#define MAX_WORKERS   (2 * CONFIG_MAX_CPUS)

static unsigned cpus(void)
{
    return arch_cpu_count();
}

/* ---- CPUs and pinning --------------------------------------------------------------- */

KTEST(smp_every_started_cpu_is_online_with_its_own_tick)
{
    uint64_t mask = sched_online_mask();
    KTEST_EXPECT_EQ(mask, (cpus() >= 64 ? ~0ull : (1ull << cpus()) - 1));
    sched_sleep_ns(30 * NS_PER_MS); /* a few ticks everywhere */
    for (unsigned i = 0; i < cpus(); i++) {
        sched_cpu_info_t info;
        KTEST_EXPECT(sched_cpu_info(i, &info));
        KTEST_EXPECT(info.ticks > 0);
        KTEST_EXPECT(info.idle_ns + info.busy_ns > 0);
    }
}

static unsigned pinned_seen[CONFIG_MAX_CPUS];
static unsigned pinned_wrong;

static void record_cpu(void *arg)
{
    unsigned want = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < 20; i++) {
        if (sched_test_this_cpu() != want)
            __atomic_fetch_add(&pinned_wrong, 1, __ATOMIC_RELAXED);
        if (i % 2)
            sched_yield();
        else
            sched_sleep_ns(NS_PER_MS);
    }
    __atomic_store_n(&pinned_seen[want], 1, __ATOMIC_RELEASE);
}

KTEST(smp_pinned_threads_run_only_on_their_cpu)
{
    if (!sched_test_several_cpus())
        return;
    memset(pinned_seen, 0, sizeof(pinned_seen));
    pinned_wrong = 0;
    sched_thread_t *t[CONFIG_MAX_CPUS];
    for (unsigned i = 0; i < cpus(); i++)
        t[i] = sched_test_spawn("pinned", record_cpu, (void *)(uintptr_t)i, SCHED_PRIORITY_DEFAULT,
                        1ull << i);
    for (unsigned i = 0; i < cpus(); i++) {
        KTEST_EXPECT(t[i] != NULL);
        if (t[i])
            sched_thread_join(t[i]);
        KTEST_EXPECT_EQ(pinned_seen[i], 1);
    }
    KTEST_EXPECT_EQ(pinned_wrong, 0);
}

/* ---- wake-ups across CPUs ------------------------------------------------------------ */

#define PING_ROUNDS 100

static sched_sem_t ping, pong;
static unsigned ping_cpu_wrong;

static void ponger(void *arg)
{
    unsigned want = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < PING_ROUNDS; i++) {
        sched_sem_down(&ping);
        if (sched_test_this_cpu() != want)
            ping_cpu_wrong++;
        sched_sem_up(&pong);
    }
}

/* main on CPU 0 and a thread on the last CPU hand a token back and forth: every round
 * is a wake-up of a thread blocked on another CPU (reschedule IPI or idle wake). */
KTEST(smp_wakeups_cross_cpus_in_both_directions)
{
    if (!sched_test_several_cpus())
        return;
    sched_sem_init(&ping, 0);
    sched_sem_init(&pong, 0);
    ping_cpu_wrong = 0;
    unsigned other = cpus() - 1;
    sched_thread_t *t = sched_test_spawn("ponger", ponger, (void *)(uintptr_t)other,
                                 SCHED_PRIORITY_DEFAULT, 1ull << other);
    KTEST_EXPECT(t != NULL);
    if (!t)
        return;
    unsigned rounds = 0;
    sched_cpu_info_t cpu0;
    sched_cpu_info(0, &cpu0);
    uint64_t start_ns = time_monotonic_ns(), start_ticks = cpu0.ticks;
    for (; rounds < PING_ROUNDS; rounds++) {
        sched_sem_up(&ping);
        if (sched_sem_down_deadline(&pong, time_monotonic_ns() + HANG_LIMIT_NS) != 0)
            break;
        if (sched_test_this_cpu() != 0)
            ping_cpu_wrong++;
    }
    sched_cpu_info(0, &cpu0);
    /* For reading only: a wake-up that waited for the other CPU's tick shows here. */
    log_printf("ktest:   %u round trips in %llu us, %llu ticks of CPU 0\n", rounds,
               (unsigned long long)((time_monotonic_ns() - start_ns) / 1000),
               (unsigned long long)(cpu0.ticks - start_ticks));
    KTEST_EXPECT_EQ(rounds, PING_ROUNDS);
    if (rounds == PING_ROUNDS)
        sched_thread_join(t);
    KTEST_EXPECT_EQ(ping_cpu_wrong, 0);
}

/* ---- locks under contention from every CPU -------------------------------------------- */

#define MUTEX_ROUNDS 300
#define SEM_UNITS    200

static sched_mutex_t stress_mutex;
static volatile uint64_t stress_counter;
static unsigned stress_cpus_used;

static void mutex_hammer(void *arg)
{
    (void)arg;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        sched_mutex_lock(&stress_mutex);
        uint64_t v = stress_counter; /* a read-modify-write with a window in it */
        for (int spin = 0; spin < 20; spin++)
            arch_pause();
        stress_counter = v + 1;
        __atomic_fetch_or(&stress_cpus_used, 1u << sched_test_this_cpu(), __ATOMIC_RELAXED);
        sched_mutex_unlock(&stress_mutex);
    }
}

KTEST(smp_mutex_from_every_cpu_counts_exactly)
{
    if (!sched_test_several_cpus())
        return;
    sched_mutex_init(&stress_mutex);
    stress_counter = 0;
    stress_cpus_used = 0;
    unsigned n = 2 * cpus();
    sched_thread_t *t[MAX_WORKERS];
    for (unsigned i = 0; i < n; i++) /* two per CPU, pinned, so every CPU contends */
        t[i] = sched_test_spawn("mutex-hammer", mutex_hammer, NULL, SCHED_PRIORITY_DEFAULT,
                        1ull << (i % cpus()));
    for (unsigned i = 0; i < n; i++)
        if (t[i])
            sched_thread_join(t[i]);
    KTEST_EXPECT_EQ(stress_counter, (uint64_t)n * MUTEX_ROUNDS);
    KTEST_EXPECT_EQ(stress_cpus_used, (1u << cpus()) - 1);
}

static sched_sem_t units;
static unsigned consumed;

static void producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < SEM_UNITS; i++)
        sched_sem_up(&units);
}

static void consumer(void *arg)
{
    unsigned share = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < share; i++)
        if (sched_sem_down_deadline(&units, time_monotonic_ns() + HANG_LIMIT_NS) == 0)
            __atomic_fetch_add(&consumed, 1, __ATOMIC_RELAXED);
}

/* A producer on every CPU but the first, a consumer on every CPU: every unit is taken
 * exactly once, and the wait queue loses no wake-up. */
KTEST(smp_semaphore_units_cross_cpus_exactly_once)
{
    if (!sched_test_several_cpus())
        return;
    sched_sem_init(&units, 0);
    consumed = 0;
    unsigned producers = cpus() - 1, total = producers * SEM_UNITS;
    sched_thread_t *c[CONFIG_MAX_CPUS], *p[CONFIG_MAX_CPUS];
    for (unsigned i = 0; i < cpus(); i++) {
        unsigned share = total / cpus() + (i < total % cpus() ? 1 : 0);
        c[i] = sched_test_spawn("consumer", consumer, (void *)(uintptr_t)share, SCHED_PRIORITY_DEFAULT,
                        1ull << i);
    }
    for (unsigned i = 0; i < producers; i++)
        p[i] = sched_test_spawn("producer", producer, NULL, SCHED_PRIORITY_DEFAULT, 1ull << (i + 1));
    for (unsigned i = 0; i < producers; i++)
        if (p[i])
            sched_thread_join(p[i]);
    for (unsigned i = 0; i < cpus(); i++)
        if (c[i])
            sched_thread_join(c[i]);
    KTEST_EXPECT_EQ(consumed, total);
    KTEST_EXPECT(!sched_sem_trydown(&units));
}

/* ---- affinity and balancing ----------------------------------------------------------- */

static volatile bool spin_stop;
static volatile unsigned spinner_cpu[4];
static volatile unsigned spinner_cpus_seen[4];

static void spinner(void *arg)
{
    unsigned i = (unsigned)(uintptr_t)arg;
    while (!spin_stop) {
        unsigned c = sched_test_this_cpu();
        spinner_cpu[i] = c;
        spinner_cpus_seen[i] |= 1u << c;
    }
}

/* A running thread moves when its mask excludes its CPU; the calling thread moves
 * before sched_set_affinity returns. */
KTEST(smp_affinity_change_moves_running_and_calling_threads)
{
    if (!sched_test_several_cpus())
        return;
    spin_stop = false;
    spinner_cpu[0] = ~0u;
    unsigned last = cpus() - 1;
    sched_thread_t *t = sched_test_spawn("spinner", spinner, (void *)0, SCHED_PRIORITY_BATCH_MIN, 1ull << 1);
    KTEST_EXPECT(t != NULL);
    if (!t)
        return;
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    while (spinner_cpu[0] != 1 && time_monotonic_ns() < give_up)
        sched_sleep_ns(NS_PER_MS);
    KTEST_EXPECT_EQ(spinner_cpu[0], 1);
    KTEST_EXPECT_EQ(sched_set_affinity(t, 1ull << last), 0);
    while (spinner_cpu[0] != last && time_monotonic_ns() < give_up)
        sched_sleep_ns(NS_PER_MS);
    KTEST_EXPECT_EQ(spinner_cpu[0], last);
    spin_stop = true;
    sched_thread_join(t);

    /* "main" itself: to the last CPU and back to CPU 0, where the runner keeps it. */
    sched_thread_t *self = sched_current();
    KTEST_EXPECT_EQ(sched_set_affinity(self, 1ull << last), 0);
    KTEST_EXPECT_EQ(sched_test_this_cpu(), last);
    KTEST_EXPECT_EQ(sched_set_affinity(self, 1), 0);
    KTEST_EXPECT_EQ(sched_test_this_cpu(), 0);
    KTEST_EXPECT_EQ(sched_set_affinity(self, 1ull << CONFIG_MAX_CPUS), -VK_EINVAL);
}

/* Threads queued on CPU 0 (main keeps it busy), then allowed everywhere: the idle CPUs
 * take them. Nothing here blocks or wakes, so only idle-time stealing can move them. */
KTEST(smp_idle_cpus_steal_queued_threads)
{
    if (!sched_test_several_cpus())
        return;
    spin_stop = false;
    /* One of them runs on CPU 0 once main sleeps; the others stay queued there to be
     * stolen. So at least two, also on two CPUs. */
    unsigned n = cpus() < 3 ? cpus() : 3;
    uint64_t steals_before = 0;
    for (unsigned i = 0; i < cpus(); i++) {
        sched_cpu_info_t info;
        sched_cpu_info(i, &info);
        steals_before += info.steals;
    }
    sched_thread_t *t[3];
    for (unsigned i = 0; i < n; i++) {
        spinner_cpus_seen[i] = 0;
        t[i] = sched_test_spawn("stealable", spinner, (void *)(uintptr_t)i, SCHED_PRIORITY_BATCH_MIN, 1);
    }
    /* Still queued behind main: widen the masks without giving up the CPU. */
    for (unsigned i = 0; i < n; i++)
        if (t[i])
            KTEST_EXPECT_EQ(sched_set_affinity(t[i], ~0ull), 0);
    sched_sleep_ns(100 * NS_PER_MS);
    spin_stop = true;
    uint64_t steals_after = 0;
    for (unsigned i = 0; i < cpus(); i++) {
        sched_cpu_info_t info;
        sched_cpu_info(i, &info);
        steals_after += info.steals;
    }
    unsigned moved = 0;
    for (unsigned i = 0; i < n; i++) {
        if (t[i])
            sched_thread_join(t[i]);
        if (spinner_cpus_seen[i] & ~1u)
            moved++;
    }
    KTEST_EXPECT(moved >= 1);
    KTEST_EXPECT(steals_after > steals_before);
}

/* Four spinners queued on CPU 0, then allowed everywhere, with stealing turned off:
 * only the periodic balancer can move them, and it must spread them evenly (per-CPU
 * counts differing by at most one) within a bounded number of ticks. */
/* Balancer pulls and steals, summed over the CPUs. */
static void count_moves(uint64_t *pulls, uint64_t *steals)
{
    *pulls = *steals = 0;
    for (unsigned i = 0; i < cpus(); i++) {
        sched_cpu_info_t info;
        sched_cpu_info(i, &info);
        *pulls += info.balance_pulls;
        *steals += info.steals;
    }
}

KTEST(smp_balancer_spreads_busy_threads_without_stealing)
{
    if (!sched_test_several_cpus())
        return;
    spin_stop = false;
    sched_steal_disabled = true;
    uint64_t pulls_before, steals_before;
    count_moves(&pulls_before, &steals_before);
    sched_thread_t *t[4];
    for (unsigned i = 0; i < 4; i++)
        t[i] = sched_test_spawn("balanced", spinner, (void *)(uintptr_t)i,
                                SCHED_PRIORITY_BATCH_MIN, 1);
    for (unsigned i = 0; i < 4; i++)
        if (t[i])
            KTEST_EXPECT_EQ(sched_set_affinity(t[i], ~0ull), 0);
    sched_cpu_info_t cpu0;
    sched_cpu_info(0, &cpu0);
    uint64_t ticks_start = cpu0.ticks, ticks_spread = 0;
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    bool spread = false;
    while (!spread && time_monotonic_ns() < give_up) {
        sched_sleep_ns(NS_PER_MS);
        unsigned per_cpu[CONFIG_MAX_CPUS] = { 0 };
        for (unsigned i = 0; i < 4; i++) {
            sched_thread_info_t info;
            if (t[i]) {
                sched_thread_info(t[i], &info);
                per_cpu[info.cpu]++;
            }
        }
        unsigned lo = ~0u, hi = 0;
        for (unsigned c = 0; c < cpus(); c++) {
            lo = per_cpu[c] < lo ? per_cpu[c] : lo;
            hi = per_cpu[c] > hi ? per_cpu[c] : hi;
        }
        spread = hi - lo <= 1;
        sched_cpu_info(0, &cpu0);
        ticks_spread = cpu0.ticks - ticks_start;
    }
    spin_stop = true;
    for (unsigned i = 0; i < 4; i++)
        if (t[i])
            sched_thread_join(t[i]);
    sched_steal_disabled = false;
    uint64_t pulls_after, steals_after;
    count_moves(&pulls_after, &steals_after);
    log_printf("ktest:   spread over %u CPUs after %llu ticks of CPU 0, %llu pulls\n", cpus(),
               (unsigned long long)ticks_spread, (unsigned long long)(pulls_after - pulls_before));
    KTEST_EXPECT(spread);
    /* Each pull takes one thread per SCHED_BALANCE_TICKS ticks of the puller: a handful
     * of balancing rounds, with slack for vCPUs that TCG stalls. */
    KTEST_EXPECT(ticks_spread <= 100);
    KTEST_EXPECT(pulls_after - pulls_before >= (cpus() < 4 ? cpus() : 4) - 1);
    KTEST_EXPECT_EQ(steals_after, steals_before);
}

/* A FIFO thread spinning forever on a CPU leaves 5% of each period to the other
 * classes there: a nice-0 thread pinned beside it still counts up. */
static volatile unsigned rt_counter;

static void rt_hog(void *arg)
{
    (void)arg;
    while (!spin_stop)
        __asm__ volatile("pause");
}

static void rt_victim(void *arg)
{
    (void)arg;
    while (!spin_stop)
        __atomic_store_n(&rt_counter, rt_counter + 1, __ATOMIC_RELAXED);
}

KTEST(smp_rt_throttling_lets_a_normal_thread_run_beside_a_fifo_hog)
{
    if (!sched_test_several_cpus())
        return;
    unsigned last = cpus() - 1;
    spin_stop = false;
    rt_counter = 0;
    sched_cpu_info_t before, after;
    sched_cpu_info(last, &before);
    sched_thread_t *hog = sched_test_spawn("rt-hog", rt_hog, NULL, 10, 1ull << last);
    KTEST_EXPECT(hog != NULL);
    if (!hog)
        return;
    KTEST_EXPECT_EQ(sched_set_policy(hog, SCHED_POLICY_FIFO), 0);
    sched_thread_t *victim = sched_test_spawn("rt-victim", rt_victim, NULL,
                                              SCHED_PRIORITY_DEFAULT, 1ull << last);
    KTEST_EXPECT(victim != NULL);
    /* Throttling starts once the hog has used 950 ms of one 1 s period: at most ~2 s. */
    uint64_t give_up = time_monotonic_ns() + HANG_LIMIT_NS;
    while (__atomic_load_n(&rt_counter, __ATOMIC_RELAXED) == 0 && time_monotonic_ns() < give_up)
        sched_sleep_ns(10 * NS_PER_MS);
    unsigned counted = rt_counter;
    sched_cpu_info(last, &after);
    spin_stop = true;
    sched_thread_join(hog);
    if (victim)
        sched_thread_join(victim);
    KTEST_EXPECT(counted > 0);
    KTEST_EXPECT(after.rt_throttled > before.rt_throttled);
}

/* ---- TLB shootdown ------------------------------------------------------------------ */

#define SHOOT_PAGE 0x0000100000000000ull

static aspace_t *shoot_as;
static volatile unsigned shoot_step; /* main and the thread take turns */
static int shoot_read_before, shoot_read_after, shoot_write_after_protect;

static void step_wait(unsigned value)
{
    sched_test_wait_for_count(&shoot_step, value);
}

/* On another CPU: load the space, pull the page into this CPU's TLB, and try again
 * after main unmapped (or write-protected) it. A CPU the shootdown missed would still
 * reach the old frame through its stale TLB entry. The space stays loaded when the
 * thread ends, so aspace_destroy must evict it from this CPU. */
static void shoot_reader(void *arg)
{
    (void)arg;
    uint64_t value = 0;
    aspace_activate(shoot_as);
    shoot_read_before = usercopy_from(&value, SHOOT_PAGE, sizeof(value));
    if (value != 0x5eed)
        shoot_read_before = -1;
    uint64_t one = 1;
    usercopy_to(SHOOT_PAGE + PAGE_SIZE, &one, sizeof(one)); /* second page writable in TLB */
    __atomic_store_n(&shoot_step, 1, __ATOMIC_RELEASE);
    step_wait(2);
    shoot_read_after = usercopy_from(&value, SHOOT_PAGE, sizeof(value));
    shoot_write_after_protect = usercopy_to(SHOOT_PAGE + PAGE_SIZE, &one, sizeof(one));
    __atomic_store_n(&shoot_step, 3, __ATOMIC_RELEASE);
}

KTEST(smp_tlb_shootdown_reaches_the_cpu_that_has_the_space_loaded)
{
    if (!sched_test_several_cpus())
        return;
    uint64_t frames_before = aspace_frames_in_use();
    shoot_as = aspace_create();
    KTEST_EXPECT(shoot_as != NULL);
    if (!shoot_as)
        return;
    uint64_t seed = 0x5eed;
    KTEST_EXPECT_EQ(aspace_map(shoot_as, SHOOT_PAGE, 2 * PAGE_SIZE,
                               ASPACE_PROT_READ | ASPACE_PROT_WRITE, ASPACE_ANON, "shoot"), 0);
    KTEST_EXPECT_EQ(aspace_write(shoot_as, SHOOT_PAGE, &seed, sizeof(seed)), 0);
    shoot_step = 0;
    shoot_read_before = shoot_read_after = shoot_write_after_protect = 1;
    unsigned other = cpus() - 1;
    sched_thread_t *t = sched_test_spawn("shoot-reader", shoot_reader, NULL, SCHED_PRIORITY_DEFAULT,
                                 1ull << other);
    KTEST_EXPECT(t != NULL);
    if (t) {
        step_wait(1);
        KTEST_EXPECT_EQ(aspace_unmap(shoot_as, SHOOT_PAGE, PAGE_SIZE), 0);
        KTEST_EXPECT_EQ(aspace_protect(shoot_as, SHOOT_PAGE + PAGE_SIZE, PAGE_SIZE,
                                       ASPACE_PROT_READ), 0);
        __atomic_store_n(&shoot_step, 2, __ATOMIC_RELEASE);
        step_wait(3);
        sched_thread_join(t);
    }
    KTEST_EXPECT_EQ(shoot_read_before, 0);
    KTEST_EXPECT_EQ(shoot_read_after, -VK_EFAULT);
    KTEST_EXPECT_EQ(shoot_write_after_protect, -VK_EFAULT);
    aspace_destroy(shoot_as); /* still loaded on the other CPU: evicted by IPI */
    shoot_as = NULL;
    KTEST_EXPECT_EQ(aspace_frames_in_use(), frames_before);
    /* That CPU is fine afterwards. */
    memset(pinned_seen, 0, sizeof(pinned_seen));
    pinned_wrong = 0;
    t = sched_test_spawn("after-evict", record_cpu, (void *)(uintptr_t)other, SCHED_PRIORITY_DEFAULT,
                 1ull << other);
    if (t)
        sched_thread_join(t);
    KTEST_EXPECT_EQ(pinned_seen[other], 1);
    KTEST_EXPECT_EQ(pinned_wrong, 0);
}
