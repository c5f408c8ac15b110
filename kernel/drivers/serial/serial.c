/* SPDX-License-Identifier: MIT */
/*
 * 16550-compatible UART (register map from the PC16550D datasheet, "Register
 * Summary"). Output is polled, which keeps it usable from panic and early boot; '\n'
 * is sent as "\r\n" by serial_write (serial_write_raw sends bytes as they are, for the
 * terminal layer, which does its own output modes). Input comes by polling until
 * serial_enable_receive_interrupt hands it to a sink from IRQ 4.
 */
#include "drivers/serial/serial.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/ioapic.h"

#define COM1 0x3f8
#define REG_DATA 0        /* DLAB=0: RBR/THR */
#define REG_IER  1        /* DLAB=0: interrupt enable */
#define REG_DLL  0        /* DLAB=1: divisor latch low */
#define REG_DLM  1        /* DLAB=1: divisor latch high */
#define REG_FCR  2        /* write: FIFO control; read: IIR */
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

void serial_write_raw(const char *s, size_t n)
{
    if (!present)
        return;
    for (size_t i = 0; i < n; i++)
        put(s[i]);
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

#define IER_RECEIVED_DATA 0x01
#define MCR_OUT2 0x08 /* gates the UART's interrupt line on PCs */
#define COM1_IRQ 4

static void (*receive_sink)(const char *bytes, size_t n);

static void receive_interrupt(arch_frame_t *frame)
{
    (void)frame;
    char buf[32];
    size_t n = 0;
    /* Drain the FIFO; reading RBR clears the interrupt. Bounded by the FIFO depth. */
    for (unsigned i = 0; i < 64 && (arch_inb(COM1 + REG_LSR) & LSR_DATA_READY); i++) {
        buf[n++] = (char)arch_inb(COM1 + REG_DATA);
        if (n == sizeof(buf)) {
            receive_sink(buf, n);
            n = 0;
        }
    }
    (void)arch_inb(COM1 + REG_FCR); /* IIR: acknowledges anything else pending */
    if (n)
        receive_sink(buf, n);
}

bool serial_enable_receive_interrupt(void (*sink)(const char *bytes, size_t n))
{
    if (!present || !sink)
        return false;
    uint8_t vector = arch_irq_alloc_vector();
    if (!vector)
        return false;
    receive_sink = sink;
    arch_irq_register(vector, receive_interrupt, true);
    if (ioapic_route_isa(COM1_IRQ, vector, 0) != 0)
        return false;
    arch_outb(COM1 + REG_MCR, 0x03 | MCR_OUT2);
    arch_outb(COM1 + REG_IER, IER_RECEIVED_DATA);
    return true;
}
