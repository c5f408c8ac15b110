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
 *   - Lock order: the service registry's lock, a channel's lock, the transfer lock
 *     (channel.c), a handle table's lock. Objects are never freed with any of them held.
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
/* The same in process p (not running yet, or the caller). */
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
 * none: each needs VK_RIGHT_TRANSFER, none may repeat, none may refer to forbid[0] or
 * forbid[1], and check (when not NULL) must return 0 for each object. Called with the
 * channel's lock held (the lock order allows it). 0, -VK_EBADF, -VK_EACCES, -VK_EINVAL
 * (repeated), -VK_ENOTSUP (forbidden) or check's error. */
int ipc_handle_take_many(const uint32_t *values, unsigned n, const ipc_object_t *forbid[2],
                         int (*check)(ipc_object_t *o), ipc_capability_t *out);
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
/* Queues a message on the peer of `end`. user_bytes is the user address of num_bytes
 * bytes copied into the message. handles are values in the caller's table, moved only
 * on success. */
long ipc_channel_write(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                       const uint32_t *handles, uint32_t num_handles, bool nonblock);
/* Reads the oldest message into user buffers described by msg (and updates its counts).
 * 0 or a negative errno (include/vk/ipc.h). */
long ipc_channel_read(ipc_object_t *end, vk_channel_msg_t *msg, bool nonblock);

/* Writes a message made by the kernel (no sender table): bytes are copied, caps' references
 * move into the message on success. A full queue: wait for room until deadline_ns
 * (-VK_ETIMEDOUT, -VK_EINTR), or with deadline_ns 0 fail at once with -VK_EAGAIN. */
long ipc_channel_write_kernel(ipc_object_t *end, const void *bytes, uint32_t num_bytes,
                              const ipc_capability_t *caps, uint32_t num_caps,
                              uint64_t deadline_ns);
/* Write, then wait for the reply carrying the same transaction id (include/vk/ipc.h
 * vk_channel_call_t) until deadline_ns. The user's bytes (>= 4) are copied as for a
 * write, and the copy's first four bytes become the transaction id; the reply goes to
 * the user buffers in *reply (counts updated). */
long ipc_channel_call(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                      const uint32_t *handles, uint32_t num_handles,
                      vk_channel_msg_t *reply, uint64_t deadline_ns);
/* A write, then a read of the same end (vk_channel_reply_read_t): *replied tells
 * whether the write went out. The first error ends it. */
long ipc_channel_reply_read(ipc_object_t *end, uint64_t user_bytes, uint32_t num_bytes,
                            const uint32_t *handles, uint32_t num_handles,
                            vk_channel_msg_t *next, bool nonblock, bool *replied);
/* True once the peer of end has closed. */
bool ipc_channel_peer_closed(ipc_object_t *end);
/* service.c marks a registered end: when its peer (the server's listening end) goes,
 * channel.c calls ipc_service_peer_gone(end). 0, -VK_EPIPE when the peer is gone
 * already, or -VK_EBUSY when the peer is registered itself. */
int ipc_channel_mark_registered(ipc_object_t *end);

/* service.c: named services (docs/ipc.md). */
/* Gives p (the first process, not running yet) its registry handle. */
void ipc_service_grant_first(process_t *p);
/* Registers a channel end under name (a kernel copy of len bytes, checked); the
 * registry takes over the caller's reference to end on success. 0, -VK_EEXIST,
 * -VK_ENOSPC, -VK_EPIPE (the end's peer is gone), -VK_EBUSY (the peer is registered)
 * or a name error. */
int ipc_service_register(const char *name, size_t len, ipc_object_t *end);
/* A new channel: the server's end is delivered at the service; the client's end goes
 * to *out (one reference). Until deadline_ns it waits for the name to be registered
 * and for room in the server's queue; with deadline_ns 0 it does not wait (-VK_ENOENT,
 * -VK_EAGAIN). A wait that runs out is -VK_ETIMEDOUT; a signal, -VK_EINTR. */
int ipc_service_connect(const char *name, size_t len, uint32_t client_pid,
                        uint64_t deadline_ns, ipc_object_t **out);
/* 0, -VK_EINVAL or -VK_ENAMETOOLONG. */
int ipc_service_name_check(const char *name, size_t len);
/* channel.c: the peer of a registered end went; drop the registration. No lock held. */
void ipc_service_peer_gone(ipc_object_t *registered_end);

/* fd.c: a descriptor in the calling process whose poll reports o's signals. Takes
 * over one reference to o (dropped on failure). The descriptor or -VK_EMFILE/-VK_ENOMEM. */
int ipc_fd_create(ipc_object_t *o, bool cloexec);

/* event.c */
ipc_object_t *ipc_event_create(void);

/* shm.c */
int ipc_shm_create(uint64_t size, ipc_object_t **out);
uint64_t ipc_shm_size(ipc_object_t *o);
/* Maps the whole object into the calling process: the address, or a negative errno.
 * write_allowed: the handle may ever map it writable. */
long ipc_shm_map(ipc_object_t *o, unsigned prot, bool write_allowed);

#endif
