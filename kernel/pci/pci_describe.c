/* SPDX-License-Identifier: MIT */
/*
 * Human-readable PCI descriptions for the boot log: class names and the one debug line
 * per function that pci_init prints.
 *
 * The line is assembled in a fixed buffer with tiny appenders (the log takes one
 * formatted line; there is no snprintf) and cut short, never overrun, when it would
 * exceed the buffer. Nothing is formatted unless debug logging is on.
 */
#include "config.h"
#include "core/log.h"
#include "pci/pci.h"
#include "pci/pci_internal.h"

/* Class and subclass codes: PCI Code and ID Assignment Specification, §1. */
typedef struct {
    uint8_t class_code;
    uint8_t subclass; /* 0xff: any subclass of the class */
    const char *name;
} pci_class_name_t;

static const pci_class_name_t class_names[] = {
    { 0x01, 0x01, "IDE controller" },   { 0x01, 0x06, "SATA controller" },
    { 0x01, 0x08, "NVMe controller" },  { 0x01, 0x00, "SCSI controller" },
    { 0x01, 0xff, "storage" },          { 0x02, 0x00, "Ethernet controller" },
    { 0x02, 0xff, "network" },          { 0x03, 0x00, "VGA display" },
    { 0x03, 0xff, "display" },          { 0x04, 0x01, "audio (AC'97)" },
    { 0x04, 0x03, "HD audio" },         { 0x04, 0xff, "multimedia" },
    { 0x05, 0xff, "memory controller" },{ 0x06, 0x00, "host bridge" },
    { 0x06, 0x01, "ISA bridge" },       { 0x06, 0x04, "PCI bridge" },
    { 0x06, 0xff, "bridge" },           { 0x07, 0x00, "serial controller" },
    { 0x07, 0xff, "communication" },    { 0x08, 0xff, "system peripheral" },
    { 0x09, 0xff, "input" },            { 0x0c, 0x03, "USB controller" },
    { 0x0c, 0x05, "SMBus" },            { 0x0c, 0xff, "serial bus" },
    { 0x0d, 0xff, "wireless" },         { 0x10, 0xff, "crypto" },
    { 0x12, 0xff, "accelerator" },      { 0x00, 0xff, "unclassified" },
};

const char *pci_class_name(uint8_t class_code, uint8_t subclass)
{
    for (unsigned i = 0; i < sizeof class_names / sizeof class_names[0]; i++) {
        const pci_class_name_t *c = &class_names[i];
        if (c->class_code == class_code && (c->subclass == subclass || c->subclass == 0xff))
            return c->name;
    }
    return "other";
}

/* The log cuts lines at CONFIG_LOG_LINE_MAX; leave room for its prefix and "pci: ". */
typedef struct {
    char text[CONFIG_LOG_LINE_MAX - 32];
    unsigned len;
} pci_line_t;

static void put_str(pci_line_t *l, const char *s)
{
    while (*s && l->len + 1 < sizeof l->text)
        l->text[l->len++] = *s++;
    l->text[l->len] = '\0';
}

/* Lower-case hex, at least min_digits digits. */
static void put_hex(pci_line_t *l, uint64_t v, unsigned min_digits)
{
    char tmp[17];
    unsigned n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v && n < 16);
    while (n < min_digits && n < 16)
        tmp[n++] = '0';
    char out[17];
    for (unsigned i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    put_str(l, out);
}

static void put_dec(pci_line_t *l, unsigned v)
{
    char tmp[11], out[11];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (unsigned i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    put_str(l, out);
}

static const char *bar_kind(uint8_t type)
{
    switch (type) {
    case PCI_BAR_MEM32: return "mem32";
    case PCI_BAR_MEM64: return "mem64";
    case PCI_BAR_IO: return "io";
    }
    return "?";
}

void pci_describe(const pci_device_t *d)
{
    if (log_level() > LOG_LEVEL_DEBUG)
        return;
    pci_line_t l = { .len = 0 };
    l.text[0] = '\0';
    if (d->segment) {
        put_hex(&l, d->segment, 4);
        put_str(&l, ":");
    }
    put_hex(&l, d->bus, 2);
    put_str(&l, ":");
    put_hex(&l, d->device, 2);
    put_str(&l, ".");
    put_dec(&l, d->function);
    put_str(&l, " ");
    put_hex(&l, d->vendor_id, 4);
    put_str(&l, ":");
    put_hex(&l, d->device_id, 4);
    put_str(&l, " rev ");
    put_hex(&l, d->revision, 2);
    put_str(&l, " class ");
    put_hex(&l, d->class_code, 2);
    put_str(&l, ".");
    put_hex(&l, d->subclass, 2);
    put_str(&l, ".");
    put_hex(&l, d->prog_if, 2);
    put_str(&l, " ");
    put_str(&l, pci_class_name(d->class_code, d->subclass));
    if (d->header_type == 1) {
        put_str(&l, " buses ");
        put_hex(&l, d->secondary_bus, 2);
        put_str(&l, "-");
        put_hex(&l, d->subordinate_bus, 2);
    }
    if (d->irq_pin) {
        put_str(&l, " INT");
        char pin[2] = { (char)('A' + (d->irq_pin - 1) % 4), '\0' };
        put_str(&l, pin);
        put_str(&l, " line ");
        put_dec(&l, d->irq_line);
    }
    for (unsigned i = 0; i < d->bar_count; i++) {
        const pci_bar_t *b = &d->bars[i];
        if (b->type == PCI_BAR_NONE)
            continue;
        put_str(&l, " bar");
        put_dec(&l, i);
        put_str(&l, "=");
        put_str(&l, bar_kind(b->type));
        put_str(&l, b->prefetchable ? "pf 0x" : " 0x");
        put_hex(&l, b->base, 1);
        put_str(&l, "+0x");
        put_hex(&l, b->size, 1);
    }
    if (d->has_msi) {
        put_str(&l, " msi@");
        put_hex(&l, d->msi_offset, 2);
    }
    if (d->has_msix) {
        put_str(&l, " msix@");
        put_hex(&l, d->msix_offset, 2);
    }
    if (d->pcie_offset) {
        put_str(&l, " pcie@");
        put_hex(&l, d->pcie_offset, 2);
    }
    log_debug("pci: %s", l.text);
}
