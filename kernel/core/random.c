/* SPDX-License-Identifier: MIT */
#include "core/random.h"
#include "core/spinlock.h"
#include "arch/x86_64/arch.h"
#include "time/time.h"
#include <stdint.h>

static spinlock_t lock = SPINLOCK_INIT;
static uint64_t s0, s1; /* guarded by lock */

static uint64_t next(void)
{
    uint64_t x = s0, y = s1; /* xorshift128+ */
    s0 = y;
    x ^= x << 23;
    s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
    return s1 + y;
}

void random_bytes(void *buf, size_t n)
{
    uint8_t *out = buf;
    uint64_t f = spinlock_lock_irqsave(&lock);
    if (!s0 && !s1) {
        s0 = arch_rdtsc() | 1;
        s1 = time_monotonic_ns() * 0x9e3779b97f4a7c15ull;
    }
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = next();
        for (unsigned b = 0; b < 8 && i + b < n; b++)
            out[i + b] = (uint8_t)(r >> (8 * b));
    }
    spinlock_unlock_irqrestore(&lock, f);
}
