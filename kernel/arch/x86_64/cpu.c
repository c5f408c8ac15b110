/* SPDX-License-Identifier: MIT */
/*
 * Bring one CPU into the kernel's state: GDT/TSS with IST stacks, IDT, GS-based per-CPU
 * pointer, and the protection bits of CR0/CR4 (Intel SDM vol. 3A, 2.5 "Control
 * Registers"): WP always; SMEP, SMAP, UMIP and PGE when CPUID reports them. EFER.NXE was
 * set by the loader (the SMP trampoline on the other CPUs); it is checked here.
 * The boot CPU runs arch_init_cpu; every other CPU runs cpu_init_secondary with the
 * features the boot CPU detected, so all of them end up with the same bits.
 */
#include "arch/x86_64/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"

#define CR0_WP   (1ull << 16)
#define CR0_MP   (1ull << 1)
#define CR0_EM   (1ull << 2)
#define CR0_TS   (1ull << 3)
#define CR4_PGE  (1ull << 7)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP (1ull << 11)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)

/* cpus[0] is the boot CPU; the others are filled by smp.c before each one starts. */
static cpu_t cpus[CONFIG_MAX_CPUS];
static arch_features_t features;
/* Boot-time IST stacks for the BSP, used until vmm can hand out guarded ones. */
static uint8_t early_ist[3][4096] __attribute__((aligned(16)));

cpu_t *cpu_current(void)
{
    cpu_t *c;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(c));
    return c;
}

const arch_features_t *arch_features(void)
{
    return &features;
}

static void detect_features(void)
{
    uint32_t a, b, c, d, max;
    arch_cpuid(0, 0, &max, &b, &c, &d);
    memcpy(features.vendor, &b, 4);
    memcpy(features.vendor + 4, &d, 4);
    memcpy(features.vendor + 8, &c, 4);
    features.vendor[12] = 0;
    arch_cpuid(1, 0, &a, &b, &c, &d);
    features.pge = (d >> 13) & 1;
    features.pat = (d >> 16) & 1;
    features.x2apic = (c >> 21) & 1;
    if (max >= 7) {
        arch_cpuid(7, 0, &a, &b, &c, &d);
        features.smep = (b >> 7) & 1;
        features.smap = (b >> 20) & 1;
        features.umip = (c >> 2) & 1;
    }
    arch_cpuid(0x80000000u, 0, &max, &b, &c, &d);
    if (max >= 0x80000001u) {
        arch_cpuid(0x80000001u, 0, &a, &b, &c, &d);
        features.nx = (d >> 20) & 1;
    }
    if (max >= 0x80000004u) {
        uint32_t *brand = (uint32_t *)features.brand;
        for (uint32_t leaf = 0; leaf < 3; leaf++)
            arch_cpuid(0x80000002u + leaf, 0, &brand[leaf * 4], &brand[leaf * 4 + 1],
                       &brand[leaf * 4 + 2], &brand[leaf * 4 + 3]);
        features.brand[48] = 0;
    }
    if (max >= 0x80000007u) {
        arch_cpuid(0x80000007u, 0, &a, &b, &c, &d);
        features.invariant_tsc = (d >> 8) & 1;
    }
}

static void enable_protection(void)
{
    /* WP; and SSE for user programs: FPU present (EM off), no lazy switching (TS off),
     * FXSAVE/FXRSTOR and SIMD exceptions on (SDM vol. 3A, 13.1.3). The kernel itself is
     * built without SSE, so only ring 3 uses these registers. */
    uint64_t cr0 = ((arch_read_cr0() | CR0_WP | CR0_MP) & ~(CR0_EM | CR0_TS));
    __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
    uint64_t cr4 = arch_read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (features.pge)
        cr4 |= CR4_PGE;
    if (features.smep)
        cr4 |= CR4_SMEP;
    if (features.smap)
        cr4 |= CR4_SMAP;
    if (features.umip)
        cr4 |= CR4_UMIP;
    __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
    if (!(arch_rdmsr(MSR_EFER) & EFER_NXE))
        panic("EFER.NXE is off: the loader must enable no-execute before paging");
    /* PAT entry 1 becomes write-combining (PAT encoding 01h), used for framebuffers;
     * the other entries keep their power-on values (SDM vol. 3A, 11.12.4). */
    if (features.pat) {
        uint64_t pat = arch_rdmsr(MSR_PAT);
        pat = (pat & ~(0xffull << 8)) | (0x01ull << 8);
        arch_wrmsr(MSR_PAT, pat);
    }
}

cpu_t *cpu_get(unsigned index)
{
    return index < CONFIG_MAX_CPUS ? &cpus[index] : NULL;
}

/* GDT and TSS of c, then GS pointing at c. */
static void load_cpu_record(cpu_t *c)
{
    c->self = c;
    cpu_gdt_init(c);
    /* After cpu_gdt_init: loading a selector into GS clears the base. */
    arch_wrmsr(MSR_GS_BASE, (uint64_t)c);
    arch_wrmsr(MSR_KERNEL_GS_BASE, 0);
}

void arch_init_cpu(void)
{
    detect_features();
    if (!features.nx)
        panic("this CPU has no NX bit; vkernel needs it for W^X");
    cpu_t *bsp = &cpus[0];
    bsp->index = 0;
    load_cpu_record(bsp);
    bsp->tss.ist[CPU_IST_DOUBLE_FAULT - 1] = (uint64_t)(early_ist[0] + sizeof(early_ist[0]));
    bsp->tss.ist[CPU_IST_NMI - 1] = (uint64_t)(early_ist[1] + sizeof(early_ist[1]));
    bsp->tss.ist[CPU_IST_MACHINE_CHECK - 1] = (uint64_t)(early_ist[2] + sizeof(early_ist[2]));
    cpu_idt_init();
    cpu_idt_load();
    enable_protection();
    cpu_syscall_init();
    log_info("cpu: %s \"%s\" nx=%d smep=%d smap=%d umip=%d pge=%d pat=%d x2apic=%d",
             features.vendor, features.brand, features.nx, features.smep, features.smap,
             features.umip, features.pge, features.pat, features.x2apic);
}

void cpu_init_secondary(cpu_t *c)
{
    load_cpu_record(c);
    arch_init_ist_stacks(); /* guarded ones at once: vmm is up */
    cpu_idt_load();         /* the one IDT every CPU shares */
    enable_protection();    /* the boot CPU's feature set: CPUs of one machine match */
    cpu_syscall_init();
}

void arch_init_ist_stacks(void)
{
    cpu_t *c = cpu_current();
    for (unsigned i = 0; i < 3; i++) {
        void *top = vmm_alloc_kernel_stack(CONFIG_IST_STACK_PAGES);
        if (!top)
            panic("out of memory for IST stacks");
        c->tss.ist[i] = (uint64_t)top;
    }
}

void arch_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void arch_qemu_exit(uint8_t value)
{
    /* isa-debug-exit at 0xf4 (present only under QEMU with that device); on any other
     * machine the write goes nowhere and the caller falls through to halting. */
    arch_outb(0xf4, value);
}
