/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the IPC test programs (tests/ipc, tests/ipc-services): channel
 * write and read with plain arguments, the live-object count, and the start and end
 * of a run (the vk_api revision check and the leak check).
 */
#ifndef USERSPACE_TESTS_IPC_TEST_H
#define USERSPACE_TESTS_IPC_TEST_H

#include <stdio.h>
#include <time.h>
#include <vk/libvk.h>
#include "../vktest.h"

static vk_api_t *api;

/* tests/ipc/ipc_call.c: calls and the directed switch (test-ipc only). */
void ipc_call_tests(void);

static inline int64_t send(uint32_t ch, const void *bytes, uint32_t n, const uint32_t *hs,
                           uint32_t nh, uint32_t flags)
{
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)bytes, (uint64_t)(uintptr_t)hs, n, nh };
    return api->channel_write(ch, &m, flags);
}

/* Reads into buf (cap bytes) and hs (VK_CHANNEL_HANDLES_MAX); *n / *nh get the counts. */
static inline int64_t receive(uint32_t ch, void *buf, uint32_t cap, uint32_t *hs, uint32_t *n,
                              uint32_t *nh, uint32_t flags)
{
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)hs, cap,
                           VK_CHANNEL_HANDLES_MAX };
    int64_t r = api->channel_read(ch, &m, flags);
    *n = m.num_bytes;
    if (nh)
        *nh = m.num_handles;
    return r;
}

static inline void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static inline uint64_t live_objects(void)
{
    vk_ipc_stats_t s;
    return api->ipc_stats(&s) == 0 ? s.objects : (uint64_t)-1;
}

/* Finds vk_api; false (after a FAIL line) when it lacks the entries up to entry_end. */
static inline int ipc_test_start(size_t entry_end)
{
    api = vk_api();
    if (api && api->header.size >= entry_end)
        return 1;
    vktest_check(0, "vk_api_has_ipc", "revision too old");
    return 0;
}

/* The leak check against the count at the start, then the summary line. */
static inline int ipc_test_finish(const char *program, uint64_t start)
{
    char detail[64];
    uint64_t end = live_objects();
    snprintf(detail, sizeof(detail), "%llu at start, %llu at end", (unsigned long long)start,
             (unsigned long long)end);
    vktest_check(end == start, "no_objects_leaked", detail);
    return vktest_finish(program);
}

#endif
