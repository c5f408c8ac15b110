/* SPDX-License-Identifier: MIT */
/*
 * Interprocessor interrupts: fixed IPIs for the scheduler, and NMIs for the jobs that
 * must reach a CPU whatever it is doing: TLB shootdown, halting on panic, and the
 * watchdog's backtrace of a stuck CPU (the target walks its own interrupted stack into
 * the requester's buffer, lock-free; the requester prints it).
 *
 * Why NMIs for shootdowns: page tables change with the address space's spinlock held
 * (interrupts off), and every spinlock in the kernel is taken with interrupts off. A
 * CPU spinning on that lock could never take a maskable IPI, so a sender that waited for
 * it while holding the lock would deadlock. An NMI arrives anyway. The handler only
 * flushes and acknowledges; it never takes a lock.
 *
 * The NMI handler does not use GS: an NMI can land in the few instructions of the
 * SYSCALL path that run with the user's GS base. It finds its CPU by LAPIC ID instead.
 *
 * One shootdown at a time (shootdown_lock): the request is global, `pending` holds the
 * CPUs that have not flushed yet. A CPU waiting for the lock, or for acknowledgements,
 * keeps serving NMIs, so two CPUs shooting at each other both make progress. Every
 * request sends one NMI per target and waits for all of them, so no NMI of this file
 * is ever left over to look like a hardware NMI (those still reach the panic report).
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "core/spinlock.h"
#include "core/panic.h"
#include "mm/mm.h"
#include "time/time.h"
#include "config.h"

#define HALT_WAIT_US 100000 /* how long panic waits for the others to stop */

static spinlock_t shootdown_lock = SPINLOCK_INIT;
/* Guarded by shootdown_lock; read by the targets between the NMI and their ack. */
static uint64_t request_start, request_pages;
/* CPUs that still have to flush the current request (atomic). */
static uint64_t pending;
/* Panic: every CPU that takes an NMI stops (atomic), and says so in `halted`. */
static bool halting;
static uint64_t halted;
/* Backtrace requests, one at a time (backtrace_lock). The target claims its bit in
 * backtrace_pending (atomic), fills the buffer, then sets backtrace_done. */
static spinlock_t backtrace_lock = SPINLOCK_INIT;
static uint64_t backtrace_pending;
static uint64_t *backtrace_addrs;
static unsigned backtrace_max, backtrace_count;
static bool backtrace_done;

static uint64_t online_others(void)
{
    unsigned n = arch_cpu_count();
    uint64_t all = n >= 64 ? ~0ull : (1ull << n) - 1;
    return all & ~(1ull << arch_cpu_index());
}

void arch_ipi_send(unsigned index, uint8_t vector)
{
    cpu_t *c = cpu_get(index);
    if (c && index < arch_cpu_count())
        lapic_send_ipi(c->apic_id, LAPIC_ICR_FIXED | LAPIC_ICR_ASSERT | vector);
}

static void send_nmis(uint64_t mask)
{
    for (unsigned i = 0; mask; i++, mask >>= 1)
        if (mask & 1)
            lapic_send_ipi(cpu_get(i)->apic_id, LAPIC_ICR_NMI | LAPIC_ICR_ASSERT);
}

void arch_tlb_flush_local(uint64_t start, uint64_t pages)
{
    if (pages == 0 || pages > CONFIG_TLB_SHOOTDOWN_MAX_PAGES) {
        arch_write_cr3(arch_read_cr3()); /* user pages are never global */
        return;
    }
    for (uint64_t i = 0; i < pages; i++)
        arch_invlpg(start + i * PAGE_SIZE);
}

void arch_tlb_shootdown(uint64_t cpu_mask, uint64_t start, uint64_t pages)
{
    uint64_t f = spinlock_lock_irqsave(&shootdown_lock);
    uint64_t targets = cpu_mask & online_others();
    if (targets) {
        request_start = start;
        request_pages = pages;
        __atomic_store_n(&pending, targets, __ATOMIC_SEQ_CST);
        send_nmis(targets);
        while (__atomic_load_n(&pending, __ATOMIC_ACQUIRE))
            arch_pause();
    }
    spinlock_unlock_irqrestore(&shootdown_lock, f);
}

static unsigned index_from_lapic(void)
{
    uint32_t id = lapic_id();
    unsigned n = arch_cpu_count();
    for (unsigned i = 0; i < n; i++)
        if (cpu_get(i)->apic_id == id)
            return i;
    return CONFIG_MAX_CPUS;
}

bool ipi_handle_nmi(const arch_frame_t *f)
{
    unsigned me = index_from_lapic();
    if (me >= CONFIG_MAX_CPUS)
        return false;
    uint64_t bit = 1ull << me;
    bool handled = false;
    if (__atomic_load_n(&pending, __ATOMIC_ACQUIRE) & bit) {
        arch_tlb_flush_local(request_start, request_pages);
        __atomic_fetch_and(&pending, ~bit, __ATOMIC_RELEASE);
        handled = true;
    }
    if (__atomic_fetch_and(&backtrace_pending, ~bit, __ATOMIC_ACQ_REL) & bit) {
        backtrace_count = panic_collect_backtrace(f->rip, arch_frame_from_user(f) ? 0 : f->rbp,
                                                  backtrace_addrs, backtrace_max);
        __atomic_store_n(&backtrace_done, true, __ATOMIC_RELEASE);
        handled = true;
    }
    if (__atomic_load_n(&halting, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_or(&halted, bit, __ATOMIC_RELEASE);
        for (;;)
            __asm__ volatile("cli; hlt"); /* NMIs stay blocked: this handler never returns */
    }
    return handled;
}

unsigned arch_halt_other_cpus(void)
{
    uint64_t others = online_others();
    if (!others || __atomic_exchange_n(&halting, true, __ATOMIC_ACQ_REL))
        return 0;
    send_nmis(others);
    for (unsigned waited = 0; waited < HALT_WAIT_US; waited += 10) {
        if ((__atomic_load_n(&halted, __ATOMIC_ACQUIRE) & others) == others)
            break;
        time_delay_us(10);
    }
    return (unsigned)__builtin_popcountll(__atomic_load_n(&halted, __ATOMIC_ACQUIRE) & others);
}

unsigned arch_cpu_backtrace(unsigned index, uint64_t *addrs, unsigned max, unsigned wait_us)
{
    if (index >= arch_cpu_count() || index == arch_cpu_index() || max == 0)
        return 0;
    uint64_t f = spinlock_lock_irqsave(&backtrace_lock);
    uint64_t bit = 1ull << index;
    backtrace_addrs = addrs;
    backtrace_max = max;
    backtrace_count = 0;
    __atomic_store_n(&backtrace_done, false, __ATOMIC_RELEASE);
    __atomic_store_n(&backtrace_pending, bit, __ATOMIC_SEQ_CST);
    send_nmis(bit);
    for (unsigned waited = 0; waited < wait_us && !__atomic_load_n(&backtrace_done, __ATOMIC_ACQUIRE);
         waited += 10)
        time_delay_us(10);
    unsigned n = 0;
    if (__atomic_load_n(&backtrace_done, __ATOMIC_ACQUIRE)) {
        n = backtrace_count;
    } else if (!(__atomic_fetch_and(&backtrace_pending, ~bit, __ATOMIC_ACQ_REL) & bit)) {
        /* It claimed the request just now: it is writing the buffer, wait for it. */
        while (!__atomic_load_n(&backtrace_done, __ATOMIC_ACQUIRE))
            arch_pause();
        n = backtrace_count;
    }
    spinlock_unlock_irqrestore(&backtrace_lock, f);
    return n;
}
