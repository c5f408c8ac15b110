/* SPDX-License-Identifier: MIT */
/*
 * Power off (ACPI S5) and reset.
 *
 * Power off writes SLP_TYPx|SLP_EN to the PM1 control registers (ACPI 6.4 §4.8.3.2.1,
 * sequence per §16.1) with the SLP_TYP values from \_S5_, or to the sleep control register on
 * hardware-reduced platforms (§4.8.3.7). Reset tries the FADT reset register (§4.8.3.6),
 * then the chipset reset control register at 0xCF9, then the 8042 keyboard controller's
 * reset line. Both paths run with interrupts off and return only when nothing worked.
 *
 * Register addresses come from the FADT as Generic Address Structures: I/O space,
 * memory space, or (reset register only) PCI configuration space on bus 0. Bit offsets
 * in a GAS are not honoured: every register used here starts at bit 0 in practice.
 */
#include "acpi/acpi.h"
#include "arch/x86_64/arch.h"
#include "core/log.h"
#include "mm/mm.h"
#include "time/time.h"

/* FIXME: use the shared errno header once it exists (Linux values, as the ABI uses). */
#define ACPI_EIO    5
#define ACPI_ENODEV 19

/* PM1 control register bits (ACPI 6.4 §4.8.3.2.1, "PM1 Control Registers Fixed Hardware
 * Feature Control Bits"). */
#define PM1_SCI_EN        (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK  (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN        (1u << 13)
/* Sleep control register (§4.8.3.7): SLP_TYPx bits 4:2, SLP_EN bit 5. */
#define SLEEP_CTL_TYP_SHIFT 2
#define SLEEP_CTL_SLP_EN    (1u << 5)

/* Intel ICH9 datasheet §13.7.5 "RST_CNT - Reset Control Register" (I/O 0xCF9): bit 1
 * SYS_RST selects a hard reset, a 0->1 transition of bit 2 RST_CPU starts it. */
#define RST_CNT_PORT  0xcf9
#define RST_CNT_SYS   0x02
#define RST_CNT_CPU   0x04
/* 8042 (PS/2 controller): status port bit 1 = input buffer full; command 0xFE pulses
 * the CPU reset line. */
#define KBC_STATUS_PORT  0x64
#define KBC_STATUS_IBF   0x02
#define KBC_CMD_RESET    0xfe

#define PCI_CONFIG_ADDRESS 0xcf8 /* PCI Local Bus 3.0 §3.2.2.3.2, mechanism #1 */
#define PCI_CONFIG_DATA    0xcfc

/* Time to wait for a power/reset write to take effect before trying the next one. */
#define SETTLE_US 100000

static unsigned gas_bits(const acpi_gas_t *g, unsigned dflt)
{
    switch (g->access_size) {
    case 1: return 8;
    case 2: return 16;
    case 3: return 32;
    case 4: return 64;
    }
    if (g->bit_width == 8 || g->bit_width == 16 || g->bit_width == 32 || g->bit_width == 64)
        return g->bit_width;
    return dflt;
}

/* Memory-space registers: the page is mapped once and remembered (poweroff reads and
 * writes PM1 control several times). */
static volatile uint8_t *gas_mmio(uint64_t addr, unsigned bytes)
{
    static uint64_t cached_page;
    static volatile uint8_t *cached_virt;
    uint64_t page = addr & ~(PAGE_SIZE - 1);
    if (addr - page + bytes > PAGE_SIZE)
        return NULL; /* a register straddling a page: not something firmware does */
    if (cached_virt == NULL || cached_page != page) {
        volatile uint8_t *v = vmm_map_mmio(page, PAGE_SIZE);
        if (!v)
            return NULL;
        cached_page = page;
        cached_virt = v;
    }
    return cached_virt + (addr - page);
}

static bool gas_read(const acpi_gas_t *g, unsigned dflt_bits, uint64_t *value)
{
    unsigned bits = gas_bits(g, dflt_bits);
    if (g->address == 0)
        return false;
    if (g->space == ACPI_GAS_IO) {
        if (g->address > 0xffff)
            return false;
        uint16_t port = (uint16_t)g->address;
        switch (bits) {
        case 8: *value = arch_inb(port); return true;
        case 16: *value = arch_inw(port); return true;
        case 32: *value = arch_inl(port); return true;
        }
        return false;
    }
    if (g->space == ACPI_GAS_MEMORY) {
        volatile uint8_t *p = gas_mmio(g->address, bits / 8);
        if (!p)
            return false;
        switch (bits) {
        case 8: *value = *p; return true;
        case 16: *value = *(volatile uint16_t *)p; return true;
        case 32: *value = *(volatile uint32_t *)p; return true;
        case 64: *value = *(volatile uint64_t *)p; return true;
        }
    }
    return false;
}

/* PCI configuration space on bus 0: GAS address bits 47:32 device, 31:16 function,
 * 15:0 offset (§5.2.3.2). */
static bool pci_config_write(uint64_t addr, unsigned bits, uint32_t value)
{
    uint64_t dev = (addr >> 32) & 0xffff, fn = (addr >> 16) & 0xffff, off = addr & 0xffff;
    if (dev > 31 || fn > 7 || off > 0xff)
        return false;
    arch_outl(PCI_CONFIG_ADDRESS, 0x80000000u | (uint32_t)(dev << 11) | (uint32_t)(fn << 8) |
                                      (uint32_t)(off & 0xfc));
    switch (bits) {
    case 8: arch_outb((uint16_t)(PCI_CONFIG_DATA + (off & 3)), (uint8_t)value); return true;
    case 16: arch_outw((uint16_t)(PCI_CONFIG_DATA + (off & 2)), (uint16_t)value); return true;
    case 32: arch_outl(PCI_CONFIG_DATA, value); return true;
    }
    return false;
}

static bool gas_write(const acpi_gas_t *g, unsigned dflt_bits, uint64_t value)
{
    unsigned bits = gas_bits(g, dflt_bits);
    if (g->address == 0)
        return false;
    switch (g->space) {
    case ACPI_GAS_IO: {
        if (g->address > 0xffff)
            return false;
        uint16_t port = (uint16_t)g->address;
        switch (bits) {
        case 8: arch_outb(port, (uint8_t)value); return true;
        case 16: arch_outw(port, (uint16_t)value); return true;
        case 32: arch_outl(port, (uint32_t)value); return true;
        }
        return false;
    }
    case ACPI_GAS_MEMORY: {
        volatile uint8_t *p = gas_mmio(g->address, bits / 8);
        if (!p)
            return false;
        switch (bits) {
        case 8: *p = (uint8_t)value; return true;
        case 16: *(volatile uint16_t *)p = (uint16_t)value; return true;
        case 32: *(volatile uint32_t *)p = (uint32_t)value; return true;
        case 64: *(volatile uint64_t *)p = value; return true;
        }
        return false;
    }
    case ACPI_GAS_PCI_CONFIG:
        return pci_config_write(g->address, bits, (uint32_t)value);
    }
    return false;
}

/* Firmware that boots in legacy (SMI) mode owns the PM registers until the OS writes
 * ACPI_ENABLE to SMI_CMD (FADT SMI_CMD/ACPI_ENABLE fields, §5.2.9); SLP_EN may be
 * ignored until then. Wait up to ~3 s for SCI_EN as the handover can take a while. */
static void enter_acpi_mode(const acpi_fadt_t *f)
{
    uint64_t v;
    if (!gas_read(&f->pm1a_cnt, 16, &v) || (v & PM1_SCI_EN))
        return;
    if (f->smi_cmd == 0 || f->smi_cmd > 0xffff || f->acpi_enable == 0)
        return; /* no legacy mode to leave */
    arch_outb((uint16_t)f->smi_cmd, f->acpi_enable);
    for (int i = 0; i < 300; i++) {
        if (gas_read(&f->pm1a_cnt, 16, &v) && (v & PM1_SCI_EN))
            return;
        time_delay_us(10000);
    }
    log_warn("acpi: firmware did not hand over ACPI mode (SCI_EN still clear)");
}

static bool write_pm1(const acpi_gas_t *g, uint8_t slp_typ, bool enable)
{
    uint64_t v = 0;
    if (g->address == 0)
        return false;
    /* Keep the other control bits (SCI_EN, BM_RLD) as they are. */
    if (!gas_read(g, 16, &v))
        v = 0;
    v &= ~(uint64_t)(PM1_SLP_TYP_MASK | PM1_SLP_EN);
    v |= (uint64_t)(slp_typ & 7) << PM1_SLP_TYP_SHIFT;
    if (enable)
        v |= PM1_SLP_EN;
    return gas_write(g, 16, v);
}

int acpi_poweroff(void)
{
    const acpi_fadt_t *f = acpi_fadt();
    uint8_t typa, typb;
    if (!f) {
        log_error("acpi: power off impossible: no FADT");
        return -ACPI_ENODEV;
    }
    if (acpi_s5_sleep_type(&typa, &typb) != 0) {
        log_error("acpi: power off impossible: no \\_S5_ object in the DSDT/SSDTs");
        return -ACPI_ENODEV;
    }
    bool hw_reduced = (f->flags & ACPI_FADT_HW_REDUCED) != 0;
    if (hw_reduced ? f->sleep_control.address == 0 : f->pm1a_cnt.address == 0) {
        log_error("acpi: power off impossible: no %s register",
                  hw_reduced ? "sleep control" : "PM1a control");
        return -ACPI_ENODEV;
    }
    log_info("acpi: entering S5 (SLP_TYPa %u, SLP_TYPb %u)", typa, typb);

    bool irqs = arch_irq_enabled();
    arch_irq_disable();
    if (hw_reduced) {
        gas_write(&f->sleep_control, 8,
                  ((uint64_t)(typa & 7) << SLEEP_CTL_TYP_SHIFT) | SLEEP_CTL_SLP_EN);
    } else {
        enter_acpi_mode(f);
        /* Set SLP_TYP first, then SLP_TYP|SLP_EN: the transition starts on SLP_EN and
         * some chipsets want the type latched beforehand. */
        write_pm1(&f->pm1a_cnt, typa, false);
        write_pm1(&f->pm1b_cnt, typb, false);
        write_pm1(&f->pm1a_cnt, typa, true);
        write_pm1(&f->pm1b_cnt, typb, true);
    }
    time_delay_us(SETTLE_US);
    if (irqs)
        arch_irq_enable();
    log_error("acpi: still running after the S5 request");
    return -ACPI_EIO;
}

int acpi_reboot(void)
{
    const acpi_fadt_t *f = acpi_fadt();
    bool irqs = arch_irq_enabled();
    arch_irq_disable();

    if (f && (f->flags & ACPI_FADT_RESET_REG_SUP) && f->reset_reg.address) {
        log_info("acpi: reset through the FADT reset register");
        if (gas_write(&f->reset_reg, 8, f->reset_value))
            time_delay_us(SETTLE_US);
    }

    log_info("acpi: reset through port 0xcf9");
    arch_outb(RST_CNT_PORT, RST_CNT_SYS);
    time_delay_us(10);
    arch_outb(RST_CNT_PORT, RST_CNT_SYS | RST_CNT_CPU);
    time_delay_us(SETTLE_US);

    log_info("acpi: reset through the 8042 controller");
    for (int i = 0; i < 100000 && (arch_inb(KBC_STATUS_PORT) & KBC_STATUS_IBF); i++)
        time_delay_us(1);
    arch_outb(KBC_STATUS_PORT, KBC_CMD_RESET);
    time_delay_us(SETTLE_US);

    if (irqs)
        arch_irq_enable();
    log_error("acpi: every reset method failed");
    return -ACPI_EIO;
}
