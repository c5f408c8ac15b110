/* SPDX-License-Identifier: MIT */
/* PCI's KObj nodes: /pci/SEGMENT:BUS:DEVICE.FUNCTION for every function found. */
#include "kobj/kobj.h"
#include "pci/pci.h"
#include "lib/fmt.h"
#include <vk/errno.h>

enum { PCI_VENDOR, PCI_DEVICE, PCI_CLASS, PCI_SUBCLASS, PCI_PROG_IF, PCI_REVISION, PCI_MSIX };

static int pci_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    const pci_device_t *d = position < pci_device_count() ? pci_device_get((unsigned)position) : NULL;
    if (!d)
        return -VK_ENOENT;
    fmt_snprintf(name, size, "%04x:%02x:%02x.%x", d->segment, d->bus, d->device, d->function);
    *key = position;
    return 0;
}

static int pci_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    const pci_device_t *d = key < pci_device_count() ? pci_device_get((unsigned)key) : NULL;
    if (!d)
        return -VK_ENOENT;
    const uint64_t fields[] = {
        [PCI_VENDOR] = d->vendor_id, [PCI_DEVICE] = d->device_id, [PCI_CLASS] = d->class_code,
        [PCI_SUBCLASS] = d->subclass, [PCI_PROG_IF] = d->prog_if, [PCI_REVISION] = d->revision,
        [PCI_MSIX] = d->has_msix,
    };
    out->u = fields[node->field];
    return 0;
}

#define PCI_FIELD(name_, field_, type_, text_)                                             \
    { .path = "/pci/*/" name_, .type = type_, .access = KOBJ_READ, .get = pci_get,          \
      .field = field_, .description = text_ }
static kobj_node_t pci_nodes[] = {
    { .path = "/pci", .type = KOBJ_DIR, .access = KOBJ_READ, .enumerate = pci_enumerate,
      .description = "PCI functions found at boot, by segment:bus:device.function" },
    { .path = "/pci/*", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "One PCI function" },
    PCI_FIELD("vendor_id", PCI_VENDOR, KOBJ_UINT, "Vendor ID (PCI-SIG assigned)"),
    PCI_FIELD("device_id", PCI_DEVICE, KOBJ_UINT, "Device ID (vendor assigned)"),
    PCI_FIELD("class", PCI_CLASS, KOBJ_UINT, "Base class code"),
    PCI_FIELD("subclass", PCI_SUBCLASS, KOBJ_UINT, "Subclass code"),
    PCI_FIELD("prog_if", PCI_PROG_IF, KOBJ_UINT, "Programming interface"),
    PCI_FIELD("revision", PCI_REVISION, KOBJ_UINT, "Revision ID"),
    PCI_FIELD("msix", PCI_MSIX, KOBJ_BOOL, "Has the MSI-X capability"),
};
KOBJ_TABLE(pci_nodes);
