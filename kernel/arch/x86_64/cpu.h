/* SPDX-License-Identifier: MIT */
/* Per-CPU architectural state (internal to kernel/arch/x86_64). */
#ifndef KERNEL_ARCH_X86_64_CPU_H
#define KERNEL_ARCH_X86_64_CPU_H

#include <stdint.h>
#include "arch/x86_64/arch.h"
#include "config.h"

#define CPU_SEL_KERNEL_CODE 0x08
#define CPU_SEL_KERNEL_DATA 0x10
#define CPU_SEL_USER_DATA   0x23 /* index 4, RPL 3 */
#define CPU_SEL_USER_CODE   0x2b /* index 5, RPL 3 */
#define CPU_SEL_TSS         0x30

#define CPU_IST_DOUBLE_FAULT 1
#define CPU_IST_NMI          2
#define CPU_IST_MACHINE_CHECK 3

typedef struct __attribute__((packed)) {
    uint32_t _reserved0;
    uint64_t rsp[3];
    uint64_t _reserved1;
    uint64_t ist[7];
    uint64_t _reserved2;
    uint16_t _reserved3;
    uint16_t iomap_base;
} cpu_tss_t;
_Static_assert(sizeof(cpu_tss_t) == 104, "TSS size");

/* Offsets used by kernel/arch/x86_64/syscall.S: keep in sync (asserted below). */
#define CPU_OFFSET_INDEX      8
#define CPU_OFFSET_KERNEL_RSP 16
#define CPU_OFFSET_USER_RSP   24
#define CPU_OFFSET_PROCESS    32

typedef struct cpu {
    struct cpu *self;    /* GS:0, so per-CPU data is one load away */
    uint32_t index;
    uint32_t apic_id;
    uint64_t kernel_rsp; /* stack top for SYSCALL entry (= TSS rsp0) */
    uint64_t user_rsp;   /* scratch: the user RSP while SYSCALL switches stacks */
    void *process;       /* the process whose thread runs here (arch_cpu_process) */
    uint64_t gdt[8] __attribute__((aligned(16)));
    cpu_tss_t tss __attribute__((aligned(16)));
} cpu_t;

_Static_assert(__builtin_offsetof(cpu_t, index) == CPU_OFFSET_INDEX, "cpu_t");
_Static_assert(__builtin_offsetof(cpu_t, kernel_rsp) == CPU_OFFSET_KERNEL_RSP, "cpu_t");
_Static_assert(__builtin_offsetof(cpu_t, user_rsp) == CPU_OFFSET_USER_RSP, "cpu_t");
_Static_assert(__builtin_offsetof(cpu_t, process) == CPU_OFFSET_PROCESS, "cpu_t");

void cpu_gdt_init(cpu_t *cpu);
void cpu_syscall_init(void);
void cpu_idt_init(void);
void cpu_idt_load(void);
cpu_t *cpu_current(void);
/* The record of CPU `index` (0 = the boot CPU), NULL past CONFIG_MAX_CPUS. */
cpu_t *cpu_get(unsigned index);
/* On a secondary CPU, paging on with the kernel's root: GDT, TSS, guarded IST stacks,
 * GS, IDT, CR0/CR4/PAT and the SYSCALL MSRs, as arch_init_cpu did on the boot CPU. */
void cpu_init_secondary(cpu_t *c);
/* ipi.c: an NMI that was a shootdown or halt request (true: handled, or never returns). */
bool ipi_handle_nmi(const arch_frame_t *frame);

#endif
