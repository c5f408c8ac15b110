/* SPDX-License-Identifier: MIT */
/*
 * ACPI: the firmware's description of the machine, read once at boot.
 *
 * acpi_init walks the RSDP -> XSDT/RSDT -> tables chain, validates each table's length
 * and checksum (a bad table is skipped with a warning), and decodes the MADT (CPUs,
 * IOAPICs, interrupt overrides, NMIs), FADT (power-management registers), HPET and MCFG
 * into the structures in acpi_parse.h, which the rest of the kernel reads through the
 * accessors below. There is no AML interpreter: power-off finds \_S5_ by a byte scan.
 *
 * Lifetime: decoded structures are copies owned by this module. Pointers returned by
 * acpi_find_table point into the firmware's table memory, so VK_MEM_ACPI_RECLAIM must not
 * be handed to the page allocator while anyone still uses them.
 * Call order: after vmm_init (tables outside the direct map are mapped on demand).
 */
#ifndef KERNEL_ACPI_ACPI_H
#define KERNEL_ACPI_ACPI_H

#include <stdint.h>

#include "acpi/acpi_parse.h" /* decoded table types, shared with host tests */

/* Parse the tables. 0 on success; -ENODEV (-19) without an RSDP, -EINVAL (-22) when the
 * RSDP or root table is invalid. Individual bad tables only produce warnings. */
int acpi_init(uint64_t rsdp_phys);

/* The index-th (0-based) validated table with this signature, e.g. "APIC", "SSDT";
 * the DSDT is found as "DSDT". NULL when absent. Points at the table header. */
const void *acpi_find_table(const char sig[4], unsigned index);

/* Decoded tables; NULL / 0 when the firmware provided none (or it was invalid). */
const acpi_madt_t *acpi_madt(void);
const acpi_fadt_t *acpi_fadt(void);
uint64_t acpi_hpet_base(void);                          /* physical MMIO base, 0 = no HPET */
const acpi_mcfg_entry_t *acpi_mcfg(unsigned *count);   /* *count = entries (0 = no MCFG) */

/* SLP_TYPa/SLP_TYPb for S5 as decoded from \_S5_ in the DSDT or an SSDT at acpi_init.
 * 0 when found, -ENODEV otherwise. */
int acpi_s5_sleep_type(uint8_t *slp_typa, uint8_t *slp_typb);

/* Enter S5 (soft off). Returns only on failure: -ENODEV when the firmware describes no
 * way to do it, -EIO when the write did not turn the machine off. */
int acpi_poweroff(void);
/* Reset the machine: FADT reset register, then port 0xCF9, then the 8042. Returns -EIO
 * only if all of them failed. */
int acpi_reboot(void);

#endif
