/* SPDX-License-Identifier: MIT */
/*
 * TSC frequency discovery, LAPIC timer calibration, the monotonic clock and the tick.
 *
 * Design notes:
 *  - Calibration runs three windows against the reference (HPET: 10 ms; PIT: 50 ms,
 *    since it is coarser) and keeps the median, so one window stretched by an SMI or a
 *    busy host does not decide the result. The TSC and the LAPIC countdown are read in
 *    the same order at both ends of a window so the read costs cancel.
 *  - CPUID leaf 0x15 (with a crystal frequency) is exact when it is right, so it wins
 *    when it agrees with the measurement within 1%; hypervisors sometimes report
 *    nonsense there, hence the cross-check. Leaf 0x16 is only a nominal frequency and
 *    is used only when nothing can be measured.
 *  - Cycles become nanoseconds with a multiplier and shift (ns = cycles * mult >> shift)
 *    evaluated in two 32-bit halves: no 128-bit arithmetic, no division per read.
 *  - Rates are computed as (d / ns) * 1e9 + (d % ns) * 1e9 / ns, exact and free of
 *    overflow for windows shorter than ~18 s.
 *  - The LAPIC timer runs one-shot, not periodic. Each interrupt programs the next one
 *    for the earlier of the CPU's next tick (every 1/CONFIG_TIMER_HZ) and the earliest
 *    deadline asked for with time_event_at, so a sleep ends within microseconds of its
 *    deadline instead of on the next tick. An interrupt that comes before the tick is
 *    due is an "event": only time_event_hook runs.
 */
#include "time/time.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/lapic.h"
#include "config.h"
#include "core/log.h"
#include "core/watchdog.h"
#include "time/refclock.h"

#define NS_PER_SEC          1000000000ull
#define HPET_WINDOW_NS      10000000ull  /* 10 ms */
#define PIT_WINDOW_COUNT    59659u       /* 50 ms of PIT_HZ */
#define TSC_WINDOW_DIVISOR  100u         /* 10 ms of TSC, for the LAPIC when only CPUID knows */
#define CALIBRATION_RUNS    3
#define LAPIC_DIVIDE        16u          /* keeps 32-bit counts in range for any bus clock */
#define WINDOW_TIMEOUT      (1ull << 36) /* TSC cycles (>= 7 s) before giving up on a reference */
#define TSC_HZ_MIN          100000000ull    /* a plausible TSC: 100 MHz .. 10 GHz */
#define TSC_HZ_MAX          10000000000ull
#define EARLY_TSC_HZ        4000000000ull   /* delay assumption before time_init */
#define GUESS_TSC_HZ        2000000000ull   /* when nothing at all can be measured */
#define GUESS_LAPIC_HZ      100000000ull

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_80000007_EDX_INVARIANT_TSC (1u << 8)

/* Written by time_init on the boot CPU before interrupts are enabled; read-only after. */
static uint64_t tsc_hz;
static uint64_t lapic_hz;
static uint64_t tsc_base;
static uint64_t ns_mult;
static unsigned ns_shift;
static uint32_t tick_count_init;
static uint8_t tick_vector;
static uint32_t boot_apic_id;
/* Written by the boot CPU's tick handler only. */
static volatile uint64_t ticks;
/* Per CPU, touched by that CPU alone with interrupts off. */
static struct {
    uint64_t next_tick_ns; /* when the next tick is due */
    uint64_t armed_ns;     /* what the LAPIC timer is set to fire at */
} cpu_timer[CONFIG_MAX_CPUS];
/* An interrupt this close before the tick is due counts as the tick: the LAPIC and
 * the TSC are calibrated against each other, not identical. */
#define TICK_SLACK_NS 20000ull

typedef struct {
    uint64_t tsc_hz;
    uint64_t lapic_hz;
} time_rates_t;

typedef bool (*time_window_fn)(uint64_t *tsc_delta, uint64_t *lapic_delta, uint64_t *ns);

static uint64_t rate_hz(uint64_t delta, uint64_t ns)
{
    return (delta / ns) * NS_PER_SEC + (delta % ns) * NS_PER_SEC / ns;
}

static uint64_t lapic_elapsed(uint32_t before, uint32_t after)
{
    return (uint64_t)(uint32_t)(before - after) * LAPIC_DIVIDE; /* it counts down */
}

static bool window_hpet(uint64_t *tsc_delta, uint64_t *lapic_delta, uint64_t *ns)
{
    uint64_t period = hpet_period_fs(), mask = hpet_counter_mask();
    uint64_t target = HPET_WINDOW_NS * 1000000ull / period;
    lapic_timer_start_countdown(0xffffffffu, LAPIC_DIVIDE);
    uint64_t h0 = hpet_counter(), t0 = arch_rdtsc();
    uint32_t l0 = lapic_timer_current();
    uint64_t h1, t1;
    do {
        h1 = hpet_counter();
        t1 = arch_rdtsc();
        if (t1 - t0 > WINDOW_TIMEOUT)
            return false;
    } while (((h1 - h0) & mask) < target);
    uint32_t l1 = lapic_timer_current();
    *tsc_delta = t1 - t0;
    *lapic_delta = lapic_elapsed(l0, l1);
    *ns = ((h1 - h0) & mask) * period / 1000000ull;
    return true;
}

static bool window_pit(uint64_t *tsc_delta, uint64_t *lapic_delta, uint64_t *ns)
{
    lapic_timer_start_countdown(0xffffffffu, LAPIC_DIVIDE);
    if (!pit_oneshot_start(PIT_WINDOW_COUNT))
        return false;
    uint64_t t0 = arch_rdtsc(), t1;
    uint32_t l0 = lapic_timer_current();
    while (!pit_oneshot_done())
        if (arch_rdtsc() - t0 > WINDOW_TIMEOUT)
            return false;
    t1 = arch_rdtsc();
    uint32_t l1 = lapic_timer_current();
    *tsc_delta = t1 - t0;
    *lapic_delta = lapic_elapsed(l0, l1);
    *ns = (uint64_t)PIT_WINDOW_COUNT * NS_PER_SEC / PIT_HZ;
    return true;
}

/* LAPIC against a TSC whose rate CPUID gave (tsc_hz already set). */
static bool window_tsc(uint64_t *tsc_delta, uint64_t *lapic_delta, uint64_t *ns)
{
    uint64_t cycles = tsc_hz / TSC_WINDOW_DIVISOR;
    lapic_timer_start_countdown(0xffffffffu, LAPIC_DIVIDE);
    uint64_t t0 = arch_rdtsc(), t1;
    uint32_t l0 = lapic_timer_current();
    while ((t1 = arch_rdtsc()) - t0 < cycles)
        arch_pause();
    uint32_t l1 = lapic_timer_current();
    *tsc_delta = t1 - t0;
    *lapic_delta = lapic_elapsed(l0, l1);
    *ns = rate_hz(*tsc_delta, tsc_hz); /* cycles * 1e9 / hz: cycles -> ns */
    return true;
}

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

static bool calibrate(time_window_fn window, time_rates_t *out)
{
    uint64_t tsc[CALIBRATION_RUNS], lapic[CALIBRATION_RUNS];
    bool ok = true;
    for (int i = 0; i < CALIBRATION_RUNS && ok; i++) {
        uint64_t td, ld, ns;
        ok = window(&td, &ld, &ns) && ns != 0;
        if (ok) {
            tsc[i] = rate_hz(td, ns);
            lapic[i] = rate_hz(ld, ns);
        }
    }
    lapic_timer_stop();
    if (!ok)
        return false;
    out->tsc_hz = median3(tsc[0], tsc[1], tsc[2]);
    out->lapic_hz = median3(lapic[0], lapic[1], lapic[2]);
    return true;
}

typedef struct {
    uint64_t hz;
    bool exact;      /* from the crystal ratio, not a nominal figure */
    const char *source;
} time_cpuid_tsc_t;

/* Intel SDM Vol. 2A, CPUID leaf 15H "Time Stamp Counter and Nominal Core Crystal Clock
 * Information" (TSC = ECX * EBX / EAX) and leaf 16H "Processor Frequency Information"
 * (EAX = base MHz). */
static time_cpuid_tsc_t cpuid_tsc(void)
{
    time_cpuid_tsc_t r = { 0, false, NULL };
    uint32_t max, a, b, c, d;
    arch_cpuid(0, 0, &max, &b, &c, &d);
    if (max >= 0x15) {
        arch_cpuid(0x15, 0, &a, &b, &c, &d);
        if (a && b && c)
            return (time_cpuid_tsc_t){ (uint64_t)c * b / a, true, "cpuid 0x15" };
    }
    if (max >= 0x16) {
        arch_cpuid(0x16, 0, &a, &b, &c, &d);
        if (a & 0xffff)
            r = (time_cpuid_tsc_t){ (uint64_t)(a & 0xffff) * 1000000ull, false, "cpuid 0x16" };
    }
    return r;
}

static bool tsc_invariant(void)
{
    uint32_t max, a, b, c, d;
    arch_cpuid(0x80000000u, 0, &max, &b, &c, &d);
    if (max < 0x80000007u)
        return false;
    arch_cpuid(0x80000007u, 0, &a, &b, &c, &d);
    return (d & CPUID_80000007_EDX_INVARIANT_TSC) != 0;
}

static bool tsc_plausible(uint64_t hz) { return hz >= TSC_HZ_MIN && hz <= TSC_HZ_MAX; }

/* Largest shift <= 32 with mult = (1e9 << shift) / hz below 2^32 (see time_monotonic_ns). */
static void set_ns_scale(uint64_t hz)
{
    unsigned shift = 32;
    while (shift > 0 && (NS_PER_SEC << shift) / hz >= (1ull << 32))
        shift--;
    ns_shift = shift;
    ns_mult = (NS_PER_SEC << shift) / hz;
}

static uint64_t cycles_to_ns(uint64_t cycles)
{
    /* cycles * mult >> shift, split so no partial product exceeds 64 bits. */
    uint64_t hi = cycles >> 32, lo = cycles & 0xffffffffull;
    return ((hi * ns_mult) << (32 - ns_shift)) + ((lo * ns_mult) >> ns_shift);
}

static uint64_t tick_period_ns(void) { return NS_PER_SEC / CONFIG_TIMER_HZ; }

/* Sets this CPU's LAPIC timer to fire at `at` (interrupts off). */
static void arm(uint64_t at, uint64_t now)
{
    cpu_timer[arch_cpu_index()].armed_ns = at;
    uint64_t ns = at > now ? at - now : 0;
    uint64_t count = ns * (lapic_hz / LAPIC_DIVIDE) / NS_PER_SEC; /* ns <= one period */
    lapic_timer_rearm(count ? (count > 0xffffffffull ? 0xffffffffu : (uint32_t)count) : 1);
}

void time_event_at(uint64_t deadline_ns)
{
    if (!tick_vector)
        return; /* no timer: deadlines are met by whatever interrupt comes next */
    bool irq = arch_irq_enabled();
    arch_irq_disable();
    if (deadline_ns < cpu_timer[arch_cpu_index()].armed_ns)
        arm(deadline_ns, time_monotonic_ns());
    if (irq)
        arch_irq_enable();
}

static void tick_handler(arch_frame_t *frame)
{
    uint64_t now = time_monotonic_ns();
    unsigned cpu = arch_cpu_index();
    bool tick = now + TICK_SLACK_NS >= cpu_timer[cpu].next_tick_ns;
    if (tick) {
        uint64_t next = cpu_timer[cpu].next_tick_ns + tick_period_ns();
        cpu_timer[cpu].next_tick_ns = next > now ? next : now + tick_period_ns(); /* missed */
    }
    /* Armed before the hooks: they may switch threads and return much later. The
     * hooks ask for an earlier event with time_event_at. */
    arm(cpu_timer[cpu].next_tick_ns, now);
    if (!tick) {
        time_event_hook();
        return;
    }
    if (lapic_id() == boot_apic_id)
        ticks = ticks + 1;
    watchdog_tick(frame); /* before the hook: it may switch away */
    time_tick_hook();
}

__attribute__((weak)) void time_tick_hook(void) {}
__attribute__((weak)) void time_event_hook(void) {}

/* This CPU's first one-shot interrupt, one period from now. */
static void start_cpu_timer(void)
{
    uint64_t now = time_monotonic_ns();
    unsigned cpu = arch_cpu_index();
    cpu_timer[cpu].next_tick_ns = now + tick_period_ns();
    cpu_timer[cpu].armed_ns = cpu_timer[cpu].next_tick_ns;
    lapic_timer_start_oneshot(tick_vector, tick_count_init, LAPIC_DIVIDE);
}

static void start_tick(void)
{
    uint64_t count = lapic_hz / LAPIC_DIVIDE / CONFIG_TIMER_HZ;
    if (!lapic_ready() || count == 0 || count > 0xffffffffull) {
        log_error("time: no periodic tick (LAPIC %s, count %llu)",
                  lapic_ready() ? "ready" : "not initialised", (unsigned long long)count);
        return;
    }
    tick_vector = arch_irq_alloc_vector();
    if (tick_vector == 0) {
        log_error("time: no free interrupt vector for the tick");
        return;
    }
    tick_count_init = (uint32_t)count;
    boot_apic_id = lapic_id();
    arch_irq_register(tick_vector, tick_handler, true);
    start_cpu_timer();
}

void time_init(void)
{
    time_rates_t measured = { 0, 0 };
    const char *ref = NULL;
    if (hpet_init() && calibrate(window_hpet, &measured))
        ref = "hpet";
    else if (calibrate(window_pit, &measured))
        ref = "pit";

    time_cpuid_tsc_t cpuid = cpuid_tsc();
    const char *tsc_source;
    if (ref && tsc_plausible(measured.tsc_hz)) {
        uint64_t diff = cpuid.hz > measured.tsc_hz ? cpuid.hz - measured.tsc_hz
                                                   : measured.tsc_hz - cpuid.hz;
        if (cpuid.exact && tsc_plausible(cpuid.hz) && diff * 100 <= measured.tsc_hz) {
            tsc_hz = cpuid.hz;
            tsc_source = cpuid.source;
        } else {
            if (cpuid.exact)
                log_warn("time: %s says %llu Hz but the %s measures %llu Hz; using the measurement",
                         cpuid.source, (unsigned long long)cpuid.hz, ref,
                         (unsigned long long)measured.tsc_hz);
            tsc_hz = measured.tsc_hz;
            tsc_source = ref;
        }
        lapic_hz = measured.lapic_hz;
    } else if (tsc_plausible(cpuid.hz)) {
        tsc_hz = cpuid.hz;
        tsc_source = cpuid.source;
        time_rates_t r;
        ref = "tsc";
        lapic_hz = calibrate(window_tsc, &r) ? r.lapic_hz : 0;
    } else {
        log_error("time: no HPET, PIT or CPUID frequency; guessing TSC %llu Hz, LAPIC %llu Hz",
                  GUESS_TSC_HZ, GUESS_LAPIC_HZ);
        tsc_hz = GUESS_TSC_HZ;
        lapic_hz = GUESS_LAPIC_HZ;
        tsc_source = ref = "guess";
    }

    set_ns_scale(tsc_hz);
    tsc_base = arch_rdtsc();
    start_tick();
    log_info("time: TSC %llu.%03llu MHz (%s, %s), LAPIC timer %llu.%03llu MHz (ref %s), "
             "tick %u Hz on vector 0x%x",
             (unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz % 1000000 / 1000),
             tsc_source, tsc_invariant() ? "invariant" : "not invariant",
             (unsigned long long)(lapic_hz / 1000000),
             (unsigned long long)(lapic_hz % 1000000 / 1000), ref,
             tick_vector ? (unsigned)CONFIG_TIMER_HZ : 0u, tick_vector);
}

void time_tick_start_cpu(void)
{
    if (tick_vector)
        start_cpu_timer();
}

uint64_t time_cycles_to_ns(uint64_t cycles)
{
    return tsc_hz ? cycles_to_ns(cycles) : 0;
}

uint64_t time_monotonic_ns(void)
{
    if (tsc_hz == 0)
        return 0;
    return cycles_to_ns(arch_rdtsc() - tsc_base);
}

void time_delay_us(uint64_t us)
{
    uint64_t hz = tsc_hz ? tsc_hz : EARLY_TSC_HZ;
    uint64_t cycles = (us / 1000000) * hz + (us % 1000000) * hz / 1000000;
    uint64_t start = arch_rdtsc();
    while (arch_rdtsc() - start < cycles)
        arch_pause();
}

uint64_t time_tsc_hz(void) { return tsc_hz; }
uint64_t time_lapic_hz(void) { return lapic_hz; }
uint64_t time_ticks(void) { return ticks; }
uint8_t time_tick_vector(void) { return tick_vector; }
