/* SPDX-License-Identifier: MIT */
/*
 * Per-process handle tables.
 *
 * A handle value is (generation << HANDLE_INDEX_BITS) | slot. Each slot's generation
 * moves on when the slot is freed, so an old value of a reused slot no longer matches;
 * generations start at 1, so no value is 0. The table is made on first use (most
 * processes never touch IPC) and is not copied by fork: a child starts with only the
 * handles marked with vk_handle_inherit, at the same values (how a parent hands a
 * child its first channel).
 * Closing is immediate: the slot is free when vk_handle_close returns, and the object
 * goes with its last reference.
 */
#include "ipc/ipc.h"
#include "mm/mm.h"
#include "core/spinlock.h"
#include <vk/errno.h>

#define HANDLE_INDEX_BITS 10
#define HANDLE_GEN_MASK   0xfffffu /* 20 bits: the value stays a positive int32 */

_Static_assert(VK_IPC_HANDLES_MAX == 1u << HANDLE_INDEX_BITS, "slot bits match the limit");

typedef struct {
    ipc_object_t *object;  /* NULL: free */
    uint32_t rights;
    uint32_t generation;   /* 1..HANDLE_GEN_MASK */
    bool inherit;          /* fork copies it into the child (vk_handle_inherit) */
} slot_t;

struct ipc_handle_table {
    spinlock_t lock;       /* guards everything below */
    unsigned used;
    slot_t slots[VK_IPC_HANDLES_MAX];
};

static uint64_t handles_live; /* atomic */

uint64_t ipc_handle_count(void)
{
    return __atomic_load_n(&handles_live, __ATOMIC_RELAXED);
}

/* The calling process's table, made on first use (two threads may race: one wins). */
static ipc_handle_table_t *table_of(process_t *p, bool create)
{
    ipc_handle_table_t *t = __atomic_load_n(&p->handles, __ATOMIC_ACQUIRE);
    if (t || !create)
        return t;
    ipc_handle_table_t *fresh = kzalloc(sizeof(*fresh));
    if (!fresh)
        return NULL;
    for (unsigned i = 0; i < VK_IPC_HANDLES_MAX; i++)
        fresh->slots[i].generation = 1;
    ipc_handle_table_t *expected = NULL;
    if (__atomic_compare_exchange_n(&p->handles, &expected, fresh, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        return fresh;
    kfree(fresh);
    return expected;
}

static uint32_t value_of(const ipc_handle_table_t *t, unsigned i)
{
    return (t->slots[i].generation << HANDLE_INDEX_BITS) | i;
}

/* The slot handle h names, or NULL. Lock held. */
static slot_t *slot_for(ipc_handle_table_t *t, uint32_t h)
{
    unsigned i = h & (VK_IPC_HANDLES_MAX - 1);
    slot_t *s = &t->slots[i];
    if (!s->object || (h >> HANDLE_INDEX_BITS) != s->generation)
        return NULL;
    return s;
}

/* Empties a slot, returning its reference to the caller. Lock held. */
static ipc_object_t *slot_clear(ipc_handle_table_t *t, slot_t *s)
{
    ipc_object_t *o = s->object;
    s->object = NULL;
    s->inherit = false;
    s->generation = s->generation == HANDLE_GEN_MASK ? 1 : s->generation + 1;
    t->used--;
    __atomic_fetch_sub(&handles_live, 1, __ATOMIC_RELAXED);
    return o;
}

static int install_many_in(process_t *p, const ipc_capability_t *caps, unsigned n,
                           uint32_t *values)
{
    ipc_handle_table_t *t = table_of(p, true);
    if (!t)
        return -VK_ENOMEM;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    if (t->used + n > VK_IPC_HANDLES_MAX) {
        spinlock_unlock_irqrestore(&t->lock, f);
        return -VK_EMFILE;
    }
    unsigned i = 0;
    for (unsigned k = 0; k < n; k++) {
        while (t->slots[i].object)
            i++;
        t->slots[i].object = caps[k].object;
        t->slots[i].rights = caps[k].rights;
        values[k] = value_of(t, i);
    }
    t->used += n;
    __atomic_fetch_add(&handles_live, n, __ATOMIC_RELAXED);
    spinlock_unlock_irqrestore(&t->lock, f);
    return 0;
}

int ipc_handle_install_many(const ipc_capability_t *caps, unsigned n, uint32_t *values)
{
    return install_many_in(proc_current(), caps, n, values);
}

long ipc_handle_install_in(process_t *p, ipc_capability_t cap)
{
    uint32_t value;
    int err = install_many_in(p, &cap, 1, &value);
    return err ? err : (long)value;
}

bool ipc_process_holds(process_t *p, uint32_t type)
{
    ipc_handle_table_t *t = table_of(p, false);
    if (!t)
        return false;
    bool found = false;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    for (unsigned i = 0; i < VK_IPC_HANDLES_MAX && !found; i++)
        found = t->slots[i].object && t->slots[i].object->ops->type == type;
    spinlock_unlock_irqrestore(&t->lock, f);
    return found;
}

long ipc_handle_install(ipc_capability_t cap)
{
    uint32_t value;
    int err = ipc_handle_install_many(&cap, 1, &value);
    return err ? err : (long)value;
}

int ipc_handle_get(uint32_t h, uint32_t type, uint32_t rights, ipc_object_t **out,
                   uint32_t *rights_out)
{
    ipc_handle_table_t *t = table_of(proc_current(), false);
    if (!t)
        return -VK_EBADF;
    int err = 0;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    slot_t *s = slot_for(t, h);
    if (!s)
        err = -VK_EBADF;
    else if (type && s->object->ops->type != type)
        err = -VK_EINVAL;
    else if ((s->rights & rights) != rights)
        err = -VK_EACCES;
    if (!err) {
        *out = ipc_object_ref(s->object);
        if (rights_out)
            *rights_out = s->rights;
    }
    spinlock_unlock_irqrestore(&t->lock, f);
    return err;
}

int ipc_handle_close(uint32_t h)
{
    ipc_handle_table_t *t = table_of(proc_current(), false);
    if (!t)
        return -VK_EBADF;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    slot_t *s = slot_for(t, h);
    ipc_object_t *o = s ? slot_clear(t, s) : NULL;
    spinlock_unlock_irqrestore(&t->lock, f);
    if (!o)
        return -VK_EBADF;
    ipc_object_unref(o);
    return 0;
}

int ipc_handle_take_many(const uint32_t *values, unsigned n, const ipc_object_t *forbid[2],
                         int (*check)(ipc_object_t *o), ipc_capability_t *out)
{
    if (n == 0)
        return 0;
    ipc_handle_table_t *t = table_of(proc_current(), false);
    if (!t)
        return -VK_EBADF;
    int err = 0;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    /* Validate all first, then move: a failed write leaves the table as it was. */
    for (unsigned k = 0; k < n && !err; k++) {
        slot_t *s = slot_for(t, values[k]);
        if (!s)
            err = -VK_EBADF;
        else if (!(s->rights & VK_RIGHT_TRANSFER))
            err = -VK_EACCES;
        else if (s->object == forbid[0] || s->object == forbid[1])
            err = -VK_ENOTSUP;
        else if (check)
            err = check(s->object);
        for (unsigned j = 0; j < k && !err; j++)
            if (values[j] == values[k])
                err = -VK_EINVAL;
    }
    for (unsigned k = 0; k < n && !err; k++) {
        slot_t *s = slot_for(t, values[k]);
        out[k].rights = s->rights;
        out[k].object = slot_clear(t, s);
    }
    spinlock_unlock_irqrestore(&t->lock, f);
    return err;
}

int ipc_handle_set_inherit(uint32_t h, bool inherit)
{
    ipc_handle_table_t *t = table_of(proc_current(), false);
    if (!t)
        return -VK_EBADF;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    slot_t *s = slot_for(t, h);
    if (s)
        s->inherit = inherit;
    spinlock_unlock_irqrestore(&t->lock, f);
    return s ? 0 : -VK_EBADF;
}

int ipc_process_fork(process_t *parent, process_t *child)
{
    ipc_handle_table_t *t = table_of(parent, false);
    if (!t)
        return 0;
    ipc_handle_table_t *c = table_of(child, true);
    if (!c)
        return -VK_ENOMEM;
    uint64_t f = spinlock_lock_irqsave(&t->lock);
    for (unsigned i = 0; i < VK_IPC_HANDLES_MAX; i++) {
        if (!t->slots[i].object || !t->slots[i].inherit)
            continue;
        c->slots[i] = t->slots[i];
        ipc_object_ref(c->slots[i].object);
        c->used++;
        __atomic_fetch_add(&handles_live, 1, __ATOMIC_RELAXED);
    }
    spinlock_unlock_irqrestore(&t->lock, f);
    return 0;
}

void ipc_process_release(process_t *p)
{
    ipc_handle_table_t *t = __atomic_exchange_n(&p->handles, NULL, __ATOMIC_ACQ_REL);
    if (!t)
        return;
    /* No thread of p is left, so nothing else touches t. */
    for (unsigned i = 0; i < VK_IPC_HANDLES_MAX; i++)
        if (t->slots[i].object)
            ipc_object_unref(slot_clear(t, &t->slots[i]));
    kfree(t);
}
