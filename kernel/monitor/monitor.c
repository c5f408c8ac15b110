/* SPDX-License-Identifier: MIT */
/*
 * Kernel monitor. Reads bytes from the console terminal (serial port and keyboard) in
 * raw mode, with backspace editing, and runs a handful of commands. Output goes to
 * every console route, so the framebuffer shows the session too.
 */
#include "monitor/monitor.h"
#include "fs/vfs.h"
#include "core/log.h"
#include "core/power.h"
#include "core/panic.h"
#include "core/string.h"
#include "core/kernel.h"
#include "drivers/serial/serial.h"
#include "tty/tty.h"
#include "sched/sched.h"
#include "drivers/ps2/ps2.h"
#include "kobj/kobj.h"
#include "mm/mm.h"
#include "acpi/acpi.h"
#include "pci/pci.h"
#include "time/time.h"
#include "arch/x86_64/arch.h"

#define LINE_MAX 128

typedef struct {
    const char *name;
    const char *help;
    void (*run)(const char *args);
} command_t;

static void cmd_help(const char *args);

static void cmd_version(const char *args)
{
    (void)args;
    log_printf("%s\n", kernel_banner());
}

static void cmd_mem(const char *args)
{
    (void)args;
    log_printf("physical memory: %llu MiB total, %llu MiB free\n",
               (unsigned long long)(pmm_total_bytes() >> 20),
               (unsigned long long)(pmm_free_bytes() >> 20));
}

static void cmd_uptime(const char *args)
{
    (void)args;
    uint64_t ms = time_monotonic_ns() / 1000000ull;
    log_printf("up %llu.%03llu s, %llu timer ticks\n", (unsigned long long)(ms / 1000),
               (unsigned long long)(ms % 1000), (unsigned long long)time_ticks());
}

static void cmd_pci(const char *args)
{
    (void)args;
    for (unsigned i = 0; i < pci_device_count(); i++) {
        const pci_device_t *d = pci_device_get(i);
        log_printf("%02x:%02x.%x %04x:%04x class %02x.%02x.%02x\n", d->bus, d->device,
                   d->function, d->vendor_id, d->device_id, d->class_code, d->subclass,
                   d->prog_if);
    }
}

static void cmd_log(const char *args)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    for (int i = 0; i < 4; i++) {
        if (strcmp(args, names[i]) == 0) {
            log_set_level(i);
            log_printf("log level: %s\n", names[i]);
            return;
        }
    }
    log_printf("usage: log debug|info|warn|error (now %s)\n", names[log_level()]);
}

static void cmd_poweroff(const char *args)
{
    (void)args;
    power_off("monitor");
}

static void cmd_reboot(const char *args)
{
    (void)args;
    power_restart("monitor");
}

static void cmd_panic(const char *args)
{
    if (strcmp(args, "yes") != 0) {
        log_printf("This stops the machine. Type \"panic yes\" to confirm.\n");
        return;
    }
    panic("requested from the monitor");
}

/* kobj PATH: print a value; kobj PATH VALUE: set it (actions take any value). */
static void cmd_kobj(const char *args)
{
    char path[LINE_MAX];
    size_t n = 0;
    while (args[n] && args[n] != ' ' && n < sizeof(path) - 1) {
        path[n] = args[n];
        n++;
    }
    path[n] = 0;
    const char *value = args + n;
    while (*value == ' ')
        value++;
    kobj_ref_t ref;
    static kobj_value_t v; /* too big for the monitor's stack frame */
    int err = n ? kobj_resolve(path, &ref) : -1;
    if (err == -1) {
        log_printf("usage: kobj PATH [VALUE]\n");
        return;
    }
    if (!err && *value) {
        err = kobj_parse(ref.node, value, strlen(value), &v);
        if (!err)
            err = kobj_set(ref, &v);
        if (!err)
            log_printf("%s: set\n", path);
    } else if (!err) {
        char text[256];
        err = kobj_get(ref, &v);
        if (!err) {
            kobj_format(ref.node, &v, text, sizeof(text));
            log_printf("%s = %s\n", path, text);
        }
    }
    if (err)
        log_printf("%s: error %d\n", path, err);
}

static const command_t commands[] = {
    { "help", "list commands", cmd_help },
    { "version", "kernel version and build", cmd_version },
    { "mem", "physical memory use", cmd_mem },
    { "uptime", "time since boot", cmd_uptime },
    { "pci", "list PCI devices", cmd_pci },
    { "log", "show or set the log level", cmd_log },
    { "poweroff", "power the machine off (ACPI S5)", cmd_poweroff },
    { "reboot", "restart the machine", cmd_reboot },
    { "panic", "stop the kernel with a panic report", cmd_panic },
    { "kobj", "read (or write) a KObj node: kobj PATH [VALUE]", cmd_kobj },
};

static void cmd_help(const char *args)
{
    (void)args;
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        log_printf("  %-10s %s\n", commands[i].name, commands[i].help);
}

int monitor_execute(char *line)
{
    while (*line == ' ')
        line++;
    if (!*line)
        return 0;
    char *args = line;
    while (*args && *args != ' ')
        args++;
    if (*args)
        *args++ = 0;
    while (*args == ' ')
        args++;
    for (unsigned i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(line, commands[i].name) == 0) {
            commands[i].run(args);
            return 0;
        }
    }
    log_printf("%s: unknown command (try help)\n", line);
    return -1;
}

/* The next byte typed on the console (serial port or keyboard), waiting for it. The
 * console terminal is put in raw mode without echo: the monitor edits and echoes. */
static int read_byte(void)
{
    tty_t *t = tty_console();
    if (!t) {
        int c;
        while ((c = serial_read_byte()) < 0 && (c = ps2_keyboard_read_byte()) < 0)
            arch_wait_for_interrupt();
        return c;
    }
    tty_termios_t tm;
    tty_get_termios(t, &tm);
    if (tm.lflag & (TTY_ICANON | TTY_ECHO | TTY_ISIG)) {
        tm.lflag &= ~(TTY_ICANON | TTY_ECHO | TTY_ISIG | TTY_IEXTEN);
        tm.cc[TTY_VMIN] = 1;
        tm.cc[TTY_VTIME] = 0;
        tty_set_termios(t, &tm);
    }
    unsigned char c;
    while (tty_read(t, vfs_kbuf(&c), 1, false) != 1)
        sched_interrupt_clear(); /* nothing but a signal-less interrupt can end it */
    return c;
}

void monitor_run(void)
{
    char line[LINE_MAX];
    unsigned len = 0;
    log_printf("Type help for commands.\nvk> ");
    for (;;) {
        int c = read_byte();
        if (c == '\r' || c == '\n') {
            log_printf("\n");
            line[len] = 0;
            monitor_execute(line);
            len = 0;
            log_printf("vk> ");
        } else if (c == 0x7f || c == '\b') {
            if (len) {
                len--;
                log_printf("\b \b");
            }
        } else if (c >= 32 && c < 127 && len < LINE_MAX - 1) {
            line[len++] = (char)c;
            char echo[2] = { (char)c, 0 };
            log_puts(echo);
        }
    }
}
