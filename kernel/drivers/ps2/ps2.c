/* SPDX-License-Identifier: MIT */
/*
 * The i8042 PS/2 controller, its two devices, their interrupts, rings and KObj nodes
 * (ps2.h; docs/input.md). Decoding is in ps2_keyboard.c and ps2_mouse.c.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/Auxiliary
 * Device Controller" (status register, commands 0x20/0x60/0xA7-0xAE/0xD4, the command
 * byte); "Keyboard and Auxiliary Device" for the device commands (0xED LEDs, 0xF2 id,
 * 0xF3 sample rate, 0xF4/0xF5 enable/disable, 0xFF reset); Microsoft's IntelliMouse
 * protocol note for the 200/100/80 sample-rate knock that turns on id 3.
 *
 * Design notes:
 *  - Every wait on the status register is bounded in time and in polls, so a
 *    machine without a controller (the port reads 0xff) or with a dead device costs a
 *    few milliseconds at boot, never a hang.
 *  - The whole bring-up is polled with both devices' interrupts off in the command byte;
 *    IRQ 1 and 12 are routed through the I/O APIC (MADT overrides applied) to the boot
 *    CPU only at the end. One handler serves both vectors: it reads bytes while the
 *    status says one is waiting and dispatches them by the status "aux data" bit, so a
 *    byte never goes to the wrong decoder whichever line fired.
 *  - ps2_lock guards the controller, the decoders, the rings and the counters. Command
 *    sequences after boot (LEDs, load/unload) run under it with interrupts off; while
 *    they wait for a device's answer, bytes from the other device are dispatched as the
 *    handler would.
 *  - The LED update is asynchronous: the handler sends 0xED and the LED byte follows
 *    when the keyboard's ACK arrives, so nothing waits in interrupt context.
 */
#include "drivers/ps2/ps2_internal.h"
#include "drivers/registry/driver.h"
#include "arch/x86_64/arch.h"
#include "arch/x86_64/ioapic.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "kobj/kobj.h"
#include "time/time.h"
#include "config.h"
#include <vk/errno.h>

/* Ports and status bits (IBM reference, "Status Register"). */
#define PS2_DATA            0x60
#define PS2_STATUS          0x64 /* read */
#define PS2_COMMAND         0x64 /* write */
#define STATUS_OUTPUT_FULL  0x01 /* a byte waits in PS2_DATA */
#define STATUS_INPUT_FULL   0x02 /* the controller has not taken our last byte */
#define STATUS_AUX_DATA     0x20 /* the waiting byte came from the aux (mouse) port */

/* Controller commands. */
#define CMD_READ_CONFIG     0x20
#define CMD_WRITE_CONFIG    0x60
#define CMD_DISABLE_AUX     0xa7
#define CMD_ENABLE_AUX      0xa8
#define CMD_TEST_AUX        0xa9 /* 0x00 = port fine */
#define CMD_SELF_TEST       0xaa /* 0x55 = controller fine */
#define CMD_TEST_KBD        0xab /* 0x00 = port fine */
#define CMD_DISABLE_KBD     0xad
#define CMD_ENABLE_KBD      0xae
#define CMD_WRITE_AUX       0xd4 /* the next data byte goes to the mouse */

/* Command ("configuration") byte bits. */
#define CONFIG_KBD_IRQ      0x01
#define CONFIG_AUX_IRQ      0x02
#define CONFIG_KBD_CLOCK_OFF 0x10
#define CONFIG_AUX_CLOCK_OFF 0x20
#define CONFIG_TRANSLATE    0x40

/* Device commands and replies. */
#define DEV_SET_LEDS        0xed
#define DEV_GET_ID          0xf2
#define DEV_SAMPLE_RATE     0xf3
#define DEV_ENABLE          0xf4
#define DEV_DISABLE         0xf5
#define DEV_RESET           0xff
#define DEV_ACK             0xfa

#define CONTROLLER_TIMEOUT_MS 20   /* the controller answers in microseconds */
#define DEVICE_ACK_TIMEOUT_MS 100
#define DEVICE_RESET_TIMEOUT_MS 1000 /* self-test (BAT) takes up to ~500 ms on hardware */
#define MOUSE_PACKET_GAP_NS 50000000ull /* bytes of one packet come within ~1 ms */
#define FLUSH_MAX           64   /* bytes read when draining stale output */

enum { PORT_KBD, PORT_AUX };

static spinlock_t ps2_lock;
/* Guarded by ps2_lock. */
static struct {
    bool present;                /* the controller passed its self-test */
    bool port_ok[2];             /* the port exists and passed its test */
    bool enabled[2];             /* loaded: the device streams and its IRQ is routed */
    uint8_t vector[2];
    uint8_t led_state;           /* 0: idle, 1: 0xED sent, 2: LED byte sent */
    uint8_t mouse_id;            /* 0 plain, 3 IntelliMouse (wheel) */
    uint64_t last_mouse_ns;
    ps2_kbd_state_t kbd;
    ps2_mouse_parser_t mouse;
    void (*sink)(const char *bytes, size_t n);
    void (*ctrl_alt_del)(void);
    /* Rings: head is the next to read, count how many wait. */
    char bytes[CONFIG_PS2_KEY_BYTES];
    unsigned bytes_head, bytes_count;
    ps2_key_event_t keys[CONFIG_PS2_KEY_EVENTS];
    unsigned keys_head, keys_count;
    ps2_mouse_event_t moves[CONFIG_PS2_MOUSE_EVENTS];
    unsigned moves_head, moves_count;
    /* Counters (KObj). */
    uint64_t key_presses, key_bytes, kbd_ignored, kbd_dropped, packets, mouse_dropped,
        unexpected_irqs;
} ps2;

/* ---- controller I/O, every wait bounded ---- */

/* A bounded wait: over when the time is up, or after a number of polls that would
 * take longer than that anyway (a status read costs about a microsecond), so a wait
 * ends even if the clock does not run. */
typedef struct {
    uint64_t end_ns;
    uint64_t polls_left;
} wait_t;

static wait_t wait_start(unsigned ms)
{
    return (wait_t){ time_monotonic_ns() + ms * 1000000ull, ms * 2000ull };
}

static bool wait_over(wait_t *w)
{
    return w->polls_left-- == 0 || time_monotonic_ns() >= w->end_ns;
}

static bool wait_input_empty(void)
{
    wait_t w = wait_start(CONTROLLER_TIMEOUT_MS);
    do {
        if (!(arch_inb(PS2_STATUS) & STATUS_INPUT_FULL))
            return true;
    } while (!wait_over(&w));
    return false;
}

static bool send_command(uint8_t cmd)
{
    if (!wait_input_empty())
        return false;
    arch_outb(PS2_COMMAND, cmd);
    return true;
}

static bool send_data(uint8_t value)
{
    if (!wait_input_empty())
        return false;
    arch_outb(PS2_DATA, value);
    return true;
}

static void dispatch(uint8_t status, uint8_t byte);

/* The next byte from the controller itself or from port `port` (-1: any), within
 * timeout_ms; bytes from the other port meanwhile go to their decoder. -1 on timeout. */
static int read_byte(int port, unsigned timeout_ms)
{
    wait_t w = wait_start(timeout_ms);
    do {
        uint8_t status = arch_inb(PS2_STATUS);
        if (status & STATUS_OUTPUT_FULL) {
            uint8_t byte = arch_inb(PS2_DATA);
            int from = (status & STATUS_AUX_DATA) ? PORT_AUX : PORT_KBD;
            if (port < 0 || from == port)
                return byte;
            dispatch(status, byte);
        }
    } while (!wait_over(&w));
    return -1;
}

static void flush_output(void)
{
    for (unsigned i = 0; i < FLUSH_MAX && (arch_inb(PS2_STATUS) & STATUS_OUTPUT_FULL); i++)
        (void)arch_inb(PS2_DATA);
}

/* A controller command that answers one byte (-1 on timeout). */
static int controller_query(uint8_t cmd)
{
    return send_command(cmd) ? read_byte(-1, CONTROLLER_TIMEOUT_MS) : -1;
}

static bool write_config(uint8_t config)
{
    return send_command(CMD_WRITE_CONFIG) && send_data(config);
}

/* Sends a byte to a device and waits for its ACK (one resend on 0xFE). */
static bool device_command(int port, uint8_t value)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (port == PORT_AUX && !send_command(CMD_WRITE_AUX))
            return false;
        if (!send_data(value))
            return false;
        int reply = read_byte(port, DEVICE_ACK_TIMEOUT_MS);
        if (reply == DEV_ACK)
            return true;
        if (reply != 0xfe)
            return false;
    }
    return false;
}

/* ---- rings and decoding (ps2_lock held) ---- */

/* The three rings share these: head is the next item to read, count how many wait. */
static bool ring_push(void *items, size_t item_size, unsigned capacity, unsigned head,
                      unsigned *count, const void *item)
{
    if (*count == capacity)
        return false;
    memcpy((char *)items + ((head + *count) % capacity) * item_size, item, item_size);
    (*count)++;
    return true;
}

/* Takes ps2_lock itself (the readers' side). */
static bool ring_pop(const void *items, size_t item_size, unsigned capacity, unsigned *head,
                     unsigned *count, void *out)
{
    bool got = false;
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    if (*count) {
        memcpy(out, (const char *)items + *head * item_size, item_size);
        *head = (*head + 1) % capacity;
        (*count)--;
        got = true;
    }
    spinlock_unlock_irqrestore(&ps2_lock, f);
    return got;
}

static void default_sink(const char *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!ring_push(ps2.bytes, 1, CONFIG_PS2_KEY_BYTES, ps2.bytes_head, &ps2.bytes_count,
                       &bytes[i])) {
            if (ps2.kbd_dropped++ == 0)
                log_warn("ps2: keyboard byte ring full (CONFIG_PS2_KEY_BYTES = %u); dropping",
                         CONFIG_PS2_KEY_BYTES);
            return;
        }
    }
}

static void default_ctrl_alt_del(void)
{
    log_info("ps2: Ctrl+Alt+Delete pressed (no handler set)");
}

static void keyboard_byte(uint8_t byte)
{
    if (ps2.led_state && byte == DEV_ACK) {
        if (ps2.led_state == 1) {
            uint16_t m = ps2.kbd.modifiers;
            uint8_t leds = (uint8_t)(((m & PS2_MOD_SCROLL) ? 1 : 0) | ((m & PS2_MOD_NUM) ? 2 : 0) |
                                     ((m & PS2_MOD_CAPS) ? 4 : 0));
            ps2.led_state = 2;
            if (!send_data(leds))
                ps2.led_state = 0;
        } else {
            ps2.led_state = 0;
        }
        return;
    }
    ps2_kbd_result_t r;
    ps2_kbd_feed(&ps2.kbd, byte, &r);
    if (!r.has_event) {
        if (byte != 0xe0 && byte != 0xe1 && !ps2.kbd.pause_left)
            ps2.kbd_ignored++;
        return;
    }
    if (r.event.pressed)
        ps2.key_presses++;
    if (!ring_push(ps2.keys, sizeof(ps2.keys[0]), CONFIG_PS2_KEY_EVENTS, ps2.keys_head,
                   &ps2.keys_count, &r.event) && ps2.kbd_dropped++ == 0)
        log_warn("ps2: key event ring full (CONFIG_PS2_KEY_EVENTS = %u); dropping",
                 CONFIG_PS2_KEY_EVENTS);
    if (r.length) {
        ps2.key_bytes += r.length;
        (ps2.sink ? ps2.sink : default_sink)(r.bytes, r.length);
    }
    if (r.leds_changed && ps2.led_state == 0) {
        ps2.led_state = 1;
        if (!send_data(DEV_SET_LEDS))
            ps2.led_state = 0;
    }
    if (r.ctrl_alt_del)
        (ps2.ctrl_alt_del ? ps2.ctrl_alt_del : default_ctrl_alt_del)();
}

static void mouse_byte(uint8_t byte)
{
    uint64_t now = time_monotonic_ns();
    if (ps2.mouse.have && now - ps2.last_mouse_ns > MOUSE_PACKET_GAP_NS)
        ps2_mouse_parser_abandon(&ps2.mouse);
    ps2.last_mouse_ns = now;
    ps2_mouse_event_t ev;
    if (!ps2_mouse_parser_feed(&ps2.mouse, byte, &ev))
        return;
    ps2.packets++;
    if (!ring_push(ps2.moves, sizeof(ps2.moves[0]), CONFIG_PS2_MOUSE_EVENTS, ps2.moves_head,
                   &ps2.moves_count, &ev) && ps2.mouse_dropped++ == 0)
        log_warn("ps2: mouse event ring full (CONFIG_PS2_MOUSE_EVENTS = %u); dropping",
                 CONFIG_PS2_MOUSE_EVENTS);
}

static void dispatch(uint8_t status, uint8_t byte)
{
    if (status & STATUS_AUX_DATA) {
        if (ps2.enabled[PORT_AUX])
            mouse_byte(byte);
    } else if (ps2.enabled[PORT_KBD]) {
        keyboard_byte(byte);
    }
}

static void ps2_interrupt(arch_frame_t *frame)
{
    (void)frame;
    spinlock_lock(&ps2_lock);
    unsigned n = 0;
    for (; n < FLUSH_MAX; n++) {
        uint8_t status = arch_inb(PS2_STATUS);
        if (!(status & STATUS_OUTPUT_FULL))
            break;
        dispatch(status, arch_inb(PS2_DATA));
    }
    if (n == 0)
        ps2.unexpected_irqs++;
    spinlock_unlock(&ps2_lock);
}

/* ---- bring-up, load and unload (ps2_lock held, interrupts off) ---- */

static const unsigned port_irq[2] = { 1, 12 };
static const uint8_t port_irq_bit[2] = { CONFIG_KBD_IRQ, CONFIG_AUX_IRQ };
static const uint8_t port_clock_off[2] = { CONFIG_KBD_CLOCK_OFF, CONFIG_AUX_CLOCK_OFF };
static const uint8_t port_enable_cmd[2] = { CMD_ENABLE_KBD, CMD_ENABLE_AUX };
static const uint8_t port_disable_cmd[2] = { CMD_DISABLE_KBD, CMD_DISABLE_AUX };

/* Makes the controller match ps2.enabled[]: with both ports stopped (bytes already
 * waiting are dispatched), rewrites the command byte's IRQ and clock bits, then starts
 * the enabled ports again. Changing the byte while a device talks could mix its data
 * with the controller's answer; stopping both first rules that out. */
static bool apply_ports(void)
{
    if (!send_command(CMD_DISABLE_KBD) || !send_command(CMD_DISABLE_AUX))
        return false;
    for (unsigned i = 0; i < FLUSH_MAX; i++) {
        uint8_t status = arch_inb(PS2_STATUS);
        if (!(status & STATUS_OUTPUT_FULL))
            break;
        dispatch(status, arch_inb(PS2_DATA));
    }
    int config = controller_query(CMD_READ_CONFIG);
    if (config < 0)
        return false;
    for (int port = PORT_KBD; port <= PORT_AUX; port++) {
        if (ps2.enabled[port])
            config = (config | port_irq_bit[port]) & ~port_clock_off[port];
        else
            config = (config | port_clock_off[port]) & ~port_irq_bit[port];
    }
    if (!write_config((uint8_t)config))
        return false;
    for (int port = PORT_KBD; port <= PORT_AUX; port++)
        if (ps2.enabled[port] && !send_command(port_enable_cmd[port]))
            return false;
    return true;
}

/* Resets a device: ACK, then the self-test result (0xAA); a mouse also sends its id. */
static bool reset_device(int port)
{
    if (!device_command(port, DEV_RESET))
        return false;
    /* 0xAA passes; some translating controllers alter it, so only a timeout or an
     * explicit failure code (0xFC, 0xFD) counts as a dead device. */
    int result = read_byte(port, DEVICE_RESET_TIMEOUT_MS);
    if (result < 0 || result == 0xfc || result == 0xfd)
        return false;
    if (port == PORT_AUX)
        (void)read_byte(port, DEVICE_ACK_TIMEOUT_MS); /* device id 0x00 */
    return true;
}

static int mouse_id(void)
{
    return device_command(PORT_AUX, DEV_GET_ID) ? read_byte(PORT_AUX, DEVICE_ACK_TIMEOUT_MS) : -1;
}

/* IntelliMouse: sample rates 200, 100, 80 in a row turn on the wheel; the id says. */
static void detect_wheel(void)
{
    static const uint8_t knock[3] = { 200, 100, 80 };
    for (unsigned i = 0; i < 3; i++)
        if (!device_command(PORT_AUX, DEV_SAMPLE_RATE) || !device_command(PORT_AUX, knock[i]))
            return;
    int id = mouse_id();
    ps2.mouse_id = id == 3 ? 3 : 0;
}

/* Starts a port's device streaming and routes its IRQ. The device must answer. */
static int start_port(int port)
{
    if (!send_command(port_enable_cmd[port]))
        return -VK_EIO;
    if (port == PORT_KBD)
        ps2_kbd_reset(&ps2.kbd);
    else
        ps2_mouse_parser_reset(&ps2.mouse, ps2.mouse_id == 3);
    if (!device_command(port, DEV_ENABLE))
        return -VK_EIO;
    ps2.enabled[port] = true;
    if (!apply_ports()) {
        ps2.enabled[port] = false;
        return -VK_EIO;
    }
    if (ioapic_route_isa(port_irq[port], ps2.vector[port], 0) < 0) {
        log_warn("ps2: cannot route IRQ %u", port_irq[port]);
        return -VK_ENODEV;
    }
    if (port == PORT_KBD) { /* the LEDs follow the lock state again */
        ps2.led_state = 1;
        if (!send_data(DEV_SET_LEDS))
            ps2.led_state = 0;
    }
    return 0;
}

/* Stops a port: its IRQ masked, the device told to stop, the port's clock off. */
static int stop_port(int port)
{
    uint32_t gsi;
    bool level, active_low;
    if (ioapic_isa_to_gsi(port_irq[port], &gsi, &level, &active_low))
        ioapic_mask_gsi(gsi);
    (void)device_command(port, DEV_DISABLE); /* best effort: the port goes off anyway */
    ps2.enabled[port] = false;
    ps2.led_state = port == PORT_KBD ? 0 : ps2.led_state;
    return apply_ports() ? 0 : -VK_EIO;
}

static int change_port(int port, bool on)
{
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    int err;
    if (!ps2.present || !ps2.port_ok[port] || !ps2.vector[port])
        err = -VK_ENODEV;
    else
        err = on ? start_port(port) : stop_port(port);
    spinlock_unlock_irqrestore(&ps2_lock, f);
    return err;
}

static int keyboard_load(void) { return change_port(PORT_KBD, true); }
static int keyboard_unload(void) { return change_port(PORT_KBD, false); }
static int mouse_load(void) { return change_port(PORT_AUX, true); }
static int mouse_unload(void) { return change_port(PORT_AUX, false); }

/* Controller bring-up. false: no (working) controller. */
static bool init_controller(void)
{
    if (arch_inb(PS2_STATUS) == 0xff)
        return false; /* nothing decodes port 0x64: the bus floats high */
    if (!send_command(CMD_DISABLE_KBD) || !send_command(CMD_DISABLE_AUX))
        return false;
    flush_output();
    int config = controller_query(CMD_READ_CONFIG);
    if (config < 0)
        return false;
    bool maybe_aux = (config & CONFIG_AUX_CLOCK_OFF) != 0; /* we just turned it off */
    config &= ~(CONFIG_KBD_IRQ | CONFIG_AUX_IRQ);
    config |= CONFIG_TRANSLATE;
    if (!write_config((uint8_t)config))
        return false;
    if (controller_query(CMD_SELF_TEST) != 0x55) {
        log_warn("ps2: controller self-test failed");
        return false;
    }
    write_config((uint8_t)config); /* some controllers reset the byte in self-test */
    if (maybe_aux && send_command(CMD_ENABLE_AUX)) {
        int c = controller_query(CMD_READ_CONFIG);
        maybe_aux = c >= 0 && !(c & CONFIG_AUX_CLOCK_OFF);
        send_command(CMD_DISABLE_AUX);
    }
    ps2.port_ok[PORT_KBD] = controller_query(CMD_TEST_KBD) == 0x00;
    ps2.port_ok[PORT_AUX] = maybe_aux && controller_query(CMD_TEST_AUX) == 0x00;
    flush_output();
    return true;
}

/* Resets a port's device and starts it; false when the device does not answer. */
static bool bring_up(int port)
{
    if (!ps2.port_ok[port])
        return false;
    if (!send_command(port_enable_cmd[port]) || !reset_device(port)) {
        ps2.port_ok[port] = false;
        send_command(port_disable_cmd[port]);
        return false;
    }
    if (port == PORT_AUX)
        detect_wheel();
    ps2.vector[port] = arch_irq_alloc_vector();
    if (!ps2.vector[port]) {
        log_error("ps2: no free interrupt vector for IRQ %u", port_irq[port]);
        return false;
    }
    arch_irq_register(ps2.vector[port], ps2_interrupt, true);
    return start_port(port) == 0;
}

/* ---- KObj ---- */

enum { K_KEYS, K_KEY_BYTES, K_KBD_IGNORED, K_KBD_DROPPED, K_PACKETS, K_RESYNCS,
       K_MOUSE_DROPPED, K_WHEEL, K_UNEXPECTED };

static int ps2_kobj_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)key;
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    const uint64_t values[] = {
        [K_KEYS] = ps2.key_presses, [K_KEY_BYTES] = ps2.key_bytes,
        [K_KBD_IGNORED] = ps2.kbd_ignored, [K_KBD_DROPPED] = ps2.kbd_dropped,
        [K_PACKETS] = ps2.packets, [K_RESYNCS] = ps2.mouse.resyncs,
        [K_MOUSE_DROPPED] = ps2.mouse_dropped, [K_WHEEL] = ps2.mouse_id == 3,
        [K_UNEXPECTED] = ps2.unexpected_irqs,
    };
    spinlock_unlock_irqrestore(&ps2_lock, f);
    out->u = values[node->field];
    return 0;
}

#define PS2_FIELD(path_, field_, type_, text_)                                              \
    { .path = path_, .type = type_, .access = KOBJ_READ | KOBJ_VOLATILE, .get = ps2_kobj_get, \
      .field = field_, .description = text_ }
static kobj_node_t keyboard_nodes[] = {
    PS2_FIELD("/drivers/ps2-keyboard/keys", K_KEYS, KOBJ_UINT, "Key presses (repeats included)"),
    PS2_FIELD("/drivers/ps2-keyboard/bytes", K_KEY_BYTES, KOBJ_UINT,
              "Terminal bytes produced for the keyboard sink"),
    PS2_FIELD("/drivers/ps2-keyboard/ignored", K_KBD_IGNORED, KOBJ_UINT,
              "Bytes that were no key (replies, errors, unknown codes)"),
    PS2_FIELD("/drivers/ps2-keyboard/dropped", K_KBD_DROPPED, KOBJ_UINT,
              "Bytes or events lost to a full ring"),
    PS2_FIELD("/drivers/ps2-keyboard/spurious_irqs", K_UNEXPECTED, KOBJ_UINT,
              "IRQ 1 or 12 with no byte waiting"),
};
static kobj_node_t mouse_nodes[] = {
    PS2_FIELD("/drivers/ps2-mouse/packets", K_PACKETS, KOBJ_UINT, "Movement packets decoded"),
    PS2_FIELD("/drivers/ps2-mouse/resyncs", K_RESYNCS, KOBJ_UINT,
              "Bytes or partial packets dropped to find a packet start again"),
    PS2_FIELD("/drivers/ps2-mouse/dropped", K_MOUSE_DROPPED, KOBJ_UINT,
              "Events lost to a full ring"),
    PS2_FIELD("/drivers/ps2-mouse/wheel", K_WHEEL, KOBJ_BOOL,
              "The mouse reported IntelliMouse id 3 (4-byte packets with a wheel)"),
};

/* ---- public ---- */

void ps2_init(void)
{
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    ps2.present = init_controller();
    bool kbd = ps2.present && bring_up(PORT_KBD);
    bool aux = ps2.present && bring_up(PORT_AUX);
    spinlock_unlock_irqrestore(&ps2_lock, f);
    if (!ps2.present) {
        log_info("ps2: no i8042 controller");
        return;
    }
    log_info("ps2: keyboard %s, mouse %s%s", kbd ? "ready" : "absent", aux ? "ready" : "absent",
             aux && ps2.mouse_id == 3 ? " (wheel)" : "");
    static const driver_t keyboard_driver = {
        .name = "ps2-keyboard", .description = "PS/2 keyboard on the i8042 (IRQ 1)",
        .load = keyboard_load, .unload = keyboard_unload,
        .nodes = keyboard_nodes, .node_count = sizeof(keyboard_nodes) / sizeof(keyboard_nodes[0]),
    };
    static const driver_t mouse_driver = {
        .name = "ps2-mouse", .description = "PS/2 mouse on the i8042 aux port (IRQ 12)",
        .load = mouse_load, .unload = mouse_unload,
        .nodes = mouse_nodes, .node_count = sizeof(mouse_nodes) / sizeof(mouse_nodes[0]),
    };
    if (ps2.port_ok[PORT_KBD])
        driver_register(&keyboard_driver, kbd);
    if (ps2.port_ok[PORT_AUX])
        driver_register(&mouse_driver, aux);
}

void ps2_set_keyboard_sink(void (*sink)(const char *bytes, size_t n))
{
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    ps2.sink = sink;
    spinlock_unlock_irqrestore(&ps2_lock, f);
}

void ps2_set_ctrl_alt_del(void (*fn)(void))
{
    uint64_t f = spinlock_lock_irqsave(&ps2_lock);
    ps2.ctrl_alt_del = fn;
    spinlock_unlock_irqrestore(&ps2_lock, f);
}

int ps2_keyboard_read_byte(void)
{
    if (!__atomic_load_n(&ps2.bytes_count, __ATOMIC_RELAXED))
        return -1; /* the common case, without the lock (a monitor polls this) */
    char c;
    return ring_pop(ps2.bytes, 1, CONFIG_PS2_KEY_BYTES, &ps2.bytes_head, &ps2.bytes_count, &c)
               ? (unsigned char)c : -1;
}

bool ps2_key_event_read(ps2_key_event_t *out)
{
    return ring_pop(ps2.keys, sizeof(ps2.keys[0]), CONFIG_PS2_KEY_EVENTS, &ps2.keys_head,
                    &ps2.keys_count, out);
}

bool ps2_mouse_event_read(ps2_mouse_event_t *out)
{
    return ring_pop(ps2.moves, sizeof(ps2.moves[0]), CONFIG_PS2_MOUSE_EVENTS, &ps2.moves_head,
                    &ps2.moves_count, out);
}
