/* SPDX-License-Identifier: MIT */
/*
 * In-kernel test runner (test=kernel). Tests are collected from the "ktests" section;
 * each runs to completion and counts as failed if any check inside it failed. Output:
 *   ktest: PASS name
 *   ktest: FAIL name (file:line: expression)
 *   ktest: N passed, N failed
 * The runner ("main") is pinned to the boot CPU for the whole run: many tests load an
 * address space or count on one CPU's scheduling while they run.
 */
#include "test/ktest.h"
#include "core/log.h"
#include "sched/sched.h"

extern const ktest_t __start_ktests[], __stop_ktests[];

static bool current_failed;

void ktest_check(bool ok, const char *expr, const char *file, int line)
{
    if (ok)
        return;
    log_printf("ktest:   check failed at %s:%d: %s\n", file, line, expr);
    current_failed = true;
}

void ktest_check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file,
                    int line)
{
    if (a == b)
        return;
    log_printf("ktest:   check failed at %s:%d: %s == %s (0x%llx != 0x%llx)\n", file, line, ea,
               eb, (unsigned long long)a, (unsigned long long)b);
    current_failed = true;
}

int ktest_run_all(void)
{
    int passed = 0, failed = 0;
    sched_set_affinity(sched_current(), 1);
    for (const ktest_t *t = __start_ktests; t < __stop_ktests; t++) {
        current_failed = false;
        t->fn();
        log_printf("ktest: %s %s\n", current_failed ? "FAIL" : "PASS", t->name);
        if (current_failed)
            failed++;
        else
            passed++;
    }
    log_printf("ktest: %d passed, %d failed\n", passed, failed);
    return failed;
}
