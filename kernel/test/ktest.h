/* SPDX-License-Identifier: MIT */
/*
 * In-kernel unit tests. KTEST(name) { ... } registers a test in the "ktests" linker
 * section; test=kernel on the command line runs them all after boot, prints one line per
 * test and a closing "ktest: N passed, N failed", then exits QEMU through isa-debug-exit.
 */
#ifndef KERNEL_TEST_KTEST_H
#define KERNEL_TEST_KTEST_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *name;
    const char *file;
    void (*fn)(void);
} ktest_t;

#define KTEST(name_)                                                                   \
    static void ktest_fn_##name_(void);                                                \
    static const ktest_t ktest_desc_##name_                                            \
        __attribute__((used, section("ktests"), aligned(8))) = { #name_, __FILE__,    \
                                                                  ktest_fn_##name_ };  \
    static void ktest_fn_##name_(void)

void ktest_check(bool ok, const char *expr, const char *file, int line);
void ktest_check_eq(uint64_t a, uint64_t b, const char *ea, const char *eb, const char *file,
                    int line);

#define KTEST_EXPECT(cond) ktest_check((cond), #cond, __FILE__, __LINE__)
#define KTEST_EXPECT_EQ(a, b) \
    ktest_check_eq((uint64_t)(a), (uint64_t)(b), #a, #b, __FILE__, __LINE__)

/* Runs every registered test; returns the number of failures. */
int ktest_run_all(void);

#endif
