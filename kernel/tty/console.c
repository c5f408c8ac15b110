/* SPDX-License-Identifier: MIT */
/*
 * The console terminal: output to every console route (serial port, framebuffer),
 * input from the serial port's receive interrupt (polled when IRQ 4 cannot be routed)
 * and from the keyboard driver through tty_console_input.
 */
#include "tty/tty_internal.h"
#include "core/log.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "mm/mm.h"

#define CONSOLE_POLL_NS 10000000ull

static tty_t *console;

tty_t *tty_console(void) { return console; }

void tty_console_input(const char *bytes, size_t n)
{
    tty_input(console, bytes, n);
}

static void console_output(tty_t *t, const char *bytes, size_t n)
{
    (void)t;
    log_console_write(bytes, n);
}

static void console_poll_serial(tty_t *t)
{
    char buf[64];
    size_t n = 0;
    int c;
    while (n < sizeof(buf) && (c = serial_read_byte()) >= 0)
        buf[n++] = (char)c;
    if (n)
        tty_input(t, buf, n);
}

void tty_init(void)
{
    console = tty_alloc("tty-console", console_output, NULL);
    if (!console)
        return;
    if (fbcon_ready()) {
        unsigned cols, rows;
        fbcon_size(&cols, &rows);
        console->cols = (uint16_t)cols;
        console->rows = (uint16_t)rows;
    }
    if (!serial_enable_receive_interrupt(tty_console_input)) {
        console->poll_device = console_poll_serial;
        console->poll_ns = CONSOLE_POLL_NS;
        log_info("tty: serial input is polled every %llu ms (no interrupt route)",
                 (unsigned long long)(CONSOLE_POLL_NS / 1000000));
    }
    if (!tty_start(console)) {
        log_error("tty: no memory for the console worker");
        kfree(console);
        console = NULL;
    }
}
