/* SPDX-License-Identifier: MIT */
/*
 * KTESTs of the lock-order checker; they exist only in the debug kernel (make
 * debug-kernel, the kernel_tests_debug suite). Every lock here is named "ktest_lockdep_*"
 * so the suite can tell these deliberate reports from a real inversion anywhere else.
 */
#ifdef KERNEL_DEBUG

#include "core/lockdep.h"
#include "core/log.h"
#include "core/spinlock.h"
#include "core/string.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "test/ktest.h"

static uint64_t report_count(void)
{
    lockdep_stats_t s;
    lockdep_stats(&s);
    return s.reports;
}

static bool contains(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (; *text; text++)
        if (strncmp(text, word, n) == 0)
            return true;
    return false;
}

static bool last_report_names(const char *a, const char *b)
{
    char line[256];
    lockdep_last_report(line, sizeof(line));
    return contains(line, a) && contains(line, b);
}

static void take_two(spinlock_t *first, spinlock_t *second)
{
    uint64_t f = spinlock_lock_irqsave(first);
    spinlock_lock(second);
    spinlock_unlock(second);
    spinlock_unlock_irqrestore(first, f);
}

KTEST(lockdep_reports_a_then_b_against_b_then_a_once)
{
    static spinlock_t a = SPINLOCK_INIT_NAMED("ktest_lockdep_a");
    static spinlock_t b = SPINLOCK_INIT_NAMED("ktest_lockdep_b");
    uint64_t before = report_count();
    take_two(&a, &b);
    take_two(&a, &b);
    KTEST_EXPECT_EQ(report_count(), before);
    take_two(&b, &a); /* the inversion: reported, and the kernel goes on */
    KTEST_EXPECT_EQ(report_count(), before + 1);
    KTEST_EXPECT(last_report_names("ktest_lockdep_a", "ktest_lockdep_b"));
    take_two(&b, &a); /* once per order */
    take_two(&a, &b);
    KTEST_EXPECT_EQ(report_count(), before + 1);
}

KTEST(lockdep_finds_a_cycle_through_a_third_lock)
{
    static spinlock_t x = SPINLOCK_INIT_NAMED("ktest_lockdep_x");
    static spinlock_t y = SPINLOCK_INIT_NAMED("ktest_lockdep_y");
    static spinlock_t z = SPINLOCK_INIT_NAMED("ktest_lockdep_z");
    uint64_t before = report_count();
    take_two(&x, &y);
    take_two(&y, &z);
    KTEST_EXPECT_EQ(report_count(), before);
    take_two(&z, &x); /* z -> x closes x -> y -> z */
    KTEST_EXPECT_EQ(report_count(), before + 1);
    KTEST_EXPECT(last_report_names("ktest_lockdep_x", "ktest_lockdep_z"));
}

KTEST(lockdep_consistent_order_and_trylock_are_not_reported)
{
    static spinlock_t c = SPINLOCK_INIT_NAMED("ktest_lockdep_c");
    static spinlock_t d = SPINLOCK_INIT_NAMED("ktest_lockdep_d");
    static spinlock_t e = SPINLOCK_INIT_NAMED("ktest_lockdep_e");
    lockdep_stats_t s0, s1;
    lockdep_stats(&s0);
    for (int i = 0; i < 50; i++) {
        uint64_t f = spinlock_lock_irqsave(&c);
        spinlock_lock(&d);
        spinlock_lock(&e);
        spinlock_unlock(&e);
        spinlock_unlock(&d);
        spinlock_unlock_irqrestore(&c, f);
        take_two(&c, &e);
        take_two(&d, &e);
    }
    lockdep_stats(&s1);
    KTEST_EXPECT_EQ(s1.reports, s0.reports);
    KTEST_EXPECT(s1.edges >= s0.edges + 3); /* c->d, d->e and c->e, recorded once each */

    /* A mutex taken with trylock while holding another adds no order: the reverse
     * blocking order afterwards is fine. */
    sched_mutex_t m1, m2;
    sched_mutex_init_named(&m1, "ktest_lockdep_m1");
    sched_mutex_init_named(&m2, "ktest_lockdep_m2");
    sched_mutex_lock(&m1);
    KTEST_EXPECT(sched_mutex_trylock(&m2));
    sched_mutex_unlock(&m2);
    sched_mutex_unlock(&m1);
    sched_mutex_lock(&m2);
    sched_mutex_lock(&m1);
    sched_mutex_unlock(&m1);
    sched_mutex_unlock(&m2);
    KTEST_EXPECT_EQ(report_count(), s0.reports);
    lockdep_stats(&s1);
    log_printf("ktest:   lockdep so far: %llu classes, %llu edges, %llu untracked, "
               "%llu overflows, %llu unbalanced\n", (unsigned long long)s1.classes,
               (unsigned long long)s1.edges, (unsigned long long)s1.untracked,
               (unsigned long long)s1.overflows, (unsigned long long)s1.unbalanced);
}

KTEST(lockdep_reports_mutexes_taken_in_both_orders)
{
    sched_mutex_t p, q;
    sched_mutex_init_named(&p, "ktest_lockdep_mutex_p");
    sched_mutex_init_named(&q, "ktest_lockdep_mutex_q");
    uint64_t before = report_count();
    sched_mutex_lock(&p);
    sched_mutex_lock(&q);
    sched_mutex_unlock(&q);
    sched_mutex_unlock(&p);
    KTEST_EXPECT_EQ(report_count(), before);
    sched_mutex_lock(&q);
    sched_mutex_lock(&p);
    sched_mutex_unlock(&p);
    sched_mutex_unlock(&q);
    KTEST_EXPECT_EQ(report_count(), before + 1);
    KTEST_EXPECT(last_report_names("ktest_lockdep_mutex_p", "ktest_lockdep_mutex_q"));
}

/* Two kinds of kmalloc'd object with zero-initialised locks, as kzalloc leaves them. Each
 * kind is allocated in one place, so each kind's lock is one class. */
typedef struct {
    uint64_t before;
    spinlock_t lock;
} ktest_lockdep_node_t;

__attribute__((noinline)) static ktest_lockdep_node_t *ktest_lockdep_new_red(void)
{
    return kzalloc(sizeof(ktest_lockdep_node_t));
}

__attribute__((noinline)) static ktest_lockdep_node_t *ktest_lockdep_new_blue(void)
{
    return kzalloc(sizeof(ktest_lockdep_node_t));
}

KTEST(lockdep_classes_zeroed_heap_locks_by_allocation_site)
{
    ktest_lockdep_node_t *red1 = ktest_lockdep_new_red(), *red2 = ktest_lockdep_new_red();
    ktest_lockdep_node_t *blue1 = ktest_lockdep_new_blue(), *blue2 = ktest_lockdep_new_blue();
    KTEST_EXPECT(red1 && red2 && blue1 && blue2);
    if (!red1 || !red2 || !blue1 || !blue2)
        return;
    lockdep_stats_t s0, s1;
    lockdep_stats(&s0);
    take_two(&red1->lock, &blue1->lock);
    take_two(&red1->lock, &red2->lock); /* one class nested in itself: no order kept */
    lockdep_stats(&s1);
    KTEST_EXPECT_EQ(s1.untracked, s0.untracked);
    KTEST_EXPECT_EQ(s1.reports, s0.reports);
    /* Other objects of the same kinds, in the other order: the classes are the kinds,
     * so this is the inversion. */
    take_two(&blue2->lock, &red2->lock);
    KTEST_EXPECT_EQ(report_count(), s0.reports + 1);
    KTEST_EXPECT(last_report_names("ktest_lockdep_new_red", "ktest_lockdep_new_blue"));
    kfree(red1);
    kfree(red2);
    kfree(blue1);
    kfree(blue2);
}

#endif /* KERNEL_DEBUG */
