/* SPDX-License-Identifier: MIT */
/*
 * The driver registry: one list of every driver the kernel runs, published in KObj as
 * /drivers/NAME with its description, whether it is loaded, and load / unload actions
 * (docs/input.md, "The driver registry").
 *
 * Design notes:
 *  - A driver registers once, with a descriptor that outlives the kernel (static). The
 *    registry publishes /drivers/NAME/{description,loaded,unloadable,message,load,unload}
 *    and then the driver's own extra nodes (counters), whose paths the driver spells in
 *    full ("/drivers/ps2-keyboard/keys"). KObj never removes nodes, so neither does the
 *    registry: an unloaded driver keeps its node with loaded = false.
 *  - A driver without an unload callback cannot be unloaded: driver_unload answers
 *    -VK_EBUSY and the node's `message` says why (busy_reason).
 *  - load and unload run in the caller's thread, one at a time per driver (a second
 *    caller meanwhile gets -VK_EBUSY); they may poll hardware but must not be called from
 *    interrupt context.
 */
#ifndef KERNEL_DRIVERS_REGISTRY_DRIVER_H
#define KERNEL_DRIVERS_REGISTRY_DRIVER_H

#include <stdbool.h>
#include "kobj/kobj.h"

typedef struct {
    const char *name;          /* the KObj name: lowercase, digits and '-' */
    const char *description;   /* one line */
    /* Brings the driver (back) up: 0 or -VK_E*. NULL: nothing to do (always loaded). */
    int (*load)(void);
    /* Stops the device and its interrupt: 0 or -VK_E*. NULL: cannot be unloaded. */
    int (*unload)(void);
    const char *busy_reason;   /* unload == NULL: why, shown in /drivers/NAME/message */
    kobj_node_t *nodes;        /* extra nodes under /drivers/NAME (parents first), or NULL */
    unsigned node_count;       /* at most CONFIG_DRIVER_EXTRA_NODES */
} driver_t;

/* Registers the kernel's built-in drivers that predate the registry (serial, fbcon,
 * virtio-blk). Call once after kobj_init. */
void driver_registry_init(void);

/* Adds a driver, loaded or not. 0, -VK_EEXIST (name taken), -VK_ENOSPC (more than
 * CONFIG_DRIVER_MAX drivers, logged), -VK_EINVAL (bad name or too many nodes). */
int driver_register(const driver_t *driver, bool loaded);

/* Loads / unloads by name. Loading a loaded driver (or unloading an unloaded one) does
 * nothing and returns 0. -VK_ENOENT: no such driver; -VK_EBUSY: cannot be unloaded, or
 * another load/unload of it is running; otherwise what the driver's callback returned. */
int driver_load(const char *name);
int driver_unload(const char *name);
/* Whether the named driver is registered and loaded. */
bool driver_is_loaded(const char *name);
/* The outcome of the last load/unload of the driver ("" before any), copied into
 * buf[size]. false when there is no such driver. */
bool driver_message(const char *name, char *buf, size_t size);

#endif
