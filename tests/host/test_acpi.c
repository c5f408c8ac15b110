/* SPDX-License-Identifier: MIT */
/*
 * Host unit tests of the pure ACPI decoders (kernel/acpi/acpi_parse.c) on hand-built
 * tables. Truncation tests copy their bytes into a heap block of exactly the stated
 * length, so AddressSanitizer catches any read past the end.
 */
#include "htest.h"

#include "acpi/acpi_parse.c"

/* ---- builders ------------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Make byte `at` the value that makes buf[0..len) sum to zero. */
static void fix_checksum(uint8_t *buf, size_t len, size_t at)
{
    uint8_t sum = 0;
    buf[at] = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + buf[i]);
    buf[at] = (uint8_t)(0x100 - sum);
}

/* Table under construction: header + body appended with add(). */
typedef struct {
    uint8_t b[8192];
    size_t len;
} table_t;

static void table_begin(table_t *t, const char *sig, uint8_t revision)
{
    memset(t, 0, sizeof *t);
    memcpy(t->b, sig, 4);
    t->b[8] = revision;
    memcpy(t->b + 10, "VKTEST", 6);
    t->len = ACPI_SDT_HEADER_BYTES;
}

static uint8_t *table_add(table_t *t, size_t n)
{
    uint8_t *p = t->b + t->len;
    t->len += n;
    return p;
}

static void table_end(table_t *t)
{
    put32(t->b + 4, (uint32_t)t->len);
    fix_checksum(t->b, t->len, 9);
}

/* An exact-size heap copy: reading one byte past it trips ASan. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    memcpy(p, src, len);
    return p;
}

/* ---- checksum, RSDP, table header ----------------------------------------------------- */

HTEST(checksum_good_and_bad)
{
    uint8_t buf[16] = { 1, 2, 3, 4, 5 };
    fix_checksum(buf, sizeof buf, 15);
    HTEST_EXPECT(acpi_checksum_ok(buf, sizeof buf));
    buf[3] ^= 0x40;
    HTEST_EXPECT(!acpi_checksum_ok(buf, sizeof buf));
    HTEST_EXPECT(acpi_checksum_ok(buf, 0));
}

static void build_rsdp(uint8_t *r, uint8_t revision)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "VKOEM\x01", 6);
    r[15] = revision;
    put32(r + 16, 0x7fe1000);
    if (revision >= 2) {
        put32(r + 20, 36);
        put64(r + 24, 0x17fe2000ull);
    }
    fix_checksum(r, 20, 8);
    if (revision >= 2)
        fix_checksum(r, 36, 32);
}

HTEST(rsdp_v1_and_v2)
{
    uint8_t r[36];
    acpi_rsdp_info_t info;
    build_rsdp(r, 0);
    HTEST_EXPECT(acpi_parse_rsdp(r, 20, &info));
    HTEST_EXPECT_EQ(info.revision, 0);
    HTEST_EXPECT_EQ(info.rsdt, 0x7fe1000);
    HTEST_EXPECT_EQ(info.xsdt, 0);
    HTEST_EXPECT_STR(info.oem_id, "VKOEM?"); /* control byte made printable */

    build_rsdp(r, 2);
    HTEST_EXPECT(acpi_parse_rsdp(r, 36, &info));
    HTEST_EXPECT_EQ(info.revision, 2);
    HTEST_EXPECT_EQ(info.xsdt, 0x17fe2000ull);
    HTEST_EXPECT(!acpi_parse_rsdp(r, 20, &info)); /* v2 needs 36 readable bytes */
}

HTEST(rsdp_rejects_bad_input)
{
    uint8_t r[36];
    acpi_rsdp_info_t info;
    build_rsdp(r, 2);
    r[0] = 'X';
    HTEST_EXPECT(!acpi_parse_rsdp(r, 36, &info));
    build_rsdp(r, 2);
    r[17] ^= 1; /* breaks the 20-byte checksum */
    HTEST_EXPECT(!acpi_parse_rsdp(r, 36, &info));
    build_rsdp(r, 2);
    r[30] ^= 1; /* breaks only the extended checksum */
    HTEST_EXPECT(!acpi_parse_rsdp(r, 36, &info));
    build_rsdp(r, 2);
    put32(r + 20, 4000); /* length past what may be read */
    fix_checksum(r, 20, 8);
    HTEST_EXPECT(!acpi_parse_rsdp(r, 36, &info));
    HTEST_EXPECT(!acpi_parse_rsdp(r, 19, &info));
}

HTEST(table_check_length_and_checksum)
{
    table_t t;
    table_begin(&t, "TEST", 1);
    memset(table_add(&t, 10), 0xab, 10);
    table_end(&t);
    HTEST_EXPECT_EQ(acpi_table_check(t.b, t.len), t.len);
    HTEST_EXPECT_EQ(acpi_table_check(t.b, t.len - 1), 0);   /* claims more than available */
    HTEST_EXPECT_EQ(acpi_table_check(t.b, 35), 0);          /* not even a header */
    t.b[40] ^= 1;
    HTEST_EXPECT_EQ(acpi_table_check(t.b, t.len), 0);
    put32(t.b + 4, 20); /* shorter than the header */
    HTEST_EXPECT_EQ(acpi_table_check(t.b, t.len), 0);
}

HTEST(root_table_entries_rsdt_and_xsdt)
{
    table_t x;
    table_begin(&x, "XSDT", 1);
    put64(table_add(&x, 8), 0x1122334455667788ull);
    put64(table_add(&x, 8), 0x7fe3000ull);
    table_add(&x, 5); /* a partial trailing entry is not an entry */
    table_end(&x);
    HTEST_EXPECT_EQ(acpi_root_entry_count(x.b, x.len, 8), 2);
    HTEST_EXPECT_EQ(acpi_root_entry(x.b, x.len, 8, 0), 0x1122334455667788ull);
    HTEST_EXPECT_EQ(acpi_root_entry(x.b, x.len, 8, 1), 0x7fe3000ull);
    HTEST_EXPECT_EQ(acpi_root_entry(x.b, x.len, 8, 2), 0);

    table_t r;
    table_begin(&r, "RSDT", 1);
    put32(table_add(&r, 4), 0xdeadb000u);
    table_end(&r);
    HTEST_EXPECT_EQ(acpi_root_entry_count(r.b, r.len, 4), 1);
    HTEST_EXPECT_EQ(acpi_root_entry(r.b, r.len, 4, 0), 0xdeadb000u);
    HTEST_EXPECT_EQ(acpi_root_entry_count(r.b, r.len, 3), 0);
    HTEST_EXPECT_EQ(acpi_root_entry_count(r.b, 10, 4), 0);
}

/* ---- MADT ------------------------------------------------------------------------------ */

static acpi_madt_t madt; /* large: keep it off the stack */

static void madt_begin(table_t *t)
{
    table_begin(t, "APIC", 5);
    uint8_t *p = table_add(t, 8);
    put32(p, 0xfee00000u);
    put32(p + 4, ACPI_MADT_PCAT_COMPAT);
}

static uint8_t *madt_add(table_t *t, uint8_t type, uint8_t len)
{
    uint8_t *e = table_add(t, len);
    e[0] = type;
    e[1] = len;
    return e;
}

HTEST(madt_every_entry_type)
{
    table_t t;
    uint8_t *e;
    madt_begin(&t);
    e = madt_add(&t, 0, 8);  /* processor local APIC */
    e[2] = 0;
    e[3] = 0;
    put32(e + 4, ACPI_MADT_CPU_ENABLED);
    e = madt_add(&t, 0, 8);
    e[2] = 1;
    e[3] = 2;
    put32(e + 4, ACPI_MADT_CPU_ONLINE_CAPABLE);
    e = madt_add(&t, 9, 16); /* processor local x2APIC */
    put32(e + 4, 300);
    put32(e + 8, ACPI_MADT_CPU_ENABLED);
    put32(e + 12, 77);
    e = madt_add(&t, 1, 12); /* I/O APIC */
    e[2] = 4;
    put32(e + 4, 0xfec00000u);
    put32(e + 8, 0);
    e = madt_add(&t, 2, 10); /* interrupt source override */
    e[2] = 0;
    e[3] = 0;
    put32(e + 4, 2);
    put16(e + 8, 0);
    e = madt_add(&t, 2, 10);
    e[3] = 9;
    put32(e + 4, 9);
    put16(e + 8, ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_LEVEL);
    e = madt_add(&t, 3, 8);  /* NMI source */
    put16(e + 2, ACPI_MPS_POLARITY_LOW);
    put32(e + 4, 23);
    e = madt_add(&t, 4, 6);  /* local APIC NMI, all processors */
    e[2] = 0xff;
    put16(e + 3, ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_EDGE);
    e[5] = 1;
    e = madt_add(&t, 10, 12); /* local x2APIC NMI */
    put16(e + 2, 0);
    put32(e + 4, 77);
    e[8] = 0;
    e = madt_add(&t, 0x7f, 4); /* unknown type: ignored */
    e = madt_add(&t, 5, 12);  /* local APIC address override */
    put64(e + 4, 0x1fee00000ull);
    table_end(&t);

    HTEST_EXPECT(acpi_parse_madt(t.b, t.len, &madt));
    HTEST_EXPECT_EQ(madt.lapic_address, 0x1fee00000ull);
    HTEST_EXPECT_EQ(madt.flags, ACPI_MADT_PCAT_COMPAT);
    HTEST_EXPECT_EQ(madt.cpu_count, 3);
    HTEST_EXPECT_EQ(madt.cpus[0].apic_id, 0);
    HTEST_EXPECT_EQ(madt.cpus[0].flags, ACPI_MADT_CPU_ENABLED);
    HTEST_EXPECT_EQ(madt.cpus[1].apic_id, 2);
    HTEST_EXPECT_EQ(madt.cpus[1].acpi_uid, 1);
    HTEST_EXPECT_EQ(madt.cpus[1].flags, ACPI_MADT_CPU_ONLINE_CAPABLE);
    HTEST_EXPECT_EQ(madt.cpus[2].apic_id, 300);
    HTEST_EXPECT_EQ(madt.cpus[2].acpi_uid, 77);
    HTEST_EXPECT_EQ(madt.cpus[2].x2apic, 1);
    HTEST_EXPECT_EQ(madt.ioapic_count, 1);
    HTEST_EXPECT_EQ(madt.ioapics[0].id, 4);
    HTEST_EXPECT_EQ(madt.ioapics[0].address, 0xfec00000u);
    HTEST_EXPECT_EQ(madt.override_count, 2);
    HTEST_EXPECT_EQ(madt.overrides[0].source, 0);
    HTEST_EXPECT_EQ(madt.overrides[0].gsi, 2);
    HTEST_EXPECT_EQ(madt.overrides[1].source, 9);
    HTEST_EXPECT_EQ(madt.overrides[1].flags & ACPI_MPS_TRIGGER_MASK, ACPI_MPS_TRIGGER_LEVEL);
    HTEST_EXPECT_EQ(madt.nmi_source_count, 1);
    HTEST_EXPECT_EQ(madt.nmi_sources[0].gsi, 23);
    HTEST_EXPECT_EQ(madt.lapic_nmi_count, 2);
    HTEST_EXPECT_EQ(madt.lapic_nmis[0].acpi_uid, ACPI_UID_ALL);
    HTEST_EXPECT_EQ(madt.lapic_nmis[0].lint, 1);
    HTEST_EXPECT_EQ(madt.lapic_nmis[1].acpi_uid, 77);
    HTEST_EXPECT_EQ(madt.lapic_nmis[1].lint, 0);
    HTEST_EXPECT_EQ(madt.malformed, 0);
    HTEST_EXPECT_EQ(madt.dropped, 0);
}

HTEST(madt_same_cpu_in_xapic_and_x2apic_entries_counted_once)
{
    table_t t;
    madt_begin(&t);
    uint8_t *e = madt_add(&t, 0, 8);
    e[3] = 5;
    put32(e + 4, 1);
    e = madt_add(&t, 9, 16);
    put32(e + 4, 5);
    put32(e + 8, 1);
    table_end(&t);
    HTEST_EXPECT(acpi_parse_madt(t.b, t.len, &madt));
    HTEST_EXPECT_EQ(madt.cpu_count, 1);
}

HTEST(madt_zero_length_entry_stops_walk)
{
    table_t t;
    madt_begin(&t);
    uint8_t *e = madt_add(&t, 0, 8);
    put32(e + 4, 1);
    e = table_add(&t, 8); /* type 0, length 0: would loop forever if trusted */
    e[0] = 0;
    e[1] = 0;
    table_end(&t);
    uint8_t *p = exact_copy(t.b, t.len);
    HTEST_EXPECT(acpi_parse_madt(p, t.len, &madt));
    HTEST_EXPECT_EQ(madt.cpu_count, 1);
    HTEST_EXPECT_EQ(madt.malformed, 1);
    free(p);
}

HTEST(madt_entry_running_past_table_end_is_ignored)
{
    table_t t;
    madt_begin(&t);
    uint8_t *e = table_add(&t, 6); /* claims 16 bytes, only 6 in the table */
    e[0] = 9;
    e[1] = 16;
    table_end(&t);
    uint8_t *p = exact_copy(t.b, t.len);
    HTEST_EXPECT(acpi_parse_madt(p, t.len, &madt));
    HTEST_EXPECT_EQ(madt.cpu_count, 0);
    HTEST_EXPECT_EQ(madt.malformed, 1);
    free(p);

    /* A lone type byte at the very end (no length byte) is simply not an entry. */
    madt_begin(&t);
    table_add(&t, 1)[0] = 1;
    table_end(&t);
    p = exact_copy(t.b, t.len);
    HTEST_EXPECT(acpi_parse_madt(p, t.len, &madt));
    HTEST_EXPECT_EQ(madt.ioapic_count, 0);
    free(p);
}

HTEST(madt_short_known_entry_skipped_walk_continues)
{
    table_t t;
    madt_begin(&t);
    madt_add(&t, 1, 4);         /* IOAPIC entry too short to hold its fields */
    madt_add(&t, 0, 2);         /* minimal length: skipped, walk advances */
    uint8_t *e = madt_add(&t, 0, 8);
    e[3] = 7;
    table_end(&t);
    HTEST_EXPECT(acpi_parse_madt(t.b, t.len, &madt));
    HTEST_EXPECT_EQ(madt.ioapic_count, 0);
    HTEST_EXPECT_EQ(madt.cpu_count, 1);
    HTEST_EXPECT_EQ(madt.cpus[0].apic_id, 7);
    HTEST_EXPECT_EQ(madt.malformed, 2);
}

HTEST(madt_too_short_rejected)
{
    uint8_t b[43] = { 'A', 'P', 'I', 'C' };
    HTEST_EXPECT(!acpi_parse_madt(b, sizeof b, &madt));
    HTEST_EXPECT_EQ(madt.cpu_count, 0);
}

HTEST(madt_more_cpus_than_limit_are_dropped)
{
    table_t t;
    madt_begin(&t);
    for (unsigned i = 0; i < CONFIG_ACPI_MAX_MADT_CPUS + 10; i++) {
        uint8_t *e = madt_add(&t, 9, 16);
        put32(e + 4, i);
        put32(e + 8, 1);
    }
    table_end(&t);
    HTEST_EXPECT(acpi_parse_madt(t.b, t.len, &madt));
    HTEST_EXPECT_EQ(madt.cpu_count, CONFIG_ACPI_MAX_MADT_CPUS);
    HTEST_EXPECT_EQ(madt.dropped, 10);
}

/* ---- FADT, HPET, MCFG ------------------------------------------------------------------ */

HTEST(fadt_v1_uses_legacy_blocks)
{
    table_t t;
    table_begin(&t, "FACP", 1);
    table_add(&t, 116 - ACPI_SDT_HEADER_BYTES);
    put32(t.b + 40, 0x7fe0000);  /* DSDT */
    put16(t.b + 46, 9);          /* SCI */
    put32(t.b + 48, 0xb2);       /* SMI_CMD */
    t.b[52] = 0xf1;              /* ACPI_ENABLE */
    put32(t.b + 64, 0x604);      /* PM1a_CNT_BLK */
    t.b[89] = 2;                 /* PM1_CNT_LEN */
    table_end(&t);
    acpi_fadt_t f;
    HTEST_EXPECT(acpi_parse_fadt(t.b, t.len, &f));
    HTEST_EXPECT_EQ(f.dsdt, 0x7fe0000);
    HTEST_EXPECT_EQ(f.sci_irq, 9);
    HTEST_EXPECT_EQ(f.smi_cmd, 0xb2);
    HTEST_EXPECT_EQ(f.acpi_enable, 0xf1);
    HTEST_EXPECT_EQ(f.pm1a_cnt.space, ACPI_GAS_IO);
    HTEST_EXPECT_EQ(f.pm1a_cnt.address, 0x604);
    HTEST_EXPECT_EQ(f.pm1a_cnt.bit_width, 16);
    HTEST_EXPECT_EQ(f.pm1b_cnt.address, 0);
    HTEST_EXPECT_EQ(f.reset_reg.address, 0); /* not in a v1 table */
    HTEST_EXPECT(!acpi_parse_fadt(t.b, 115, &f));
}

HTEST(fadt_v6_prefers_x_fields)
{
    table_t t;
    table_begin(&t, "FACP", 6);
    table_add(&t, 276 - ACPI_SDT_HEADER_BYTES);
    put32(t.b + 40, 0x7fe0000);
    put32(t.b + 64, 0x604);
    put32(t.b + 68, 0x608);
    t.b[89] = 2;
    put32(t.b + 112, ACPI_FADT_RESET_REG_SUP);
    t.b[116] = ACPI_GAS_IO;      /* RESET_REG: I/O 0xcf9, 8 bits */
    t.b[117] = 8;
    put64(t.b + 120, 0xcf9);
    t.b[128] = 0x06;
    put64(t.b + 140, 0x100000000ull);          /* X_DSDT */
    t.b[172] = ACPI_GAS_MEMORY;                /* X_PM1a_CNT_BLK in memory */
    t.b[173] = 16;
    put64(t.b + 176, 0xfed80004ull);
    /* X_PM1b_CNT_BLK left zero: the legacy port stays. */
    t.b[244] = ACPI_GAS_IO;                    /* SLEEP_CONTROL_REG */
    t.b[245] = 8;
    put64(t.b + 248, 0x404);
    table_end(&t);
    acpi_fadt_t f;
    HTEST_EXPECT(acpi_parse_fadt(t.b, t.len, &f));
    HTEST_EXPECT_EQ(f.revision, 6);
    HTEST_EXPECT_EQ(f.dsdt, 0x100000000ull);
    HTEST_EXPECT_EQ(f.pm1a_cnt.space, ACPI_GAS_MEMORY);
    HTEST_EXPECT_EQ(f.pm1a_cnt.address, 0xfed80004ull);
    HTEST_EXPECT_EQ(f.pm1b_cnt.space, ACPI_GAS_IO);
    HTEST_EXPECT_EQ(f.pm1b_cnt.address, 0x608);
    HTEST_EXPECT(f.flags & ACPI_FADT_RESET_REG_SUP);
    HTEST_EXPECT_EQ(f.reset_reg.space, ACPI_GAS_IO);
    HTEST_EXPECT_EQ(f.reset_reg.address, 0xcf9);
    HTEST_EXPECT_EQ(f.reset_value, 0x06);
    HTEST_EXPECT_EQ(f.sleep_control.address, 0x404);

    /* Cut just before X_PM1a_CNT_BLK ends: the legacy PM1a value must survive. */
    uint8_t *p = exact_copy(t.b, 180);
    HTEST_EXPECT(acpi_parse_fadt(p, 180, &f));
    HTEST_EXPECT_EQ(f.pm1a_cnt.space, ACPI_GAS_IO);
    HTEST_EXPECT_EQ(f.pm1a_cnt.address, 0x604);
    HTEST_EXPECT_EQ(f.dsdt, 0x100000000ull);
    HTEST_EXPECT_EQ(f.sleep_control.address, 0);
    free(p);
}

HTEST(hpet_table_decode)
{
    table_t t;
    table_begin(&t, "HPET", 1);
    uint8_t *p = table_add(&t, 20);
    put32(p, 0x8086a201u);
    p[4] = ACPI_GAS_MEMORY;
    p[5] = 64;
    put64(p + 8, 0xfed00000ull);
    p[16] = 0;
    put16(p + 17, 0x80);
    table_end(&t);
    acpi_hpet_info_t h;
    HTEST_EXPECT(acpi_parse_hpet(t.b, t.len, &h));
    HTEST_EXPECT_EQ(h.base.space, ACPI_GAS_MEMORY);
    HTEST_EXPECT_EQ(h.base.address, 0xfed00000ull);
    HTEST_EXPECT_EQ(h.block_id, 0x8086a201u);
    HTEST_EXPECT_EQ(h.min_tick, 0x80);
    HTEST_EXPECT(!acpi_parse_hpet(t.b, 55, &h));
}

HTEST(mcfg_decode)
{
    table_t t;
    table_begin(&t, "MCFG", 1);
    table_add(&t, 8); /* reserved */
    uint8_t *e = table_add(&t, 16);
    put64(e, 0xb0000000ull);
    put16(e + 8, 0);
    e[10] = 0;
    e[11] = 255;
    e = table_add(&t, 16);
    put64(e, 0x4000000000ull);
    put16(e + 8, 1);
    e[10] = 0x80;
    e[11] = 0x8f;
    table_add(&t, 7); /* partial entry: ignored */
    table_end(&t);
    acpi_mcfg_entry_t out[4];
    HTEST_EXPECT_EQ(acpi_parse_mcfg(t.b, t.len, out, 4), 2);
    HTEST_EXPECT_EQ(out[0].base, 0xb0000000ull);
    HTEST_EXPECT_EQ(out[0].bus_end, 255);
    HTEST_EXPECT_EQ(out[1].base, 0x4000000000ull);
    HTEST_EXPECT_EQ(out[1].segment, 1);
    HTEST_EXPECT_EQ(out[1].bus_start, 0x80);
    HTEST_EXPECT_EQ(out[1].bus_end, 0x8f);
    /* Only max entries are stored; the return value still tells how many exist. */
    acpi_mcfg_entry_t one[1];
    HTEST_EXPECT_EQ(acpi_parse_mcfg(t.b, t.len, one, 1), 2);
    HTEST_EXPECT_EQ(one[0].base, 0xb0000000ull);
    HTEST_EXPECT_EQ(acpi_parse_mcfg(t.b, 43, out, 4), 0);
}

/* ---- \_S5_ ----------------------------------------------------------------------------- */

/* Run the S5 finder over an exact-size copy of the bytes. */
static bool find_s5(const uint8_t *aml, size_t len, uint8_t *a, uint8_t *b)
{
    uint8_t *p = exact_copy(aml, len);
    bool ok = acpi_aml_find_s5(p, len, a, b);
    free(p);
    return ok;
}

HTEST(s5_zero_ops_as_qemu_emits)
{
    /* Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
    static const uint8_t aml[] = { 0x10, 0x00, 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
                                   0x00, 0x00, 0x00, 0x00 };
    uint8_t a = 9, b = 9;
    HTEST_EXPECT(find_s5(aml, sizeof aml, &a, &b));
    HTEST_EXPECT_EQ(a, 0);
    HTEST_EXPECT_EQ(b, 0);
}

HTEST(s5_byte_prefix_values)
{
    static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                   0x0a, 0x07, 0x0a, 0x05, 0x00, 0x00 };
    uint8_t a, b;
    HTEST_EXPECT(find_s5(aml, sizeof aml, &a, &b));
    HTEST_EXPECT_EQ(a, 7);
    HTEST_EXPECT_EQ(b, 5);
}

HTEST(s5_one_op_raw_byte_and_word_prefix)
{
    static const uint8_t one_raw[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x06 };
    uint8_t a, b;
    HTEST_EXPECT(find_s5(one_raw, sizeof one_raw, &a, &b));
    HTEST_EXPECT_EQ(a, 1);
    HTEST_EXPECT_EQ(b, 6);

    static const uint8_t word[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x02,
                                    0x0b, 0x03, 0x00, 0x0c, 0x04, 0x00, 0x00, 0x00 };
    HTEST_EXPECT(find_s5(word, sizeof word, &a, &b));
    HTEST_EXPECT_EQ(a, 3);
    HTEST_EXPECT_EQ(b, 4);
}

HTEST(s5_root_prefix_and_multibyte_pkglength)
{
    /* Name (\_S5, ...) with a 2-byte PkgLength: lead 0x47 (one more byte, low nibble 7),
     * then 0x00, so the package is 7 bytes counting the PkgLength itself. */
    static const uint8_t aml[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x02,
                                   0x0a, 0x05, 0x0a, 0x06, 0x00, 0x00 };
    uint8_t a, b;
    HTEST_EXPECT(find_s5(aml, sizeof aml, &a, &b));
    HTEST_EXPECT_EQ(a, 5);
    HTEST_EXPECT_EQ(b, 6);
}

HTEST(s5_single_integer_package)
{
    static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0b, 0x07, 0x03 };
    uint8_t a, b;
    HTEST_EXPECT(find_s5(aml, sizeof aml, &a, &b));
    HTEST_EXPECT_EQ(a, 7);
    HTEST_EXPECT_EQ(b, 3);
}

HTEST(s5_missing_or_not_a_name)
{
    uint8_t a, b;
    static const uint8_t none[] = { 0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x0a, 0x06 };
    HTEST_EXPECT(!find_s5(none, sizeof none, &a, &b));
    /* "_S5_" used as a name reference, not declared with NameOp. */
    static const uint8_t ref[] = { 0x70, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00 };
    HTEST_EXPECT(!find_s5(ref, sizeof ref, &a, &b));
    /* Declared as a method (MethodOp), which this scan cannot evaluate. */
    static const uint8_t method[] = { 0x14, 0x07, '_', 'S', '5', '_', 0x00, 0xa4, 0x00 };
    HTEST_EXPECT(!find_s5(method, sizeof method, &a, &b));
    HTEST_EXPECT(!find_s5(none, 0, &a, &b));
}

HTEST(s5_truncated_package_never_reads_past_end)
{
    static const uint8_t full[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x09, 0x02,
                                    0x0c, 0x05, 0x00, 0x00, 0x00, 0x0a, 0x05 };
    uint8_t a, b;
    for (size_t len = 0; len < sizeof full; len++)
        HTEST_EXPECT(!find_s5(full, len, &a, &b));
    HTEST_EXPECT(find_s5(full, sizeof full, &a, &b));
    /* PkgLength shorter than its elements: the second element lies outside. */
    static const uint8_t short_pkg[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02,
                                         0x0a, 0x05, 0x0a, 0x05 };
    HTEST_EXPECT(!find_s5(short_pkg, sizeof short_pkg, &a, &b));
}

HTEST(s5_bad_candidate_then_real_one)
{
    static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x99, 0x99,
                                   0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01 };
    uint8_t a, b;
    HTEST_EXPECT(find_s5(aml, sizeof aml, &a, &b));
    HTEST_EXPECT_EQ(a, 1);
    HTEST_EXPECT_EQ(b, 1);
}

HTEST_MAIN()
