/* SPDX-License-Identifier: MIT */
/*
 * PS/2 keyboard and mouse behind an i8042-compatible controller (docs/input.md).
 *
 * The keyboard speaks scancode set 2 and the controller translates it to set 1 (the
 * configuration byte's translation bit, which firmware and QEMU leave on); the driver
 * decodes set 1 with a US keymap into bytes for a terminal (ASCII, control bytes,
 * VT100/xterm escape sequences) and into key events. The mouse streams 3-byte packets,
 * or 4-byte IntelliMouse packets with a wheel when the device answers id 3.
 *
 * Two drivers in the registry (drivers/registry/driver.h): ps2-keyboard and ps2-mouse,
 * each with load/unload actions and counters under /drivers/NAME.
 *
 * Context: the keyboard sink and the Ctrl+Alt+Delete hook are called from the keyboard
 * interrupt handler (interrupts off, the driver's lock held): they must not sleep, must
 * not block, and must not call back into this driver. The read functions may be called
 * from any thread or CPU; they never block.
 */
#ifndef KERNEL_DRIVERS_PS2_PS2_H
#define KERNEL_DRIVERS_PS2_PS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Modifier state carried by every key event (ps2_key_event_t.modifiers). */
#define PS2_MOD_LSHIFT 0x0001u
#define PS2_MOD_RSHIFT 0x0002u
#define PS2_MOD_LCTRL  0x0004u
#define PS2_MOD_RCTRL  0x0008u
#define PS2_MOD_ALT    0x0010u /* left Alt */
#define PS2_MOD_ALTGR  0x0020u /* right Alt */
#define PS2_MOD_LGUI   0x0040u
#define PS2_MOD_RGUI   0x0080u
#define PS2_MOD_CAPS   0x0100u /* Caps Lock is on */
#define PS2_MOD_NUM    0x0200u /* Num Lock is on */
#define PS2_MOD_SCROLL 0x0400u /* Scroll Lock is on */
#define PS2_MOD_SHIFT  (PS2_MOD_LSHIFT | PS2_MOD_RSHIFT)
#define PS2_MOD_CTRL   (PS2_MOD_LCTRL | PS2_MOD_RCTRL)

/* Key codes: the set-1 make code of the key (0x01..0x7f), 0xe000 | code for keys sent
 * with the E0 prefix (arrows, right Ctrl/Alt, keypad Enter and /, ...), and PS2_KEY_PAUSE.
 * They name physical keys, whatever the modifiers. */
#define PS2_KEY_ESC       0x01
#define PS2_KEY_BACKSPACE 0x0e
#define PS2_KEY_TAB       0x0f
#define PS2_KEY_ENTER     0x1c
#define PS2_KEY_LCTRL     0x1d
#define PS2_KEY_LSHIFT    0x2a
#define PS2_KEY_RSHIFT    0x36
#define PS2_KEY_LALT      0x38
#define PS2_KEY_SPACE     0x39
#define PS2_KEY_CAPS_LOCK 0x3a
#define PS2_KEY_F1        0x3b /* F1..F10 are 0x3b..0x44 */
#define PS2_KEY_NUM_LOCK  0x45
#define PS2_KEY_F11       0x57
#define PS2_KEY_F12       0x58
#define PS2_KEY_RCTRL     0xe01d
#define PS2_KEY_RALT      0xe038
#define PS2_KEY_HOME      0xe047
#define PS2_KEY_UP        0xe048
#define PS2_KEY_PAGE_UP   0xe049
#define PS2_KEY_LEFT      0xe04b
#define PS2_KEY_RIGHT     0xe04d
#define PS2_KEY_END       0xe04f
#define PS2_KEY_DOWN      0xe050
#define PS2_KEY_PAGE_DOWN 0xe051
#define PS2_KEY_INSERT    0xe052
#define PS2_KEY_DELETE    0xe053
#define PS2_KEY_PAUSE     0xe11d

typedef struct {
    uint16_t keycode;   /* PS2_KEY_* */
    uint16_t modifiers; /* PS2_MOD_* after this event (a Shift press has Shift set) */
    uint8_t pressed;    /* 1 press (or typematic repeat), 0 release */
    uint8_t _pad[3];
} ps2_key_event_t;

#define PS2_BUTTON_LEFT   0x01u
#define PS2_BUTTON_RIGHT  0x02u
#define PS2_BUTTON_MIDDLE 0x04u

typedef struct {
    int16_t dx;       /* right is positive */
    int16_t dy;       /* down is positive (screen direction; PS/2 itself counts up) */
    int8_t wheel;     /* positive: rolled towards the user (scroll down); 0 without a wheel */
    uint8_t buttons;  /* PS2_BUTTON_* held */
    uint8_t _pad[2];
} ps2_mouse_event_t;

/* Finds the controller (bounded waits: no controller means a log line, never a hang),
 * resets and enables both devices, routes IRQ 1 and 12, and registers ps2-keyboard and
 * ps2-mouse. Call once, after kobj_init, driver_registry_init and ioapic_init. */
void ps2_init(void);

/* Where the keyboard's terminal bytes go. Called from the interrupt handler (see the
 * context note above) with 1..8 bytes: one key's worth (an escape sequence arrives
 * whole). NULL restores the default: a CONFIG_PS2_KEY_BYTES ring read with
 * ps2_keyboard_read_byte. */
void ps2_set_keyboard_sink(void (*sink)(const char *bytes, size_t n));
/* The next byte of the default ring, or -1 when it is empty. Never blocks. */
int ps2_keyboard_read_byte(void);

/* Called (interrupt context) when Ctrl+Alt+Delete is pressed. NULL: the default, which
 * only logs it. */
void ps2_set_ctrl_alt_del(void (*fn)(void));

/* The oldest buffered key event / mouse event: true with *out filled, false when none
 * is waiting. Rings hold CONFIG_PS2_KEY_EVENTS / CONFIG_PS2_MOUSE_EVENTS; newer events
 * are dropped (and counted) when full. */
bool ps2_key_event_read(ps2_key_event_t *out);
bool ps2_mouse_event_read(ps2_mouse_event_t *out);

#endif
