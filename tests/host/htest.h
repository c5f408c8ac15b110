/* SPDX-License-Identifier: MIT */
/*
 * Host unit-test harness. A test file defines tests with HTEST(name) { ... } and ends
 * with HTEST_MAIN(). Build: one binary per tests/host/test_*.c, with ASan + UBSan; the
 * file #includes the kernel or library sources it tests (they are pure logic and compile
 * for the host). Output: one line per failed check, then "<file>: N passed, N failed".
 */
#ifndef TESTS_HOST_HTEST_H
#define TESTS_HOST_HTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} htest_case_t;

#define HTEST_MAX_CASES 512
static htest_case_t htest_cases[HTEST_MAX_CASES];
static int htest_case_count;
static int htest_current_failed;

#define HTEST(name_)                                                                   \
    static void htest_fn_##name_(void);                                                \
    __attribute__((constructor)) static void htest_reg_##name_(void)                  \
    {                                                                                  \
        if (htest_case_count == HTEST_MAX_CASES) {                                     \
            fprintf(stderr, "HTEST_MAX_CASES (%d) exceeded\n", HTEST_MAX_CASES);       \
            exit(2);                                                                   \
        }                                                                              \
        htest_cases[htest_case_count].name = #name_;                                   \
        htest_cases[htest_case_count++].fn = htest_fn_##name_;                         \
    }                                                                                  \
    static void htest_fn_##name_(void)

#define HTEST_EXPECT(cond)                                                             \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            printf("  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                   \
            htest_current_failed = 1;                                                  \
        }                                                                              \
    } while (0)

#define HTEST_EXPECT_EQ(a, b)                                                          \
    do {                                                                               \
        uint64_t ha_ = (uint64_t)(a), hb_ = (uint64_t)(b);                             \
        if (ha_ != hb_) {                                                              \
            printf("  FAIL %s:%d: %s == %s (0x%" PRIx64 " != 0x%" PRIx64 ")\n",         \
                   __FILE__, __LINE__, #a, #b, ha_, hb_);                              \
            htest_current_failed = 1;                                                  \
        }                                                                              \
    } while (0)

#define HTEST_EXPECT_STR(a, b)                                                         \
    do {                                                                               \
        const char *ha_ = (a), *hb_ = (b);                                             \
        if (!ha_ || !hb_ || strcmp(ha_, hb_) != 0) {                                   \
            printf("  FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n", __FILE__, __LINE__,    \
                   #a, #b, ha_ ? ha_ : "(null)", hb_ ? hb_ : "(null)");                \
            htest_current_failed = 1;                                                  \
        }                                                                              \
    } while (0)

#define HTEST_MAIN()                                                                   \
    int main(void)                                                                     \
    {                                                                                  \
        int passed = 0, failed = 0;                                                    \
        for (int i = 0; i < htest_case_count; i++) {                                   \
            htest_current_failed = 0;                                                  \
            htest_cases[i].fn();                                                       \
            if (htest_current_failed) {                                                \
                printf("FAIL %s\n", htest_cases[i].name);                              \
                failed++;                                                              \
            } else {                                                                   \
                printf("PASS %s\n", htest_cases[i].name);                              \
                passed++;                                                              \
            }                                                                          \
        }                                                                              \
        printf("%s: %d passed, %d failed\n", __FILE__, passed, failed);                \
        return failed ? 1 : 0;                                                         \
    }

#endif
