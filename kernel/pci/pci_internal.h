/* SPDX-License-Identifier: MIT */
/*
 * Shared between the files of kernel/pci only; drivers use pci.h.
 */
#ifndef KERNEL_PCI_PCI_INTERNAL_H
#define KERNEL_PCI_PCI_INTERNAL_H

#include <stdbool.h>

#include "pci/pci.h"

#define PCI_STATUS_CAP_LIST   (1u << 4)  /* status register (§6.2.3) */
#define PCI_CFG_CAP_PTR       0x34 /* header types 0 and 1 */
#define PCI_CFG_CARDBUS_CAP   0x14 /* header type 2 */
/* 256-byte space minus the 64-byte header, 4 bytes per capability at least: a longer
 * chain can only be a loop. */
#define PCI_MAX_CAPS  48

/* True when configuration mechanism #1 (ports 0xCF8/0xCFC) answers. */
bool pci_legacy_present(void);
/* Log one debug line describing dev: location, IDs, class, BARs, capabilities. */
void pci_describe(const pci_device_t *dev);
/* A short human name for a class/subclass ("SATA controller"), never NULL. */
const char *pci_class_name(uint8_t class_code, uint8_t subclass);

#endif
