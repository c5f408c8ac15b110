/* SPDX-License-Identifier: MIT */
/*
 * The run queue of one CPU: a FIFO per priority level (0..199, lower runs first) and a
 * bitmap of the non-empty levels, so picking the next thread is a scan of four words.
 * Because the classes occupy consecutive ranges (real-time 0-99, interactive 100-139,
 * batch 140-199), "most urgent level" is also "most urgent class first", and round robin
 * among equals is the FIFO order of a level.
 *
 * Pure data structure: no locks, no clock (the caller holds the CPU lock), so
 * sched_test.c exercises it on fake threads without switching.
 */
#include "sched/sched_internal.h"
#include "core/panic.h"

sched_class_t sched_priority_class(int priority)
{
    if (priority <= SCHED_PRIORITY_REALTIME_MAX)
        return SCHED_CLASS_REALTIME;
    if (priority <= SCHED_PRIORITY_INTERACTIVE_MAX)
        return SCHED_CLASS_INTERACTIVE;
    return SCHED_CLASS_BATCH;
}

int sched_effective_priority(const sched_thread_t *t)
{
    if (t->is_idle)
        return SCHED_PRIORITY_LEVELS; /* below everything */
    if (sched_priority_class(t->priority) != SCHED_CLASS_INTERACTIVE || t->boost == 0)
        return t->priority;
    int p = t->priority - t->boost;
    return p < SCHED_PRIORITY_INTERACTIVE_MIN ? SCHED_PRIORITY_INTERACTIVE_MIN : p;
}

uint64_t sched_slice_ns(const sched_thread_t *t)
{
    switch (sched_priority_class(t->priority)) {
    case SCHED_CLASS_REALTIME:
        return t->policy == SCHED_POLICY_FIFO ? SCHED_SLICE_UNLIMITED : SCHED_SLICE_REALTIME_NS;
    case SCHED_CLASS_INTERACTIVE:
        return SCHED_SLICE_INTERACTIVE_NS;
    default:
        return SCHED_SLICE_BATCH_NS;
    }
}

void sched_rq_init(sched_runqueue_t *rq)
{
    for (int i = 0; i < SCHED_PRIORITY_LEVELS; i++)
        rq->head[i] = rq->tail[i] = NULL;
    for (int i = 0; i < SCHED_BITMAP_WORDS; i++)
        rq->bitmap[i] = 0;
    rq->count = 0;
}

static void check_level(int level)
{
    if (level < 0 || level >= SCHED_PRIORITY_LEVELS)
        panic("sched: run-queue level %d outside 0..%d", level, SCHED_PRIORITY_LEVELS - 1);
}

void sched_rq_push_back(sched_runqueue_t *rq, sched_thread_t *t, int level)
{
    check_level(level);
    KASSERT(t->rq_level < 0);
    t->rq_level = level;
    t->rq_next = NULL;
    t->rq_prev = rq->tail[level];
    if (rq->tail[level])
        rq->tail[level]->rq_next = t;
    else
        rq->head[level] = t;
    rq->tail[level] = t;
    rq->bitmap[level / 64] |= 1ull << (level % 64);
    rq->count++;
}

void sched_rq_push_front(sched_runqueue_t *rq, sched_thread_t *t, int level)
{
    check_level(level);
    KASSERT(t->rq_level < 0);
    t->rq_level = level;
    t->rq_prev = NULL;
    t->rq_next = rq->head[level];
    if (rq->head[level])
        rq->head[level]->rq_prev = t;
    else
        rq->tail[level] = t;
    rq->head[level] = t;
    rq->bitmap[level / 64] |= 1ull << (level % 64);
    rq->count++;
}

void sched_rq_remove(sched_runqueue_t *rq, sched_thread_t *t)
{
    int level = t->rq_level;
    check_level(level);
    if (t->rq_prev)
        t->rq_prev->rq_next = t->rq_next;
    else
        rq->head[level] = t->rq_next;
    if (t->rq_next)
        t->rq_next->rq_prev = t->rq_prev;
    else
        rq->tail[level] = t->rq_prev;
    if (!rq->head[level])
        rq->bitmap[level / 64] &= ~(1ull << (level % 64));
    t->rq_next = t->rq_prev = NULL;
    t->rq_level = -1;
    rq->count--;
}

int sched_rq_best_level(const sched_runqueue_t *rq)
{
    for (int w = 0; w < SCHED_BITMAP_WORDS; w++)
        if (rq->bitmap[w])
            return w * 64 + __builtin_ctzll(rq->bitmap[w]);
    return -1;
}

sched_thread_t *sched_rq_pop(sched_runqueue_t *rq)
{
    int level = sched_rq_best_level(rq);
    if (level < 0)
        return NULL;
    sched_thread_t *t = rq->head[level];
    sched_rq_remove(rq, t);
    return t;
}

int sched_rq_best_level_from(const sched_runqueue_t *rq, int min_level)
{
    for (int w = min_level / 64; w < SCHED_BITMAP_WORDS; w++) {
        uint64_t bits = rq->bitmap[w];
        if (w == min_level / 64)
            bits &= ~0ull << (min_level % 64);
        if (bits)
            return w * 64 + __builtin_ctzll(bits);
    }
    return -1;
}

sched_thread_t *sched_rq_pop_from(sched_runqueue_t *rq, int min_level)
{
    int level = sched_rq_best_level_from(rq, min_level);
    if (level < 0)
        return NULL;
    sched_thread_t *t = rq->head[level];
    sched_rq_remove(rq, t);
    return t;
}

sched_thread_t *sched_rq_find_allowed(const sched_runqueue_t *rq, uint64_t cpu_bit)
{
    for (int w = 0; w < SCHED_BITMAP_WORDS; w++) {
        for (uint64_t bits = rq->bitmap[w]; bits; bits &= bits - 1) {
            int level = w * 64 + __builtin_ctzll(bits);
            for (sched_thread_t *t = rq->head[level]; t; t = t->rq_next)
                if (t->affinity & cpu_bit)
                    return t;
        }
    }
    return NULL;
}
