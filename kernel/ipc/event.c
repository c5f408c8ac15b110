/* SPDX-License-Identifier: MIT */
/* Events: objects with nothing but the eight user signals (vk_object_signal). */
#include "ipc/ipc.h"
#include "mm/mm.h"

static void event_destroy(ipc_object_t *o)
{
    kfree(o);
}

static const ipc_object_ops_t event_ops = {
    .type = VK_OBJECT_EVENT,
    .destroy = event_destroy,
};

ipc_object_t *ipc_event_create(void)
{
    ipc_object_t *o = kzalloc(sizeof(*o));
    if (o)
        ipc_object_init(o, &event_ops);
    return o;
}
