/* SPDX-License-Identifier: MIT */
/*
 * The driver registry (driver.h) and its KObj nodes. Each slot holds a copy of the
 * driver's descriptor, its state, and the KObj nodes made from the template table below
 * (their paths rewritten from "/drivers/ * /x" to "/drivers/NAME/x"; node.field is the
 * slot index). Slots are filled once and never freed, as KObj nodes are never removed.
 */
#include "drivers/registry/driver.h"
#include "drivers/serial/serial.h"
#include "drivers/fbcon/fbcon.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "config.h"
#include <vk/errno.h>

enum { DRV_DIR, DRV_DESCRIPTION, DRV_LOADED, DRV_UNLOADABLE, DRV_MESSAGE, DRV_LOAD, DRV_UNLOAD,
       DRV_NODE_COUNT };

#define DRIVER_MESSAGE_MAX 96
#define DRIVER_PATH_MAX    (sizeof("/drivers//") + 2 * CONFIG_KOBJ_NAME_MAX)

typedef struct {
    driver_t driver;
    kobj_node_t nodes[DRV_NODE_COUNT];
    char paths[DRV_NODE_COUNT][DRIVER_PATH_MAX];
    /* Guarded by registry_lock. */
    bool loaded;
    bool changing;                 /* a load or unload is running */
    char message[DRIVER_MESSAGE_MAX];
} driver_slot_t;

static spinlock_t registry_lock;
static driver_slot_t slots[CONFIG_DRIVER_MAX];
static unsigned slot_count; /* guarded by registry_lock; slots below it are fully set up */

static int driver_kobj_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out);
static int driver_kobj_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in);

#define DRV_NODE(name_, field_, type_, access_, text_)                                     \
    { .path = "/drivers/*/" name_, .type = type_, .access = access_, .field = field_,      \
      .get = driver_kobj_get, .set = driver_kobj_set, .description = text_ }
/* The nodes every driver gets, in the order of the DRV_ enum: the documentation of
 * /drivers/NAME (scripts/gen-kobj-doc.py lists them as /drivers/ * /...). Copied per
 * driver, never published themselves. */
static const kobj_node_t driver_template[DRV_NODE_COUNT] = {
    { .path = "/drivers/*", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "One driver (its own counters may follow)" },
    DRV_NODE("description", DRV_DESCRIPTION, KOBJ_STRING, KOBJ_READ,
              "What the driver drives"),
    DRV_NODE("loaded", DRV_LOADED, KOBJ_BOOL, KOBJ_READ | KOBJ_VOLATILE,
              "The driver is running its devices"),
    DRV_NODE("unloadable", DRV_UNLOADABLE, KOBJ_BOOL, KOBJ_READ,
              "The driver can be unloaded"),
    DRV_NODE("message", DRV_MESSAGE, KOBJ_STRING, KOBJ_READ | KOBJ_VOLATILE,
              "Outcome of the last load or unload (why an unload was refused)"),
    DRV_NODE("load", DRV_LOAD, KOBJ_ACTION, KOBJ_WRITE,
              "Write anything: load the driver again"),
    DRV_NODE("unload", DRV_UNLOAD, KOBJ_ACTION, KOBJ_WRITE,
              "Write anything: stop the driver's devices (-EBUSY if it cannot)"),
};

static kobj_node_t drivers_dir[] = {
    { .path = "/drivers", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "Registered drivers, in registration order" },
};
KOBJ_TABLE(drivers_dir);

static bool name_valid(const char *name)
{
    size_t n = 0;
    for (; name && name[n]; n++) {
        char c = name[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n > 0 && n < CONFIG_KOBJ_NAME_MAX;
}

/* The slot of a registered driver, or NULL. */
static driver_slot_t *find(const char *name)
{
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    driver_slot_t *found = NULL;
    for (unsigned i = 0; i < slot_count && !found; i++)
        if (!strcmp(slots[i].driver.name, name))
            found = &slots[i];
    spinlock_unlock_irqrestore(&registry_lock, f);
    return found;
}

int driver_register(const driver_t *driver, bool loaded)
{
    if (!driver || !name_valid(driver->name) || !driver->description ||
        driver->node_count > CONFIG_DRIVER_EXTRA_NODES || (driver->node_count && !driver->nodes))
        return -VK_EINVAL;
    if (find(driver->name))
        return -VK_EEXIST;
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    if (slot_count == CONFIG_DRIVER_MAX) {
        spinlock_unlock_irqrestore(&registry_lock, f);
        log_error("drivers: cannot register %s: CONFIG_DRIVER_MAX (%u) reached", driver->name,
                  CONFIG_DRIVER_MAX);
        return -VK_ENOSPC;
    }
    unsigned index = slot_count;
    driver_slot_t *s = &slots[index];
    s->driver = *driver;
    s->loaded = loaded;
    s->changing = false;
    s->message[0] = '\0';
    for (unsigned i = 0; i < DRV_NODE_COUNT; i++) {
        s->nodes[i] = driver_template[i];
        const char *leaf = driver_template[i].path + sizeof("/drivers/*") - 1; /* "" or "/x" */
        fmt_snprintf(s->paths[i], DRIVER_PATH_MAX, "/drivers/%s%s", driver->name, leaf);
        s->nodes[i].path = s->paths[i];
        s->nodes[i].field = i | (index << 8);
    }
    s->nodes[DRV_DIR].description = driver->description;
    __atomic_store_n(&slot_count, index + 1, __ATOMIC_RELEASE);
    spinlock_unlock_irqrestore(&registry_lock, f);

    int err = kobj_publish(s->nodes, DRV_NODE_COUNT);
    if (!err && driver->node_count)
        err = kobj_publish(driver->nodes, driver->node_count);
    if (err)
        log_warn("drivers: %s registered but its KObj nodes are incomplete (error %d)",
                 driver->name, err);
    return 0;
}

static void set_message(driver_slot_t *s, const char *text)
{
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    strlcpy(s->message, text, sizeof(s->message));
    spinlock_unlock_irqrestore(&registry_lock, f);
}

/* Runs load (want = true) or unload on a slot; the common path of both. */
static int change(driver_slot_t *s, bool want)
{
    const driver_t *d = &s->driver;
    char text[DRIVER_MESSAGE_MAX];
    if (!want && !d->unload) {
        fmt_snprintf(text, sizeof(text), "unload refused: %s",
                     d->busy_reason ? d->busy_reason : "the driver cannot be unloaded");
        set_message(s, text);
        log_warn("drivers: %s: %s", d->name, text);
        return -VK_EBUSY;
    }
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    if (s->changing) {
        spinlock_unlock_irqrestore(&registry_lock, f);
        return -VK_EBUSY;
    }
    if (s->loaded == want) {
        spinlock_unlock_irqrestore(&registry_lock, f);
        return 0;
    }
    s->changing = true;
    spinlock_unlock_irqrestore(&registry_lock, f);

    int (*fn)(void) = want ? d->load : d->unload;
    int err = fn ? fn() : 0;
    if (err)
        fmt_snprintf(text, sizeof(text), "%s failed (error %d)", want ? "load" : "unload", err);
    else
        fmt_snprintf(text, sizeof(text), "%s", want ? "loaded" : "unloaded");
    log_info("drivers: %s %s", d->name, text);

    f = spinlock_lock_irqsave(&registry_lock);
    if (!err)
        s->loaded = want;
    s->changing = false;
    strlcpy(s->message, text, sizeof(s->message));
    spinlock_unlock_irqrestore(&registry_lock, f);
    return err;
}

int driver_load(const char *name)
{
    driver_slot_t *s = name ? find(name) : NULL;
    return s ? change(s, true) : -VK_ENOENT;
}

int driver_unload(const char *name)
{
    driver_slot_t *s = name ? find(name) : NULL;
    return s ? change(s, false) : -VK_ENOENT;
}

bool driver_is_loaded(const char *name)
{
    driver_slot_t *s = name ? find(name) : NULL;
    return s && __atomic_load_n(&s->loaded, __ATOMIC_RELAXED);
}

bool driver_message(const char *name, char *buf, size_t size)
{
    driver_slot_t *s = name ? find(name) : NULL;
    if (!s)
        return false;
    uint64_t f = spinlock_lock_irqsave(&registry_lock);
    strlcpy(buf, s->message, size);
    spinlock_unlock_irqrestore(&registry_lock, f);
    return true;
}

static driver_slot_t *slot_of(const kobj_node_t *node)
{
    unsigned index = node->field >> 8;
    return index < __atomic_load_n(&slot_count, __ATOMIC_ACQUIRE) ? &slots[index] : NULL;
}

static int driver_kobj_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)key;
    driver_slot_t *s = slot_of(node);
    if (!s)
        return -VK_ENOENT;
    switch (node->field & 0xff) {
    case DRV_DESCRIPTION: kobj_value_string(out, s->driver.description); return 0;
    case DRV_LOADED: out->u = __atomic_load_n(&s->loaded, __ATOMIC_RELAXED); return 0;
    case DRV_UNLOADABLE: out->u = s->driver.unload != NULL; return 0;
    case DRV_MESSAGE: {
        char text[DRIVER_MESSAGE_MAX];
        driver_message(s->driver.name, text, sizeof(text));
        kobj_value_string(out, text);
        return 0;
    }
    default: return -VK_EACCES;
    }
}

static int driver_kobj_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    (void)key;
    (void)in;
    driver_slot_t *s = slot_of(node);
    if (!s)
        return -VK_ENOENT;
    switch (node->field & 0xff) {
    case DRV_LOAD: return change(s, true);
    case DRV_UNLOAD: return change(s, false);
    default: return -VK_EACCES;
    }
}

void driver_registry_init(void)
{
    static const driver_t serial = {
        .name = "serial", .description = "16550 UART on COM1: the kernel console",
        .busy_reason = "COM1 is the kernel console and the monitor's input",
    };
    static const driver_t fbcon = {
        .name = "fbcon", .description = "Text console on the UEFI GOP framebuffer",
        .busy_reason = "the framebuffer console carries the kernel log",
    };
    static const driver_t vblk = {
        .name = "virtio-blk", .description = "virtio block devices (legacy and modern PCI)",
        .busy_reason = "mounted filesystems and the block cache use its disks",
    };
    driver_register(&serial, serial_present());
    driver_register(&fbcon, fbcon_ready());
    driver_register(&vblk, true);
}
