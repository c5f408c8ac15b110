/* SPDX-License-Identifier: MIT */
/*
 * ACPI table discovery: RSDP -> XSDT (or RSDT) -> every table, plus the DSDT named by
 * the FADT. Each table is length- and checksum-checked before anything reads it; the
 * decoding itself lives in acpi_parse.c so it can be tested and fuzzed on the host.
 *
 * Design notes:
 *  - Table memory is reached through the direct map when every page of the table is
 *    mapped there, else through vmm_map_mmio (some firmware keeps tables in regions the
 *    loader does not treat as RAM). A length is bounded by CONFIG_ACPI_MAX_TABLE_BYTES
 *    before any page of the claimed range is touched.
 *  - Runs once on the boot CPU before other CPUs start; the state below is written only
 *    by acpi_init and read-only afterwards, so it needs no lock.
 */
#include "acpi/acpi.h"
#include "core/log.h"
#include "mm/mm.h"

/* FIXME: use the shared errno header once it exists (Linux values, as the ABI uses). */
#define ACPI_ENODEV 19
#define ACPI_EINVAL 22

typedef struct {
    const uint8_t *virt;
    uint64_t phys;
    uint32_t length;
} acpi_table_ref_t;

/* Written by acpi_init only (boot CPU, before SMP); read-only afterwards. */
static acpi_table_ref_t tables[CONFIG_ACPI_MAX_TABLES];
static unsigned table_count;
static acpi_rsdp_info_t rsdp;
static acpi_madt_t madt;
static bool have_madt;
static acpi_fadt_t fadt;
static bool have_fadt;
static acpi_hpet_info_t hpet;
static bool have_hpet;
static acpi_mcfg_entry_t mcfg[CONFIG_ACPI_MAX_MCFG_ENTRIES];
static unsigned mcfg_count;
static uint8_t s5_typa, s5_typb;
static bool have_s5;

static bool sig_is(const uint8_t *p, const char *sig)
{
    return p[0] == (uint8_t)sig[0] && p[1] == (uint8_t)sig[1] && p[2] == (uint8_t)sig[2] &&
           p[3] == (uint8_t)sig[3];
}

/* A table signature as a printable C string (the bytes are untrusted). */
typedef struct { char s[5]; } acpi_sig_str_t;
static acpi_sig_str_t sig_str(const uint8_t *p)
{
    acpi_sig_str_t r;
    for (int i = 0; i < 4; i++)
        r.s[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
    r.s[4] = '\0';
    return r;
}

/* A kernel pointer to len bytes of physical memory, or NULL. */
static const uint8_t *map_phys(uint64_t phys, uint64_t len)
{
    if (phys == 0 || len == 0 || phys + len < phys)
        return NULL;
    uint64_t first = phys & ~(PAGE_SIZE - 1);
    uint64_t last = (phys + len - 1) & ~(PAGE_SIZE - 1);
    for (uint64_t p = first; p <= last; p += PAGE_SIZE) {
        uint64_t pa, flags;
        if (!vmm_query((uint64_t)phys_to_virt(p), &pa, &flags))
            return vmm_map_mmio(phys, len);
    }
    return phys_to_virt(phys);
}

/* Map and validate the table at phys; true with *out filled when it may be used. */
static bool load_table(uint64_t phys, acpi_table_ref_t *out)
{
    const uint8_t *hdr = map_phys(phys, ACPI_SDT_HEADER_BYTES);
    if (!hdr) {
        log_warn("acpi: table at 0x%llx cannot be mapped; skipped", (unsigned long long)phys);
        return false;
    }
    uint32_t claimed = (uint32_t)hdr[4] | ((uint32_t)hdr[5] << 8) | ((uint32_t)hdr[6] << 16) |
                       ((uint32_t)hdr[7] << 24);
    if (claimed < ACPI_SDT_HEADER_BYTES || claimed > CONFIG_ACPI_MAX_TABLE_BYTES) {
        log_warn("acpi: table %s at 0x%llx has bad length %u; skipped", sig_str(hdr).s,
                 (unsigned long long)phys, claimed);
        return false;
    }
    const uint8_t *t = map_phys(phys, claimed);
    if (!t || acpi_table_check(t, claimed) == 0) {
        log_warn("acpi: table %s at 0x%llx fails its checksum; skipped", sig_str(hdr).s,
                 (unsigned long long)phys);
        return false;
    }
    *out = (acpi_table_ref_t){ .virt = t, .phys = phys, .length = claimed };
    return true;
}

static void remember(const acpi_table_ref_t *t)
{
    if (table_count == CONFIG_ACPI_MAX_TABLES) {
        log_warn("acpi: more than CONFIG_ACPI_MAX_TABLES (%d) tables; %s ignored",
                 CONFIG_ACPI_MAX_TABLES, sig_str(t->virt).s);
        return;
    }
    tables[table_count++] = *t;
}

const void *acpi_find_table(const char sig[4], unsigned index)
{
    for (unsigned i = 0; i < table_count; i++)
        if (sig_is(tables[i].virt, sig) && index-- == 0)
            return tables[i].virt;
    return NULL;
}

static uint32_t table_length(const void *t)
{
    const uint8_t *p = t;
    return (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
}

/* The root table: XSDT when the RSDP is revision 2+ and the XSDT checks out, else RSDT. */
static bool load_root(acpi_table_ref_t *root, unsigned *entry_bytes)
{
    if (rsdp.revision >= 2 && rsdp.xsdt) {
        if (load_table(rsdp.xsdt, root) && sig_is(root->virt, "XSDT")) {
            *entry_bytes = 8;
            return true;
        }
        log_warn("acpi: XSDT invalid, falling back to the RSDT");
    }
    if (rsdp.rsdt && load_table(rsdp.rsdt, root) && sig_is(root->virt, "RSDT")) {
        *entry_bytes = 4;
        return true;
    }
    return false;
}

static void warn_limit(unsigned count, unsigned limit, const char *name)
{
    if (count == limit)
        log_warn("acpi: MADT lists more entries than %s (%u); the rest are ignored", name, limit);
}

static void decode_madt(const uint8_t *t, uint32_t len)
{
    have_madt = acpi_parse_madt(t, len, &madt);
    if (!have_madt) {
        log_warn("acpi: MADT too short (%u bytes); ignored", len);
        return;
    }
    if (madt.malformed)
        log_warn("acpi: MADT has %u malformed entries (skipped)", madt.malformed);
    if (madt.dropped) {
        warn_limit(madt.cpu_count, CONFIG_ACPI_MAX_MADT_CPUS, "CONFIG_ACPI_MAX_MADT_CPUS");
        warn_limit(madt.ioapic_count, CONFIG_ACPI_MAX_IOAPICS, "CONFIG_ACPI_MAX_IOAPICS");
        warn_limit(madt.override_count, CONFIG_ACPI_MAX_IRQ_OVERRIDES,
                   "CONFIG_ACPI_MAX_IRQ_OVERRIDES");
        warn_limit(madt.lapic_nmi_count, CONFIG_ACPI_MAX_LAPIC_NMIS, "CONFIG_ACPI_MAX_LAPIC_NMIS");
        warn_limit(madt.nmi_source_count, CONFIG_ACPI_MAX_NMI_SOURCES,
                   "CONFIG_ACPI_MAX_NMI_SOURCES");
    }
}

static void decode_tables(void)
{
    for (unsigned i = 0; i < table_count; i++) {
        const uint8_t *t = tables[i].virt;
        uint32_t len = tables[i].length;
        if (sig_is(t, "FACP") && !have_fadt) {
            have_fadt = acpi_parse_fadt(t, len, &fadt);
            if (!have_fadt)
                log_warn("acpi: FADT too short (%u bytes); ignored", len);
        } else if (sig_is(t, "APIC") && !have_madt) {
            decode_madt(t, len);
        } else if (sig_is(t, "HPET") && !have_hpet) {
            have_hpet = acpi_parse_hpet(t, len, &hpet);
            if (have_hpet && hpet.base.space != ACPI_GAS_MEMORY) {
                log_warn("acpi: HPET not in memory space (%u); ignored", hpet.base.space);
                have_hpet = false;
            }
        } else if (sig_is(t, "MCFG") && mcfg_count == 0) {
            unsigned n = acpi_parse_mcfg(t, len, mcfg, CONFIG_ACPI_MAX_MCFG_ENTRIES);
            if (n > CONFIG_ACPI_MAX_MCFG_ENTRIES) {
                log_warn("acpi: MCFG lists %u segments, more than CONFIG_ACPI_MAX_MCFG_ENTRIES "
                         "(%d); the rest are ignored", n, CONFIG_ACPI_MAX_MCFG_ENTRIES);
                n = CONFIG_ACPI_MAX_MCFG_ENTRIES;
            }
            mcfg_count = n;
        }
    }
}

/* The DSDT is not listed in the root table; the FADT points at it. */
static void load_dsdt(void)
{
    acpi_table_ref_t t;
    if (!have_fadt || fadt.dsdt == 0)
        return;
    if (!load_table(fadt.dsdt, &t))
        return;
    if (!sig_is(t.virt, "DSDT")) {
        log_warn("acpi: FADT's DSDT pointer leads to a %s table; ignored", sig_str(t.virt).s);
        return;
    }
    remember(&t);
}

/* Decode \_S5_ now: the table memory may be reclaimed before anyone powers off. */
static void find_s5(void)
{
    const uint8_t *t = acpi_find_table("DSDT", 0);
    for (unsigned i = 0; !have_s5; i++) {
        if (t) {
            uint32_t len = table_length(t);
            have_s5 = acpi_aml_find_s5(t + ACPI_SDT_HEADER_BYTES, len - ACPI_SDT_HEADER_BYTES,
                                       &s5_typa, &s5_typb);
        }
        if (!have_s5 && (t = acpi_find_table("SSDT", i)) == NULL)
            break;
    }
}

static void log_summary(unsigned entry_bytes)
{
    /* Signatures as "FACP APIC ...": 5 bytes each, plus the terminator. */
    char sigs[CONFIG_ACPI_MAX_TABLES * 5 + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < table_count; i++) {
        acpi_sig_str_t one = sig_str(tables[i].virt);
        for (int k = 0; k < 4; k++)
            sigs[n++] = one.s[k];
        sigs[n++] = ' ';
    }
    sigs[n ? n - 1 : 0] = '\0';

    unsigned enabled = 0;
    for (unsigned i = 0; have_madt && i < madt.cpu_count; i++)
        if (madt.cpus[i].flags & ACPI_MADT_CPU_ENABLED)
            enabled++;
    log_info("acpi: rev %u %s oem %s; tables %s; %u CPUs (%u enabled), %u IOAPIC, HPET %s, "
             "MCFG %u, S5 %s",
             rsdp.revision, entry_bytes == 8 ? "XSDT" : "RSDT", rsdp.oem_id, sigs,
             have_madt ? madt.cpu_count : 0, enabled, have_madt ? madt.ioapic_count : 0,
             have_hpet ? "yes" : "no", mcfg_count, have_s5 ? "yes" : "no");
}

int acpi_init(uint64_t rsdp_phys)
{
    if (rsdp_phys == 0) {
        log_warn("acpi: the loader found no RSDP; running without ACPI");
        return -ACPI_ENODEV;
    }
    const uint8_t *r = map_phys(rsdp_phys, 36);
    /* A revision 2 RSDP's length field may claim more than 36 bytes; allow up to 1 KiB. */
    size_t avail = 36;
    if (r && r[15] >= 2) {
        uint32_t len = (uint32_t)r[20] | ((uint32_t)r[21] << 8) | ((uint32_t)r[22] << 16) |
                       ((uint32_t)r[23] << 24);
        if (len > 36 && len <= 1024 && (r = map_phys(rsdp_phys, len)) != NULL)
            avail = len;
    }
    if (!r || !acpi_parse_rsdp(r, avail, &rsdp)) {
        log_error("acpi: RSDP at 0x%llx is invalid", (unsigned long long)rsdp_phys);
        return -ACPI_EINVAL;
    }

    acpi_table_ref_t root;
    unsigned entry_bytes = 0;
    if (!load_root(&root, &entry_bytes)) {
        log_error("acpi: no valid RSDT or XSDT");
        return -ACPI_EINVAL;
    }
    unsigned n = acpi_root_entry_count(root.virt, root.length, entry_bytes);
    for (unsigned i = 0; i < n; i++) {
        acpi_table_ref_t t;
        uint64_t phys = acpi_root_entry(root.virt, root.length, entry_bytes, i);
        if (phys == 0) {
            log_warn("acpi: root table entry %u is null; skipped", i);
            continue;
        }
        if (load_table(phys, &t))
            remember(&t);
    }
    decode_tables();
    load_dsdt();
    find_s5();
    if (!have_fadt)
        log_warn("acpi: no FADT: power off and ACPI reset are unavailable");
    if (!have_madt)
        log_warn("acpi: no MADT: only the boot CPU is known");
    log_summary(entry_bytes);
    return 0;
}

const acpi_madt_t *acpi_madt(void) { return have_madt ? &madt : NULL; }
const acpi_fadt_t *acpi_fadt(void) { return have_fadt ? &fadt : NULL; }
uint64_t acpi_hpet_base(void) { return have_hpet ? hpet.base.address : 0; }

const acpi_mcfg_entry_t *acpi_mcfg(unsigned *count)
{
    *count = mcfg_count;
    return mcfg_count ? mcfg : NULL;
}

int acpi_s5_sleep_type(uint8_t *slp_typa, uint8_t *slp_typb)
{
    if (!have_s5)
        return -ACPI_ENODEV;
    *slp_typa = s5_typa;
    *slp_typb = s5_typb;
    return 0;
}
