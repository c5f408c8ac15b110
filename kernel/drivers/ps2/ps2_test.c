/* SPDX-License-Identifier: MIT */
/*
 * In-kernel tests of the PS/2 decoders (scancode set 1 to bytes and key events, mouse
 * packets) and of unloading and loading the live drivers under QEMU's i8042.
 */
#include "drivers/ps2/ps2_internal.h"
#include "drivers/registry/driver.h"
#include "arch/x86_64/ioapic.h"
#include "core/string.h"
#include "test/ktest.h"

/* Feeds bytes and collects every terminal byte and the last event. */
typedef struct {
    char text[64];
    size_t length;
    unsigned events;
    ps2_key_event_t last;
    bool leds_changed, ctrl_alt_del;
} typed_t;

static void feed(ps2_kbd_state_t *s, const uint8_t *bytes, size_t n, typed_t *t)
{
    memset(t, 0, sizeof(*t));
    for (size_t i = 0; i < n; i++) {
        ps2_kbd_result_t r;
        ps2_kbd_feed(s, bytes[i], &r);
        if (r.has_event) {
            t->events++;
            t->last = r.event;
        }
        t->leds_changed |= r.leds_changed;
        t->ctrl_alt_del |= r.ctrl_alt_del;
        if (t->length + r.length <= sizeof(t->text)) {
            memcpy(t->text + t->length, r.bytes, r.length);
            t->length += r.length;
        }
    }
}

static bool typed_is(const typed_t *t, const char *expected, size_t n)
{
    return t->length == n && memcmp(t->text, expected, n) == 0;
}

#define FEED(state, typed, ...)                                                        \
    do {                                                                               \
        static const uint8_t seq_[] = { __VA_ARGS__ };                                 \
        feed(state, seq_, sizeof(seq_), typed);                                        \
    } while (0)
#define TYPED_IS(typed, lit) typed_is(typed, lit, sizeof(lit) - 1)

KTEST(ps2_kbd_letters_digits_enter_backspace)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    /* m e m Enter, each pressed and released; then 1, Backspace, Tab, Esc, space */
    FEED(&s, &t, 0x32, 0xb2, 0x12, 0x92, 0x32, 0xb2, 0x1c, 0x9c);
    KTEST_EXPECT(TYPED_IS(&t, "mem\r"));
    KTEST_EXPECT_EQ(t.events, 8);
    KTEST_EXPECT_EQ(t.last.keycode, PS2_KEY_ENTER);
    KTEST_EXPECT_EQ(t.last.pressed, 0);
    FEED(&s, &t, 0x02, 0x82, 0x0e, 0x8e, 0x0f, 0x01, 0x39);
    KTEST_EXPECT(TYPED_IS(&t, "1\x7f\t\x1b "));
}

KTEST(ps2_kbd_shift_and_caps_lock)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    /* Shift down, a 1 /, Shift up, a */
    FEED(&s, &t, 0x2a, 0x1e, 0x02, 0x35, 0xaa, 0x1e);
    KTEST_EXPECT(TYPED_IS(&t, "A!?a"));
    /* Caps Lock press and release: LEDs change; letters upper, digits not */
    FEED(&s, &t, 0x3a, 0xba);
    KTEST_EXPECT(t.leds_changed);
    KTEST_EXPECT(s.modifiers & PS2_MOD_CAPS);
    FEED(&s, &t, 0x1e, 0x02, 0x36, 0x1e, 0xb6);
    KTEST_EXPECT(TYPED_IS(&t, "A1a")); /* Shift under Caps Lock gives lower case */
    /* A held Caps Lock repeats its make code: only the first toggles */
    FEED(&s, &t, 0x3a, 0x3a, 0x3a, 0xba);
    KTEST_EXPECT(!(s.modifiers & PS2_MOD_CAPS));
    KTEST_EXPECT_EQ(t.events, 4);
}

KTEST(ps2_kbd_ctrl_and_alt_combinations)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    /* Ctrl+C, Ctrl+A, Ctrl+[ , right Ctrl (E0 1D) + Z */
    FEED(&s, &t, 0x1d, 0x2e, 0x1e, 0x1a, 0x9d, 0xe0, 0x1d, 0x2c, 0xe0, 0x9d);
    KTEST_EXPECT(TYPED_IS(&t, "\x03\x01\x1b\x1a"));
    KTEST_EXPECT_EQ(s.modifiers & PS2_MOD_CTRL, 0);
    /* Left Alt+x gives ESC x; AltGr (E0 38) + x gives plain x */
    FEED(&s, &t, 0x38, 0x2d, 0xb8, 0xe0, 0x38, 0x2d, 0xe0, 0xb8);
    KTEST_EXPECT(TYPED_IS(&t, "\x1bxx"));
    /* Ctrl+Alt+Delete (E0 53): the hook flag, no bytes */
    FEED(&s, &t, 0x1d, 0x38, 0xe0, 0x53);
    KTEST_EXPECT(t.ctrl_alt_del);
    KTEST_EXPECT_EQ(t.length, 0);
    KTEST_EXPECT(t.last.modifiers & PS2_MOD_ALT);
    KTEST_EXPECT(t.last.modifiers & PS2_MOD_LCTRL);
    FEED(&s, &t, 0xe0, 0xd3, 0xb8, 0x9d);
    KTEST_EXPECT_EQ(s.modifiers & (PS2_MOD_CTRL | PS2_MOD_ALT), 0);
}

KTEST(ps2_kbd_e0_navigation_and_function_keys)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    FEED(&s, &t, 0xe0, 0x48, 0xe0, 0x50, 0xe0, 0x4d, 0xe0, 0x4b);
    KTEST_EXPECT(TYPED_IS(&t, "\x1b[A\x1b[B\x1b[C\x1b[D"));
    KTEST_EXPECT_EQ(t.last.keycode, PS2_KEY_LEFT);
    FEED(&s, &t, 0xe0, 0x47, 0xe0, 0x4f, 0xe0, 0x52, 0xe0, 0x53, 0xe0, 0x49, 0xe0, 0x51);
    KTEST_EXPECT(TYPED_IS(&t, "\x1b[H\x1b[F\x1b[2~\x1b[3~\x1b[5~\x1b[6~"));
    FEED(&s, &t, 0x3b, 0x3e, 0x3f, 0x44, 0x57, 0x58);
    KTEST_EXPECT(TYPED_IS(&t, "\x1bOP\x1bOS\x1b[15~\x1b[21~\x1b[23~\x1b[24~"));
    /* Keypad Enter and / (E0 1C, E0 35) */
    FEED(&s, &t, 0xe0, 0x1c, 0xe0, 0x35);
    KTEST_EXPECT(TYPED_IS(&t, "\r/"));
    /* Keypad 8 with Num Lock on (the default) is a digit; off, it is Up */
    FEED(&s, &t, 0x48, 0xc8, 0x45, 0xc5, 0x48);
    KTEST_EXPECT(TYPED_IS(&t, "8\x1b[A"));
    KTEST_EXPECT(t.leds_changed);
    KTEST_EXPECT_EQ(t.last.keycode, 0x48);
}

KTEST(ps2_kbd_print_screen_and_pause)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    /* Print Screen: E0 2A E0 37 / E0 B7 E0 AA; the fake shifts are no events */
    FEED(&s, &t, 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    KTEST_EXPECT_EQ(t.events, 2);
    KTEST_EXPECT_EQ(t.last.keycode, 0xe037);
    KTEST_EXPECT_EQ(s.modifiers & PS2_MOD_SHIFT, 0);
    /* Pause: six bytes, one press event, nothing typed; then keys work again */
    FEED(&s, &t, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x1e);
    KTEST_EXPECT_EQ(t.events, 2);
    KTEST_EXPECT(TYPED_IS(&t, "a"));
    KTEST_EXPECT(s.modifiers & PS2_MOD_NUM); /* the 45 inside Pause is not Num Lock */
    KTEST_EXPECT(!(s.modifiers & PS2_MOD_CTRL)); /* nor the 1D Ctrl */
    FEED(&s, &t, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    KTEST_EXPECT_EQ(t.last.keycode, PS2_KEY_PAUSE);
    KTEST_EXPECT_EQ(t.last.pressed, 1);
}

KTEST(ps2_kbd_ignores_replies_and_unknown_codes)
{
    ps2_kbd_state_t s;
    typed_t t;
    ps2_kbd_reset(&s);
    /* ACK, resend, echo, errors, unknown set-1 codes, an E0 with no such key */
    FEED(&s, &t, 0xfa, 0xfe, 0xee, 0x00, 0xff, 0xfc, 0x55, 0x7f, 0x80, 0xe0, 0x10, 0xe0, 0x7e);
    KTEST_EXPECT_EQ(t.events, 0);
    KTEST_EXPECT_EQ(t.length, 0);
    KTEST_EXPECT_EQ(s.modifiers, PS2_MOD_NUM);
    /* A lone E0 before an error byte does not stick to the next key */
    FEED(&s, &t, 0xe0, 0xff, 0x48);
    KTEST_EXPECT(TYPED_IS(&t, "8"));
}

KTEST(ps2_mouse_three_byte_packets_and_signs)
{
    ps2_mouse_parser_t p = { 0 };
    ps2_mouse_event_t ev;
    ps2_mouse_parser_reset(&p, false);
    /* left button, dx = +5, dy = +3 (PS/2 up) */
    KTEST_EXPECT(!ps2_mouse_parser_feed(&p, 0x09, &ev));
    KTEST_EXPECT(!ps2_mouse_parser_feed(&p, 0x05, &ev));
    KTEST_EXPECT(ps2_mouse_parser_feed(&p, 0x03, &ev));
    KTEST_EXPECT_EQ(ev.dx, 5);
    KTEST_EXPECT_EQ((uint16_t)ev.dy, (uint16_t)-3);
    KTEST_EXPECT_EQ(ev.buttons, PS2_BUTTON_LEFT);
    KTEST_EXPECT_EQ(ev.wheel, 0);
    /* both signs set: dx = -2, dy = -256 + 0 = -256 (down 256 on screen); overflow bits
     * (6, 7) ignored; right + middle buttons */
    static const uint8_t neg[] = { 0x08 | 0x10 | 0x20 | 0xc0 | 0x06, 0xfe, 0x00 };
    bool done = false;
    for (unsigned i = 0; i < 3; i++)
        done = ps2_mouse_parser_feed(&p, neg[i], &ev);
    KTEST_EXPECT(done);
    KTEST_EXPECT_EQ((uint16_t)ev.dx, (uint16_t)-2);
    KTEST_EXPECT_EQ(ev.dy, 256);
    KTEST_EXPECT_EQ(ev.buttons, PS2_BUTTON_RIGHT | PS2_BUTTON_MIDDLE);
    KTEST_EXPECT_EQ(p.resyncs, 0);
}

KTEST(ps2_mouse_resync_and_wheel_packets)
{
    ps2_mouse_parser_t p = { 0 };
    ps2_mouse_event_t ev;
    ps2_mouse_parser_reset(&p, true);
    /* Two stray bytes without bit 3 are dropped; then a 4-byte packet, wheel -1 */
    static const uint8_t bytes[] = { 0x01, 0x40, 0x08, 0x01, 0x02, 0xff };
    unsigned packets = 0;
    for (unsigned i = 0; i < sizeof(bytes); i++)
        packets += ps2_mouse_parser_feed(&p, bytes[i], &ev);
    KTEST_EXPECT_EQ(packets, 1);
    KTEST_EXPECT_EQ(p.resyncs, 2);
    KTEST_EXPECT_EQ(ev.dx, 1);
    KTEST_EXPECT_EQ((uint16_t)ev.dy, (uint16_t)-2);
    KTEST_EXPECT_EQ(ev.wheel, -1);
    /* A partial packet abandoned (bytes stopped coming): counted, next packet clean */
    ps2_mouse_parser_feed(&p, 0x08, &ev);
    ps2_mouse_parser_abandon(&p);
    KTEST_EXPECT_EQ(p.resyncs, 3);
    ps2_mouse_parser_abandon(&p); /* nothing partial: no count */
    KTEST_EXPECT_EQ(p.resyncs, 3);
    static const uint8_t next[] = { 0x08, 0x00, 0x00, 0x01 };
    packets = 0;
    for (unsigned i = 0; i < sizeof(next); i++)
        packets += ps2_mouse_parser_feed(&p, next[i], &ev);
    KTEST_EXPECT_EQ(packets, 1);
    KTEST_EXPECT_EQ(ev.wheel, 1);
}

/* QEMU q35 always has an i8042 with a keyboard and a mouse. */
KTEST(ps2_unload_masks_irq_and_load_restores_it)
{
    uint32_t gsi;
    bool level, active_low;
    KTEST_EXPECT(ioapic_isa_to_gsi(1, &gsi, &level, &active_low));
    KTEST_EXPECT(driver_is_loaded("ps2-keyboard"));
    KTEST_EXPECT(!(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED));
    KTEST_EXPECT_EQ(driver_unload("ps2-keyboard"), 0);
    KTEST_EXPECT(!driver_is_loaded("ps2-keyboard"));
    KTEST_EXPECT(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED);
    KTEST_EXPECT_EQ(driver_unload("ps2-keyboard"), 0); /* already unloaded: nothing to do */
    KTEST_EXPECT_EQ(driver_load("ps2-keyboard"), 0);
    KTEST_EXPECT(driver_is_loaded("ps2-keyboard"));
    KTEST_EXPECT(!(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED));

    KTEST_EXPECT(ioapic_isa_to_gsi(12, &gsi, &level, &active_low));
    KTEST_EXPECT_EQ(driver_unload("ps2-mouse"), 0);
    KTEST_EXPECT(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED);
    KTEST_EXPECT_EQ(driver_load("ps2-mouse"), 0);
    KTEST_EXPECT(!(ioapic_read_entry(gsi) & IOAPIC_ENTRY_MASKED));
    KTEST_EXPECT(driver_is_loaded("ps2-mouse"));
}
