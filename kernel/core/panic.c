/* SPDX-License-Identifier: MIT */
/*
 * The end of the line for a broken kernel invariant: a report on every console route
 * (message, registers when an exception caused it, a backtrace named through the
 * kernel's symbol map), then every CPU halts. In test modes QEMU is left through
 * isa-debug-exit so CI never waits on a dead machine.
 *
 * On several CPUs the first CPU to panic owns the report: it stops the others with an
 * NMI (arch_halt_other_cpus) before printing anything, so nothing interleaves with the
 * report. A CPU that panics while another one reports just halts.
 *
 * The backtrace follows saved frame pointers (the kernel is built with
 * -fno-omit-frame-pointer). Each frame address is checked to be mapped kernel memory
 * before it is read, so a corrupt stack ends the walk instead of faulting again.
 */
#include "core/panic.h"
#include "core/log.h"
#include "core/lockdep.h"
#include "lib/symmap.h"
#include "lib/linemap.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include <stdarg.h>

#define BACKTRACE_MAX_FRAMES 32
_Static_assert(PANIC_DESCRIBE_MAX >= SYMMAP_NAME_MAX + LINEMAP_FILE_MAX + 40,
               "room for name+0xoff (file:line)");

static const char *symbol_map;
static size_t symbol_map_len;
static const char *line_table; /* the debug.lines bundle; its "vkernel.elf" section */
static size_t line_table_len;
static uint8_t exit_code; /* 0: halt and keep the screen for the user */
static int panic_depth;
static int panic_cpu = -1; /* the CPU that owns the report (atomic) */
static unsigned halted_others;

void panic_set_symbol_map(const char *map, size_t len)
{
    symbol_map = map;
    symbol_map_len = len;
}

void panic_set_line_table(const char *table, size_t len)
{
    /* A table made from another build (the DEBUG=1 kernel booted with the normal disk)
     * would name wrong lines: it must know where this very function is. */
    if (!linemap_check(table, len, "vkernel.elf", "panic_set_line_table",
                       (uint64_t)(uintptr_t)panic_set_line_table)) {
        log_warn("debug.lines was made for another kernel build: backtraces show no file:line");
        return;
    }
    line_table = table;
    line_table_len = len;
}

void panic_set_exit_code(uint8_t value)
{
    exit_code = value;
}

/* "name+0xoff (file:line)", "name+0xoff" or "?" into buf. */
const char *panic_describe(uint64_t addr, char *buf, size_t size)
{
    symmap_result_t r;
    linemap_result_t where;
    if (!symbol_map || !symmap_lookup(symbol_map, symbol_map_len, addr, &r))
        fmt_snprintf(buf, size, "?");
    else if (line_table &&
             linemap_lookup(line_table, line_table_len, "vkernel.elf", addr, &where))
        fmt_snprintf(buf, size, "%s+0x%llx (%s:%u)", r.name, (unsigned long long)r.offset,
                     where.file, (unsigned)where.line);
    else
        fmt_snprintf(buf, size, "%s+0x%llx", r.name, (unsigned long long)r.offset);
    return buf;
}

static bool readable_kernel_word(uint64_t addr)
{
    if (addr < VK_BOOT_DIRECT_MAP_BASE || (addr & 7))
        return false;
    return vmm_query(addr, NULL, NULL) && vmm_query(addr + 8, NULL, NULL);
}

unsigned panic_collect_backtrace(uint64_t rip, uint64_t rbp, uint64_t *addrs, unsigned max)
{
    unsigned n = 0;
    if (max == 0)
        return 0;
    addrs[n++] = rip;
    while (n < max && readable_kernel_word(rbp)) {
        uint64_t *frame = (uint64_t *)rbp;
        uint64_t ret = frame[1];
        if (ret < VK_BOOT_KERNEL_BASE)
            break;
        addrs[n++] = ret;
        if (frame[0] <= rbp)
            break; /* frames only go up the stack */
        rbp = frame[0];
    }
    return n;
}

void panic_print_backtrace(const uint64_t *addrs, unsigned count)
{
    char name[PANIC_DESCRIBE_MAX];
    log_printf("Backtrace:\n");
    for (unsigned i = 0; i < count; i++)
        /* A return address points after the call: look up ret-1 to name the caller. */
        log_printf("  #%-2u 0x%016llx %s\n", i, (unsigned long long)addrs[i],
                   panic_describe(i ? addrs[i] - 1 : addrs[i], name, sizeof(name)));
}

void panic_backtrace(unsigned long rip, unsigned long rbp)
{
    uint64_t addrs[BACKTRACE_MAX_FRAMES];
    panic_print_backtrace(addrs, panic_collect_backtrace(rip, rbp, addrs, BACKTRACE_MAX_FRAMES));
}

__attribute__((noreturn)) static void finish(void)
{
    if (halted_others)
        log_printf("System halted (%u other CPUs stopped first).\n", halted_others);
    else
        log_printf("System halted.\n");
    if (exit_code)
        arch_qemu_exit(exit_code);
    arch_halt_forever();
}

static void enter(void)
{
    arch_irq_disable();
    lockdep_disable(); /* the report takes locks in whatever order it must */
    int me = (int)arch_cpu_index(), owner = -1;
    if (!__atomic_compare_exchange_n(&panic_cpu, &owner, me, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE) && owner != me)
        arch_halt_forever(); /* another CPU is reporting; its NMI may already be on the way */
    if (owner == -1)
        halted_others = arch_halt_other_cpus();
    log_enter_panic();
    if (++panic_depth > 1) {
        /* Panicking inside the panic report: print nothing more that could fault. */
        log_puts("\nPANIC: recursive panic\n");
        finish();
    }
}

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    enter();
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_printf("\n\x1b[91mPANIC: %s\x1b[0m\n", msg);
    panic_backtrace((unsigned long)__builtin_return_address(0),
                    (unsigned long)__builtin_frame_address(0));
    finish();
}

void panic_exception(const arch_frame_t *f, const char *what)
{
    char name[PANIC_DESCRIBE_MAX];
    enter();
    log_printf("\n\x1b[91mPANIC: %s (vector %llu) in kernel at 0x%016llx %s\x1b[0m\n", what,
               (unsigned long long)f->vector, (unsigned long long)f->rip,
               panic_describe(f->rip, name, sizeof(name)));
    log_printf("  error 0x%llx  cr2 0x%016llx  cr3 0x%016llx\n",
               (unsigned long long)f->error_code, (unsigned long long)arch_read_cr2(),
               (unsigned long long)arch_read_cr3());
    log_printf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
               (unsigned long long)f->rax, (unsigned long long)f->rbx,
               (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    log_printf("  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n",
               (unsigned long long)f->rsi, (unsigned long long)f->rdi,
               (unsigned long long)f->rbp, (unsigned long long)f->rsp);
    log_printf("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n",
               (unsigned long long)f->r8, (unsigned long long)f->r9,
               (unsigned long long)f->r10, (unsigned long long)f->r11);
    log_printf("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n",
               (unsigned long long)f->r12, (unsigned long long)f->r13,
               (unsigned long long)f->r14, (unsigned long long)f->r15);
    log_printf("  rip %016llx cs %04llx rflags %08llx ss %04llx\n",
               (unsigned long long)f->rip, (unsigned long long)f->cs,
               (unsigned long long)f->rflags, (unsigned long long)f->ss);
    panic_backtrace(f->rip, f->rbp);
    finish();
}
