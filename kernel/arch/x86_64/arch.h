/* SPDX-License-Identifier: MIT */
/*
 * x86-64 architecture services: port and MSR access, CPUID, TSC, interrupt control,
 * interrupt-vector registration. Everything else in the kernel reaches the CPU through
 * this header.
 */
#ifndef KERNEL_ARCH_X86_64_ARCH_H
#define KERNEL_ARCH_X86_64_ARCH_H

#include <stdint.h>
#include <stdbool.h>
#include <vk/boot.h>

static inline void arch_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void arch_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void arch_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t arch_inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t arch_inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t arch_inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t arch_rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void arch_wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void arch_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline uint64_t arch_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void arch_pause(void) { __asm__ volatile("pause"); }
static inline void arch_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline bool arch_irq_enabled(void)
{
    uint64_t f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return (f & 0x200) != 0;
}
/* Enable interrupts and halt atomically (sti's one-instruction shadow covers hlt). */
static inline void arch_wait_for_interrupt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline uint64_t arch_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t arch_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void arch_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline uint64_t arch_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t arch_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void arch_invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

#define MSR_EFER          0xc0000080u
#define MSR_PAT           0x277u
#define MSR_APIC_BASE     0x1bu
#define MSR_GS_BASE       0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u

/* The register state pushed by the interrupt entry stubs (kernel/arch/x86_64/isr.S). */
typedef struct {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
} arch_frame_t;

typedef void (*arch_irq_handler_t)(arch_frame_t *frame);

/* Install a handler for an interrupt vector (32..255). The handler runs with interrupts
 * off and must acknowledge its device; LAPIC EOI is sent by the caller of the handler
 * for vectors registered with eoi = true. */
void arch_irq_register(uint8_t vector, arch_irq_handler_t handler, bool lapic_eoi);
/* A free vector for a device; 0 when none remain. */
uint8_t arch_irq_alloc_vector(void);

void arch_init_cpu(void);      /* GDT, TSS, IDT, control registers on this CPU */
__attribute__((noreturn)) void arch_halt_forever(void);
/* Exit QEMU through isa-debug-exit (port 0xf4) with status (value << 1) | 1. */
void arch_qemu_exit(uint8_t value);

/* Exception fixups: if a fault happens at an instruction listed in the fixup table,
 * execution resumes at its fixup address (used by probing code and hardening tests). */
typedef struct { uint64_t fault_rip, fixup_rip; } arch_fixup_t;
/* Inside inline asm: a fault at label `fault` resumes at label `fixup`. */
#define ARCH_FIXUP(fault, fixup) \
    ".pushsection fixups, \"a\"\n.balign 8\n.quad " #fault ", " #fixup "\n.popsection\n"

/* How many times exception `vector` (0..31) was taken since boot. */
uint64_t arch_exception_count(unsigned vector);
/* Interrupts and exceptions taken on vector by CPU cpu since boot (per-CPU counters,
 * no lock: a read races benignly with the count). NMIs (vector 2) are not counted per
 * CPU, nor are #DF and #MC, as GS cannot be trusted in them; arch_exception_count has
 * their totals. */
uint64_t arch_irq_count(unsigned vector, unsigned cpu);
/* The handler registered for vector, or NULL (owner names for KObj's /irq). */
arch_irq_handler_t arch_irq_handler(unsigned vector);
/* The exception's name for vectors 0..31, else NULL. */
const char *arch_exception_name(unsigned vector);
/* A hook run for int3 instead of the panic report (tests and, later, debuggers). */
void arch_set_breakpoint_hook(void (*hook)(arch_frame_t *frame));

/* Where exceptions go beyond the arch layer (set by kernel_main):
 *   page_fault: returns true if it resolved the fault (demand paging); ring 3 or kernel.
 *   user_fault: an exception in ring 3 that nothing resolved, with its Linux signal. */
typedef struct {
    bool (*page_fault)(arch_frame_t *frame, uint64_t cr2);
    void (*user_fault)(const arch_frame_t *frame, int signal, const char *what);
    /* A device interrupt (the tick included) is about to return to ring 3 through
     * frame: the place to end a thread or deliver a signal to code that makes no
     * syscalls. Runs with interrupts off; may rewrite frame or not return. */
    void (*user_return)(arch_frame_t *frame);
} arch_fault_hooks_t;
void arch_set_fault_hooks(const arch_fault_hooks_t *hooks);

/* Catching an expected kernel fault (kernel/arch/x86_64/faultcatch.S), for self-tests. */
typedef struct {
    uint64_t rip, rsp, rbx, rbp, r12, r13, r14, r15; /* offsets fixed by faultcatch.S */
    uint64_t vector, error_code, cr2, fault_rip;     /* filled in when a fault is caught */
} arch_fault_catch_t;
/* 0 when armed; 1 (a second return) when a kernel exception was caught. */
__attribute__((returns_twice)) int arch_fault_catch(arch_fault_catch_t *c);
void arch_fault_catch_end(void);
/* Software-detected kernel errors (not exceptions) use vectors from here up, so a test
 * can catch them with arch_fault_catch like a fault. */
#define ARCH_CATCH_STACK_SMASHED 0x100 /* __stack_chk_fail; fault_rip = the smashed function */
/* If a catch is armed on this CPU: record (vector, rip) in it and resume there (does not
 * return). Otherwise returns, and the caller reports the error itself. */
void arch_fault_catch_deliver(uint64_t vector, uint64_t rip);
/* The UBSan check whose trap instruction is at kernel address rip, or NULL if rip
 * holds no UBSan trap (DEBUG=1 kernels are built with -fsanitize-trap=undefined). */
const char *arch_ubsan_check_at(uint64_t rip);
/* Runs fn(arg) on the stack whose top is `top`, then returns to the caller's stack. */
void arch_call_on_stack(void *top, void (*fn)(void *), void *arg);

/* CPU features the kernel turned on, for logs and tests. */
typedef struct {
    bool nx, smep, smap, umip, pge, pat, x2apic, invariant_tsc;
    char vendor[13];
    char brand[49];
} arch_features_t;
const arch_features_t *arch_features(void);

/* ---- ring 3 (kernel/arch/x86_64/syscall.S, usermode.c) ---- */
#define ARCH_FRAME_VECTOR_SYSCALL 0x100 /* arch_frame_t.vector of a SYSCALL frame */
/* Enter ring 3 at rip with stack rsp. Returns the status passed to arch_user_resume when
 * the process ends; *resume receives the value that call needs. */
int arch_user_enter(uint64_t rip, uint64_t rsp, uint64_t *resume);
__attribute__((noreturn)) void arch_user_resume(uint64_t resume, int status);
/* Like arch_user_enter, resuming ring 3 with every register of *frame (fork's child). */
int arch_user_enter_frame(const arch_frame_t *frame, uint64_t *resume);
_Static_assert(sizeof(arch_frame_t) == 22 * 8, "syscall.S copies 22 words");
/* Sets this CPU's ring-0 stack for entries from ring 3 (TSS RSP0 and the syscall
 * path's copy). Interrupts must be off: a thread moved to another CPU halfway would set
 * the old CPU's. */
void arch_set_kernel_stack(uint64_t top);
uint64_t arch_kernel_stack(void);
void arch_set_user_fs(uint64_t base);
/* The process running on this CPU, kept in the per-CPU block (offset 32, asserted in
 * cpu.h) so the syscall path finds it with one load. Opaque to arch. */
static inline void *arch_cpu_process(void)
{
    void *p;
    __asm__ volatile("movq %%gs:32, %0" : "=r"(p));
    return p;
}
static inline void arch_set_cpu_process(void *p)
{
    __asm__ volatile("movq %0, %%gs:32" ::"r"(p) : "memory");
}
/* User FPU/SSE state: the 512-byte FXSAVE area (SDM vol. 1, 10.5.1). */
typedef struct { uint8_t bytes[512]; } __attribute__((aligned(16))) arch_fpu_state_t;
static inline void arch_fpu_save(arch_fpu_state_t *s) { __asm__ volatile("fxsave64 %0" : "=m"(*s)); }
static inline void arch_fpu_restore(const arch_fpu_state_t *s) { __asm__ volatile("fxrstor64 %0" ::"m"(*s)); }
/* The state a new program starts with: x87 and SSE defaults (FCW 0x37f, MXCSR 0x1f80)
 * and every data register zero, so nothing of an earlier program shows through. */
void arch_fpu_reset(void);
/* Fills s with that clean state without touching the CPU's registers. */
void arch_fpu_init_state(arch_fpu_state_t *s);
static inline bool arch_frame_from_user(const arch_frame_t *f) { return (f->cs & 3) == 3; }

/* ---- several CPUs (kernel/arch/x86_64/smp.c, ipi.c; docs/sched.md) ---- */
/* Index of the calling CPU (0 = the boot CPU), from the per-CPU block (offset 8,
 * asserted in cpu.h). Stable only while the caller cannot migrate (interrupts off or
 * preemption disabled). */
static inline unsigned arch_cpu_index(void)
{
    uint32_t i;
    __asm__ volatile("movl %%gs:8, %0" : "=r"(i));
    return i;
}
/* Starts the other enabled CPUs of the MADT, one at a time, up to `limit` CPUs in all
 * (the boot CPU included). Each runs `enter(index)` with interrupts off once its
 * architectural state matches the boot CPU's; enter must call arch_smp_cpu_ready when
 * the CPU can take work. A CPU that does not get there within
 * CONFIG_SMP_START_TIMEOUT_MS is logged, sent back to wait-for-SIPI and skipped.
 * Returns the number of CPUs online, the boot CPU included. */
unsigned arch_smp_start(unsigned limit, __attribute__((noreturn)) void (*enter)(unsigned index));
void arch_smp_cpu_ready(void);
/* CPUs started so far, the boot CPU included; indexes are 0..count-1. */
unsigned arch_cpu_count(void);
/* A fixed interrupt with `vector` to CPU `index` (not the caller). */
void arch_ipi_send(unsigned index, uint8_t vector);
/* Drops TLB entries for user addresses on the CPUs in cpu_mask (bit n = CPU n; the
 * calling CPU is skipped: flush it yourself): pages from start, or the whole non-global
 * TLB when pages is 0 or large. Works with interrupts off and spinlocks held (it uses
 * NMIs), and returns once every target has flushed. */
void arch_tlb_shootdown(uint64_t cpu_mask, uint64_t start, uint64_t pages);
/* The same on the calling CPU only. */
void arch_tlb_flush_local(uint64_t start, uint64_t pages);
/* Asks CPU `index` (not the caller) for the backtrace of whatever it is running, by NMI,
 * so it answers with interrupts off: its interrupted rip and the return addresses of its
 * frames go into addrs (at most max). Waits up to wait_us; returns the count, 0 when the
 * CPU did not answer. For the watchdog (core/watchdog.c). */
unsigned arch_cpu_backtrace(unsigned index, uint64_t *addrs, unsigned max, unsigned wait_us);
/* Stops every other CPU (NMI, then cli; hlt), for panic: waits a bounded time and
 * returns how many confirmed they stopped. */
unsigned arch_halt_other_cpus(void);
/* Continue execution in fn(arg) on the stack whose top is `top`; never returns. */
__attribute__((noreturn)) void arch_switch_stack(void *top, void (*fn)(void *), void *arg);
/* Replace the boot-time IST stacks of this CPU with guarded ones (after vmm_init). */
void arch_init_ist_stacks(void);

#endif
