/* SPDX-License-Identifier: MIT */
/*
 * Starting the other CPUs (Intel SDM vol. 3A, 9.4 "Multiple-Processor (MP)
 * Initialization" and 9.4.4.1 "Typical BSP Initialization Sequence").
 *
 * The loader reserved VK_BOOT_SMP_TRAMPOLINE_PAGES pages below 1 MiB (docs/boot.md):
 *   page 0  the real-mode trampoline (smp_trampoline.S) and its parameter block
 *   page 1  a PML4: entry 0 identity-maps the low 2 MiB (the trampoline runs there when
 *           it turns paging on), entries 256..511 are the kernel's own
 *   page 2  the PDPT and page 3 the page directory of that identity map
 * The PML4 has to live there because the trampoline loads CR3 in 32-bit mode, which
 * reaches only the low 4 GiB. The first kernel code the CPU runs (ap_entry) switches to
 * the kernel's own root, where the low identity map does not exist.
 *
 * CPUs start one at a time: the boot CPU fills the block (stack, cpu_t), sends INIT,
 * waits 10 ms, sends a start-up IPI, waits 200 us and sends the second one if the CPU
 * has not announced itself, then waits up to CONFIG_SMP_START_TIMEOUT_MS for
 * arch_smp_cpu_ready. A CPU that misses it is logged, sent INIT again (back to
 * wait-for-SIPI, so a late start cannot run on the next CPU's stack) and skipped.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "acpi/acpi.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/string.h"
#include "mm/mm.h"
#include "time/time.h"
#include "config.h"

extern const char smp_trampoline_start[], smp_trampoline_end[];
extern const char smp_trampoline_gdtr[], smp_trampoline_far32[], smp_trampoline_far64[];
extern const char smp_trampoline_cr3[], smp_trampoline_stack[], smp_trampoline_entry[];
extern const char smp_trampoline_arg[];

#define TRAMPOLINE_OFFSET(sym) ((uint64_t)((sym) - smp_trampoline_start))
#define PTE_P  (1ull << 0)
#define PTE_W  (1ull << 1)
#define PTE_PS (1ull << 7)
#define INIT_DELAY_US    10000 /* SDM 9.4.4.1: 10 ms after INIT */
#define STARTUP_DELAY_US 200   /* and 200 us after each start-up IPI */

/* Written by the boot CPU before each start, read by the CPU being started. */
static __attribute__((noreturn)) void (*secondary_enter)(unsigned index);
static uint64_t kernel_root;
/* Set by the CPU being started (arch_smp_cpu_ready); the boot CPU waits on it. */
static volatile unsigned ready_index;
static unsigned cpu_count = 1;

unsigned arch_cpu_count(void)
{
    return __atomic_load_n(&cpu_count, __ATOMIC_ACQUIRE);
}

void arch_smp_cpu_ready(void)
{
    __atomic_store_n(&ready_index, cpu_current()->index, __ATOMIC_RELEASE);
}

/* The first kernel code of a secondary CPU, on its own stack, still on the trampoline's
 * page tables (which map the kernel half too). */
__attribute__((noreturn)) static void ap_entry(cpu_t *c)
{
    arch_write_cr3(kernel_root);
    cpu_init_secondary(c);
    lapic_init();
    if (lapic_id() != c->apic_id) {
        /* Not the CPU this start was meant for: never run on its stack. */
        arch_halt_forever();
    }
    secondary_enter(c->index);
}

/* The blob's operands sit where real-mode code put them, often unaligned: patch them
 * byte-wise (a plain store there is undefined behaviour, which UBSan traps on). */
static void blob_add32(uint8_t *at, uint32_t value)
{
    uint32_t v;
    memcpy(&v, at, sizeof(v));
    v += value;
    memcpy(at, &v, sizeof(v));
}

static void blob_put64(uint8_t *at, uint64_t value)
{
    memcpy(at, &value, sizeof(value));
}

/* Copies the blob and builds the trampoline's page tables; returns its virtual base. */
static uint8_t *prepare_trampoline(uint64_t phys)
{
    uint8_t *base = phys_to_virt(phys);
    size_t size = (size_t)(smp_trampoline_end - smp_trampoline_start);
    memcpy(base, smp_trampoline_start, size);
    blob_add32(base + TRAMPOLINE_OFFSET(smp_trampoline_gdtr) + 2, (uint32_t)phys);
    blob_add32(base + TRAMPOLINE_OFFSET(smp_trampoline_far32), (uint32_t)phys);
    blob_add32(base + TRAMPOLINE_OFFSET(smp_trampoline_far64), (uint32_t)phys);

    uint64_t *pml4 = phys_to_virt(phys + PAGE_SIZE);
    uint64_t *pdpt = phys_to_virt(phys + 2 * PAGE_SIZE);
    uint64_t *pd = phys_to_virt(phys + 3 * PAGE_SIZE);
    memset(pml4, 0, 3 * PAGE_SIZE);
    pml4[0] = (phys + 2 * PAGE_SIZE) | PTE_P | PTE_W;
    pdpt[0] = (phys + 3 * PAGE_SIZE) | PTE_P | PTE_W;
    pd[0] = PTE_P | PTE_W | PTE_PS; /* 0..2 MiB, executable */
    memcpy(&pml4[256], (uint64_t *)phys_to_virt(kernel_root) + 256, 256 * sizeof(uint64_t));
    blob_put64(base + TRAMPOLINE_OFFSET(smp_trampoline_cr3), phys + PAGE_SIZE);
    blob_put64(base + TRAMPOLINE_OFFSET(smp_trampoline_entry), (uint64_t)ap_entry);
    return base;
}

static bool wait_ready(unsigned index, uint64_t timeout_us)
{
    uint64_t end = time_monotonic_ns() + timeout_us * 1000;
    do {
        if (__atomic_load_n(&ready_index, __ATOMIC_ACQUIRE) == index)
            return true;
        arch_pause();
    } while (time_monotonic_ns() < end);
    return false;
}

/* INIT-SIPI-SIPI for one CPU; true once it called arch_smp_cpu_ready. */
static bool start_one(uint8_t *tramp, uint64_t phys, cpu_t *c)
{
    void *stack = vmm_alloc_kernel_stack(CONFIG_KERNEL_STACK_PAGES);
    if (!stack) {
        log_warn("smp: no memory for the stack of CPU %u", c->index);
        return false;
    }
    blob_put64(tramp + TRAMPOLINE_OFFSET(smp_trampoline_stack), (uint64_t)stack);
    blob_put64(tramp + TRAMPOLINE_OFFSET(smp_trampoline_arg), (uint64_t)c);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    uint32_t vector = (uint32_t)(phys >> 12);
    lapic_send_ipi(c->apic_id, LAPIC_ICR_INIT | LAPIC_ICR_ASSERT);
    time_delay_us(INIT_DELAY_US);
    for (int attempt = 0; attempt < 2; attempt++) {
        lapic_send_ipi(c->apic_id, LAPIC_ICR_STARTUP | LAPIC_ICR_ASSERT | vector);
        if (wait_ready(c->index, STARTUP_DELAY_US))
            return true;
    }
    if (wait_ready(c->index, CONFIG_SMP_START_TIMEOUT_MS * 1000ull))
        return true;
    /* Park it: INIT puts it back into wait-for-SIPI whatever it was doing. */
    lapic_send_ipi(c->apic_id, LAPIC_ICR_INIT | LAPIC_ICR_ASSERT);
    return false;
}

unsigned arch_smp_start(unsigned limit, __attribute__((noreturn)) void (*enter)(unsigned index))
{
    cpu_t *bsp = cpu_get(0); /* its apic_id was recorded by lapic_init */
    const acpi_madt_t *madt = acpi_madt();
    const vk_boot_info_t *info = kernel_boot_info();
    if (limit > CONFIG_MAX_CPUS)
        limit = CONFIG_MAX_CPUS;
    if (!madt || limit <= 1 || !info->smp_trampoline) {
        log_info("smp: 1 CPU online (%s)", !madt ? "no MADT" : limit <= 1 ? "smp=1"
                                                                     : "no trampoline pages");
        return 1;
    }
    kernel_root = arch_read_cr3();
    secondary_enter = enter;
    uint8_t *tramp = prepare_trampoline(info->smp_trampoline);

    unsigned failed = 0, skipped = 0;
    for (unsigned i = 0; i < madt->cpu_count; i++) {
        const acpi_madt_cpu_t *m = &madt->cpus[i];
        if (m->apic_id == bsp->apic_id || !(m->flags & ACPI_MADT_CPU_ENABLED))
            continue;
        if (cpu_count >= limit) {
            skipped++;
            continue;
        }
        cpu_t *c = cpu_get(cpu_count);
        c->index = cpu_count;
        c->apic_id = m->apic_id;
        uint64_t t0 = arch_rdtsc();
        if (!start_one(tramp, info->smp_trampoline, c)) {
            log_warn("smp: CPU with apic id %u did not start within %u ms; skipped",
                     m->apic_id, (unsigned)CONFIG_SMP_START_TIMEOUT_MS);
            failed++;
            continue;
        }
        uint64_t cycles = arch_rdtsc() - t0;
        uint64_t hz = time_tsc_hz();
        log_info("smp: CPU %u (apic id %u) online in %llu us", c->index, c->apic_id,
                 (unsigned long long)(hz ? cycles * 1000000ull / hz : 0));
        __atomic_store_n(&cpu_count, cpu_count + 1, __ATOMIC_RELEASE);
    }
    log_info("smp: %u CPUs online (limit %u), %u failed to start, %u left off by the limit",
             cpu_count, limit, failed, skipped);
    return cpu_count;
}
