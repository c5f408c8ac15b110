/* SPDX-License-Identifier: MIT */
/*
 * Pure ACPI table decoding (see acpi_parse.h). Compiled into the kernel and, unchanged,
 * into the host unit tests and the fuzzer.
 *
 * Every read goes through rd8/rd16/rd32/rd64 after an explicit bounds check against the
 * caller's length; nothing here trusts a length or offset taken from the table bytes
 * without comparing it with the buffer it came in. Loops over variable-length entries
 * always advance by at least the entry header, so a zero length cannot stall them.
 */
#include "acpi/acpi_parse.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }

static bool bytes_equal(const uint8_t *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)s[i])
            return false;
    return true;
}

/* Generic Address Structure, 12 bytes (§5.2.3.2). */
static void read_gas(const uint8_t *p, acpi_gas_t *g)
{
    g->space = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = rd64(p + 4);
}

bool acpi_checksum_ok(const uint8_t *buf, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    return sum == 0;
}

/* RSDP layout (§5.2.5.3): signature 0, checksum 8, OEMID 9, revision 15, RSDT 16; from
 * revision 2: length 20, XSDT 24, extended checksum 32; 36 bytes in all. */
bool acpi_parse_rsdp(const uint8_t *buf, size_t avail, acpi_rsdp_info_t *out)
{
    *out = (acpi_rsdp_info_t){ 0 };
    if (avail < 20 || !bytes_equal(buf, "RSD PTR ", 8) || !acpi_checksum_ok(buf, 20))
        return false;
    out->revision = buf[15];
    out->rsdt = rd32(buf + 16);
    for (int i = 0; i < 6; i++) /* kept printable: it ends up in log lines */
        out->oem_id[i] = (buf[9 + i] >= 0x20 && buf[9 + i] < 0x7f) ? (char)buf[9 + i] : '?';
    if (out->revision >= 2) {
        if (avail < 36)
            return false;
        uint32_t len = rd32(buf + 20);
        /* The length covers at least the 36-byte v2 structure; the extended checksum is
         * over all of it. A longer claimed length than we may read is refused. */
        if (len < 36 || len > avail || !acpi_checksum_ok(buf, len))
            return false;
        out->xsdt = rd64(buf + 24);
    }
    return true;
}

uint32_t acpi_table_check(const uint8_t *buf, size_t avail)
{
    if (avail < ACPI_SDT_HEADER_BYTES)
        return 0;
    uint32_t len = rd32(buf + 4);
    if (len < ACPI_SDT_HEADER_BYTES || len > avail || len > CONFIG_ACPI_MAX_TABLE_BYTES)
        return 0;
    return acpi_checksum_ok(buf, len) ? len : 0;
}

unsigned acpi_root_entry_count(const uint8_t *table, size_t len, unsigned entry_bytes)
{
    (void)table;
    if (len < ACPI_SDT_HEADER_BYTES || (entry_bytes != 4 && entry_bytes != 8))
        return 0;
    return (unsigned)((len - ACPI_SDT_HEADER_BYTES) / entry_bytes);
}

uint64_t acpi_root_entry(const uint8_t *table, size_t len, unsigned entry_bytes, unsigned i)
{
    if (i >= acpi_root_entry_count(table, len, entry_bytes))
        return 0;
    const uint8_t *p = table + ACPI_SDT_HEADER_BYTES + (size_t)i * entry_bytes;
    return entry_bytes == 8 ? rd64(p) : rd32(p);
}

/* ---- MADT (§5.2.12) ---------------------------------------------------------------- */

/* Interrupt controller structure types and their minimum lengths. */
#define MADT_LAPIC          0  /* §5.2.12.2, 8 bytes */
#define MADT_IOAPIC         1  /* §5.2.12.3, 12 bytes */
#define MADT_OVERRIDE       2  /* §5.2.12.5, 10 bytes */
#define MADT_NMI_SOURCE     3  /* §5.2.12.6, 8 bytes */
#define MADT_LAPIC_NMI      4  /* §5.2.12.7, 6 bytes */
#define MADT_LAPIC_OVERRIDE 5  /* §5.2.12.8, 12 bytes */
#define MADT_X2APIC         9  /* §5.2.12.12, 16 bytes */
#define MADT_X2APIC_NMI     10 /* §5.2.12.13, 12 bytes */
#define MADT_FIXED_BYTES    44 /* header + local APIC address + flags */

static void madt_add_cpu(acpi_madt_t *m, uint32_t apic_id, uint32_t uid, uint32_t flags,
                         uint8_t x2apic)
{
    /* Firmware may describe one processor twice (type 0 and type 9); keep the first. */
    for (unsigned i = 0; i < m->cpu_count; i++)
        if (m->cpus[i].apic_id == apic_id)
            return;
    if (m->cpu_count == CONFIG_ACPI_MAX_MADT_CPUS) {
        m->dropped++;
        return;
    }
    m->cpus[m->cpu_count++] = (acpi_madt_cpu_t){
        .apic_id = apic_id, .acpi_uid = uid, .flags = flags, .x2apic = x2apic
    };
}

static void madt_add_lapic_nmi(acpi_madt_t *m, uint32_t uid, uint16_t flags, uint8_t lint)
{
    if (m->lapic_nmi_count == CONFIG_ACPI_MAX_LAPIC_NMIS) {
        m->dropped++;
        return;
    }
    m->lapic_nmis[m->lapic_nmi_count++] =
        (acpi_madt_lapic_nmi_t){ .acpi_uid = uid, .flags = flags, .lint = lint };
}

/* Decode one entry whose bytes e[0..len) are known to be inside the table. */
static void madt_entry(acpi_madt_t *m, const uint8_t *e, uint8_t len)
{
    switch (e[0]) {
    case MADT_LAPIC:
        if (len < 8)
            goto malformed;
        madt_add_cpu(m, e[3], e[2], rd32(e + 4), 0);
        return;
    case MADT_X2APIC:
        if (len < 16)
            goto malformed;
        madt_add_cpu(m, rd32(e + 4), rd32(e + 12), rd32(e + 8), 1);
        return;
    case MADT_IOAPIC:
        if (len < 12)
            goto malformed;
        if (m->ioapic_count == CONFIG_ACPI_MAX_IOAPICS) {
            m->dropped++;
            return;
        }
        m->ioapics[m->ioapic_count++] =
            (acpi_madt_ioapic_t){ .id = e[2], .address = rd32(e + 4), .gsi_base = rd32(e + 8) };
        return;
    case MADT_OVERRIDE:
        if (len < 10)
            goto malformed;
        if (m->override_count == CONFIG_ACPI_MAX_IRQ_OVERRIDES) {
            m->dropped++;
            return;
        }
        m->overrides[m->override_count++] = (acpi_madt_override_t){
            .bus = e[2], .source = e[3], .gsi = rd32(e + 4), .flags = rd16(e + 8)
        };
        return;
    case MADT_NMI_SOURCE:
        if (len < 8)
            goto malformed;
        if (m->nmi_source_count == CONFIG_ACPI_MAX_NMI_SOURCES) {
            m->dropped++;
            return;
        }
        m->nmi_sources[m->nmi_source_count++] =
            (acpi_madt_nmi_source_t){ .flags = rd16(e + 2), .gsi = rd32(e + 4) };
        return;
    case MADT_LAPIC_NMI:
        if (len < 6)
            goto malformed;
        /* An 8-bit UID of 0xff means "all processors". */
        madt_add_lapic_nmi(m, e[2] == 0xff ? ACPI_UID_ALL : e[2], rd16(e + 3), e[5]);
        return;
    case MADT_X2APIC_NMI:
        if (len < 12)
            goto malformed;
        madt_add_lapic_nmi(m, rd32(e + 4), rd16(e + 2), e[8]);
        return;
    case MADT_LAPIC_OVERRIDE:
        if (len < 12)
            goto malformed;
        m->lapic_address = rd64(e + 4);
        return;
    default:
        return; /* types vkernel does not use (SAPIC, GIC, ...) */
    }
malformed:
    m->malformed++;
}

bool acpi_parse_madt(const uint8_t *table, size_t len, acpi_madt_t *out)
{
    /* Clear the counters and the fixed fields; arrays are only read below their counts. */
    out->lapic_address = 0;
    out->flags = 0;
    out->cpu_count = out->ioapic_count = out->override_count = 0;
    out->lapic_nmi_count = out->nmi_source_count = 0;
    out->dropped = out->malformed = 0;
    if (len < MADT_FIXED_BYTES)
        return false;
    out->lapic_address = rd32(table + 36);
    out->flags = rd32(table + 40);

    size_t off = MADT_FIXED_BYTES;
    while (off + 2 <= len) {
        uint8_t elen = table[off + 1];
        /* A length below the 2-byte entry header, or one running past the table end,
         * leaves no trustworthy way to find the next entry: stop the walk. */
        if (elen < 2 || elen > len - off) {
            out->malformed++;
            break;
        }
        madt_entry(out, table + off, elen);
        off += elen;
    }
    return true;
}

/* ---- FADT (§5.2.9) ----------------------------------------------------------------- */

/* Field offsets in the FADT (§5.2.9, Table "FADT Format"). */
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_SMI_CMD       48
#define FADT_ACPI_ENABLE   52
#define FADT_ACPI_DISABLE  53
#define FADT_PM1A_CNT_BLK  64
#define FADT_PM1B_CNT_BLK  68
#define FADT_PM_TMR_BLK    76
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_BOOT_ARCH     109
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_X_DSDT        140
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM1B_CNT    184
#define FADT_X_PM_TMR      208
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS  256
#define FADT_V1_BYTES      116 /* ACPI 1.0 FADT: everything before RESET_REG */

/* Legacy 32-bit port field -> I/O-space GAS of len bytes. */
static acpi_gas_t io_block(uint32_t port, uint8_t len)
{
    acpi_gas_t g = { 0 };
    if (port) {
        g.space = ACPI_GAS_IO;
        g.bit_width = (uint8_t)(len * 8);
        g.address = port;
    }
    return g;
}

/* Prefer the 12-byte X_ field at xoff when the table is long enough and its address is
 * non-zero; else keep the legacy value. */
static void prefer_x(const uint8_t *t, size_t len, size_t xoff, acpi_gas_t *g)
{
    if (len < xoff + 12)
        return;
    acpi_gas_t x;
    read_gas(t + xoff, &x);
    if (x.address != 0)
        *g = x;
}

bool acpi_parse_fadt(const uint8_t *t, size_t len, acpi_fadt_t *out)
{
    *out = (acpi_fadt_t){ 0 };
    if (len < FADT_V1_BYTES)
        return false;
    out->revision = t[8];
    out->dsdt = rd32(t + FADT_DSDT);
    out->sci_irq = rd16(t + FADT_SCI_INT);
    out->smi_cmd = rd32(t + FADT_SMI_CMD);
    out->acpi_enable = t[FADT_ACPI_ENABLE];
    out->acpi_disable = t[FADT_ACPI_DISABLE];
    out->iapc_boot_arch = rd16(t + FADT_BOOT_ARCH);
    out->flags = rd32(t + FADT_FLAGS);

    uint8_t cnt_len = t[FADT_PM1_CNT_LEN] ? t[FADT_PM1_CNT_LEN] : 2;
    out->pm1a_cnt = io_block(rd32(t + FADT_PM1A_CNT_BLK), cnt_len);
    out->pm1b_cnt = io_block(rd32(t + FADT_PM1B_CNT_BLK), cnt_len);
    out->pm_timer = io_block(rd32(t + FADT_PM_TMR_BLK), t[FADT_PM_TMR_LEN] ? t[FADT_PM_TMR_LEN] : 4);

    if (len >= FADT_RESET_VALUE + 1) {
        read_gas(t + FADT_RESET_REG, &out->reset_reg);
        out->reset_value = t[FADT_RESET_VALUE];
    }
    if (len >= FADT_X_DSDT + 8) {
        uint64_t x = rd64(t + FADT_X_DSDT);
        if (x)
            out->dsdt = x;
    }
    prefer_x(t, len, FADT_X_PM1A_CNT, &out->pm1a_cnt);
    prefer_x(t, len, FADT_X_PM1B_CNT, &out->pm1b_cnt);
    prefer_x(t, len, FADT_X_PM_TMR, &out->pm_timer);
    if (len >= FADT_SLEEP_CONTROL + 12)
        read_gas(t + FADT_SLEEP_CONTROL, &out->sleep_control);
    if (len >= FADT_SLEEP_STATUS + 12)
        read_gas(t + FADT_SLEEP_STATUS, &out->sleep_status);
    return true;
}

/* ---- HPET (IA-PC HPET 1.0a §3.2.4) and MCFG (PCI Firmware 3.2 §4.1.2) ------------- */

bool acpi_parse_hpet(const uint8_t *t, size_t len, acpi_hpet_info_t *out)
{
    *out = (acpi_hpet_info_t){ 0 };
    /* ID 36, base address GAS 40, HPET number 52, minimum tick 53, page protection 55. */
    if (len < 56)
        return false;
    out->block_id = rd32(t + 36);
    read_gas(t + 40, &out->base);
    out->number = t[52];
    out->min_tick = rd16(t + 53);
    return true;
}

unsigned acpi_parse_mcfg(const uint8_t *t, size_t len, acpi_mcfg_entry_t *out, unsigned max)
{
    /* 8 reserved bytes follow the header; then 16-byte allocation entries: base 0,
     * segment 8, start bus 10, end bus 11, reserved 12. */
    if (len < ACPI_SDT_HEADER_BYTES + 8)
        return 0;
    unsigned n = (unsigned)((len - ACPI_SDT_HEADER_BYTES - 8) / 16);
    for (unsigned i = 0; i < n && i < max; i++) {
        const uint8_t *e = t + ACPI_SDT_HEADER_BYTES + 8 + (size_t)i * 16;
        out[i] = (acpi_mcfg_entry_t){
            .base = rd64(e), .segment = rd16(e + 8), .bus_start = e[10], .bus_end = e[11]
        };
    }
    return n;
}

/* ---- \_S5_ in AML (§20.2) ------------------------------------------------------------ */

#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_NAME_OP    0x08
#define AML_BYTE_PFX   0x0a
#define AML_WORD_PFX   0x0b
#define AML_DWORD_PFX  0x0c
#define AML_QWORD_PFX  0x0e
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR  0x5c /* '\' */
#define AML_PARENT_PFX 0x5e /* '^' */

/* Decode one integer package element at aml[*pos], never reading at or past end.
 * Accepts ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix constants, and a bare small
 * value 2..7 (some compilers emit SLP_TYP values as raw bytes). */
static bool aml_integer(const uint8_t *aml, size_t end, size_t *pos, uint64_t *v)
{
    size_t p = *pos;
    if (p >= end)
        return false;
    uint8_t op = aml[p];
    size_t width = 0;
    switch (op) {
    case AML_ZERO_OP: *v = 0; *pos = p + 1; return true;
    case AML_ONE_OP: *v = 1; *pos = p + 1; return true;
    case AML_BYTE_PFX: width = 1; break;
    case AML_WORD_PFX: width = 2; break;
    case AML_DWORD_PFX: width = 4; break;
    case AML_QWORD_PFX: width = 8; break;
    default:
        if (op >= 2 && op <= 7) {
            *v = op;
            *pos = p + 1;
            return true;
        }
        return false;
    }
    if (width > end - p - 1)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < width; i++)
        x |= (uint64_t)aml[p + 1 + i] << (8 * i);
    *v = x;
    *pos = p + 1 + width;
    return true;
}

/* Decode the package that should follow a "_S5_" NameString ending at aml[pos]. */
static bool s5_package(const uint8_t *aml, size_t len, size_t pos, uint8_t *a, uint8_t *b)
{
    if (pos >= len || aml[pos] != AML_PACKAGE_OP)
        return false;
    pos++;
    if (pos >= len)
        return false;
    /* PkgLength (§20.2.4): bits 7:6 of the lead byte count the extra bytes; with none,
     * bits 5:0 are the length, otherwise bits 3:0 are its low nibble. The length counts
     * itself and everything after it in the package. */
    size_t pkg_start = pos;
    uint8_t lead = aml[pos];
    unsigned extra = lead >> 6;
    if ((size_t)extra >= len - pos)
        return false;
    size_t pkg_len = extra ? (lead & 0x0f) : (lead & 0x3f);
    for (unsigned i = 0; i < extra; i++)
        pkg_len |= (size_t)aml[pos + 1 + i] << (4 + 8 * i);
    pos += 1 + extra;
    size_t end = pkg_len > len - pkg_start ? len : pkg_start + pkg_len;
    if (pos >= end)
        return false;
    unsigned count = aml[pos++]; /* NumElements */
    uint64_t va = 0, vb = 0;
    if (count == 0 || !aml_integer(aml, end, &pos, &va))
        return false;
    if (count >= 2) {
        if (!aml_integer(aml, end, &pos, &vb))
            return false;
    } else {
        /* Old single-integer form: SLP_TYPa in bits 7:0, SLP_TYPb in bits 15:8. */
        vb = va >> 8;
        va &= 0xff;
    }
    /* SLP_TYPx is a 3-bit field; larger values are a firmware bug, keep the field bits. */
    *a = (uint8_t)(va & 7);
    *b = (uint8_t)(vb & 7);
    return true;
}

bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
    /* A full AML interpreter is out of scope: look for NameOp [\ or ^...] "_S5_" and
     * decode what follows. A candidate that does not decode is skipped, so stray byte
     * matches elsewhere in the stream cannot hide the real object. */
    for (size_t i = 1; i + 4 <= len; i++) {
        if (!bytes_equal(aml + i, "_S5_", 4))
            continue;
        size_t j = i;
        while (j > 0 && (aml[j - 1] == AML_PARENT_PFX || aml[j - 1] == AML_ROOT_CHAR))
            j--;
        if (j == 0 || aml[j - 1] != AML_NAME_OP)
            continue;
        if (s5_package(aml, len, i + 4, slp_typa, slp_typb))
            return true;
    }
    return false;
}
