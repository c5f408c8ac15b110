/* SPDX-License-Identifier: MIT */
/*
 * GDT and TSS (Intel SDM vol. 3A, 3.4.5 "Segment Descriptors", 7.7 "Task Management in
 * 64-bit Mode"). The selector order is fixed by SYSCALL/SYSRET (STAR MSR): kernel code,
 * kernel data, then user code32 (unused), user data, user code64.
 */
#include "arch/x86_64/cpu.h"
#include "core/string.h"

#define GDT_KERNEL_CODE 0x00af9a000000ffffull /* L=1, P, DPL0, code exec/read */
#define GDT_KERNEL_DATA 0x00cf92000000ffffull /* P, DPL0, data read/write */
#define GDT_USER_CODE32 0x00cffa000000ffffull
#define GDT_USER_DATA   0x00cff2000000ffffull
#define GDT_USER_CODE64 0x00affa000000ffffull

void cpu_gdt_init(cpu_t *cpu)
{
    uint64_t *g = cpu->gdt;
    memset(&cpu->tss, 0, sizeof(cpu->tss));
    cpu->tss.iomap_base = sizeof(cpu->tss); /* no I/O permission bitmap */
    g[0] = 0;
    g[1] = GDT_KERNEL_CODE;
    g[2] = GDT_KERNEL_DATA;
    g[3] = GDT_USER_CODE32;
    g[4] = GDT_USER_DATA;
    g[5] = GDT_USER_CODE64;
    /* 16-byte TSS descriptor: type 9 (available 64-bit TSS), present. */
    uint64_t base = (uint64_t)&cpu->tss, limit = sizeof(cpu->tss) - 1;
    g[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           ((limit & 0xf0000) << 32) | ((base & 0xff000000ull) << 32);
    g[7] = base >> 32;

    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr = {
        sizeof(cpu->gdt) - 1, (uint64_t)g
    };
    __asm__ volatile("lgdt %0\n\t"
                     "mov %1, %%ds\n\t"
                     "mov %1, %%es\n\t"
                     "mov %1, %%ss\n\t"
                     "xor %%eax, %%eax\n\t"
                     "mov %%ax, %%fs\n\t"
                     "mov %%ax, %%gs\n\t"
                     /* reload CS with a far return */
                     "pushq %2\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "ltr %w3\n\t"
                     :
                     : "m"(gdtr), "r"((uint64_t)CPU_SEL_KERNEL_DATA), "i"(CPU_SEL_KERNEL_CODE),
                       "r"((uint16_t)CPU_SEL_TSS)
                     : "rax", "memory");
}
