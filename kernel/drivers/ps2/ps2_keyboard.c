/* SPDX-License-Identifier: MIT */
/*
 * Scancode set 1 to key events and terminal bytes, with a US keymap (ps2_internal.h).
 *
 * Set 1 as the i8042 delivers it with translation on: a key's make code is one byte
 * 0x01..0x58, its break code the same with bit 7 set; keys added after the XT (arrows,
 * right Ctrl/Alt, keypad Enter and /, the navigation block, the GUI keys) send 0xE0
 * first. Print Screen wraps itself in "fake shift" codes (E0 2A / E0 B7 ... E0 AA),
 * which are dropped. Pause sends E1 1D 45 E1 9D C5 on press and nothing on release, so
 * it yields one press event. Typematic repeat resends the make code: a press event
 * each time, with its bytes (lock keys toggle only on the first press).
 *
 * Bytes follow what xterm sends in its default (VT100 cursor-key normal) mode: arrows
 * ESC [ A..D, Home/End ESC [ H / ESC [ F, Insert/Delete/PgUp/PgDn ESC [ 2~ 3~ 5~ 6~,
 * F1-F4 ESC O P..S, F5-F12 ESC [ 15~ 17~ 18~ 19~ 20~ 21~ 23~ 24~. Enter is CR,
 * Backspace DEL (0x7f), Ctrl+letter the control byte, left Alt+key ESC then the key.
 * The US layout has no AltGr level: right Alt changes nothing but the modifier bits.
 */
#include "drivers/ps2/ps2_internal.h"
#include "core/string.h"

#define BREAK_BIT 0x80u

/* Set-1 codes 0x00..0x39 without and with Shift; 0 where a key makes no character. */
static const char keymap_plain[0x3a] =
    "\0\x1b" "1234567890-=" "\x7f\t" "qwertyuiop[]" "\r\0" "asdfghjkl;'`" "\0\\"
    "zxcvbnm,./" "\0*\0 ";
static const char keymap_shift[0x3a] =
    "\0\x1b" "!@#$%^&*()_+" "\x7f\t" "QWERTYUIOP{}" "\r\0" "ASDFGHJKL:\"~" "\0|"
    "ZXCVBNM<>?" "\0*\0 ";
/* The keypad, 0x47..0x53, with Num Lock on (and no Shift). */
static const char keypad_digits[] = "789-456+1230.";

/* Sequences of the navigation keys, by the low byte of their E0 code. */
static const char *nav_sequence(uint8_t code)
{
    switch (code) {
    case 0x47: return "\x1b[H";
    case 0x48: return "\x1b[A";
    case 0x49: return "\x1b[5~";
    case 0x4b: return "\x1b[D";
    case 0x4d: return "\x1b[C";
    case 0x4f: return "\x1b[F";
    case 0x50: return "\x1b[B";
    case 0x51: return "\x1b[6~";
    case 0x52: return "\x1b[2~";
    case 0x53: return "\x1b[3~";
    default: return NULL;
    }
}

static const char *function_sequence(uint8_t code)
{
    static const char *const f1_f10[10] = {
        "\x1bOP", "\x1bOQ", "\x1bOR", "\x1bOS", "\x1b[15~",
        "\x1b[17~", "\x1b[18~", "\x1b[19~", "\x1b[20~", "\x1b[21~",
    };
    if (code >= 0x3b && code <= 0x44)
        return f1_f10[code - 0x3b];
    if (code == 0x57)
        return "\x1b[23~";
    if (code == 0x58)
        return "\x1b[24~";
    return NULL;
}

/* Whether a set-1 code (0x01..0x7f) names a key, without and with the E0 prefix. */
static bool known_key(uint8_t code, bool e0)
{
    if (!e0)
        return code >= 0x01 && code <= 0x58 && code != 0x54 && code != 0x55;
    switch (code) {
    case 0x1c: case 0x1d: case 0x35: case 0x37: case 0x38: case 0x46: case 0x5b:
    case 0x5c: case 0x5d:
        return true;
    default:
        return nav_sequence(code) != NULL;
    }
}

/* The modifier bit a key holds while down (0 for other keys). */
static uint16_t modifier_of(uint16_t keycode)
{
    switch (keycode) {
    case PS2_KEY_LSHIFT: return PS2_MOD_LSHIFT;
    case PS2_KEY_RSHIFT: return PS2_MOD_RSHIFT;
    case PS2_KEY_LCTRL: return PS2_MOD_LCTRL;
    case PS2_KEY_RCTRL: return PS2_MOD_RCTRL;
    case PS2_KEY_LALT: return PS2_MOD_ALT;
    case PS2_KEY_RALT: return PS2_MOD_ALTGR;
    case 0xe05b: return PS2_MOD_LGUI;
    case 0xe05c: return PS2_MOD_RGUI;
    default: return 0;
    }
}

/* The lock a key toggles (0 for other keys). */
static uint16_t lock_of(uint16_t keycode)
{
    switch (keycode) {
    case PS2_KEY_CAPS_LOCK: return PS2_MOD_CAPS;
    case PS2_KEY_NUM_LOCK: return PS2_MOD_NUM;
    case 0x46: return PS2_MOD_SCROLL;
    default: return 0;
    }
}

void ps2_kbd_reset(ps2_kbd_state_t *s)
{
    s->prefix = 0;
    s->pause_left = 0;
    s->modifiers = PS2_MOD_NUM;
    s->locks_down = 0;
}

static void put(ps2_kbd_result_t *out, const char *bytes, size_t n)
{
    if (out->length + n > PS2_KEY_BYTES_MAX)
        return; /* cannot happen with the tables above; never overflow */
    memcpy(out->bytes + out->length, bytes, n);
    out->length += n;
}

/* The character a plain (not E0) key makes with the current modifiers, 0 for none. */
static char plain_char(uint8_t code, uint16_t mods)
{
    bool shift = (mods & PS2_MOD_SHIFT) != 0;
    if (code >= 0x47 && code <= 0x53) {
        char c = keypad_digits[code - 0x47];
        bool digit = c != '-' && c != '+';
        return (!digit || ((mods & PS2_MOD_NUM) && !shift)) ? c : 0;
    }
    if (code == 0x56) /* the 102nd key, next to left Shift on ISO boards */
        return shift ? '|' : '\\';
    if (code >= sizeof(keymap_plain))
        return 0;
    char c = keymap_plain[code];
    if (c >= 'a' && c <= 'z' && (mods & PS2_MOD_CAPS))
        shift = !shift;
    return shift ? keymap_shift[code] : c;
}

/* Ctrl applied to a character, as a terminal does it. */
static char control_char(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 1);
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 1);
    switch (c) {
    case ' ': case '@': case '2': return 0x00;
    case '[': return 0x1b;
    case '\\': return 0x1c;
    case ']': return 0x1d;
    case '^': case '6': return 0x1e;
    case '_': case '-': case '/': return 0x1f;
    default: return c;
    }
}

/* The bytes of a key press, into out. */
static void press_bytes(uint16_t keycode, uint16_t mods, ps2_kbd_result_t *out)
{
    uint8_t code = (uint8_t)keycode;
    bool e0 = keycode >= 0xe000;
    const char *seq = NULL;
    char c = 0;
    if (e0) {
        if (code == 0x1c)
            c = '\r';
        else if (code == 0x35)
            c = '/';
        else
            seq = nav_sequence(code);
    } else if ((seq = function_sequence(code)) == NULL) {
        c = plain_char(code, mods);
        if (!c && code >= 0x47 && code <= 0x53)
            seq = nav_sequence(code); /* keypad with Num Lock off (or Shift) */
    }
    if (seq) {
        put(out, seq, strlen(seq));
        return;
    }
    if (!c)
        return;
    if (mods & PS2_MOD_CTRL)
        c = control_char(c);
    if (mods & PS2_MOD_ALT)
        put(out, "\x1b", 1);
    put(out, &c, 1);
}

void ps2_kbd_feed(ps2_kbd_state_t *s, uint8_t byte, ps2_kbd_result_t *out)
{
    memset(out, 0, sizeof(*out));
    if (s->pause_left) {
        if (--s->pause_left == 0) {
            out->has_event = true;
            out->event.keycode = PS2_KEY_PAUSE;
            out->event.pressed = 1;
            out->event.modifiers = s->modifiers;
        }
        return;
    }
    switch (byte) {
    case 0x00: case 0xff:             /* key detection error / buffer overrun */
    case 0xfa: case 0xfe: case 0xee:  /* ACK, resend, echo: replies to commands */
    case 0xfc: case 0xfd:             /* self-test / diagnostic failures */
        s->prefix = 0;
        return;
    case 0xe0:
        s->prefix = 0xe0;
        return;
    case 0xe1:
        s->prefix = 0;
        s->pause_left = 5;
        return;
    default:
        break;
    }
    bool e0 = s->prefix == 0xe0;
    s->prefix = 0;
    uint8_t code = byte & (uint8_t)~BREAK_BIT;
    bool pressed = !(byte & BREAK_BIT);
    if (e0 && (code == 0x2a || code == 0x36))
        return; /* Print Screen's fake shifts */
    if (!known_key(code, e0))
        return;
    uint16_t keycode = e0 ? (uint16_t)(0xe000 | code) : code;

    uint16_t mod = modifier_of(keycode), lock = lock_of(keycode);
    if (mod) {
        if (pressed)
            s->modifiers |= mod;
        else
            s->modifiers &= (uint16_t)~mod;
    }
    if (lock) {
        if (pressed && !(s->locks_down & lock)) {
            s->modifiers ^= lock;
            out->leds_changed = true;
        }
        if (pressed)
            s->locks_down |= lock;
        else
            s->locks_down &= (uint16_t)~lock;
    }
    out->has_event = true;
    out->event.keycode = keycode;
    out->event.pressed = pressed;
    out->event.modifiers = s->modifiers;
    if (!pressed || mod || lock)
        return;
    if ((code == 0x53) && (s->modifiers & PS2_MOD_CTRL) &&
        (s->modifiers & (PS2_MOD_ALT | PS2_MOD_ALTGR))) {
        out->ctrl_alt_del = true;
        return;
    }
    press_bytes(keycode, s->modifiers, out);
}
