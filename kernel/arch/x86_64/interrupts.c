/* SPDX-License-Identifier: MIT */
/*
 * The IDT (Intel SDM vol. 3A, 6.14 "Exception and Interrupt Handling in 64-bit Mode")
 * and the C side of interrupt entry: exception reports, the fixup table, and dispatch of
 * device vectors to registered handlers.
 */
#include "arch/x86_64/cpu.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/spinlock.h"
#include "arch/x86_64/lapic.h"
#include "lib/fmt.h"
#include "sched/sched.h"

#define VECTOR_FIRST_DEVICE 32
#define VECTOR_SPURIOUS     0xff

typedef struct __attribute__((packed)) {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t _reserved;
} idt_gate_t;

extern const char arch_isr_stubs[];
extern const arch_fixup_t __start_fixups[], __stop_fixups[];

static idt_gate_t idt[256] __attribute__((aligned(16)));

/* Guarded by vectors_lock: registration only; dispatch reads without the lock because an
 * entry is written once before its device can raise the vector. */
static spinlock_t vectors_lock = SPINLOCK_INIT;
static arch_irq_handler_t handlers[256];
static bool handler_eoi[256];
static uint8_t next_free_vector = 0x30;

static uint64_t exception_counts[32];
/* Each CPU writes only its own row (interrupts off), so no atomics or locks. */
static uint64_t irq_counts[CONFIG_MAX_CPUS][256];
static void (*breakpoint_hook)(arch_frame_t *);
static arch_fault_hooks_t fault_hooks;

/* Armed by arch_fault_catch: the next kernel-mode exception on the same CPU resumes
 * there. The arming code runs with preemption or interrupts off until it disarms. */
static arch_fault_catch_t *armed_catch[CONFIG_MAX_CPUS];
__attribute__((noreturn)) void arch_fault_resume(arch_fault_catch_t *c);

void arch_fault_catch_arm(arch_fault_catch_t *c)
{
    c->vector = c->error_code = c->cr2 = c->fault_rip = 0;
    armed_catch[arch_cpu_index()] = c;
}

void arch_fault_catch_end(void)
{
    armed_catch[arch_cpu_index()] = NULL;
}

void arch_fault_catch_deliver(uint64_t vector, uint64_t rip)
{
    arch_fault_catch_t *c = armed_catch[arch_cpu_index()];
    if (!c)
        return;
    armed_catch[arch_cpu_index()] = NULL;
    c->vector = vector;
    c->error_code = c->cr2 = 0;
    c->fault_rip = rip;
    arch_fault_resume(c);
}

void arch_set_fault_hooks(const arch_fault_hooks_t *hooks)
{
    fault_hooks = *hooks;
}

/* The signal Linux delivers for each exception raised in ring 3. */
static const uint8_t user_signal[32] = {
    [0] = 8 /* SIGFPE */,   [1] = 5 /* SIGTRAP */, [3] = 5,  [4] = 11 /* SIGSEGV */,
    [5] = 11,               [6] = 4 /* SIGILL */,  [7] = 4,  [10] = 11, [11] = 7 /* SIGBUS */,
    [12] = 7,               [13] = 11,             [14] = 11, [16] = 8,  [17] = 7,
    [19] = 8,               [21] = 11,
};

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "device not available", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved", "x87 error", "alignment check", "machine check",
    "SIMD error", "virtualization", "control protection", "reserved", "reserved",
    "reserved", "reserved", "reserved", "reserved", "hypervisor injection",
    "VMM communication", "security", "reserved",
};

/* Clang's -fsanitize-trap=undefined check kinds (its SanitizerHandler list, clang 14),
 * which the trap encodes as ud1l kind(%eax), %eax: 67 0f b9 40 kind. */
static const char *const ubsan_checks[] = {
    "add overflow", "__builtin_unreachable reached", "CFI check", "division overflow",
    "dynamic type", "float cast overflow", "function type mismatch",
    "implicit conversion", "invalid builtin argument", "invalid ObjC cast",
    "invalid value loaded (bool or enum)", "missing return", "multiply overflow",
    "negate overflow", "nullability (argument)", "nullability (return)",
    "null passed as nonnull argument", "null returned from nonnull function",
    "index out of bounds", "pointer overflow", "shift out of bounds", "subtract overflow",
    "type mismatch (null or misaligned pointer, or object too small)",
    "alignment assumption", "VLA bound not positive",
};

const char *arch_ubsan_check_at(uint64_t rip)
{
    const uint8_t *code = (const uint8_t *)rip;
    if (rip < VK_BOOT_KERNEL_BASE || code[0] != 0x67 || code[1] != 0x0f || code[2] != 0xb9 ||
        code[3] != 0x40)
        return NULL;
    return code[4] < sizeof(ubsan_checks) / sizeof(ubsan_checks[0]) ? ubsan_checks[code[4]]
                                                                     : "unknown check";
}

static void set_gate(unsigned vec, uint8_t ist)
{
    uint64_t addr = (uint64_t)(arch_isr_stubs + 16 * vec);
    idt[vec].offset_low = addr & 0xffff;
    idt[vec].selector = CPU_SEL_KERNEL_CODE;
    idt[vec].ist = ist;
    idt[vec].type_attr = 0x8e; /* present, DPL0, 64-bit interrupt gate */
    idt[vec].offset_mid = (addr >> 16) & 0xffff;
    idt[vec].offset_high = addr >> 32;
    idt[vec]._reserved = 0;
}

void cpu_idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, 0);
    set_gate(2, CPU_IST_NMI);
    set_gate(8, CPU_IST_DOUBLE_FAULT);
    set_gate(18, CPU_IST_MACHINE_CHECK);
    /* int3 may be used from ring 3 later (debuggers): DPL3 trap-style gate. */
    idt[3].type_attr = 0xee;
}

void cpu_idt_load(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
        sizeof(idt) - 1, (uint64_t)idt
    };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

void arch_irq_register(uint8_t vector, arch_irq_handler_t handler, bool lapic_eoi)
{
    KASSERT(vector >= VECTOR_FIRST_DEVICE);
    uint64_t f = spinlock_lock_irqsave(&vectors_lock);
    handler_eoi[vector] = lapic_eoi;
    __atomic_store_n(&handlers[vector], handler, __ATOMIC_RELEASE);
    spinlock_unlock_irqrestore(&vectors_lock, f);
}

uint8_t arch_irq_alloc_vector(void)
{
    uint64_t f = spinlock_lock_irqsave(&vectors_lock);
    uint8_t v = 0;
    if (next_free_vector < VECTOR_SPURIOUS)
        v = next_free_vector++;
    spinlock_unlock_irqrestore(&vectors_lock, f);
    if (!v)
        log_warn("interrupts: out of vectors (0x30..0xfe all allocated)");
    return v;
}

uint64_t arch_exception_count(unsigned vector)
{
    return vector < 32 ? __atomic_load_n(&exception_counts[vector], __ATOMIC_RELAXED) : 0;
}

uint64_t arch_irq_count(unsigned vector, unsigned cpu)
{
    if (vector > 255 || cpu >= CONFIG_MAX_CPUS)
        return 0;
    return __atomic_load_n(&irq_counts[cpu][vector], __ATOMIC_RELAXED);
}

arch_irq_handler_t arch_irq_handler(unsigned vector)
{
    return vector < 256 ? __atomic_load_n(&handlers[vector], __ATOMIC_ACQUIRE) : NULL;
}

const char *arch_exception_name(unsigned vector)
{
    return vector < 32 ? exception_names[vector] : NULL;
}

void arch_set_breakpoint_hook(void (*hook)(arch_frame_t *))
{
    breakpoint_hook = hook;
}

static bool apply_fixup(arch_frame_t *f)
{
    for (const arch_fixup_t *x = __start_fixups; x < __stop_fixups; x++) {
        if (x->fault_rip == f->rip) {
            f->rip = x->fixup_rip;
            return true;
        }
    }
    return false;
}

static void exception(arch_frame_t *f)
{
    /* TLB shootdowns and panic halts arrive as NMIs (ipi.c); GS is not trusted here. */
    if (f->vector == 2 && ipi_handle_nmi(f))
        return;
    __atomic_fetch_add(&exception_counts[f->vector], 1, __ATOMIC_RELAXED);
    /* Demand paging, for ring 3 and for the kernel's user-copy routines. */
    if (f->vector == 14 && fault_hooks.page_fault && fault_hooks.page_fault(f, arch_read_cr2()))
        return;
    if (arch_frame_from_user(f)) {
        /* NMI, #DF and #MC say something about the machine, not the program. */
        if (f->vector != 2 && f->vector != 8 && f->vector != 18 && fault_hooks.user_fault) {
            uint8_t sig = user_signal[f->vector];
            fault_hooks.user_fault(f, sig ? sig : 11, exception_names[f->vector]);
            return; /* a handler was set up, or the process is gone */
        }
    } else {
        if (f->vector == 3 && breakpoint_hook) {
            breakpoint_hook(f);
            return;
        }
        if (apply_fixup(f))
            return;
        arch_fault_catch_t *c = f->vector != 2 ? armed_catch[arch_cpu_index()] : NULL;
        if (c) {
            armed_catch[arch_cpu_index()] = NULL;
            c->vector = f->vector;
            c->error_code = f->error_code;
            c->cr2 = arch_read_cr2();
            c->fault_rip = f->rip;
            arch_fault_resume(c);
        }
        /* A UBSan trap (DEBUG=1 kernel) is an invalid-opcode fault on purpose: name the
         * check; the report's RIP and backtrace give the location. */
        const char *check = f->vector == 6 ? arch_ubsan_check_at(f->rip) : NULL;
        if (check) {
            char what[96];
            fmt_snprintf(what, sizeof(what), "UBSan trap: %s", check);
            panic_exception(f, what);
        }
    }
    panic_exception(f, exception_names[f->vector]);
}

/* Handlers may have turned interrupts on (a fault that blocks); IRET restores the
 * interrupted flags, so turning them off here costs nothing. */
static void account_user_return(void)
{
    arch_irq_disable();
    sched_account_user_return();
}

void arch_interrupt_dispatch(arch_frame_t *f)
{
    /* An interrupt inside a user-copy window arrives with RFLAGS.AC set (interrupt
     * gates do not clear it): close SMAP for the handler. IRET restores the
     * interrupted flags. clac raises #UD on CPUs without SMAP, hence the check. */
    if (arch_features()->smap)
        __asm__ volatile("clac" ::: "memory");
    /* NMI, #DF and #MC (IST vectors) may arrive where GS is not the kernel's. */
    if (f->vector != 2 && f->vector != 8 && f->vector != 18 && f->vector < 256) {
        uint64_t *count = &irq_counts[arch_cpu_index()][f->vector];
        __atomic_store_n(count, *count + 1, __ATOMIC_RELAXED);
    }
    /* User/kernel time: the thread left ring 3 here (the IST vectors may come with a
     * user GS in the syscall entry window, but never with a ring-3 frame). */
    bool from_user = arch_frame_from_user(f) && f->vector != 2 && f->vector != 8 &&
                     f->vector != 18;
    if (from_user)
        sched_account_kernel_entry();
    if (f->vector < VECTOR_FIRST_DEVICE) {
        exception(f);
        if (from_user)
            account_user_return();
        return;
    }
    if (f->vector == VECTOR_SPURIOUS) {
        if (from_user)
            account_user_return();
        return; /* spurious: no EOI (SDM 10.9) */
    }
    arch_irq_handler_t h = __atomic_load_n(&handlers[f->vector], __ATOMIC_ACQUIRE);
    if (h)
        h(f);
    else
        log_warn("interrupts: unexpected vector 0x%lx", (unsigned long)f->vector);
    if (!h || handler_eoi[f->vector])
        lapic_eoi();
    if (arch_frame_from_user(f) && fault_hooks.user_return)
        fault_hooks.user_return(f);
    if (from_user)
        account_user_return();
}
