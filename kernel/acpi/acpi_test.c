/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the ACPI tables as parsed at boot. They expect QEMU q35 (which
 * always has an HPET, an MCFG, an IOAPIC and \_S5_), and hold on typical PCs too.
 */
#include "acpi/acpi.h"
#include "arch/x86_64/lapic.h"
#include "test/ktest.h"

static uint32_t header_length(const void *table)
{
    const uint8_t *p = table;
    return (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
}

KTEST(acpi_required_tables_found)
{
    KTEST_EXPECT(acpi_find_table("FACP", 0) != NULL);
    KTEST_EXPECT(acpi_find_table("APIC", 0) != NULL);
    KTEST_EXPECT(acpi_find_table("DSDT", 0) != NULL);
    KTEST_EXPECT(acpi_fadt() != NULL);
    KTEST_EXPECT(acpi_find_table("ZZZZ", 0) == NULL);
}

KTEST(acpi_found_tables_have_valid_checksums)
{
    static const char *const sigs[] = { "FACP", "APIC", "DSDT", "HPET", "MCFG", "SSDT" };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        const void *t = acpi_find_table(sigs[i], 0);
        if (!t)
            continue;
        uint32_t len = header_length(t);
        KTEST_EXPECT_EQ(acpi_table_check(t, len), len);
    }
}

KTEST(acpi_madt_lists_the_boot_cpu)
{
    const acpi_madt_t *m = acpi_madt();
    KTEST_EXPECT(m != NULL);
    if (!m)
        return;
    KTEST_EXPECT(m->cpu_count >= 1);
    KTEST_EXPECT(m->lapic_address != 0);
    KTEST_EXPECT(m->ioapic_count >= 1);
    bool found = false;
    uint32_t id = lapic_id();
    for (unsigned i = 0; i < m->cpu_count; i++) {
        if (m->cpus[i].apic_id == id) {
            found = true;
            KTEST_EXPECT(m->cpus[i].flags & ACPI_MADT_CPU_ENABLED);
        }
    }
    KTEST_EXPECT(found);
    for (unsigned i = 0; i < m->ioapic_count; i++)
        KTEST_EXPECT(m->ioapics[i].address != 0);
}

KTEST(acpi_q35_has_hpet_and_mcfg)
{
    KTEST_EXPECT(acpi_hpet_base() != 0);
    unsigned n = 0;
    const acpi_mcfg_entry_t *e = acpi_mcfg(&n);
    KTEST_EXPECT(n >= 1);
    KTEST_EXPECT(e != NULL);
    if (e && n) {
        KTEST_EXPECT(e[0].base != 0);
        KTEST_EXPECT(e[0].bus_start <= e[0].bus_end);
    }
}

KTEST(acpi_fadt_describes_power_off)
{
    const acpi_fadt_t *f = acpi_fadt();
    if (!f)
        return; /* reported by acpi_required_tables_found */
    if (f->flags & ACPI_FADT_HW_REDUCED)
        KTEST_EXPECT(f->sleep_control.address != 0);
    else
        KTEST_EXPECT(f->pm1a_cnt.address != 0);
    KTEST_EXPECT(f->dsdt != 0);
    uint8_t a = 0xff, b = 0xff;
    KTEST_EXPECT_EQ(acpi_s5_sleep_type(&a, &b), 0);
    KTEST_EXPECT(a <= 7);
    KTEST_EXPECT(b <= 7);
}
