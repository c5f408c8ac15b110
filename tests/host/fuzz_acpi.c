/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry over the pure ACPI decoders: every parser sees the same input (as an
 * RSDP, a table, a root table and an AML stream), and the invariants callers rely on
 * are checked. Build and run (ASan + UBSan catch the memory errors):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ikernel -Isrc \
 *         tests/host/fuzz_acpi.c -o build/fuzz_acpi && build/fuzz_acpi -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/acpi_parse.c"

static acpi_madt_t madt; /* large: keep it off the stack */

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so a read one past the end is caught even when libFuzzer's
     * buffer happens to be followed by readable memory. */
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);

    acpi_rsdp_info_t rsdp;
    if (acpi_parse_rsdp(buf, size, &rsdp) && rsdp.revision < 2)
        check(rsdp.xsdt == 0);

    uint32_t len = acpi_table_check(buf, size);
    check(len == 0 || (len >= ACPI_SDT_HEADER_BYTES && len <= size));

    for (unsigned width = 4; width <= 8; width += 4) {
        unsigned n = acpi_root_entry_count(buf, size, width);
        check((size_t)n * width <= size);
        for (unsigned i = 0; i <= n; i++)
            (void)acpi_root_entry(buf, size, width, i);
    }

    if (acpi_parse_madt(buf, size, &madt)) {
        check(madt.cpu_count <= CONFIG_ACPI_MAX_MADT_CPUS);
        check(madt.ioapic_count <= CONFIG_ACPI_MAX_IOAPICS);
        check(madt.override_count <= CONFIG_ACPI_MAX_IRQ_OVERRIDES);
        check(madt.lapic_nmi_count <= CONFIG_ACPI_MAX_LAPIC_NMIS);
        check(madt.nmi_source_count <= CONFIG_ACPI_MAX_NMI_SOURCES);
        for (unsigned i = 0; i < madt.cpu_count; i++)
            for (unsigned j = i + 1; j < madt.cpu_count; j++)
                check(madt.cpus[i].apic_id != madt.cpus[j].apic_id);
    }

    acpi_fadt_t fadt;
    (void)acpi_parse_fadt(buf, size, &fadt);
    acpi_hpet_info_t hpet;
    (void)acpi_parse_hpet(buf, size, &hpet);

    acpi_mcfg_entry_t mcfg[CONFIG_ACPI_MAX_MCFG_ENTRIES];
    (void)acpi_parse_mcfg(buf, size, mcfg, CONFIG_ACPI_MAX_MCFG_ENTRIES);

    uint8_t a = 0xff, b = 0xff;
    if (acpi_aml_find_s5(buf, size, &a, &b))
        check(a <= 7 && b <= 7);

    free(buf);
    return 0;
}
