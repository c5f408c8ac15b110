/* SPDX-License-Identifier: MIT */
/*
 * vk_api_t: vkernel's own services for user programs, as a versioned table of function
 * pointers. The kernel maps one read-only, executable page at VK_API_USER_ADDR into every
 * process; it holds this table and the stubs it points at (each stub issues a vkernel
 * syscall, kernel/sys/vkapi_page.S). Programs find the table through the auxiliary
 * vector entry AT_VK_API (libvk's vk_api() does it).
 *
 * Rules (docs/ABI-CHANGES.md): the header comes first and never changes shape; entries
 * are only ever appended; a retired entry stays as a stub returning -ENOSYS; each entry
 * names the revision that added it; callers check header.size before using an entry
 * newer than the revision they were built against.
 */
#ifndef VK_VK_H
#define VK_VK_H

#include <stdint.h>
#include <stddef.h>
#include <vk/ipc.h>

#define AT_VK_API         0x7601              /* auxv type carrying the table's address */
#define VK_API_SIGNATURE  0x3149504b56ull     /* "VKPI1" */
#define VK_API_REVISION   5u
#define VK_API_USER_ADDR  0x00007ffff7f00000ull /* fixed: the stubs are linked for it */

/* Shaped like UEFI's EFI_TABLE_HEADER. */
typedef struct {
    uint64_t signature; /* VK_API_SIGNATURE */
    uint32_t revision;  /* VK_API_REVISION of the kernel that built the table */
    uint32_t size;      /* bytes of the whole table: entries past size do not exist */
    uint32_t _reserved[2];
} vk_api_header_t;
_Static_assert(sizeof(vk_api_header_t) == 24, "vk_api_header_t");

typedef struct {
    uint64_t width, height;   /* pixels */
    uint64_t pitch;           /* bytes per line */
    uint32_t format;          /* VK_FB_FORMAT_* from vk/boot.h */
    uint32_t _pad;
} vk_fb_info_t;
_Static_assert(sizeof(vk_fb_info_t) == 32, "vk_fb_info_t");

#define VK_TASK_NAME_MAX 32
#define VK_TASK_RUNNING  1u
#define VK_TASK_SLEEPING 2u
#define VK_TASK_ZOMBIE   3u
typedef struct {
    uint32_t pid;
    uint32_t parent_pid;
    uint32_t state;           /* VK_TASK_* */
    uint32_t _pad;
    uint64_t cpu_time_ns;
    uint64_t resident_bytes;
    char     name[VK_TASK_NAME_MAX];
} vk_task_info_t;
_Static_assert(sizeof(vk_task_info_t) == 64, "vk_task_info_t");

/* Every entry returns a value >= 0 on success or a negative errno. */
typedef struct vk_api {
    vk_api_header_t header;
    /* revision 1 */
    /* One line into the kernel log; rate-limited per process (docs/abi.md). */
    int64_t (*log_write)(const char *text, uint64_t len);
    int64_t (*framebuffer_info)(vk_fb_info_t *out);
    int64_t (*task_snapshot)(vk_task_info_t *out, uint64_t max_tasks); /* tasks written */
    int64_t (*monotonic_ns)(void);
    int64_t (*yield)(void);
    int64_t (*sleep_ns)(uint64_t ns);
    /* Starts path with argv/envp (NULL-terminated); returns the child's pid. */
    int64_t (*spawn)(const char *path, const char *const *argv, const char *const *envp);
    /* Any syscall, Linux or vkernel range. */
    int64_t (*syscall)(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5);
    /* revision 2 */
    /* One KObj JSON request (docs/kobj.md); the reply is NUL-terminated. Returns its
     * length, or -ERANGE when reply_size is too small, -E2BIG for a long request. */
    int64_t (*kobj_rpc)(const char *request, uint64_t len, char *reply, uint64_t reply_size);
    /* revision 3: IPC (include/vk/ipc.h; handles are uint32_t values) */
    int64_t (*handle_close)(uint32_t handle);
    int64_t (*handle_duplicate)(uint32_t handle, uint32_t rights);   /* the new handle */
    int64_t (*handle_info)(uint32_t handle, vk_handle_info_t *out);
    int64_t (*channel_create)(uint32_t out[2]);
    int64_t (*channel_write)(uint32_t handle, const vk_channel_msg_t *msg, uint32_t flags);
    int64_t (*channel_read)(uint32_t handle, vk_channel_msg_t *msg, uint32_t flags);
    int64_t (*event_create)(void);                                    /* the handle */
    int64_t (*object_signal)(uint32_t handle, uint32_t clear, uint32_t set);
    /* Items satisfied (>0), or -ETIMEDOUT; timeout_ns 0 polls, VK_WAIT_FOREVER waits. */
    int64_t (*object_wait)(vk_wait_item_t *items, uint64_t count, uint64_t timeout_ns);
    int64_t (*shm_create)(uint64_t size);                             /* the handle */
    int64_t (*shm_map)(uint32_t handle, uint32_t prot);               /* the address */
    int64_t (*ipc_stats)(vk_ipc_stats_t *out);
    /* inherit 1: fork copies the handle into the child at the same value; 0: it does not
     * (the default). */
    int64_t (*handle_inherit)(uint32_t handle, uint32_t inherit);
    /* revision 4: named services, calls, descriptors (include/vk/ipc.h) */
    /* Registers `end` (moved out of the table) under name; the server reads connections
     * at end's peer. Needs VK_RIGHT_WRITE on registry. */
    int64_t (*service_register)(uint32_t registry, const char *name, uint64_t len,
                                uint32_t end);
    int64_t (*service_connect)(const char *name, uint64_t len);       /* the handle */
    int64_t (*channel_call)(uint32_t handle, vk_channel_call_t *args, uint64_t timeout_ns);
    int64_t (*handle_fd)(uint32_t handle, uint32_t flags);            /* the descriptor */
    /* revision 5: a server's reply and its next read in one call; a connect that waits
     * up to timeout_ns for the name to be registered and for room at the server
     * (include/vk/ipc.h) */
    int64_t (*channel_reply_read)(uint32_t handle, vk_channel_reply_read_t *args,
                                  uint32_t flags);
    int64_t (*service_connect_timeout)(const char *name, uint64_t len,
                                       uint64_t timeout_ns);              /* the handle */
} vk_api_t;
_Static_assert(offsetof(vk_api_t, log_write) == 24, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, syscall) == 80, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, kobj_rpc) == 88, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, handle_close) == 96, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, handle_inherit) == 192, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, handle_fd) == 224, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, channel_reply_read) == 232, "vk_api_t layout");
_Static_assert(offsetof(vk_api_t, service_connect_timeout) == 240, "vk_api_t layout");

#endif
