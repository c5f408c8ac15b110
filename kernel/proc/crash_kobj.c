/* SPDX-License-Identifier: MIT */
/*
 * /crash in KObj: the last user crash report and how many there were since boot.
 * proc_kill_on_fault (proc.c) hands over the report's text as it logs it; the getters
 * copy it out under the lock, so a reader never sees half of two reports.
 */
#include "proc/crash.h"
#include "kobj/kobj.h"
#include "core/spinlock.h"
#include "core/string.h"

static spinlock_t lock = SPINLOCK_INIT;
static char last[CRASH_REPORT_MAX];
static size_t last_length;
static uint64_t count;

void crash_record(const char *text, size_t length)
{
    if (length > sizeof(last))
        length = sizeof(last);
    uint64_t f = spinlock_lock_irqsave(&lock);
    memcpy(last, text, length);
    last_length = length;
    count++;
    spinlock_unlock_irqrestore(&lock, f);
}

static int last_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)node;
    (void)key;
    uint64_t f = spinlock_lock_irqsave(&lock);
    size_t n = last_length < sizeof(out->text) ? last_length : sizeof(out->text);
    memcpy(out->text, last, n);
    out->length = n;
    spinlock_unlock_irqrestore(&lock, f);
    return 0;
}

static int count_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)node;
    (void)key;
    out->u = __atomic_load_n(&count, __ATOMIC_RELAXED);
    return 0;
}

static kobj_node_t crash_nodes[] = {
    { .path = "/crash", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "User programs killed by a fault" },
    { .path = "/crash/count", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = count_get, .description = "Programs killed by a fault since boot" },
    { .path = "/crash/last", .type = KOBJ_STRING, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = last_get,
      .description = "The last crash report as logged (frames with file:line); empty before one" },
};
KOBJ_TABLE(crash_nodes);
