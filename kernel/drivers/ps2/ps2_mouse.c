/* SPDX-License-Identifier: MIT */
/*
 * PS/2 mouse packets (ps2_internal.h). Byte 0: buttons (bits 0-2), always-one (bit 3),
 * X and Y sign (bits 4, 5), X and Y overflow (bits 6, 7); byte 1: X movement; byte 2: Y
 * movement (up is positive); byte 3, IntelliMouse id 3 only: the wheel, signed.
 * The always-one bit is the only framing the protocol has, so it is how a lost byte is
 * recovered: a would-be first byte without it is dropped until one fits.
 */
#include "drivers/ps2/ps2_internal.h"

#define FIRST_ALWAYS_ONE 0x08u
#define FIRST_X_SIGN     0x10u
#define FIRST_Y_SIGN     0x20u

void ps2_mouse_parser_reset(ps2_mouse_parser_t *p, bool wheel)
{
    p->have = 0;
    p->size = wheel ? 4 : 3;
}

void ps2_mouse_parser_abandon(ps2_mouse_parser_t *p)
{
    if (p->have) {
        p->have = 0;
        p->resyncs++;
    }
}

bool ps2_mouse_parser_feed(ps2_mouse_parser_t *p, uint8_t byte, ps2_mouse_event_t *out)
{
    if (p->have == 0 && !(byte & FIRST_ALWAYS_ONE)) {
        p->resyncs++;
        return false;
    }
    p->packet[p->have++] = byte;
    if (p->have < p->size)
        return false;
    p->have = 0;
    uint8_t first = p->packet[0];
    int dx = p->packet[1] - ((first & FIRST_X_SIGN) ? 256 : 0);
    int dy = p->packet[2] - ((first & FIRST_Y_SIGN) ? 256 : 0);
    out->dx = (int16_t)dx;
    out->dy = (int16_t)-dy;
    out->wheel = p->size == 4 ? (int8_t)p->packet[3] : 0;
    out->buttons = first & (PS2_BUTTON_LEFT | PS2_BUTTON_RIGHT | PS2_BUTTON_MIDDLE);
    out->_pad[0] = out->_pad[1] = 0;
    return true;
}
