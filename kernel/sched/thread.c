/* SPDX-License-Identifier: MIT */
/*
 * Thread lifecycle: creation, the initial stack frame, exit, join/detach, freeing, the
 * list of all threads and the per-thread accounting read-outs.
 *
 * Design notes:
 *  - Stacks come from vmm_alloc_kernel_stack (CONFIG_KERNEL_STACK_PAGES above a guard
 *    page). vmm cannot free a stack yet, so a dead thread's stack goes to a free list
 *    (the stack pool) and the next thread created takes it from there; the pool never
 *    shrinks. FIXME(issue 4): give stacks back once vmm can unmap them. The pool's link
 *    lives in the lowest word of the free stack itself.
 *  - A thread cannot free its own stack while it runs on it. sched_thread_exit marks it
 *    DEAD and switches away; the thread switched to (finish_switch in sched.c) calls
 *    sched_thread_dead, which sets `exited` and wakes the joiner, or frees a detached
 *    thread. `exited` is therefore only true once the stack is no longer in use.
 *  - "main" (thread 0) is a static struct so sched_current() works before sched_init;
 *    it keeps the stack kernel_main switched to and never exits.
 */
#include "sched/sched_internal.h"
#include "arch/x86_64/arch.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "mm/mm.h"
#include "time/time.h"
#include "lib/fmt.h"

#define STACK_BYTES (CONFIG_KERNEL_STACK_PAGES * PAGE_SIZE)
#define RFLAGS_RESERVED 0x2ull /* bit 1 always reads 1; IF stays off until the trampoline */

spinlock_t sched_threads_lock = SPINLOCK_INIT;
sched_thread_t *sched_threads_first, *sched_threads_last;
static unsigned thread_count;       /* guarded by sched_threads_lock */
static uint64_t next_thread_id = 1; /* atomic */

static spinlock_t stack_pool_lock = SPINLOCK_INIT;
/* Guarded by stack_pool_lock: tops of free stacks, linked through their lowest word. */
static void *stack_pool;
static unsigned stack_pool_count;

sched_thread_t sched_main_thread = {
    .id = 0,
    .name = "main",
    .is_main = true,
    .state = SCHED_THREAD_RUNNING,
    .priority = SCHED_PRIORITY_DEFAULT,
    .affinity = ~0ull,
    .rq_level = -1,
};

static void **stack_link(void *top) { return (void **)((uint8_t *)top - STACK_BYTES); }

static void *stack_get(void)
{
    uint64_t f = spinlock_lock_irqsave(&stack_pool_lock);
    void *top = stack_pool;
    if (top) {
        stack_pool = *stack_link(top);
        stack_pool_count--;
    }
    spinlock_unlock_irqrestore(&stack_pool_lock, f);
    return top ? top : vmm_alloc_kernel_stack(CONFIG_KERNEL_STACK_PAGES);
}

static void stack_put(void *top)
{
    uint64_t f = spinlock_lock_irqsave(&stack_pool_lock);
    *stack_link(top) = stack_pool;
    stack_pool = top;
    stack_pool_count++;
    spinlock_unlock_irqrestore(&stack_pool_lock, f);
}

unsigned sched_stack_pool_size(void)
{
    uint64_t f = spinlock_lock_irqsave(&stack_pool_lock);
    unsigned n = stack_pool_count;
    spinlock_unlock_irqrestore(&stack_pool_lock, f);
    return n;
}

static void list_add(sched_thread_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&sched_threads_lock);
    t->all_prev = sched_threads_last;
    t->all_next = NULL;
    if (sched_threads_last)
        sched_threads_last->all_next = t;
    else
        sched_threads_first = t;
    sched_threads_last = t;
    thread_count++;
    spinlock_unlock_irqrestore(&sched_threads_lock, f);
}

static void list_remove(sched_thread_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&sched_threads_lock);
    if (t->all_prev)
        t->all_prev->all_next = t->all_next;
    else
        sched_threads_first = t->all_next;
    if (t->all_next)
        t->all_next->all_prev = t->all_prev;
    else
        sched_threads_last = t->all_prev;
    thread_count--;
    spinlock_unlock_irqrestore(&sched_threads_lock, f);
}

unsigned sched_thread_count(void)
{
    uint64_t f = spinlock_lock_irqsave(&sched_threads_lock);
    unsigned n = thread_count;
    spinlock_unlock_irqrestore(&sched_threads_lock, f);
    return n;
}

void sched_thread_init_main(uint32_t cpu)
{
    sched_thread_t *m = &sched_main_thread;
    m->cpu = cpu;
    m->state = SCHED_THREAD_RUNNING;
    m->slice_left_ns = sched_slice_ns(m);
    m->slice_start_ns = time_monotonic_ns();
    m->kernel_rsp = arch_kernel_stack();
    list_add(m);
}

sched_thread_t *sched_thread_adopt_idle(uint32_t cpu)
{
    sched_thread_t *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
    fmt_snprintf(t->name, sizeof(t->name), "idle%u", cpu);
    t->is_idle = true;
    t->priority = SCHED_PRIORITY_BATCH_MAX;
    t->affinity = 1ull << cpu;
    t->cpu = cpu;
    t->rq_level = -1;
    t->state = SCHED_THREAD_RUNNING;
    t->kernel_rsp = arch_kernel_stack();
    t->slice_start_ns = time_monotonic_ns();
    list_add(t);
    return t;
}

/* The first switch to a thread "returns" into arch_thread_trampoline with entry in r12
 * and arg in r13; the trampoline calls entry(arg) and then sched_thread_exit. */
static void build_initial_frame(sched_thread_t *t)
{
    /* The trampoline starts with RSP 16-byte aligned (the ABI's state before a call);
     * a zero word above it ends frame-pointer backtraces. */
    uint64_t *top = (uint64_t *)t->stack_top;
    top[-1] = 0;
    top[-2] = 0;
    arch_switch_frame_t *frame = (arch_switch_frame_t *)(top - 2) - 1;
    memset(frame, 0, sizeof(*frame));
    frame->r12 = (uint64_t)t->entry;
    frame->r13 = (uint64_t)t->arg;
    frame->rflags = RFLAGS_RESERVED;
    frame->rip = (uint64_t)arch_thread_trampoline;
    t->context_rsp = (uint64_t)frame;
}

sched_thread_t *sched_thread_alloc(const sched_thread_params_t *p)
{
    if (!p->entry || p->priority < 0 || p->priority >= SCHED_PRIORITY_LEVELS)
        return NULL;
    sched_thread_t *t = kzalloc(sizeof(*t));
    if (!t)
        return NULL;
    t->stack_top = stack_get();
    if (!t->stack_top) {
        kfree(t);
        return NULL;
    }
    t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
    strlcpy(t->name, p->name ? p->name : "thread", sizeof(t->name));
    t->entry = p->entry;
    t->arg = p->arg;
    t->priority = p->priority;
    t->policy = p->policy;
    t->affinity = p->affinity ? p->affinity : ~0ull;
    t->cpu = sched_pick_cpu(t->affinity);
    t->detached = p->detached;
    t->rq_level = -1;
    t->state = SCHED_THREAD_RUNNABLE;
    t->kernel_rsp = (uint64_t)t->stack_top;
    t->slice_left_ns = sched_slice_ns(t);
    build_initial_frame(t);
    list_add(t);
    return t;
}

static void thread_free(sched_thread_t *t)
{
    list_remove(t);
    stack_put(t->stack_top);
    kfree(t);
}

sched_thread_t *sched_thread_spawn(const sched_thread_params_t *params)
{
    KASSERT(sched_ready());
    sched_thread_t *t = sched_thread_alloc(params);
    if (!t) {
        log_warn("sched: cannot create thread \"%s\" (priority %d): %s",
                 params->name ? params->name : "thread", params->priority,
                 params->entry && params->priority >= 0 && params->priority < SCHED_PRIORITY_LEVELS
                     ? "out of memory" : "bad parameters");
        return NULL;
    }
    if (params->publish)
        __atomic_store_n(params->publish, t, __ATOMIC_RELEASE);
    uint64_t f = sched_irq_save();
    sched_make_runnable(t);
    sched_irq_restore(f);
    sched_preempt_point();
    return t;
}

sched_thread_t *sched_thread_create(const char *name, sched_entry_t entry, void *arg, int priority)
{
    sched_thread_params_t p = { .name = name, .entry = entry, .arg = arg, .priority = priority };
    return sched_thread_spawn(&p);
}

void sched_thread_exit(void)
{
    arch_irq_disable();
    sched_thread_t *t = sched_current();
    if (t->is_main || t->is_idle)
        panic("sched: thread \"%s\" must not exit", t->name);
    if (t->preempt_count)
        panic("sched: thread \"%s\" exits with preemption disabled (%u)", t->name,
              t->preempt_count);
    sched_timer_cancel(t);
    sched_set_current_state(SCHED_THREAD_DEAD);
    sched_switch(SCHED_SWITCH_BLOCK);
    panic("sched: dead thread \"%s\" ran again", t->name);
}

void sched_thread_dead(sched_thread_t *t)
{
    uint64_t f = spinlock_lock_irqsave(&t->join_lock);
    t->exited = true;
    bool detached = t->detached;
    if (!detached)
        sched_wake_all(&t->join_waiters);
    spinlock_unlock_irqrestore(&t->join_lock, f);
    if (detached)
        thread_free(t);
}

void sched_thread_join(sched_thread_t *t)
{
    KASSERT(t != sched_current() && !t->is_main && !t->is_idle);
    uint64_t f = spinlock_lock_irqsave(&t->join_lock);
    KASSERT(!t->detached);
    while (!t->exited)
        sched_wait(&t->join_waiters, &t->join_lock);
    spinlock_unlock_irqrestore(&t->join_lock, f);
    thread_free(t);
}

void sched_thread_detach(sched_thread_t *t)
{
    KASSERT(!t->is_main && !t->is_idle);
    uint64_t f = spinlock_lock_irqsave(&t->join_lock);
    KASSERT(!t->detached);
    t->detached = true;
    bool exited = t->exited;
    spinlock_unlock_irqrestore(&t->join_lock, f);
    if (exited)
        thread_free(t);
}

/* ---- accessors and accounting --------------------------------------------------- */

uint64_t sched_thread_id(const sched_thread_t *t) { return t->id; }
const char *sched_thread_name(const sched_thread_t *t) { return t->name; }
int sched_thread_priority(const sched_thread_t *t) { return t->priority; }
sched_policy_t sched_thread_policy(const sched_thread_t *t) { return t->policy; }
uint64_t sched_thread_affinity(const sched_thread_t *t) { return t->affinity; }
void sched_thread_set_owner(sched_thread_t *t, void *owner) { t->owner = owner; }
void *sched_thread_owner(const sched_thread_t *t) { return t->owner; }

sched_thread_state_t sched_thread_state(const sched_thread_t *t)
{
    return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
}

const char *sched_state_name(sched_thread_state_t state)
{
    switch (state) {
    case SCHED_THREAD_RUNNABLE: return "runnable";
    case SCHED_THREAD_RUNNING: return "running";
    case SCHED_THREAD_BLOCKED: return "blocked";
    case SCHED_THREAD_SLEEPING: return "sleeping";
    case SCHED_THREAD_DEAD: return "dead";
    }
    return "?";
}

/* CPU lock of t held. */
static void fill_info(sched_thread_t *t, sched_thread_info_t *out, uint64_t now)
{
    sched_cpu_t *cpu = &sched_cpus[t->cpu];
    memset(out, 0, sizeof(*out));
    out->id = t->id;
    strlcpy(out->name, t->name, sizeof(out->name));
    out->state = t->state;
    out->class_id = t->is_idle ? SCHED_CLASS_IDLE : sched_priority_class(t->priority);
    out->priority = t->priority;
    out->effective_priority = sched_effective_priority(t);
    out->policy = t->policy;
    out->cpu = t->cpu;
    out->affinity = t->affinity;
    out->run_ns = t->run_ns + (cpu->current == t ? now - cpu->last_switch_ns : 0);
    out->user_ns = sched_user_ns_locked(t);
    if (out->user_ns > out->run_ns)
        out->user_ns = out->run_ns;
    out->kernel_ns = out->run_ns - out->user_ns;
    out->voluntary_switches = t->voluntary_switches;
    out->involuntary_switches = t->involuntary_switches;
    out->wakeups = t->wakeups;
    out->last_wake_ns = t->last_wake_ns;
}

void sched_thread_info(sched_thread_t *t, sched_thread_info_t *out)
{
    uint64_t f = sched_irq_save();
    sched_cpu_t *cpu = sched_lock_thread_cpu(t);
    fill_info(t, out, time_monotonic_ns());
    spinlock_unlock(&cpu->lock);
    sched_irq_restore(f);
}

unsigned sched_snapshot(sched_thread_info_t *out, unsigned max)
{
    unsigned n = 0;
    uint64_t f = spinlock_lock_irqsave(&sched_threads_lock);
    uint64_t now = time_monotonic_ns();
    for (sched_thread_t *t = sched_threads_first; t && n < max; t = t->all_next, n++) {
        sched_cpu_t *cpu = sched_lock_thread_cpu(t);
        fill_info(t, &out[n], now);
        spinlock_unlock(&cpu->lock);
    }
    spinlock_unlock_irqrestore(&sched_threads_lock, f);
    return n;
}

/* The thread at position in creation order, or the one with id (by_id). */
static bool find_info(bool by_id, uint64_t what, sched_thread_info_t *out)
{
    bool found = false;
    uint64_t position = 0;
    uint64_t f = spinlock_lock_irqsave(&sched_threads_lock);
    for (sched_thread_t *t = sched_threads_first; t && !found; t = t->all_next, position++) {
        if (by_id ? t->id != what : position != what)
            continue;
        sched_cpu_t *cpu = sched_lock_thread_cpu(t);
        fill_info(t, out, time_monotonic_ns());
        spinlock_unlock(&cpu->lock);
        found = true;
    }
    spinlock_unlock_irqrestore(&sched_threads_lock, f);
    return found;
}

bool sched_thread_info_at(unsigned position, sched_thread_info_t *out)
{
    return find_info(false, position, out);
}

bool sched_thread_info_by_id(uint64_t id, sched_thread_info_t *out)
{
    return find_info(true, id, out);
}
