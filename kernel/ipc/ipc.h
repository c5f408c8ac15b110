/* SPDX-License-Identifier: MIT */
/*
 * IPC objects and handle tables (the user-visible ABI is include/vk/ipc.h; docs/ipc.md
 * explains the model).
 *
 * Design notes:
 *   - Every object starts with ipc_object_t: its ops, an id that is never reused, a
 *     reference count and the eight user signals. References are held by handle-table
 *     slots, by messages in flight and, briefly, by a syscall using the object.
 *   - The last reference queues the object on one reaper list; whoever dropped it frees
 *     everything on the list in a loop. A chain of channels each queued inside the next
 *     is therefore freed iteratively, never by recursion on the kernel stack.
 *   - Readiness changes call vfs_poll_notify(): IPC waits share poll's generation
 *     counter and wait queue (kernel/fs/poll.c), so no change between a check and the
 *     sleep is lost, and a poll on a handle's descriptor sees the same events.
 *   - Lock order: a channel's lock, then a handle table's lock. Objects are never freed
 *     with either held.
 */
#ifndef KERNEL_IPC_IPC_H
#define KERNEL_IPC_IPC_H

#include <stdint.h>
#include <stdbool.h>
#include <vk/ipc.h>
#include "proc/proc.h"

typedef struct ipc_object ipc_object_t;

typedef struct {
    uint32_t type;                          /* VK_OBJECT_* */
    unsigned (*signals)(ipc_object_t *o);   /* state signals (user ones are added); may be NULL */
    void (*destroy)(ipc_object_t *o);       /* the last reference went: free it */
} ipc_object_ops_t;

struct ipc_object {
    const ipc_object_ops_t *ops;
    uint64_t id;
    uint32_t refs;          /* atomic */
    uint32_t user_signals;  /* atomic; VK_SIGNAL_USER_ALL bits only */
    ipc_object_t *reap_next; /* the reaper list, once refs reached 0 */
};

/* An object with one reference (the caller's), counted in the stats. */
void ipc_object_init(ipc_object_t *o, const ipc_object_ops_t *ops);
ipc_object_t *ipc_object_ref(ipc_object_t *o);
/* Drops a reference; the last one destroys the object. No spinlock may be held. */
void ipc_object_unref(ipc_object_t *o);
/* State and user signals of o now. */
unsigned ipc_object_signals(ipc_object_t *o);
/* Sets and clears user signals: 0, or -VK_EINVAL for bits outside VK_SIGNAL_USER_ALL. */
int ipc_object_signal(ipc_object_t *o, uint32_t clear, uint32_t set);
void ipc_stats(vk_ipc_stats_t *out);

/* ---- handle tables (handle.c) ----------------------------------------------------- */

/* An object and the rights it travels with: a slot's contents, or a handle in a
 * message. The reference belongs to whoever holds the struct. */
typedef struct {
    ipc_object_t *object;
    uint32_t rights;
} ipc_capability_t;

/* Installs cap in the calling process's table (taking over its reference on success).
 * Returns the handle value (> 0) or -VK_EMFILE / -VK_ENOMEM. */
long ipc_handle_install(ipc_capability_t cap);
/* Same, into process p's table (a process the kernel is starting, not yet running). */
long ipc_handle_install_in(process_t *p, ipc_capability_t cap);
/* Whether p holds a handle to an object of this VK_OBJECT_* type (KObj-write check). */
bool ipc_process_holds(process_t *p, uint32_t type);
/* Installs n capabilities, all or none: values[] gets the handles. 0 or -VK_EMFILE /
 * -VK_ENOMEM (then the references stay with the caller). */
int ipc_handle_install_many(const ipc_capability_t *caps, unsigned n, uint32_t *values);
/* A new reference to the object behind handle h of the calling process, which must be of
 * type (0: any) and carry every right in `rights`. 0, -VK_EBADF, -VK_EINVAL (type) or
 * -VK_EACCES. The handle's rights go to *rights_out when it is not NULL. */
int ipc_handle_get(uint32_t h, uint32_t type, uint32_t rights, ipc_object_t **out,
                   uint32_t *rights_out);
/* Closes handle h: 0 or -VK_EBADF. */
int ipc_handle_close(uint32_t h);
/* Removes n handles from the calling process's table for a channel message, all or
 * none: each needs VK_RIGHT_TRANSFER, none may repeat, and none may refer to forbid[0]
 * or forbid[1]. Called with the channel's lock held (the lock order allows it). 0,
 * -VK_EBADF, -VK_EACCES, -VK_EINVAL (repeated) or -VK_ENOTSUP (forbidden). */
int ipc_handle_take_many(const uint32_t *values, unsigned n, const ipc_object_t *forbid[2],
                         ipc_capability_t *out);
/* Marks handle h to be copied into children made by fork: 0 or -VK_EBADF. */
int ipc_handle_set_inherit(uint32_t h, bool inherit);
/* fork: child (not yet running) gets parent's inheritable handles at the same values.
 * 0 or -VK_ENOMEM. */
int ipc_process_fork(process_t *parent, process_t *child);
/* Handles in every process's table. */
uint64_t ipc_handle_count(void);
/* The process ended: close every handle it holds. */
void ipc_process_release(process_t *p);

/* ---- object types ------------------------------------------------------------------ */

/* channel.c: a pair of endpoints, each with the given reference. 0 or -VK_ENOMEM. */
int ipc_channel_create(ipc_object_t *ends[2]);
/* Queues a message on the peer of `end`. bytes is a kernel buffer the message takes
 * over (kmalloc'd, may be NULL when num_bytes is 0); handles are values in the caller's
 * table, moved only on success. */
long ipc_channel_write(ipc_object_t *end, void *bytes, uint32_t num_bytes,
                       const uint32_t *handles, uint32_t num_handles, bool nonblock);
/* Reads the oldest message into user buffers described by msg (and updates its counts).
 * 0 or a negative errno (include/vk/ipc.h). */
long ipc_channel_read(ipc_object_t *end, vk_channel_msg_t *msg, bool nonblock);

/* event.c */
ipc_object_t *ipc_event_create(void);

/* shm.c */
int ipc_shm_create(uint64_t size, ipc_object_t **out);
uint64_t ipc_shm_size(ipc_object_t *o);
/* Maps the whole object into the calling process: the address, or a negative errno.
 * write_allowed: the handle may ever map it writable. */
long ipc_shm_map(ipc_object_t *o, unsigned prot, bool write_allowed);

#endif
