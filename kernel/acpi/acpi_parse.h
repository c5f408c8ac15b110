/* SPDX-License-Identifier: MIT */
/*
 * Pure decoders for ACPI table bytes: checksums, the RSDP, root-table entries, MADT,
 * FADT, HPET, MCFG and the \_S5_ sleep package in AML.
 *
 * Design notes:
 *  - Every function takes a byte buffer and its length and never reads outside it. The
 *    bytes come from firmware and are treated as untrusted: a short or malformed
 *    structure is skipped or reported, never trusted.
 *  - Fields are read byte by byte (little-endian), so no buffer needs any alignment.
 *  - No kernel dependencies beyond config.h (pure #defines): this file and
 *    acpi_parse.c compile unchanged for the host unit tests and the fuzzer.
 *  - The decoded structures below are the ones the kernel exposes through acpi.h.
 *
 * Specification references are to ACPI 6.4 unless noted.
 */
#ifndef KERNEL_ACPI_ACPI_PARSE_H
#define KERNEL_ACPI_ACPI_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" /* CONFIG_ACPI_* limits */

/* System Description Table Header (§5.2.6): 36 bytes in front of every table. */
#define ACPI_SDT_HEADER_BYTES 36u

/* Generic Address Structure (§5.2.3.2), decoded. */
#define ACPI_GAS_MEMORY     0u
#define ACPI_GAS_IO         1u
#define ACPI_GAS_PCI_CONFIG 2u
typedef struct {
    uint8_t  space;       /* ACPI_GAS_* */
    uint8_t  bit_width;
    uint8_t  bit_offset;
    uint8_t  access_size; /* 0 undefined, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;     /* 0 = register not present */
} acpi_gas_t;

/* Root System Description Pointer (§5.2.5.3). */
typedef struct {
    uint8_t  revision; /* 0 = ACPI 1.0 (RSDT only), >= 2 = XSDT valid */
    uint32_t rsdt;
    uint64_t xsdt;     /* 0 unless revision >= 2 */
    char     oem_id[7];
} acpi_rsdp_info_t;

/* MADT (§5.2.12). Local APIC flags (§5.2.12.2): */
#define ACPI_MADT_CPU_ENABLED        (1u << 0)
#define ACPI_MADT_CPU_ONLINE_CAPABLE (1u << 1) /* ACPI 6.3+: may be enabled later */
#define ACPI_MADT_PCAT_COMPAT        (1u << 0) /* MADT flags: dual 8259 PICs present */
/* MPS INTI flags (§5.2.12.5), used by overrides and NMI entries. */
#define ACPI_MPS_POLARITY_MASK  0x3u
#define ACPI_MPS_POLARITY_HIGH  0x1u
#define ACPI_MPS_POLARITY_LOW   0x3u
#define ACPI_MPS_TRIGGER_MASK   0xcu
#define ACPI_MPS_TRIGGER_EDGE   0x4u
#define ACPI_MPS_TRIGGER_LEVEL  0xcu
/* A processor UID that names every processor in an NMI entry. */
#define ACPI_UID_ALL 0xffffffffu

typedef struct {
    uint32_t apic_id;  /* xAPIC (type 0) or x2APIC (type 9) ID */
    uint32_t acpi_uid; /* ACPI processor UID */
    uint32_t flags;    /* ACPI_MADT_CPU_* */
    uint8_t  x2apic;   /* 1 when it came from a type 9 entry */
    uint8_t  _pad[3];
} acpi_madt_cpu_t;

typedef struct {
    uint32_t id;
    uint32_t address;  /* physical MMIO base */
    uint32_t gsi_base; /* first global system interrupt it serves */
} acpi_madt_ioapic_t;

typedef struct {
    uint8_t  bus;    /* 0 = ISA */
    uint8_t  source; /* ISA IRQ */
    uint16_t flags;  /* ACPI_MPS_* */
    uint32_t gsi;
} acpi_madt_override_t;

typedef struct {
    uint32_t acpi_uid; /* ACPI_UID_ALL for every processor */
    uint16_t flags;    /* ACPI_MPS_* */
    uint8_t  lint;     /* LINT0 or LINT1 */
    uint8_t  _pad;
} acpi_madt_lapic_nmi_t;

typedef struct {
    uint32_t gsi;
    uint16_t flags;
    uint16_t _pad;
} acpi_madt_nmi_source_t;

typedef struct {
    uint64_t lapic_address; /* after any type 5 override */
    uint32_t flags;         /* ACPI_MADT_PCAT_COMPAT */
    unsigned cpu_count;
    unsigned ioapic_count;
    unsigned override_count;
    unsigned lapic_nmi_count;
    unsigned nmi_source_count;
    unsigned dropped;       /* entries not kept because an array was full */
    unsigned malformed;     /* entries skipped for a bad length; walk stops at a broken one */
    acpi_madt_cpu_t        cpus[CONFIG_ACPI_MAX_MADT_CPUS];
    acpi_madt_ioapic_t     ioapics[CONFIG_ACPI_MAX_IOAPICS];
    acpi_madt_override_t   overrides[CONFIG_ACPI_MAX_IRQ_OVERRIDES];
    acpi_madt_lapic_nmi_t  lapic_nmis[CONFIG_ACPI_MAX_LAPIC_NMIS];
    acpi_madt_nmi_source_t nmi_sources[CONFIG_ACPI_MAX_NMI_SOURCES];
} acpi_madt_t;

/* FADT (§5.2.9), the fields vkernel uses. Register blocks are already resolved: the
 * X_ form when its address is non-zero, else the 32-bit I/O port form. */
#define ACPI_FADT_RESET_REG_SUP (1u << 10) /* FADT Flags field (§5.2.9) */
#define ACPI_FADT_HW_REDUCED    (1u << 20)
#define ACPI_BOOT_ARCH_8042     (1u << 1) /* IAPC_BOOT_ARCH (§5.2.9.3) */
typedef struct {
    uint8_t    revision;
    uint32_t   flags;
    uint16_t   sci_irq;
    uint16_t   iapc_boot_arch;
    uint32_t   smi_cmd;
    uint8_t    acpi_enable;
    uint8_t    acpi_disable;
    uint64_t   dsdt;
    acpi_gas_t pm1a_cnt;
    acpi_gas_t pm1b_cnt;
    acpi_gas_t pm_timer;
    acpi_gas_t reset_reg;   /* valid only when flags has ACPI_FADT_RESET_REG_SUP */
    uint8_t    reset_value;
    acpi_gas_t sleep_control; /* hardware-reduced platforms (§4.8.3.7) */
    acpi_gas_t sleep_status;
} acpi_fadt_t;

/* One ECAM range from the MCFG (PCI Firmware Specification 3.2, §4.1.2). */
typedef struct {
    uint64_t base;      /* physical address of bus 0 of this segment, even if bus_start > 0 */
    uint16_t segment;
    uint8_t  bus_start;
    uint8_t  bus_end;
    uint32_t _pad;
} acpi_mcfg_entry_t;

/* HPET description table (IA-PC HPET Specification 1.0a, §3.2.4). */
typedef struct {
    acpi_gas_t base;
    uint32_t   block_id;  /* copy of the General Capabilities ID bits */
    uint8_t    number;
    uint16_t   min_tick;
} acpi_hpet_info_t;

/* True when the bytes sum to zero modulo 256 (§5.2.6 "Checksum"). */
bool acpi_checksum_ok(const uint8_t *buf, size_t len);

/* Validate an RSDP of at most avail bytes: signature, ACPI 1.0 checksum over 20 bytes,
 * and for revision >= 2 the length and extended checksum. */
bool acpi_parse_rsdp(const uint8_t *buf, size_t avail, acpi_rsdp_info_t *out);

/* Validate a table header, length (36..min(avail, CONFIG_ACPI_MAX_TABLE_BYTES)) and
 * checksum. Returns the table length, or 0 when the table must be skipped. */
uint32_t acpi_table_check(const uint8_t *buf, size_t avail);

/* Entries of an RSDT (4-byte) or XSDT (8-byte) root table of len bytes. */
unsigned acpi_root_entry_count(const uint8_t *table, size_t len, unsigned entry_bytes);
uint64_t acpi_root_entry(const uint8_t *table, size_t len, unsigned entry_bytes, unsigned i);

/* Decoders of whole tables (len = the validated table length). False when the table is
 * too short to hold its fixed part; out is fully written in every case. */
bool acpi_parse_madt(const uint8_t *table, size_t len, acpi_madt_t *out);
bool acpi_parse_fadt(const uint8_t *table, size_t len, acpi_fadt_t *out);
bool acpi_parse_hpet(const uint8_t *table, size_t len, acpi_hpet_info_t *out);
/* Stores up to max entries; returns how many the table holds (may exceed max). */
unsigned acpi_parse_mcfg(const uint8_t *table, size_t len, acpi_mcfg_entry_t *out, unsigned max);

/* Find Name(_S5_, Package(){a, b, ...}) in an AML byte stream (a DSDT/SSDT body) and
 * decode SLP_TYPa/SLP_TYPb (§7.4.2 "\_Sx (System States)"; AML encoding per §20.2). */
bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

#endif
