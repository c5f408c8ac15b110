/* SPDX-License-Identifier: MIT */
/*
 * Shared memory objects: zeroed frames allocated at creation, mapped whole into any
 * process holding a handle with VK_RIGHT_MAP.
 *
 * The frames have owners (kernel/mm/aspace_cow.c): the object, and each page-table entry
 * that maps them. Destroying the object (its last handle closed) drops the object's
 * ownership; a frame is freed when its last mapping goes too, by munmap, exit or exec.
 * fork shares the mappings with the child as they are (aspace_clone). A mapping made
 * through a handle without VK_RIGHT_WRITE is marked ASPACE_NO_WRITE, so mprotect cannot
 * make it writable later.
 */
#include "ipc/ipc.h"
#include "mm/mm.h"
#include "mm/aspace.h"
#include <vk/errno.h>

/* Where mappings go: sys_mem.c's mmap window (fixed addresses keep gdb simple). */
#define SHM_MAP_MIN 0x0000500000000000ull
#define SHM_MAP_MAX 0x00007f0000000000ull

typedef struct {
    ipc_object_t object;  /* first: the handle's view */
    uint64_t pages;
    uint64_t frames[];    /* set at creation, never changed */
} shm_t;

static void shm_destroy(ipc_object_t *o)
{
    shm_t *s = (shm_t *)o;
    for (uint64_t i = 0; i < s->pages; i++)
        aspace_shared_frame_put(s->frames[i]);
    kfree(s);
}

static const ipc_object_ops_t shm_ops = {
    .type = VK_OBJECT_SHM,
    .destroy = shm_destroy,
};

int ipc_shm_create(uint64_t size, ipc_object_t **out)
{
    if (size == 0)
        return -VK_EINVAL;
    if (size > VK_SHM_SIZE_MAX)
        return -VK_ENOMEM;
    uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    shm_t *s = kzalloc(sizeof(*s) + pages * sizeof(uint64_t));
    if (!s)
        return -VK_ENOMEM;
    for (uint64_t i = 0; i < pages; i++) {
        s->frames[i] = aspace_shared_frame_alloc();
        if (!s->frames[i]) {
            while (i--)
                aspace_shared_frame_put(s->frames[i]);
            kfree(s);
            return -VK_ENOMEM;
        }
        s->pages++;
    }
    ipc_object_init(&s->object, &shm_ops);
    *out = &s->object;
    return 0;
}

uint64_t ipc_shm_size(ipc_object_t *o)
{
    return ((shm_t *)o)->pages * PAGE_SIZE;
}

long ipc_shm_map(ipc_object_t *o, unsigned prot, bool write_allowed)
{
    shm_t *s = (shm_t *)o;
    return aspace_map_shared(proc_current()->aspace, s->frames, s->pages, prot, write_allowed,
                             SHM_MAP_MIN, SHM_MAP_MAX, "shm");
}
