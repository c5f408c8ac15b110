/* SPDX-License-Identifier: MIT */
/*
 * HPET main counter as a calibration reference (IA-PC HPET Specification 1.0a).
 *
 * Only the free-running main counter is used; the comparators and their interrupts
 * are left alone. If the firmware left the counter stopped it is started, never reset,
 * so anything else that reads it keeps a consistent view.
 */
#include "time/refclock.h"
#include "acpi/acpi.h"
#include "arch/x86_64/arch.h"
#include "core/log.h"
#include "mm/mm.h"

/* Register offsets (§2.3 "Register Descriptions", memory-mapped register space). */
#define HPET_GCAP_ID       0x000 /* General Capabilities and ID */
#define HPET_GEN_CONF      0x010 /* General Configuration */
#define HPET_MAIN_COUNTER  0x0f0 /* Main Counter Value */
#define HPET_REGS_BYTES    1024

/* General Capabilities and ID: bits 63:32 COUNTER_CLK_PERIOD in femtoseconds (at most
 * 0x05F5E100 = 100 ns), bit 13 COUNT_SIZE_CAP (1 = 64-bit main counter). */
#define GCAP_PERIOD(v)     ((v) >> 32)
#define GCAP_COUNT_64      (1ull << 13)
#define HPET_MAX_PERIOD_FS 100000000ull
/* General Configuration bit 0 ENABLE_CNF: the main counter runs. */
#define CONF_ENABLE        (1ull << 0)

/* Written by hpet_init on the boot CPU; read-only afterwards. */
static volatile uint64_t *hpet_regs;
static uint64_t period_fs;
static uint64_t counter_mask;

static uint64_t reg_read(unsigned off) { return hpet_regs[off / 8]; }
static void reg_write(unsigned off, uint64_t v) { hpet_regs[off / 8] = v; }

bool hpet_init(void)
{
    uint64_t base = acpi_hpet_base();
    if (base == 0)
        return false;
    volatile uint64_t *regs = vmm_map_mmio(base, HPET_REGS_BYTES);
    if (!regs) {
        log_warn("hpet: cannot map registers at 0x%llx", (unsigned long long)base);
        return false;
    }
    uint64_t cap = regs[HPET_GCAP_ID / 8];
    uint64_t period = GCAP_PERIOD(cap);
    if (period == 0 || period > HPET_MAX_PERIOD_FS) {
        log_warn("hpet: implausible counter period %llu fs; not used", (unsigned long long)period);
        return false;
    }
    hpet_regs = regs;
    period_fs = period;
    counter_mask = (cap & GCAP_COUNT_64) ? ~0ull : 0xffffffffull;

    uint64_t conf = reg_read(HPET_GEN_CONF);
    if (!(conf & CONF_ENABLE))
        reg_write(HPET_GEN_CONF, conf | CONF_ENABLE);

    /* A counter that does not move would hang calibration: check it ticks. At 10 MHz
     * or more it advances within a few hundred reads on any machine. */
    uint64_t first = hpet_counter();
    for (int i = 0; i < 1000000; i++) {
        if (hpet_counter() != first)
            return true;
        arch_pause();
    }
    log_warn("hpet: main counter does not advance; not used");
    hpet_regs = NULL;
    return false;
}

uint64_t hpet_counter(void) { return reg_read(HPET_MAIN_COUNTER) & counter_mask; }
uint64_t hpet_counter_mask(void) { return counter_mask; }
uint64_t hpet_period_fs(void) { return period_fs; }
