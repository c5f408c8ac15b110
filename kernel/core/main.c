/* SPDX-License-Identifier: MIT */
/*
 * kernel_main: from the loader's hand-off to a running kernel. Stage 1 runs on the
 * loader's boot stack and brings up the CPU, physical memory, paging and the heap; it
 * then moves to a guarded kernel stack for stage 2, which starts the consoles, ACPI,
 * timers, PCI and the disks, and finally runs what the command line asks for (docs/boot.md):
 *   test=kernel  in-kernel tests, then exit QEMU with the result
 *   test=panic   a deliberate fault, to check the panic report
 *   (default)    the kernel monitor on the serial console
 */
#include "core/kernel.h"
#include "core/log.h"
#include "core/lockdep.h"
#include "core/panic.h"
#include "core/string.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/ioapic.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "drivers/virtio_blk/virtio_blk.h"
#include "drivers/registry/driver.h"
#include "drivers/ps2/ps2.h"
#include "mm/mm.h"
#include "acpi/acpi.h"
#include "pci/pci.h"
#include "time/time.h"
#include "sched/sched.h"
#include "monitor/monitor.h"
#include "tty/tty.h"
#include "core/power.h"
#include "fs/vfs.h"
#include "test/ktest.h"
#include "proc/proc.h"
#include "proc/signal.h"
#include "mm/aspace.h"
#include "lib/fmt.h"
#include "kobj/kobj.h"
#include "config.h"

#ifndef VK_BUILD_ID
#define VK_BUILD_ID "unknown"
#endif

/* isa-debug-exit values (QEMU exits with (v << 1) | 1). */
#define EXIT_TESTS_PASSED 0x10 /* status 33 */
#define EXIT_TESTS_FAILED 0x11 /* status 35 */
#define EXIT_PANIC        0x12 /* status 37 */

static const vk_boot_info_t *boot_info;
static cmdline_t cmdline;
static char cmdline_text[CONFIG_CMDLINE_MAX];
static char banner[160];

const char *kernel_banner(void) { return banner; }
const char *kernel_build_id(void) { return VK_BUILD_ID; }
const cmdline_t *kernel_cmdline(void) { return &cmdline; }
const char *kernel_cmdline_text(void) { return cmdline_text; }
const vk_boot_info_t *kernel_boot_info(void) { return boot_info; }

const vk_boot_module_t *kernel_find_module(const char *name)
{
    const vk_boot_module_t *m = phys_to_virt(boot_info->modules);
    for (uint32_t i = 0; i < boot_info->module_count; i++)
        if (strncmp(m[i].name, name, VK_BOOT_MODULE_NAME_MAX) == 0)
            return &m[i];
    return NULL;
}

static void apply_cmdline(void)
{
    strlcpy(cmdline_text, phys_to_virt(boot_info->cmdline), sizeof(cmdline_text));
    int err = cmdline_parse(&cmdline, cmdline_text);
    if (err < 0) {
        log_error("kernel command line ignored: %s", cmdline_error_string(err));
        cmdline_parse(&cmdline, "");
    }
    const char *level = cmdline_get(&cmdline, "log");
    static const char *const levels[] = { "debug", "info", "warn", "error" };
    for (int i = 0; level && i < 4; i++)
        if (strcmp(level, levels[i]) == 0)
            log_set_level(i);
    const char *console = cmdline_get(&cmdline, "console");
    if (console) {
        if (strcmp(console, "serial") == 0)
            log_set_route(LOG_ROUTE_SERIAL);
        else if (strcmp(console, "fb") == 0)
            log_set_route(LOG_ROUTE_FB);
        else if (strcmp(console, "both") == 0)
            log_set_route(LOG_ROUTE_SERIAL | LOG_ROUTE_FB);
        else
            log_warn("console=%s unknown (serial, fb or both); keeping both", console);
    }
    /* panic=exit (and every test mode): a panic leaves QEMU instead of halting. */
    const char *on_panic = cmdline_get(&cmdline, "panic");
    if (cmdline_has(&cmdline, "test") || (on_panic && strcmp(on_panic, "exit") == 0))
        panic_set_exit_code(EXIT_PANIC);
}

static void start_framebuffer(void)
{
    const vk_boot_framebuffer_t *fb = &boot_info->framebuffer;
    if (!fb->base) {
        log_info("fbcon: no framebuffer; serial console only");
        return;
    }
    void *pixels = vmm_map_framebuffer(fb->base, fb->size);
    if (!fbcon_init(fb, pixels))
        log_warn("fbcon: framebuffer %ux%u unusable", fb->width, fb->height);
}

static void load_symbols(void)
{
    const vk_boot_module_t *m = kernel_find_module("vkernel.map");
    if (!m) {
        log_warn("no vkernel.map boot module: backtraces show addresses only");
        return;
    }
    panic_set_symbol_map(phys_to_virt(m->base), m->size);
    const vk_boot_module_t *lines = kernel_find_module("modules/debug.lines");
    if (lines)
        panic_set_line_table(phys_to_virt(lines->base), lines->size);
    else
        log_warn("no modules/debug.lines boot module: backtraces show no file:line");
}

/* test=panic on several CPUs: a thread on every other CPU keeps logging, so a report
 * that did not stop them first would come out interleaved with their lines. */
static unsigned chatter_started; /* atomic */

static void chatter(void *arg)
{
    __atomic_fetch_add(&chatter_started, 1, __ATOMIC_RELEASE);
    for (unsigned n = 0;; n++) {
        log_printf("chatter: CPU %u line %u\n", (unsigned)(uintptr_t)arg, n);
        time_delay_us(200);
    }
}

static void start_chatter(void)
{
    unsigned cpus = arch_cpu_count();
    for (unsigned i = 1; i < cpus; i++) {
        sched_thread_params_t p = { .name = "chatter", .entry = chatter, .arg = (void *)(uintptr_t)i,
                                    .priority = SCHED_PRIORITY_DEFAULT, .affinity = 1ull << i,
                                    .detached = true };
        sched_thread_spawn(&p);
    }
    uint64_t give_up = time_monotonic_ns() + 5000000000ull;
    while (__atomic_load_n(&chatter_started, __ATOMIC_ACQUIRE) < cpus - 1 &&
           time_monotonic_ns() < give_up)
        sched_sleep_ns(1000000);
}

/* test=panic: a null-pointer write the panic report must name. */
__attribute__((noinline)) void kernel_test_panic_fault(void)
{
    log_printf("test=panic: writing through a null pointer\n");
    *(volatile uint64_t *)8 = 0xdead;
    __builtin_unreachable();
}

/* init=PROGRAM ARGS: run it as the first process. When it ends the machine powers off;
 * in a test mode QEMU exits with status (code << 1) | 1 through isa-debug-exit, with
 * code = the exit status, or 0x40 + signal for a killed process. */
__attribute__((noreturn)) static void run_init(const char *command, bool test_mode)
{
    static char buf[CONFIG_CMDLINE_MAX];
    const char *argv[CONFIG_CMDLINE_MAX_ARGS + 1];
    int argc = cmdline_split_argv(buf, sizeof(buf), command, argv, CONFIG_CMDLINE_MAX_ARGS + 1);
    int status = 0;
    long pid = argc > 0 ? 0 : -1;
    if (argc <= 0) {
        log_error("init=%s: cannot parse the command (error %d)", command, argc);
    } else {
        static const char *const envp[] = { "PATH=/bin", "HOME=/", "TERM=vt100", NULL };
        log_info("starting init: %s", argv[0]);
        pid = proc_spawn(argv[0], argv, envp);
        if (pid < 0)
            log_error("init: cannot start %s: error %ld", argv[0], pid);
        else
            proc_wait(pid, &status, false);
    }
    int code = pid < 0 ? 0x7f : (status & 0x7f) ? 0x40 + (status & 0x7f) : (status >> 8) & 0xff;
    if (pid >= 0)
        log_printf("init exited with %s %d\n", (status & 0x7f) ? "signal" : "status",
                   (status & 0x7f) ? (status & 0x7f) : (status >> 8) & 0xff);
    vfs_shutdown();
    if (test_mode) {
        /* isa-debug-exit values must be 1..127 (QEMU status = (v << 1) | 1). */
        arch_qemu_exit((uint8_t)(code ? (code > 127 ? 127 : code) : 0x20));
    }
    log_printf("Powering off.\n");
    acpi_poweroff();
    arch_halt_forever();
}

/* Without init= the first process is /bin/init.vbin (userspace/init), which keeps a
 * shell on the console. If it cannot start or ends, the kernel monitor takes over;
 * `monitor` on the command line asks for the monitor straight away. */
#define DEFAULT_INIT "/bin/init.vbin"
static void run_default_init(void)
{
    static const char *const argv[] = { DEFAULT_INIT, NULL };
    static const char *const envp[] = { "PATH=/bin", "HOME=/", "TERM=vt100", NULL };
    long pid = proc_spawn(DEFAULT_INIT, argv, envp);
    if (pid < 0) {
        log_warn("cannot start %s (error %ld); starting the kernel monitor", DEFAULT_INIT, pid);
        return;
    }
    int status = 0;
    proc_wait(pid, &status, false);
    log_warn("%s ended (wait status 0x%x); starting the kernel monitor", DEFAULT_INIT, status);
}

__attribute__((noreturn)) static void run_mode(void)
{
    const char *test = cmdline_get(&cmdline, "test");
    const char *init = cmdline_get(&cmdline, "init");
    if (init && *init)
        run_init(init, test != NULL);
    if (test && strcmp(test, "kernel") == 0) {
        int failed = ktest_run_all();
        arch_qemu_exit(failed ? EXIT_TESTS_FAILED : EXIT_TESTS_PASSED);
        arch_halt_forever();
    }
    if (test && strcmp(test, "panic") == 0) {
        start_chatter();
        kernel_test_panic_fault();
    }
    if (test && *test)
        log_warn("test=%s unknown (kernel or panic); starting the monitor", test);
    if (!cmdline_get(&cmdline, "monitor"))
        run_default_init();
    monitor_run();
}

/* A secondary CPU, its architectural state set up by arch_smp_start: tick, scheduler. */
__attribute__((noreturn)) static void secondary_main(unsigned index)
{
    (void)index;
    time_tick_start_cpu();
    sched_start_cpu();
}

/* smp=N limits the CPUs started (smp=1: the boot CPU alone); default: all of them. */
static void start_other_cpus(void)
{
    unsigned limit = CONFIG_MAX_CPUS;
    const char *smp = cmdline_get(&cmdline, "smp");
    if (smp) {
        unsigned n = 0;
        const char *s = smp;
        while (*s >= '0' && *s <= '9' && n <= CONFIG_MAX_CPUS)
            n = n * 10 + (unsigned)(*s++ - '0');
        if (*s || n == 0)
            log_warn("smp=%s is not a CPU count of 1 or more; starting every CPU", smp);
        else
            limit = n;
    }
    arch_smp_start(limit, secondary_main);
}

__attribute__((noreturn)) static void kernel_main_stage2(void *arg)
{
    (void)arg;
    arch_init_ist_stacks();
    start_framebuffer();
    log_printf("\x1b[96m%s\x1b[0m\n", banner);
    log_info("command line: \"%s\"", cmdline_text);

    if (acpi_init(boot_info->acpi_rsdp) < 0)
        log_warn("ACPI unavailable: no power-off, no HPET, no MCFG");
    lapic_init();
    ioapic_init();
    time_init();
    sched_init();
    proc_init();
    aspace_init();
    start_other_cpus();
    log_set_clock(time_monotonic_ns);
    pci_init();
    kobj_init();
    tty_init(); /* before vfs_init: devfs's console is the console terminal */
    vfs_init();
    static const arch_fault_hooks_t hooks = {
        .page_fault = aspace_handle_page_fault,
        .user_fault = signal_deliver_fault,
        .user_return = signal_on_interrupt_return,
    };
    arch_set_fault_hooks(&hooks);
    arch_irq_enable();
    /* Disks wait for interrupts (or poll on the scheduler's timer), so after sti. */
    vblk_init();
    vfs_mount_disks();
    driver_registry_init();
    ps2_init();
    if (tty_console())
        ps2_set_keyboard_sink(tty_console_input); /* the keyboard types on the console */
    power_init();
    ps2_set_ctrl_alt_del(power_ctrl_alt_del);

    uint64_t tsc = arch_rdtsc();
    log_info("boot: kernel ready; tsc %llu (loader entry %llu, kernel entry %llu)",
             (unsigned long long)tsc, (unsigned long long)boot_info->tsc_loader_entry,
             (unsigned long long)boot_info->tsc_kernel_jump);
    log_printf("vkernel: ready\n");
    run_mode();
}

void kernel_main(const vk_boot_info_t *info)
{
    serial_init();
    if (info->magic != VK_BOOT_MAGIC || info->version != VK_BOOT_VERSION) {
        static const char msg[] = "vkernel: boot info magic/version mismatch: loader and kernel "
                                  "are from different builds\n";
        serial_write(msg, sizeof(msg) - 1);
        arch_halt_forever();
    }
    boot_info = info;
    fmt_snprintf(banner, sizeof(banner), "vkernel %s (build %s) x86_64", KERNEL_VERSION,
                 VK_BUILD_ID);
    log_printf("%s\n", banner);
    apply_cmdline();
    load_symbols();
    arch_init_cpu();
    lockdep_init(); /* debug builds: per-CPU data exists from here on */
    pmm_init(info);
    vmm_init(info);
    heap_init();
    void *stack = vmm_alloc_kernel_stack(CONFIG_KERNEL_STACK_PAGES);
    if (!stack)
        panic("no memory for the kernel stack");
    arch_switch_stack(stack, kernel_main_stage2, NULL);
}
