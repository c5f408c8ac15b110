/* SPDX-License-Identifier: MIT */
/*
 * Lock-order checker ("lockdep-lite"), compiled only into debug builds (KERNEL_DEBUG).
 *
 * Classes. A lock's class is its init site ("kernel/fs/pipe.c:40", recorded by
 * SPINLOCK_INIT and by the sched_mutex_init/sched_sem_init macros) or a name given with
 * SPINLOCK_INIT_NAMED. A zero-initialised lock has no name:
 * - in the kernel image (a static lock), its address is its class;
 * - inside a kmalloc'd object, the class is the place that allocated the object and the
 *   lock's offset in it ("the lock at +0x40 of what tty_create allocates"): a type's
 *   field, as Linux keys classes, found through the debug heap's per-object allocation
 *   site (heap_object_containing), since a heap address alone is reused by unrelated
 *   objects;
 * - anywhere else (a stack, a page of its own, a large block past its first page) it is
 *   not tracked: counted in `untracked`, and each place that takes one is logged once
 *   with a backtrace.
 * Spinlocks and mutexes of one site are different classes.
 *
 * Held locks. Spinlocks are always taken with interrupts off, so they never leave their
 * CPU while held: one held stack per CPU. That also covers the scheduler's CPU lock,
 * which the switching thread takes and the thread switched to releases (on the same
 * CPU). Mutexes are held across sleeps and migrations: one stack per thread
 * (sched_thread_t.lockdep), passed in by kernel/sched/sync.c.
 *
 * Edges. Taking spinlock B records "A -> B" for every spinlock A on this CPU's stack.
 * Taking a mutex B records it for every mutex the thread holds and every spinlock held on
 * the CPU. Mutex -> spinlock edges are not recorded: an interrupt handler's spinlocks
 * would look nested inside whatever mutex the interrupted thread holds. A trylock that
 * succeeds is pushed but adds no edge. Nested locks of one class (two CPUs' locks, two
 * wait queues) add no edge either: the order within a class is not checked.
 *
 * The check. An edge is looked up in a class x class bit matrix; a new edge A -> B is
 * checked with a depth-first search for a path B -> ... -> A. Finding one is reported once
 * (that edge is then recorded, so the same acquisition passes silently afterwards): the
 * two class names, where every edge on the cycle was first recorded, and the current
 * backtrace. Then the kernel continues.
 *
 * Re-entry and special contexts. The checker runs with interrupts off, under its own
 * lock (a bare flag, not a spinlock_t), and marks its CPU busy: locks taken while it
 * prints a report (the log's) are not tracked. It is off before lockdep_init (the boot
 * CPU's per-CPU block does not exist yet) and after panic (lockdep_disable). NMI handlers
 * take no locks.
 */
#include "core/lockdep.h"

#ifdef KERNEL_DEBUG

#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "arch/x86_64/arch.h"
#include "kobj/kobj.h"
#include "mm/mm.h"
#include "lib/fmt.h"
#include "config.h"

#define LOCKDEP_MAX_CLASSES 512 /* a power of two: the table is open-addressed */
#define LOCKDEP_MAX_EDGES   4096
#define LOCKDEP_MAX_PATH    16  /* longest cycle reported */
#define LOCKDEP_REPORT_LINE 256
#define LOCKDEP_UNTRACKED_SITES 64 /* distinct places logged for taking an untracked lock */

enum { KIND_SPIN, KIND_MUTEX };

typedef struct {
    bool used;
    uint8_t kind;
    const char *name;  /* init site or given name; NULL: keyed by addr or site */
    const void *addr;  /* static lock without a name */
    uintptr_t site;    /* heap lock without a name: who allocated its object ... */
    uint32_t offset;   /* ... and where in the object the lock is */
} lock_class_t;

typedef struct {
    uint16_t from, to;
    uint64_t from_ip, to_ip; /* where from was taken, where to was taken (first time) */
} lock_edge_t;

extern char __kernel_start[], __kernel_end[];

/* Guarded by table_lock. */
static lock_class_t classes[LOCKDEP_MAX_CLASSES];
static uint64_t matrix[LOCKDEP_MAX_CLASSES][LOCKDEP_MAX_CLASSES / 64]; /* bit: edge */
static lock_edge_t edges[LOCKDEP_MAX_EDGES];
static unsigned edge_count, class_count;
static char last_report[LOCKDEP_REPORT_LINE];
static uint64_t untracked_sites[LOCKDEP_UNTRACKED_SITES];
static unsigned untracked_site_count;

static int table_lock; /* 0 free, 1 taken; interrupts are off while it is held */
static lockdep_held_t cpu_held[CONFIG_MAX_CPUS];
static bool cpu_busy[CONFIG_MAX_CPUS];
static bool armed, disabled;
static uint64_t reports, untracked, overflows, unbalanced; /* atomic */

static void table_acquire(void)
{
    while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
        arch_pause();
}

static void table_release(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

static uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static void irq_restore(uint64_t flags)
{
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}

void lockdep_init(void)
{
    __atomic_store_n(&armed, true, __ATOMIC_RELEASE);
    log_info("lockdep: lock-order checking armed (%u classes, %u edges, %u held per CPU/thread)",
             LOCKDEP_MAX_CLASSES, LOCKDEP_MAX_EDGES, LOCKDEP_HELD_MAX);
}

void lockdep_disable(void) { __atomic_store_n(&disabled, true, __ATOMIC_RELEASE); }

static uint64_t hash_bytes(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static bool is_static(const void *p)
{
    return (const char *)p >= __kernel_start && (const char *)p < __kernel_end;
}

#define CLASS_UNTRACKED (-1) /* no name, not static, not in a kmalloc'd object */
#define CLASS_TABLE_FULL (-2)

/* The class of a lock, created on first sight; CLASS_UNTRACKED or CLASS_TABLE_FULL when
 * it has none. table_lock held. */
static int class_of(const void *lock, const char *name, uint8_t kind)
{
    uintptr_t site = 0;
    uint32_t offset = 0;
    const void *object;
    if (!name && !is_static(lock)) {
        if (!heap_object_containing(lock, &object, &site))
            return CLASS_UNTRACKED;
        offset = (uint32_t)((uintptr_t)lock - (uintptr_t)object);
    }
    uint64_t h = name   ? hash_bytes(name)
                 : site ? (site ^ (uint64_t)offset << 48) * 0x9e3779b97f4a7c15ull
                        : (uint64_t)(uintptr_t)lock * 0x9e3779b97f4a7c15ull;
    h ^= kind;
    for (unsigned probe = 0; probe < LOCKDEP_MAX_CLASSES; probe++) {
        unsigned i = (unsigned)(h + probe) & (LOCKDEP_MAX_CLASSES - 1);
        lock_class_t *c = &classes[i];
        if (!c->used) {
            if (class_count >= LOCKDEP_MAX_CLASSES * 3 / 4)
                return CLASS_TABLE_FULL; /* keep probes short; an overflow */
            c->used = true;
            c->kind = kind;
            c->name = name;
            c->addr = name || site ? NULL : lock;
            c->site = site;
            c->offset = offset;
            class_count++;
            return (int)i;
        }
        if (c->kind != kind)
            continue;
        if (name ? c->name && strcmp(c->name, name) == 0
            : site ? c->site == site && c->offset == offset
                   : !c->name && !c->site && c->addr == lock)
            return (int)i;
    }
    return CLASS_TABLE_FULL;
}

static const char *class_text(unsigned i, char *buf, size_t size)
{
    const lock_class_t *c = &classes[i];
    const char *kind = c->kind == KIND_MUTEX ? "mutex" : "spinlock";
    if (c->name) {
        fmt_snprintf(buf, size, "%s %s", kind, c->name);
    } else if (c->site) {
        /* The allocating function only: the file:line panic_describe may add is too long
         * for a report line that names two classes. */
        char where[96];
        panic_describe(c->site - 1, where, sizeof(where));
        for (char *p = where; *p; p++)
            if (*p == ' ')
                *p = '\0';
        fmt_snprintf(buf, size, "%s +0x%x in what %s kmallocs", kind, c->offset, where);
    } else {
        char where[96];
        fmt_snprintf(buf, size, "%s %s", kind,
                     panic_describe((uint64_t)(uintptr_t)c->addr, where, sizeof(where)));
    }
    return buf;
}

static bool has_edge(unsigned a, unsigned b) { return matrix[a][b / 64] >> (b % 64) & 1; }

/* A path from `from` to `to` in the edge graph, written into path[] (from first, to
 * last); returns its length in classes, 0 if none. Iterative DFS with an explicit stack.
 * table_lock held. */
static unsigned find_path(unsigned from, unsigned to, uint16_t *path)
{
    static uint64_t visited[LOCKDEP_MAX_CLASSES / 64];
    static uint16_t stack[LOCKDEP_MAX_CLASSES], next_child[LOCKDEP_MAX_CLASSES];
    memset(visited, 0, sizeof(visited));
    unsigned depth = 0;
    stack[0] = (uint16_t)from;
    next_child[0] = 0;
    visited[from / 64] |= 1ull << (from % 64);
    depth = 1;
    while (depth) {
        unsigned cur = stack[depth - 1];
        if (cur == to) {
            if (depth > LOCKDEP_MAX_PATH) {
                path[0] = (uint16_t)from;
                path[1] = (uint16_t)to;
                return 2; /* too long to show: the two ends only */
            }
            for (unsigned i = 0; i < depth; i++)
                path[i] = stack[i];
            return depth;
        }
        unsigned child = next_child[depth - 1];
        while (child < LOCKDEP_MAX_CLASSES &&
               (!has_edge(cur, child) || (visited[child / 64] >> (child % 64) & 1)))
            child++;
        if (child >= LOCKDEP_MAX_CLASSES) {
            depth--;
            continue;
        }
        next_child[depth - 1] = (uint16_t)(child + 1);
        visited[child / 64] |= 1ull << (child % 64);
        stack[depth] = (uint16_t)child;
        next_child[depth] = 0;
        depth++;
    }
    return 0;
}

static const lock_edge_t *edge_info(unsigned a, unsigned b)
{
    for (unsigned i = 0; i < edge_count; i++)
        if (edges[i].from == a && edges[i].to == b)
            return &edges[i];
    return NULL;
}

/* True the first time an untracked lock is taken at `ip` (while the table has room):
 * the caller logs the place once, so a lock someone forgot to initialise is found.
 * table_lock held. */
static bool new_untracked_site(uint64_t ip)
{
    for (unsigned i = 0; i < untracked_site_count; i++)
        if (untracked_sites[i] == ip)
            return false;
    if (untracked_site_count == LOCKDEP_UNTRACKED_SITES)
        return false;
    untracked_sites[untracked_site_count++] = ip;
    return true;
}

/* Everything a report prints, gathered under table_lock and printed after it. */
typedef struct {
    unsigned held, taken, path_len;
    uint16_t path[LOCKDEP_MAX_PATH];
    uint64_t held_ip, taken_ip;
} pending_report_t;

/* Records held -> taken; true when it closes a cycle (then *r describes it). */
static bool add_edge(unsigned held, unsigned taken, uint64_t held_ip, uint64_t taken_ip,
                     pending_report_t *r)
{
    if (held == taken || has_edge(held, taken))
        return false;
    unsigned n = find_path(taken, held, r->path);
    matrix[held][taken / 64] |= 1ull << (taken % 64);
    if (edge_count < LOCKDEP_MAX_EDGES)
        edges[edge_count++] = (lock_edge_t){ (uint16_t)held, (uint16_t)taken, held_ip, taken_ip };
    else
        __atomic_fetch_add(&overflows, 1, __ATOMIC_RELAXED);
    if (!n)
        return false;
    r->held = held;
    r->taken = taken;
    r->path_len = n;
    r->held_ip = held_ip;
    r->taken_ip = taken_ip;
    return true;
}

static void print_report(const pending_report_t *r)
{
    char a[128], b[128], where[PANIC_DESCRIBE_MAX], where2[PANIC_DESCRIBE_MAX];
    fmt_snprintf(last_report, sizeof(last_report),
                 "lockdep: lock order inversion: taking %s while holding %s",
                 class_text(r->taken, b, sizeof(b)), class_text(r->held, a, sizeof(a)));
    log_printf("\n%s\n", last_report);
    log_printf("lockdep:   %s taken at %s\n", a, panic_describe(r->held_ip, where, sizeof(where)));
    log_printf("lockdep:   %s taken at %s\n", b,
               panic_describe(r->taken_ip, where2, sizeof(where2)));
    log_printf("lockdep: the opposite order was recorded earlier:\n");
    for (unsigned i = 0; i + 1 < r->path_len; i++) {
        table_acquire();
        const lock_edge_t *e = edge_info(r->path[i], r->path[i + 1]);
        lock_edge_t copy = e ? *e : (lock_edge_t){ 0 };
        table_release();
        log_printf("lockdep:   %s -> %s\n", class_text(r->path[i], a, sizeof(a)),
                   class_text(r->path[i + 1], b, sizeof(b)));
        if (e)
            log_printf("lockdep:     first held at %s, next taken at %s\n",
                       panic_describe(copy.from_ip, where, sizeof(where)),
                       panic_describe(copy.to_ip, where2, sizeof(where2)));
    }
    panic_backtrace((unsigned long)__builtin_return_address(0),
                    (unsigned long)__builtin_frame_address(0));
    log_printf("lockdep: report %llu; continuing\n",
               (unsigned long long)__atomic_load_n(&reports, __ATOMIC_RELAXED));
}

/* The common path: class lookup, edges from the held stacks, push. Interrupts off and
 * this CPU marked busy. `extra` is a second stack of predecessors (the thread's
 * mutexes), `push_to` where the lock goes (NULL: not held, a semaphore). */
static void acquire(lockdep_held_t *cpu_stack, lockdep_held_t *extra, lockdep_held_t *push_to,
                    const void *lock, const char *name, uint8_t kind, bool edges_wanted,
                    uint64_t ip)
{
    pending_report_t r;
    bool report = false;
    table_acquire();
    int c = class_of(lock, name, kind);
    bool log_site = c == CLASS_UNTRACKED && new_untracked_site(ip);
    if (c >= 0 && edges_wanted) {
        lockdep_held_t *stacks[2] = { cpu_stack, extra };
        for (unsigned s = 0; s < 2 && !report; s++)
            for (uint32_t i = 0; stacks[s] && i < stacks[s]->count && !report; i++) {
                const lockdep_held_entry_t *h = &stacks[s]->entries[i];
                report = add_edge(h->class_index, (unsigned)c, h->ip, ip, &r);
            }
    }
    table_release();
    if (c < 0) {
        if (c == CLASS_UNTRACKED)
            __atomic_fetch_add(&untracked, 1, __ATOMIC_RELAXED);
        else
            __atomic_fetch_add(&overflows, 1, __ATOMIC_RELAXED);
    }
    if (log_site) {
        char where[PANIC_DESCRIBE_MAX];
        log_printf("lockdep: zero-initialised %s taken at %s: it has no class and is not "
                   "checked\n", kind == KIND_MUTEX ? "mutex" : "spinlock",
                   panic_describe(ip, where, sizeof(where)));
        panic_backtrace((unsigned long)__builtin_return_address(0),
                        (unsigned long)__builtin_frame_address(0));
    }
    if (push_to && c >= 0) {
        if (push_to->count < LOCKDEP_HELD_MAX)
            push_to->entries[push_to->count++] =
                (lockdep_held_entry_t){ lock, (uint16_t)c, ip };
        else
            __atomic_fetch_add(&overflows, 1, __ATOMIC_RELAXED);
    }
    if (report) {
        __atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED);
        print_report(&r);
    }
}

static void release(lockdep_held_t *held, const void *lock)
{
    for (uint32_t i = held->count; i-- > 0;) {
        if (held->entries[i].lock == lock) {
            for (uint32_t j = i; j + 1 < held->count; j++)
                held->entries[j] = held->entries[j + 1];
            held->count--;
            return;
        }
    }
    /* An untracked lock, or one taken before lockdep_init: nothing to do. Anything
     * else is a lock released on a CPU or by a thread that did not take it. */
}

/* Enter the checker on this CPU; returns false (nothing to do) when it is off or
 * already running here. */
static bool enter(uint64_t *flags, unsigned *cpu)
{
    if (!__atomic_load_n(&armed, __ATOMIC_ACQUIRE) || __atomic_load_n(&disabled, __ATOMIC_ACQUIRE))
        return false;
    *flags = irq_save();
    *cpu = arch_cpu_index();
    if (*cpu >= CONFIG_MAX_CPUS || cpu_busy[*cpu]) {
        irq_restore(*flags);
        return false;
    }
    cpu_busy[*cpu] = true;
    return true;
}

static void leave(uint64_t flags, unsigned cpu)
{
    cpu_busy[cpu] = false;
    irq_restore(flags);
}

void lockdep_spin_acquire(const void *lock, const char *name)
{
    uint64_t f;
    unsigned cpu;
    if (!enter(&f, &cpu))
        return;
    acquire(&cpu_held[cpu], NULL, &cpu_held[cpu], lock, name, KIND_SPIN, true,
            (uint64_t)(uintptr_t)__builtin_return_address(0));
    leave(f, cpu);
}

void lockdep_spin_release(const void *lock)
{
    uint64_t f;
    unsigned cpu;
    if (!enter(&f, &cpu))
        return;
    release(&cpu_held[cpu], lock);
    leave(f, cpu);
}

void lockdep_mutex_acquire(lockdep_held_t *held, const void *lock, const char *name,
                           bool trylock, uint64_t ip)
{
    uint64_t f;
    unsigned cpu;
    if (!enter(&f, &cpu))
        return;
    acquire(&cpu_held[cpu], held, held, lock, name, KIND_MUTEX, !trylock, ip);
    leave(f, cpu);
}

void lockdep_mutex_release(lockdep_held_t *held, const void *lock, const char *name)
{
    uint64_t f;
    unsigned cpu;
    if (!enter(&f, &cpu))
        return;
    uint32_t before = held->count;
    release(held, lock);
    if (held->count == before && (name || is_static(lock)))
        __atomic_fetch_add(&unbalanced, 1, __ATOMIC_RELAXED);
    leave(f, cpu);
}

void lockdep_sem_wait(lockdep_held_t *held, const void *sem, const char *name, uint64_t ip)
{
    uint64_t f;
    unsigned cpu;
    if (!enter(&f, &cpu))
        return;
    acquire(&cpu_held[cpu], held, NULL, sem, name, KIND_MUTEX, true, ip);
    leave(f, cpu);
}

void lockdep_stats(lockdep_stats_t *out)
{
    uint64_t f = irq_save();
    table_acquire();
    out->classes = class_count;
    out->edges = edge_count;
    table_release();
    irq_restore(f);
    out->reports = __atomic_load_n(&reports, __ATOMIC_RELAXED);
    out->untracked = __atomic_load_n(&untracked, __ATOMIC_RELAXED);
    out->overflows = __atomic_load_n(&overflows, __ATOMIC_RELAXED);
    out->unbalanced = __atomic_load_n(&unbalanced, __ATOMIC_RELAXED);
}

void lockdep_last_report(char *buf, unsigned size)
{
    uint64_t f = irq_save();
    table_acquire();
    fmt_snprintf(buf, size, "%s", last_report);
    table_release();
    irq_restore(f);
}

/* ---- KObj: /kernel/lockdep (debug builds only) ----------------------------------- */

enum { STAT_CLASSES, STAT_EDGES, STAT_REPORTS, STAT_UNTRACKED, STAT_OVERFLOWS, STAT_UNBALANCED };

static int stat_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    (void)key;
    lockdep_stats_t s;
    lockdep_stats(&s);
    const uint64_t v[] = { s.classes, s.edges, s.reports, s.untracked, s.overflows, s.unbalanced };
    out->u = v[node->field];
    return 0;
}

static kobj_node_t lockdep_nodes[] = {
    { .path = "/kernel/lockdep", .type = KOBJ_DIR, .access = KOBJ_READ,
      .description = "The lock-order checker (debug kernel only; docs/sched.md)" },
    { .path = "/kernel/lockdep/classes", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_CLASSES, .description = "Lock classes seen" },
    { .path = "/kernel/lockdep/edges", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_EDGES, .description = "Orders recorded (lock A held while lock B was taken)" },
    { .path = "/kernel/lockdep/reports", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_REPORTS, .description = "Lock order inversions reported" },
    { .path = "/kernel/lockdep/untracked", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_UNTRACKED,
      .description = "Acquisitions of zero-initialised dynamic locks (no class, not checked)" },
    { .path = "/kernel/lockdep/overflows", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_OVERFLOWS,
      .description = "Acquisitions not recorded because a table or held stack was full" },
    { .path = "/kernel/lockdep/unbalanced", .type = KOBJ_UINT, .access = KOBJ_READ | KOBJ_VOLATILE,
      .get = stat_get, .field = STAT_UNBALANCED,
      .description = "Mutex unlocks by a thread not seen to lock it" },
};
KOBJ_TABLE(lockdep_nodes);

#endif /* KERNEL_DEBUG */
