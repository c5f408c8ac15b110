/* SPDX-License-Identifier: MIT */
/*
 * Local APIC driver (xAPIC MMIO, or x2APIC MSRs when firmware left x2APIC on).
 *
 * References are to the Intel SDM Vol. 3A, chapter "Advanced Programmable Interrupt
 * Controller (APIC)"; section names are given because their numbers move between
 * editions. The register window is mapped once (by whichever CPU gets here first, the
 * boot CPU in practice) and shared: each CPU addresses its own LAPIC through it.
 *
 * Not done here: the error LVT (masked; nothing reads
 * ESR yet), logical destination mode (only physical destinations are used).
 */
#include "arch/x86_64/lapic.h"
#include "acpi/acpi.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "mm/mm.h"

/* "Local APIC Register Address Map": xAPIC MMIO offsets. In x2APIC mode the same
 * register is MSR 0x800 + offset / 16 ("x2APIC Register Address Space"). */
#define REG_ID          0x020
#define REG_VERSION     0x030
#define REG_TPR         0x080
#define REG_EOI         0x0b0
#define REG_SVR         0x0f0
#define REG_ESR         0x280
#define REG_ICR_LOW     0x300
#define REG_ICR_HIGH    0x310
#define X2APIC_MSR_ICR  0x830u /* x2APIC: one 64-bit ICR, destination in bits 63:32 */
#define ICR_DELIVERY_PENDING (1u << 12) /* xAPIC only */
#define REG_LVT_CMCI    0x2f0
#define REG_LVT_TIMER   0x320
#define REG_LVT_THERMAL 0x330
#define REG_LVT_PERF    0x340
#define REG_LVT_LINT0   0x350
#define REG_LVT_LINT1   0x360
#define REG_LVT_ERROR   0x370
#define REG_TIMER_INIT  0x380
#define REG_TIMER_CUR   0x390
#define REG_TIMER_DIV   0x3e0
#define X2APIC_MSR_BASE 0x800u

/* "Local Vector Table" entry bits. */
#define LVT_MASKED          (1u << 16)
#define LVT_DELIVERY_NMI    (4u << 8)
#define LVT_ACTIVE_LOW      (1u << 13)
#define LVT_TIMER_ONESHOT   (0u << 17)
#define LVT_TIMER_PERIODIC  (1u << 17)
/* "Spurious-Interrupt Vector Register": bit 8 = APIC software enable. */
#define SVR_ENABLE (1u << 8)
/* Version register: bits 23:16 = number of LVT entries minus one. */
#define VERSION_MAX_LVT(v) (((v) >> 16) & 0xff)

/* IA32_APIC_BASE MSR ("Local APIC Status and Location"). */
#define APIC_BASE_BSP   (1ull << 8)
#define APIC_BASE_EXTD  (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN    (1ull << 11)
#define APIC_BASE_ADDR  0x000ffffffffff000ull

#define CPUID_1_EDX_APIC (1u << 9)

/* 8259A PIC (Intel 8259A datasheet, "Initialization Command Words"). */
#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT_ICW4 0x11 /* edge triggered, cascaded, ICW4 follows */
#define PIC_ICW4_8086      0x01
#define PIC1_VECTOR_BASE   0x20
#define PIC2_VECTOR_BASE   0x28

/* Written once by the first lapic_init (boot CPU, before SMP), read-only afterwards. */
static volatile uint32_t *lapic_mmio;
static bool use_x2apic;
static bool initialised;

static uint32_t reg_read(uint32_t reg)
{
    if (use_x2apic)
        return (uint32_t)arch_rdmsr(X2APIC_MSR_BASE + (reg >> 4));
    return lapic_mmio[reg / 4];
}

static void reg_write(uint32_t reg, uint32_t value)
{
    if (use_x2apic)
        arch_wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
    else
        lapic_mmio[reg / 4] = value;
}

/* Port 0x80 is the POST-code port: writing it gives the PIC time between ICWs. */
static void io_wait(void) { arch_outb(0x80, 0); }

/* Remap the PICs away from the exception vectors, then mask every line: a spurious
 * IRQ7/IRQ15 can still fire when masked, and must not look like an exception. */
static void pic_disable(void)
{
    arch_outb(PIC1_CMD, PIC_ICW1_INIT_ICW4); io_wait();
    arch_outb(PIC2_CMD, PIC_ICW1_INIT_ICW4); io_wait();
    arch_outb(PIC1_DATA, PIC1_VECTOR_BASE); io_wait(); /* ICW2: vector base */
    arch_outb(PIC2_DATA, PIC2_VECTOR_BASE); io_wait();
    arch_outb(PIC1_DATA, 0x04); io_wait();              /* ICW3: slave on IRQ2 */
    arch_outb(PIC2_DATA, 0x02); io_wait();              /* ICW3: cascade identity */
    arch_outb(PIC1_DATA, PIC_ICW4_8086); io_wait();
    arch_outb(PIC2_DATA, PIC_ICW4_8086); io_wait();
    arch_outb(PIC1_DATA, 0xff);                          /* OCW1: mask all */
    arch_outb(PIC2_DATA, 0xff);
}

/* NMI wiring on LINT0/LINT1 from the MADT's LAPIC NMI entries that name this CPU's
 * processor UID or all processors. Without an MADT, LINT1 = NMI (the PC convention). */
static void setup_lint_nmi(void)
{
    const acpi_madt_t *m = acpi_madt();
    if (!m) {
        reg_write(REG_LVT_LINT1, LVT_DELIVERY_NMI);
        return;
    }
    uint32_t id = lapic_id(), uid = ACPI_UID_ALL;
    for (unsigned i = 0; i < m->cpu_count; i++)
        if (m->cpus[i].apic_id == id)
            uid = m->cpus[i].acpi_uid;
    for (unsigned i = 0; i < m->lapic_nmi_count; i++) {
        const acpi_madt_lapic_nmi_t *n = &m->lapic_nmis[i];
        if (n->acpi_uid != ACPI_UID_ALL && n->acpi_uid != uid)
            continue;
        if (n->lint > 1) {
            log_warn("lapic: MADT NMI entry names LINT%u; ignored", n->lint);
            continue;
        }
        /* NMI delivery is always edge triggered; only the polarity is configurable. */
        uint32_t lvt = LVT_DELIVERY_NMI;
        if ((n->flags & ACPI_MPS_POLARITY_MASK) == ACPI_MPS_POLARITY_LOW)
            lvt |= LVT_ACTIVE_LOW;
        reg_write(n->lint ? REG_LVT_LINT1 : REG_LVT_LINT0, lvt);
    }
}

/* First call: find and map the register window, mask the PICs. */
static void lapic_setup_once(uint64_t apic_base)
{
    use_x2apic = (apic_base & APIC_BASE_EXTD) != 0;
    if (!use_x2apic) {
        uint64_t phys = apic_base & APIC_BASE_ADDR;
        const acpi_madt_t *m = acpi_madt();
        /* The MSR is what the CPU decodes; the MADT only reports it. */
        if (m && m->lapic_address && m->lapic_address != phys)
            log_warn("lapic: MADT says 0x%llx but IA32_APIC_BASE says 0x%llx; using the MSR",
                     (unsigned long long)m->lapic_address, (unsigned long long)phys);
        lapic_mmio = vmm_map_mmio(phys, PAGE_SIZE);
        if (!lapic_mmio)
            panic("lapic: cannot map the register window at 0x%llx", (unsigned long long)phys);
    }
    const acpi_madt_t *m = acpi_madt();
    if (!m || (m->flags & ACPI_MADT_PCAT_COMPAT))
        pic_disable();
    initialised = true;
}

void lapic_init(void)
{
    uint32_t a, b, c, d;
    arch_cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & CPUID_1_EDX_APIC))
        panic("lapic: this CPU has no local APIC");

    uint64_t apic_base = arch_rdmsr(MSR_APIC_BASE);
    if (!(apic_base & APIC_BASE_EN)) {
        apic_base |= APIC_BASE_EN; /* global enable; keeps xAPIC mode */
        arch_wrmsr(MSR_APIC_BASE, apic_base);
    }
    if (!initialised)
        lapic_setup_once(apic_base);
    else if (((apic_base & APIC_BASE_EXTD) != 0) != use_x2apic)
        panic("lapic: a CPU is in a different APIC mode (xAPIC/x2APIC) from the boot CPU");

    uint32_t version = reg_read(REG_VERSION);
    unsigned max_lvt = VERSION_MAX_LVT(version);

    /* Mask every local interrupt source first; then enable only what is wanted. */
    reg_write(REG_LVT_TIMER, LVT_MASKED);
    reg_write(REG_TIMER_INIT, 0);
    reg_write(REG_LVT_LINT0, LVT_MASKED); /* ExtINT from the 8259s: unused */
    reg_write(REG_LVT_LINT1, LVT_MASKED);
    reg_write(REG_LVT_ERROR, LVT_MASKED);
    if (max_lvt >= 4)
        reg_write(REG_LVT_PERF, LVT_MASKED);
    if (max_lvt >= 5)
        reg_write(REG_LVT_THERMAL, LVT_MASKED);
    if (max_lvt >= 6)
        reg_write(REG_LVT_CMCI, LVT_MASKED);
    setup_lint_nmi();

    reg_write(REG_TPR, 0); /* accept every priority class */
    reg_write(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    /* ESR is updated by a write ("Error Handling"): write, write again to clear. */
    reg_write(REG_ESR, 0);
    reg_write(REG_ESR, 0);
    /* Retire anything the firmware left in service. */
    lapic_eoi();
    cpu_current()->apic_id = lapic_id(); /* IPIs and I/O APIC routes address CPUs by it */

    log_write((apic_base & APIC_BASE_BSP) ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
              "lapic: CPU apic id %u%s, %s mode, version 0x%x, %u LVT entries", lapic_id(),
              (apic_base & APIC_BASE_BSP) ? " (boot CPU)" : "", use_x2apic ? "x2APIC" : "xAPIC",
              version & 0xff, max_lvt + 1);
}

bool lapic_ready(void) { return initialised; }

void lapic_eoi(void)
{
    if (initialised)
        reg_write(REG_EOI, 0);
}

uint32_t lapic_id(void)
{
    if (!initialised) {
        uint32_t a, b, c, d;
        arch_cpuid(1, 0, &a, &b, &c, &d);
        return b >> 24; /* initial APIC ID */
    }
    uint32_t id = reg_read(REG_ID);
    return use_x2apic ? id : id >> 24;
}

/* "Divide Configuration Register": bits 3,1,0 encode the divisor. */
static uint32_t divide_code(unsigned divide)
{
    switch (divide) {
    case 1: return 0xb;
    case 2: return 0x0;
    case 4: return 0x1;
    case 8: return 0x2;
    case 16: return 0x3;
    case 32: return 0x8;
    case 64: return 0x9;
    case 128: return 0xa;
    }
    return 0x3;
}

void lapic_timer_start_oneshot(uint8_t vector, uint32_t initial_count, unsigned divide)
{
    if (!initialised)
        return;
    reg_write(REG_TIMER_DIV, divide_code(divide));
    reg_write(REG_LVT_TIMER, LVT_TIMER_ONESHOT | vector);
    reg_write(REG_TIMER_INIT, initial_count);
}

/* Re-arms a one-shot timer already set up by lapic_timer_start_oneshot: the count
 * alone restarts it (a count of 0 stops it). */
void lapic_timer_rearm(uint32_t initial_count)
{
    if (!initialised)
        return;
    reg_write(REG_TIMER_INIT, initial_count);
}

void lapic_timer_start_countdown(uint32_t initial_count, unsigned divide)
{
    if (!initialised)
        return;
    /* Masked, so the vector is never delivered; a legal one avoids an "illegal vector"
     * error being latched. */
    reg_write(REG_TIMER_DIV, divide_code(divide));
    reg_write(REG_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | LAPIC_SPURIOUS_VECTOR);
    reg_write(REG_TIMER_INIT, initial_count);
}

void lapic_timer_stop(void)
{
    if (!initialised)
        return;
    reg_write(REG_TIMER_INIT, 0);
    reg_write(REG_LVT_TIMER, LVT_MASKED);
}

uint32_t lapic_timer_current(void)
{
    return initialised ? reg_read(REG_TIMER_CUR) : 0;
}

void lapic_send_ipi(uint32_t apic_id, uint32_t command)
{
    if (!initialised)
        return;
    /* Interrupts off: a handler that sent an IPI between the two xAPIC writes would
     * leave this one going to its destination. */
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    if (use_x2apic) {
        arch_wrmsr(X2APIC_MSR_ICR, ((uint64_t)apic_id << 32) | command);
    } else {
        reg_write(REG_ICR_HIGH, apic_id << 24);
        reg_write(REG_ICR_LOW, command);
        while (reg_read(REG_ICR_LOW) & ICR_DELIVERY_PENDING)
            arch_pause();
    }
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}
