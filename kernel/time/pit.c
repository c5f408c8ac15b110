/* SPDX-License-Identifier: MIT */
/*
 * PIT (8254) channel 2 as a fallback calibration reference when there is no HPET.
 *
 * Channel 2 is the one whose gate and output software can reach (through port 0x61)
 * without an interrupt: program mode 0, let it count down with the gate high, and poll
 * OUT2, which rises at terminal count. The speaker stays disconnected throughout.
 */
#include "time/refclock.h"
#include "arch/x86_64/arch.h"

/* Intel 8254 datasheet: channel 2 data port and the mode/command register. */
#define PIT_CH2_DATA 0x42
#define PIT_COMMAND  0x43
/* Command: channel 2 (bits 7:6 = 10), lobyte/hibyte access (11), mode 0 "interrupt on
 * terminal count" (000), binary (0). */
#define PIT_CMD_CH2_MODE0 0xb0

/* Port 0x61, "NMI Status and Control" (Intel ICH9 datasheet §13.7.1 NMI_SC): bit 0
 * timer 2 gate, bit 1 speaker data enable, bits 3:2 NMI source enables (kept; bit 1 is written 0 so the speaker stays off), bit 5
 * timer 2 output (read only). */
#define NMI_SC_PORT      0x61
#define NMI_SC_TIM2_GATE 0x01
#define NMI_SC_SPKR_EN   0x02
#define NMI_SC_KEEP      0x0c
#define NMI_SC_TIM2_OUT  0x20

bool pit_oneshot_start(uint16_t count)
{
    uint8_t sc = arch_inb(NMI_SC_PORT);
    /* Gate high, speaker off; the read-only status bits are not written back. */
    arch_outb(NMI_SC_PORT, (uint8_t)((sc & NMI_SC_KEEP) | NMI_SC_TIM2_GATE));
    /* Writing the mode drives OUT2 low; counting starts on the clock after the count's
     * high byte is written. */
    arch_outb(PIT_COMMAND, PIT_CMD_CH2_MODE0);
    arch_outb(PIT_CH2_DATA, (uint8_t)(count & 0xff));
    arch_outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
    /* With no PIT (or no port 0x61) reads float high: OUT2 would already look done. */
    return (arch_inb(NMI_SC_PORT) & NMI_SC_TIM2_OUT) == 0;
}

bool pit_oneshot_done(void)
{
    return (arch_inb(NMI_SC_PORT) & NMI_SC_TIM2_OUT) != 0;
}
