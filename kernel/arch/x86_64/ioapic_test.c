/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the I/O APIC: everything but the lines drivers route masked after
 * boot (the 8259s too), ISA overrides from the MADT, and a real interrupt: PIT channel
 * 0 (ISA IRQ 0) routed to the last CPU arrives there.
 */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/arch.h"
#include "acpi/acpi.h"
#include "core/log.h"
#include "sched/sched.h"
#include "test/ktest.h"
#include "time/time.h"
#include <vk/errno.h>

#define PIC1_DATA     0x21
#define PIC2_DATA     0xa1
#define PIT_CH0_DATA  0x40
#define PIT_COMMAND   0x43
#define PIT_CH0_MODE2 0x34 /* channel 0, lobyte/hibyte, mode 2 (rate generator) */
#define PIT_CH0_MODE0 0x30 /* channel 0, lobyte/hibyte, mode 0 (one shot: then quiet) */
#define PIT_1MS       1193 /* 1.193182 MHz input */

KTEST(ioapic_lines_start_masked_and_the_8259s_are_masked)
{
    KTEST_EXPECT(ioapic_gsi_count() >= 16);
    /* Only the lines drivers routed are open: the serial port's receive interrupt
     * (kernel/tty), ISA IRQ 4, and the PS/2 keyboard and mouse, ISA IRQ 1 and 12. */
    static const unsigned routed[] = { 4, 1, 12 };
    uint32_t open_gsi[3] = { UINT32_MAX, UINT32_MAX, UINT32_MAX };
    bool level, low;
    for (unsigned i = 0; i < 3; i++)
        ioapic_isa_to_gsi(routed[i], &open_gsi[i], &level, &low);
    unsigned unmasked = 0;
    for (uint32_t gsi = 0; gsi < ioapic_gsi_count(); gsi++)
        if (!(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED) && gsi != open_gsi[0] &&
            gsi != open_gsi[1] && gsi != open_gsi[2])
            unmasked++;
    KTEST_EXPECT_EQ(unmasked, 0);
    KTEST_EXPECT_EQ(arch_inb(PIC1_DATA), 0xff);
    KTEST_EXPECT_EQ(arch_inb(PIC2_DATA), 0xff);
}

KTEST(ioapic_isa_irqs_follow_the_madt_overrides)
{
    const acpi_madt_t *m = acpi_madt();
    uint32_t gsi;
    bool level, low;
    KTEST_EXPECT(!ioapic_isa_to_gsi(16, &gsi, &level, &low));
    /* QEMU's q35 MADT moves IRQ 0 to GSI 2 (edge, high) and makes the SCI level. */
    KTEST_EXPECT(ioapic_isa_to_gsi(0, &gsi, &level, &low));
    KTEST_EXPECT_EQ(gsi, 2);
    KTEST_EXPECT(!level && !low);
    unsigned checked = 0;
    for (unsigned i = 0; m && i < m->override_count; i++) {
        const acpi_madt_override_t *o = &m->overrides[i];
        if (o->bus != 0 || o->source >= 16)
            continue;
        KTEST_EXPECT(ioapic_isa_to_gsi(o->source, &gsi, &level, &low));
        KTEST_EXPECT_EQ(gsi, o->gsi);
        KTEST_EXPECT_EQ(level, (o->flags & ACPI_MPS_TRIGGER_MASK) == ACPI_MPS_TRIGGER_LEVEL);
        checked++;
    }
    KTEST_EXPECT(checked >= 1);
    /* An IRQ without an override keeps the ISA defaults. */
    KTEST_EXPECT(ioapic_isa_to_gsi(1, &gsi, &level, &low));
    KTEST_EXPECT(gsi == 1 && !level && !low);
}

static volatile unsigned pit_hits, pit_wrong_cpu;
static unsigned pit_target;

static void pit_interrupt(arch_frame_t *frame)
{
    (void)frame;
    pit_hits++;
    if (arch_cpu_index() != pit_target)
        pit_wrong_cpu++;
}

KTEST(ioapic_routes_the_pit_irq_to_the_chosen_cpu)
{
    uint8_t vector = arch_irq_alloc_vector();
    KTEST_EXPECT(vector != 0);
    if (!vector)
        return;
    pit_hits = pit_wrong_cpu = 0;
    pit_target = arch_cpu_count() - 1;
    arch_irq_register(vector, pit_interrupt, true);
    KTEST_EXPECT_EQ(ioapic_route_isa(0, vector, pit_target), 0);
    uint64_t entry = ioapic_read_entry(2);
    KTEST_EXPECT_EQ(entry & 0xff, vector);
    KTEST_EXPECT(!(entry & IOAPIC_ENTRY_MASKED));
    arch_outb(PIT_COMMAND, PIT_CH0_MODE2);
    arch_outb(PIT_CH0_DATA, PIT_1MS & 0xff);
    arch_outb(PIT_CH0_DATA, PIT_1MS >> 8);
    uint64_t give_up = time_monotonic_ns() + 5000000000ull;
    while (pit_hits < 5 && time_monotonic_ns() < give_up)
        sched_sleep_ns(1000000);
    KTEST_EXPECT_EQ(ioapic_mask_gsi(2), 0);
    arch_outb(PIT_COMMAND, PIT_CH0_MODE0); /* one more count, then the output stays put */
    arch_outb(PIT_CH0_DATA, 1);
    arch_outb(PIT_CH0_DATA, 0);
    KTEST_EXPECT(pit_hits >= 5);
    KTEST_EXPECT_EQ(pit_wrong_cpu, 0);
    KTEST_EXPECT(ioapic_read_entry(2) & IOAPIC_ENTRY_MASKED);
    KTEST_EXPECT_EQ(ioapic_route_isa(0, vector, 64), -VK_EINVAL);
    KTEST_EXPECT_EQ(ioapic_route_gsi(100000, vector, 0, false, false), -VK_ENODEV);
}
