/* SPDX-License-Identifier: MIT */
/*
 * Kernel random bytes for getrandom, /dev/random and /dev/urandom. A TSC-seeded
 * xorshift128+ generator: unpredictable enough for hash seeds and AT_RANDOM-style
 * uses, NOT cryptographic. FIXME(issue: hardening): RDRAND/RDSEED and a real CSPRNG.
 */
#ifndef KERNEL_CORE_RANDOM_H
#define KERNEL_CORE_RANDOM_H

#include <stddef.h>

void random_bytes(void *buf, size_t n);

#endif
