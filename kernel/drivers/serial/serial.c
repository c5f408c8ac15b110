/* SPDX-License-Identifier: MIT */
/*
 * 16550-compatible UART, polled (register map from the PC16550D datasheet, "Register
 * Summary"). Polling keeps it usable from panic and early boot; input is read by the
 * console loop. '\n' is sent as "\r\n" for terminals.
 */
#include "drivers/serial/serial.h"
#include "arch/x86_64/arch.h"

#define COM1 0x3f8
#define REG_DATA 0        /* DLAB=0: RBR/THR */
#define REG_IER  1        /* DLAB=0: interrupt enable */
#define REG_DLL  0        /* DLAB=1: divisor latch low */
#define REG_DLM  1        /* DLAB=1: divisor latch high */
#define REG_FCR  2
#define REG_LCR  3
#define REG_MCR  4
#define REG_LSR  5
#define REG_SCR  7
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static bool present;

void serial_init(void)
{
    /* A UART has a scratch register; a missing one reads back 0xff. */
    arch_outb(COM1 + REG_SCR, 0x5a);
    if (arch_inb(COM1 + REG_SCR) != 0x5a)
        return;
    arch_outb(COM1 + REG_IER, 0x00);
    arch_outb(COM1 + REG_LCR, 0x80); /* DLAB on */
    arch_outb(COM1 + REG_DLL, 1);    /* 115200 baud */
    arch_outb(COM1 + REG_DLM, 0);
    arch_outb(COM1 + REG_LCR, 0x03); /* 8N1, DLAB off */
    arch_outb(COM1 + REG_FCR, 0xc7); /* FIFOs on, cleared, 14-byte threshold */
    arch_outb(COM1 + REG_MCR, 0x03); /* DTR, RTS */
    present = true;
}

bool serial_present(void)
{
    return present;
}

static void put(char c)
{
    /* Bounded wait: a wedged UART must not hang the kernel. */
    for (unsigned spins = 0; spins < 100000; spins++) {
        if (arch_inb(COM1 + REG_LSR) & LSR_THR_EMPTY)
            break;
        arch_pause();
    }
    arch_outb(COM1 + REG_DATA, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
    if (!present)
        return;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            put('\r');
        put(s[i]);
    }
}

bool serial_input_ready(void)
{
    return present && (arch_inb(COM1 + REG_LSR) & LSR_DATA_READY);
}

int serial_read_byte(void)
{
    if (!present || !(arch_inb(COM1 + REG_LSR) & LSR_DATA_READY))
        return -1;
    return arch_inb(COM1 + REG_DATA);
}
