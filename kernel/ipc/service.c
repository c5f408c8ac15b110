/* SPDX-License-Identifier: MIT */
/*
 * Named services: the one registry that maps names to channel ends (docs/ipc.md).
 *
 * Design notes:
 *   - The right to register is a handle to the registry object (VK_OBJECT_SERVICE_
 *     REGISTRY) with VK_RIGHT_WRITE. The first process of the boot (init) gets the only
 *     one the kernel makes, at VK_HANDLE_SERVICE_REGISTRY_INIT; everyone else gets it
 *     from init, deliberately (inherit or message). Connecting needs no handle.
 *   - A server makes a channel, registers one end (the registry keeps it) and reads
 *     connections at the other, its listening end. A connect makes a new channel and
 *     the kernel writes the server's end of it, in a vk_service_connect_msg_t, through
 *     the registered end, so it arrives at the listening end like any message.
 *   - The name goes when the listening end closes: channel.c calls
 *     ipc_service_peer_gone. An entry whose listening end is already gone (a close
 *     racing a register) counts as free and is dropped when met.
 *   - The registry object is static and never freed: the kernel keeps one reference.
 */
#include "ipc/ipc.h"
#include "core/spinlock.h"
#include "sched/sched.h"
#include "core/string.h"
#include "core/log.h"
#include <vk/errno.h>

typedef struct {
    char name[VK_SERVICE_NAME_MAX];
    size_t len;
    ipc_object_t *end;        /* the registered end (the registry's reference); NULL: free */
} service_t;

static spinlock_t lock = SPINLOCK_INIT;
/* Guarded by lock. */
static service_t services[VK_SERVICES_MAX];
/* Connects waiting for a name to appear (woken by every registration). */
static sched_wait_queue_t registered = SCHED_WAIT_QUEUE_INIT;

static void registry_destroy(ipc_object_t *o)
{
    (void)o; /* the kernel's own reference never goes */
}

static const ipc_object_ops_t registry_ops = {
    .type = VK_OBJECT_SERVICE_REGISTRY,
    .destroy = registry_destroy,
};

static ipc_object_t registry;
static bool granted; /* atomic */

void ipc_service_grant_first(process_t *p)
{
    if (__atomic_exchange_n(&granted, true, __ATOMIC_ACQ_REL))
        return;
    ipc_object_init(&registry, &registry_ops); /* the kernel's reference */
    long h = ipc_handle_install_in(p, (ipc_capability_t){ ipc_object_ref(&registry),
                                                         VK_RIGHTS_ALL });
    if (h != (long)VK_HANDLE_SERVICE_REGISTRY_INIT) {
        log_warn("ipc: the first process did not get the service registry (%ld)", h);
        if (h > 0)
            ipc_object_unref(&registry); /* never the last reference */
    }
}

int ipc_service_name_check(const char *name, size_t len)
{
    if (len == 0)
        return -VK_EINVAL;
    if (len > VK_SERVICE_NAME_MAX)
        return -VK_ENAMETOOLONG;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return -VK_EINVAL;
    }
    return 0;
}

/* The entry named name, or NULL. Lock held. */
static service_t *find(const char *name, size_t len)
{
    for (unsigned i = 0; i < VK_SERVICES_MAX; i++)
        if (services[i].end && services[i].len == len && !memcmp(services[i].name, name, len))
            return &services[i];
    return NULL;
}

/* Empties s if its server is gone; returns the reference to drop (or NULL). Lock held. */
static ipc_object_t *drop_if_dead(service_t *s)
{
    if (!s || !s->end || !ipc_channel_peer_closed(s->end))
        return NULL;
    ipc_object_t *end = s->end;
    s->end = NULL;
    return end;
}

int ipc_service_register(const char *name, size_t len, ipc_object_t *end)
{
    int err = ipc_service_name_check(name, len);
    if (err)
        return err;
    ipc_object_t *dead = NULL;
    service_t *slot = NULL;
    uint64_t f = spinlock_lock_irqsave(&lock);
    service_t *s = find(name, len);
    dead = drop_if_dead(s);
    if (s && s->end) {
        err = -VK_EEXIST;
    } else {
        for (unsigned i = 0; i < VK_SERVICES_MAX && !slot; i++)
            if (!services[i].end)
                slot = &services[i];
        if (!slot)
            err = -VK_ENOSPC;
    }
    if (slot) {
        memcpy(slot->name, name, len);
        slot->len = len;
        slot->end = end;
    }
    spinlock_unlock_irqrestore(&lock, f);
    if (dead)
        ipc_object_unref(dead);
    if (err)
        return err;
    /* After the entry exists: a close from here on finds it (or leaves it dead). */
    err = ipc_channel_mark_registered(end);
    if (err) {
        f = spinlock_lock_irqsave(&lock);
        if (slot->end == end)
            slot->end = NULL;
        spinlock_unlock_irqrestore(&lock, f);
    } else {
        sched_wake_all(&registered); /* connects waiting for a name */
    }
    return err; /* on failure the caller keeps its reference */
}

void ipc_service_peer_gone(ipc_object_t *registered_end)
{
    ipc_object_t *end = NULL;
    uint64_t f = spinlock_lock_irqsave(&lock);
    for (unsigned i = 0; i < VK_SERVICES_MAX && !end; i++)
        if (services[i].end == registered_end) {
            end = registered_end;
            services[i].end = NULL;
        }
    spinlock_unlock_irqrestore(&lock, f);
    if (end)
        ipc_object_unref(end);
}

/* The registered end named name, with a reference, waiting until deadline_ns (0: not
 * at all) for it to be registered. */
static int find_end(const char *name, size_t len, uint64_t deadline_ns, ipc_object_t **out)
{
    for (;;) {
        int err = 0;
        uint64_t f = spinlock_lock_irqsave(&lock);
        service_t *s = find(name, len);
        ipc_object_t *dead = drop_if_dead(s);
        ipc_object_t *end = s && s->end ? ipc_object_ref(s->end) : NULL;
        if (!end && !dead && deadline_ns)
            err = sched_wait_interruptible(&registered, &lock, deadline_ns);
        spinlock_unlock_irqrestore(&lock, f);
        if (dead)
            ipc_object_unref(dead);
        if (end) {
            *out = end;
            return 0;
        }
        if (err)
            return err; /* -VK_ETIMEDOUT or -VK_EINTR */
        if (!dead && !deadline_ns)
            return -VK_ENOENT;
        /* Woken, or a dead entry dropped: look again. */
    }
}

int ipc_service_connect(const char *name, size_t len, uint32_t client_pid,
                        uint64_t deadline_ns, ipc_object_t **out)
{
    int err = ipc_service_name_check(name, len);
    if (err)
        return err;
    ipc_object_t *end;
    if ((err = find_end(name, len, deadline_ns, &end)))
        return err;
    ipc_object_t *ends[2];
    err = ipc_channel_create(ends);
    if (!err) {
        vk_service_connect_msg_t msg = { VK_SERVICE_MSG_CONNECT, client_pid };
        ipc_capability_t server_end = { ends[1], VK_RIGHTS_ALL };
        err = (int)ipc_channel_write_kernel(end, &msg, sizeof(msg), &server_end, 1,
                                            deadline_ns);
        if (err) {
            ipc_object_unref(ends[0]);
            ipc_object_unref(ends[1]);
        } else {
            *out = ends[0];
        }
    }
    ipc_object_unref(end);
    return err == -VK_EPIPE ? -VK_ENOENT : err; /* the server went meanwhile */
}
