/* SPDX-License-Identifier: MIT */
/*
 * Inside the PS/2 driver: the pure decoders, shared by ps2.c and the ktests. Neither
 * touches hardware, time or locks; each works on a state struct its caller owns.
 */
#ifndef KERNEL_DRIVERS_PS2_PS2_INTERNAL_H
#define KERNEL_DRIVERS_PS2_PS2_INTERNAL_H

#include "drivers/ps2/ps2.h"

/* Scancode set 1 (as translated by the controller) to key events and terminal bytes
 * (ps2_keyboard.c). */
#define PS2_KEY_BYTES_MAX 8 /* the longest output: ESC [ 2 4 ~ for F12, or ESC + char */

typedef struct {
    uint8_t prefix;      /* 0, or 0xe0 after an E0 byte */
    uint8_t pause_left;  /* bytes of the E1 1D 45 E1 9D C5 Pause sequence still to come */
    uint16_t modifiers;  /* PS2_MOD_* */
    uint16_t locks_down; /* lock keys held (PS2_MOD_CAPS/NUM/SCROLL): repeats do not toggle */
} ps2_kbd_state_t;

typedef struct {
    bool has_event;            /* a key event was decoded */
    bool leds_changed;         /* a lock key toggled: send the LEDs (PS2_MOD_CAPS/NUM/SCROLL) */
    bool ctrl_alt_del;         /* Ctrl+Alt+Delete was just pressed */
    ps2_key_event_t event;
    size_t length;             /* terminal bytes in bytes[] (0 for releases, modifiers) */
    char bytes[PS2_KEY_BYTES_MAX];
} ps2_kbd_result_t;

/* Lock states at start: Num Lock on, as PC firmware leaves it. */
void ps2_kbd_reset(ps2_kbd_state_t *s);
/* Feeds one byte from the controller. Controller replies (ACK, resend, errors, 0x00,
 * 0xff) and codes no key has are ignored: the result then has no event and no bytes. */
void ps2_kbd_feed(ps2_kbd_state_t *s, uint8_t byte, ps2_kbd_result_t *out);

/* Mouse packets (ps2_mouse.c). */
typedef struct {
    uint8_t packet[4];
    uint8_t have;        /* bytes of the current packet received */
    uint8_t size;        /* 3, or 4 with an IntelliMouse wheel */
    uint64_t resyncs;    /* bytes dropped because they could not start a packet */
} ps2_mouse_parser_t;

void ps2_mouse_parser_reset(ps2_mouse_parser_t *p, bool wheel);
/* Feeds one byte; true when it completed a packet, with *out filled. A first byte
 * without bit 3 (always set in a valid first byte) is dropped and counted in resyncs.
 * The X/Y overflow bits are ignored (the 9-bit deltas are used as they are). */
bool ps2_mouse_parser_feed(ps2_mouse_parser_t *p, uint8_t byte, ps2_mouse_event_t *out);
/* Drops a partial packet (the driver calls it when bytes stop arriving mid-packet);
 * counts a resync when one was dropped. */
void ps2_mouse_parser_abandon(ps2_mouse_parser_t *p);

#endif
