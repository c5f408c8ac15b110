/* SPDX-License-Identifier: MIT */
/*
 * IPC: capability handles, channels, events and shared memory (docs/ipc.md).
 *
 * A process reaches an IPC object only through a handle in its own handle table. A
 * handle is a positive 32-bit value: a slot index plus generation bits, so a closed or
 * reused slot's old value is rejected. Each handle carries rights (VK_RIGHT_*); a
 * duplicate or a transfer can only keep or drop rights, never add them. Handles are not
 * inherited by fork unless marked with vk_handle_inherit (then the child has them at the
 * same values), survive execve, and are all closed when the process ends.
 *
 * Errors (negative errno from <vk/errno.h>), the same for every call:
 *   EBADF      the value is not a live handle of this process (never was, closed, stale)
 *   EACCES     the handle lacks a right the call needs
 *   EINVAL     wrong object type for the call, bad flags, bad sizes
 *   EFAULT     a user pointer is bad
 *   EMFILE     the handle table is full (VK_IPC_HANDLES_MAX)
 *   ENOMEM     out of kernel memory (or past VK_SHM_SIZE_MAX)
 *   EAGAIN     non-blocking: channel queue full (write) or empty (read)
 *   EPIPE      channel write or read with the peer closed (read: and the queue empty)
 *   EMSGSIZE   write: more than VK_CHANNEL_BYTES_MAX / VK_CHANNEL_HANDLES_MAX;
 *              read: the buffers are too small (the message stays queued and the
 *              needed sizes are written back)
 *   ENOTSUP    write: a handle to the channel itself (or its peer) in its own message
 *   EINTR      a signal ended a blocking read, write or wait
 *   ETIMEDOUT  the timeout of vk_object_wait, vk_channel_call or
 *              vk_service_connect_timeout passed (a wait's observed signals are still
 *              written)
 *   EBUSY      write: a channel end that has channel ends queued at it (this rule makes
 *              reference cycles of channels impossible, docs/ipc.md)
 * Named services (vk_service_register, vk_service_connect[_timeout]) add:
 *   EEXIST     register: the name is taken
 *   ENOENT     connect: no service has that name (or its server has closed it)
 *   ENAMETOOLONG  a name longer than VK_SERVICE_NAME_MAX
 *   EINVAL     an empty name or a byte outside [A-Za-z0-9._-]
 *   ENOSPC     register: VK_SERVICES_MAX services already
 *   EAGAIN     connect: the server's queue is full (it is not accepting)
 *   EPIPE      register: the other end of the channel is closed already
 *   EBUSY      register: the other end of the channel is registered itself
 */
#ifndef VK_IPC_H
#define VK_IPC_H

#include <stdint.h>
#include <stddef.h>

/* ---- rights --------------------------------------------------------------------- */
#define VK_RIGHT_READ      0x01u /* channel read; map shared memory readable */
#define VK_RIGHT_WRITE     0x02u /* channel write; map shared memory writable */
#define VK_RIGHT_MAP       0x04u /* map shared memory at all */
#define VK_RIGHT_TRANSFER  0x08u /* send the handle in a channel message */
#define VK_RIGHT_DUPLICATE 0x10u /* vk_handle_duplicate */
#define VK_RIGHT_SIGNAL    0x20u /* vk_object_signal (user signals) */
#define VK_RIGHT_WAIT      0x40u /* vk_object_wait */
#define VK_RIGHTS_ALL      0x7fu
#define VK_RIGHT_SAME      0x80000000u /* vk_handle_duplicate: keep the rights as they are */

/* ---- object types (vk_handle_info_t.type) --------------------------------------- */
#define VK_OBJECT_CHANNEL 1u
#define VK_OBJECT_EVENT   2u
#define VK_OBJECT_SHM     3u
#define VK_OBJECT_SERVICE_REGISTRY 4u /* the right to register names (docs/ipc.md) */
#define VK_OBJECT_KOBJ_WRITE 5u /* the right to change kernel behaviour through KObj (docs/kobj.md) */

/* ---- signals ---------------------------------------------------------------------- */
#define VK_SIGNAL_READABLE    0x01u /* channel: a message is queued */
#define VK_SIGNAL_WRITABLE    0x02u /* channel: the peer is open and its queue has room */
#define VK_SIGNAL_PEER_CLOSED 0x04u /* channel: the other end is gone */
#define VK_SIGNAL_USER_SHIFT  24
#define VK_SIGNAL_USER_ALL    0xff000000u /* eight user signals, set by vk_object_signal */
#define VK_SIGNAL_USER(n)     (1u << (VK_SIGNAL_USER_SHIFT + (n))) /* n = 0..7 */

/* ---- limits ----------------------------------------------------------------------- */
#define VK_IPC_HANDLES_MAX     1024         /* handles one process holds */
#define VK_CHANNEL_BYTES_MAX   (64u * 1024) /* bytes in one message */
#define VK_CHANNEL_HANDLES_MAX 64           /* handles in one message */
#define VK_CHANNEL_QUEUE_MAX   64           /* messages queued at one end */
#define VK_SHM_SIZE_MAX        (64ull << 20)
#define VK_WAIT_ITEMS_MAX      64           /* handles in one vk_object_wait */
#define VK_SERVICE_NAME_MAX    32           /* bytes in a service name (no NUL needed) */
#define VK_SERVICES_MAX        64           /* names registered at once */

/* ---- flags ------------------------------------------------------------------------ */
#define VK_IPC_NONBLOCK 0x1u /* channel read/write: EAGAIN instead of waiting */
#define VK_WAIT_FOREVER UINT64_MAX
#define VK_HANDLE_FD_CLOEXEC 0x1u /* vk_handle_fd: the descriptor closes on execve */

/* init's handle table starts with one handle to the service registry, at this value,
 * with every right and not inheritable: init passes it on deliberately (inherit it to a
 * child, or send it in a message). Registering needs VK_RIGHT_WRITE on it. */
#define VK_HANDLE_SERVICE_REGISTRY_INIT 0x400u

/* A channel message, in and out. write: bytes/handles point at num_bytes bytes and
 * num_handles handle values (moved: they leave the sender's table only when the write
 * succeeds). read: bytes/handles are buffers of num_bytes / num_handles entries; on
 * return they hold the actual counts (also on EMSGSIZE, where nothing is consumed).
 * Received handles are new values in the reader's table with the sender's rights. */
typedef struct vk_channel_msg {
    uint64_t bytes;       /* user address */
    uint64_t handles;     /* user address of uint32_t values */
    uint32_t num_bytes;
    uint32_t num_handles;
} vk_channel_msg_t;
_Static_assert(sizeof(vk_channel_msg_t) == 24, "vk_channel_msg_t");
_Static_assert(offsetof(vk_channel_msg_t, num_handles) == 20, "vk_channel_msg_t");

/* vk_channel_call: write `write`, then wait for the reply whose first four bytes carry
 * the same transaction id, and read it into `read` (counts updated as for a read).
 * write.num_bytes must be at least 4: the kernel stores a fresh transaction id
 * (VK_CALL_TXID_KERNEL set) in the first four bytes of the request. The server replies
 * with an ordinary write starting with those four bytes; that message goes to the
 * caller and is never queued. A reply too big for `read` is discarded (its handles
 * closed) and the call fails with EMSGSIZE with the sizes written back. The call ends
 * with ETIMEDOUT when timeout_ns passes (VK_WAIT_FOREVER: never), EPIPE when the peer
 * closes, EINTR on a signal. */
typedef struct vk_channel_call {
    vk_channel_msg_t write;
    vk_channel_msg_t read;
} vk_channel_call_t;
_Static_assert(sizeof(vk_channel_call_t) == 48, "vk_channel_call_t");
#define VK_CALL_TXID_KERNEL 0x80000000u /* set in every id vk_channel_call assigns */

/* vk_channel_reply_read: a server's loop step in one syscall. Writes `reply` exactly
 * as vk_channel_write would (typically the answer to a call, starting with its
 * transaction id), then reads the next message into `next` as vk_channel_read would
 * (counts updated, also on EMSGSIZE). The handle needs READ and WRITE. flags:
 * VK_IPC_NONBLOCK applies to both steps. The first error ends the call; `replied`
 * (written back on every return after the arguments were read) is 1 when the reply
 * went out, so an error with replied == 0 came from the write, and with replied == 1
 * from the read. */
typedef struct vk_channel_reply_read {
    vk_channel_msg_t reply;
    vk_channel_msg_t next;
    uint32_t replied;     /* out */
    uint32_t _pad;
} vk_channel_reply_read_t;
_Static_assert(sizeof(vk_channel_reply_read_t) == 56, "vk_channel_reply_read_t");
_Static_assert(offsetof(vk_channel_reply_read_t, replied) == 48, "vk_channel_reply_read_t");

/* vk_service_connect_timeout(name, len, timeout_ns) is vk_service_connect that waits:
 * for the name to be registered (instead of ENOENT) and for room in the server's
 * queue (instead of EAGAIN), up to timeout_ns (VK_WAIT_FOREVER: no limit). When the
 * time runs out it fails with ETIMEDOUT; a signal ends it with EINTR. timeout_ns 0 is
 * vk_service_connect exactly. */

/* The message a server reads on its service end for each vk_service_connect: these
 * bytes plus one handle, the server's end of the new channel (every right). */
typedef struct vk_service_connect_msg {
    uint32_t type;        /* VK_SERVICE_MSG_CONNECT */
    uint32_t client_pid;  /* the process that connected */
} vk_service_connect_msg_t;
_Static_assert(sizeof(vk_service_connect_msg_t) == 8, "vk_service_connect_msg_t");
#define VK_SERVICE_MSG_CONNECT 0x4e4e4f43u /* "CONN" */

/* One entry of vk_object_wait. */
typedef struct vk_wait_item {
    uint32_t handle;
    uint32_t wanted;      /* VK_SIGNAL_* */
    uint32_t observed;    /* out: the object's signals when the wait ended */
    uint32_t _pad;
} vk_wait_item_t;
_Static_assert(sizeof(vk_wait_item_t) == 16, "vk_wait_item_t");

typedef struct vk_handle_info {
    uint32_t type;        /* VK_OBJECT_* */
    uint32_t rights;      /* VK_RIGHT_* */
    uint64_t object_id;   /* the same for every handle to one object, never reused */
    uint64_t size;        /* shared memory: bytes; else 0 */
} vk_handle_info_t;
_Static_assert(sizeof(vk_handle_info_t) == 24, "vk_handle_info_t");

/* Live kernel objects system-wide (debugging and leak tests). */
typedef struct vk_ipc_stats {
    uint64_t objects;     /* all types */
    uint64_t channels;    /* endpoints */
    uint64_t events;
    uint64_t shms;
    uint64_t handles;     /* in handle tables, not in messages */
} vk_ipc_stats_t;
_Static_assert(sizeof(vk_ipc_stats_t) == 40, "vk_ipc_stats_t");

#endif
