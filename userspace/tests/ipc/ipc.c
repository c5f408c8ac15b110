/* SPDX-License-Identifier: MIT */
/*
 * IPC (include/vk/ipc.h, docs/ipc.md): channels between a parent and forked children,
 * handle transfer, rights, stale handles, waits, the queue limit, shared memory, and
 * that a dying child's objects go (vk_ipc_stats); calls and the directed switch
 * (ipc_call.c). Prints PASS/FAIL lines and
 * "test-ipc: N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ipc_test.h"

#define BIG VK_CHANNEL_BYTES_MAX

static uint8_t big_out[BIG], big_in[BIG];

/* A channel whose ch[1] a forked child inherits; returns fork's result. */
static pid_t fork_with_channel(uint32_t ch[2])
{
    api->channel_create(ch);
    api->handle_inherit(ch[1], 1);
    return fork();
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 31 + seed + (i >> 8));
}

static void test_order_and_sizes(void)
{
    uint32_t ch[2];
    vktest_check(api->channel_create(ch) == 0, "channel_create", "failed");
    for (unsigned i = 0; i < 10; i++)
        send(ch[0], &i, sizeof(i), NULL, 0, 0);
    int ok = 1;
    for (unsigned i = 0; i < 10; i++) {
        unsigned v = 99;
        uint32_t n;
        ok &= receive(ch[1], &v, sizeof(v), NULL, &n, NULL, 0) == 0 && n == 4 && v == i;
    }
    vktest_check(ok, "messages_in_order", "out of order or lost");
    uint32_t n, nh;
    vktest_check(receive(ch[1], big_in, 4, NULL, &n, NULL, VK_IPC_NONBLOCK) == -EAGAIN,
                 "read_empty_nonblock_eagain", "not EAGAIN");
    send(ch[1], "", 0, NULL, 0, 0);
    vktest_check(receive(ch[0], big_in, 0, NULL, &n, &nh, 0) == 0 && n == 0 && nh == 0,
                 "empty_message", "failed");
    vktest_check(send(ch[0], big_out, BIG + 1, NULL, 0, 0) == -EMSGSIZE,
                 "write_too_big_emsgsize", "accepted");
    send(ch[0], "abcdef", 6, NULL, 0, 0);
    char small[2];
    vktest_check(receive(ch[1], small, 2, NULL, &n, NULL, 0) == -EMSGSIZE && n == 6,
                 "read_small_buffer_reports_size", "wrong error or size");
    vktest_check(receive(ch[1], big_in, 6, NULL, &n, NULL, 0) == 0 && !memcmp(big_in, "abcdef", 6),
                 "message_kept_after_emsgsize", "lost");
    /* The queue limit. */
    int64_t r = 0;
    unsigned sent = 0;
    while ((r = send(ch[0], "x", 1, NULL, 0, VK_IPC_NONBLOCK)) == 0 && sent < 1000)
        sent++;
    vktest_check(r == -EAGAIN && sent == VK_CHANNEL_QUEUE_MAX, "queue_limit_eagain",
                 "limit not enforced");
    vk_wait_item_t w = { ch[0], VK_SIGNAL_WRITABLE, 0, 0 };
    vktest_check(api->object_wait(&w, 1, 0) == -ETIMEDOUT && !(w.observed & VK_SIGNAL_WRITABLE),
                 "full_queue_not_writable", "writable");
    api->handle_close(ch[0]);
    api->handle_close(ch[1]);
}

/* A child that echoes each message back with its bytes reversed and its handles
 * returned, until the channel closes. */
static void echo_child(uint32_t ch)
{
    uint32_t hs[VK_CHANNEL_HANDLES_MAX], n, nh;
    static uint8_t buf[BIG], rev[BIG];
    while (receive(ch, buf, BIG, hs, &n, &nh, 0) == 0) {
        for (uint32_t i = 0; i < n; i++)
            rev[i] = buf[n - 1 - i];
        if (send(ch, rev, n, hs, nh, 0))
            _exit(3);
    }
    _exit(0);
}

static void test_parent_child(void)
{
    uint32_t ch[2];
    pid_t pid = fork_with_channel(ch);
    if (pid == 0) {
        api->handle_close(ch[0]);
        echo_child(ch[1]);
    }
    api->handle_close(ch[1]);
    vk_handle_info_t info;
    vktest_check(api->handle_info(ch[1], &info) == -EBADF, "closed_handle_ebadf", "still open");

    fill(big_out, BIG, 7);
    send(ch[0], big_out, BIG, NULL, 0, 0);
    uint32_t n, nh, hs[VK_CHANNEL_HANDLES_MAX];
    int ok = receive(ch[0], big_in, BIG, hs, &n, &nh, 0) == 0 && n == BIG;
    for (uint32_t i = 0; ok && i < BIG; i++)
        ok = big_in[i] == big_out[BIG - 1 - i];
    vktest_check(ok, "64k_message_intact_across_processes", "corrupt");

    /* 64 handles travel to the child and back. */
    uint32_t events[VK_CHANNEL_HANDLES_MAX];
    uint64_t ids[VK_CHANNEL_HANDLES_MAX];
    for (unsigned i = 0; i < VK_CHANNEL_HANDLES_MAX; i++) {
        events[i] = (uint32_t)api->event_create();
        api->handle_info(events[i], &info);
        ids[i] = info.object_id;
    }
    vktest_check(send(ch[0], "h", 1, events, VK_CHANNEL_HANDLES_MAX, 0) == 0,
                 "64_handle_message_sent", "write failed");
    ok = 1;
    for (unsigned i = 0; i < VK_CHANNEL_HANDLES_MAX; i++)
        ok &= api->handle_info(events[i], &info) == -EBADF;
    vktest_check(ok, "sent_handles_gone_from_sender", "still there");
    ok = receive(ch[0], big_in, BIG, hs, &n, &nh, 0) == 0 && nh == VK_CHANNEL_HANDLES_MAX;
    for (unsigned i = 0; ok && i < VK_CHANNEL_HANDLES_MAX; i++)
        ok = api->handle_info(hs[i], &info) == 0 && info.object_id == ids[i] &&
             info.type == VK_OBJECT_EVENT;
    vktest_check(ok, "64_handles_returned_same_objects", "mismatch");
    for (unsigned i = 0; i < VK_CHANNEL_HANDLES_MAX; i++)
        api->handle_close(hs[i]);

    /* A shared memory object sent to the child, written by both. */
    int64_t shm = api->shm_create(8192);
    volatile uint32_t *mem = (uint32_t *)(uintptr_t)api->shm_map((uint32_t)shm, PROT_READ | PROT_WRITE);
    mem[0] = 0x1234;
    uint32_t dup = (uint32_t)api->handle_duplicate((uint32_t)shm, VK_RIGHT_SAME);
    send(ch[0], "s", 1, &dup, 1, 0);
    receive(ch[0], big_in, BIG, hs, &n, &nh, 0);
    vktest_check(nh == 1, "shm_handle_round_trip", "no handle");
    api->handle_close(hs[0]);

    /* Closing our end wakes the child, which sees EPIPE and exits 0. */
    api->handle_close(ch[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child_sees_peer_closed",
                 "bad exit status");
    api->handle_close((uint32_t)shm);
    vktest_check(mem[0] == 0x1234, "mapping_outlives_handle", "lost");
}

static void test_shm_shared_by_processes(void)
{
    int64_t shm = api->shm_create(4096);
    uint32_t ro = (uint32_t)api->handle_duplicate((uint32_t)shm, VK_RIGHT_READ | VK_RIGHT_MAP |
                                                  VK_RIGHT_TRANSFER);
    uint32_t ch[2];
    api->channel_create(ch);
    api->handle_inherit(ch[1], 1);
    volatile uint32_t *mem = (uint32_t *)(uintptr_t)api->shm_map((uint32_t)shm, PROT_READ | PROT_WRITE);
    pid_t pid = fork();
    if (pid == 0) {
        uint32_t hs[VK_CHANNEL_HANDLES_MAX], n, nh;
        char b[8];
        if (receive(ch[1], b, sizeof(b), hs, &n, &nh, 0) || nh != 1)
            _exit(2);
        if (api->shm_map(hs[0], PROT_READ | PROT_WRITE) != -EACCES)
            _exit(3);
        volatile uint32_t *ro_map = (uint32_t *)(uintptr_t)api->shm_map(hs[0], PROT_READ);
        if ((int64_t)(uintptr_t)ro_map < 0)
            _exit(4);
        if (mprotect((void *)ro_map, 4096, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
            _exit(5);
        send(ch[1], "g", 1, NULL, 0, 0);
        while (ro_map[0] != 42) /* the parent writes it after our go */
            sleep_ms(1);
        mem[1] = 7; /* the fork-inherited writable mapping is shared too */
        _exit(0);
    }
    char b[8];
    uint32_t n;
    send(ch[0], "r", 1, &ro, 1, 0);
    receive(ch[0], b, sizeof(b), NULL, &n, NULL, 0);
    mem[0] = 42;
    int status = 0;
    waitpid(pid, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "shm_read_only_rules_in_child",
                 "child failed a check");
    vktest_check(mem[1] == 7, "shm_seen_by_both_processes", "child write not seen");
    api->handle_close(ch[0]);
    api->handle_close(ch[1]);
    api->handle_close((uint32_t)shm);
    munmap((void *)mem, 4096);

    /* Big enough to cover whole page tables (2 MiB each): regression for the tables
     * made before the region and freed by its insertion. */
    shm = api->shm_create(6 << 20);
    volatile uint8_t *bigmem = (uint8_t *)(uintptr_t)api->shm_map((uint32_t)shm, PROT_READ | PROT_WRITE);
    int ok = (int64_t)(uintptr_t)bigmem > 0;
    for (uint64_t off = 0; ok && off < (6u << 20); off += 4096)
        bigmem[off] = (uint8_t)(off >> 12);
    for (uint64_t off = 0; ok && off < (6u << 20); off += 4096)
        ok = bigmem[off] == (uint8_t)(off >> 12);
    vktest_check(ok, "shm_6m_maps_every_page", "map failed or pages wrong");
    if ((int64_t)(uintptr_t)bigmem > 0)
        munmap((void *)bigmem, 6 << 20);
    api->handle_close((uint32_t)shm);
}

static void test_rights_and_stale(void)
{
    uint32_t ch[2];
    api->channel_create(ch);
    uint32_t ro = (uint32_t)api->handle_duplicate(ch[0], VK_RIGHT_READ | VK_RIGHT_WAIT);
    vktest_check(send(ro, "x", 1, NULL, 0, 0) == -EACCES, "write_on_read_only_eacces", "allowed");
    vktest_check(api->handle_duplicate(ro, VK_RIGHT_SAME) == -EACCES,
                 "duplicate_without_right_eacces", "allowed");
    uint32_t nodup = (uint32_t)api->handle_duplicate(ch[0], VK_RIGHT_DUPLICATE | VK_RIGHT_READ);
    vktest_check(api->handle_duplicate(nodup, VK_RIGHT_WRITE) == -EACCES,
                 "duplicate_cannot_add_rights", "rights grew");
    vktest_check(send(ch[0], "x", 1, &ro, 1, 0) == -EACCES, "transfer_without_right_eacces",
                 "allowed");
    vktest_check(send(ch[0], "x", 1, &ch[1], 1, 0) == -ENOTSUP, "send_own_peer_enotsup", "allowed");
    vk_handle_info_t info;
    vktest_check(api->handle_info(ch[1], &info) == 0, "failed_send_keeps_handle", "handle lost");
    vktest_check(api->handle_info(0, &info) == -EBADF && api->handle_info(0x7ffffff, &info) == -EBADF &&
                 api->handle_info(12345, &info) == -EBADF, "forged_handles_ebadf", "accepted");
    int64_t ev = api->event_create();
    api->handle_close((uint32_t)ev);
    int64_t ev2 = api->event_create(); /* probably the same slot, a new generation */
    vktest_check(api->handle_info((uint32_t)ev, &info) == -EBADF && ev2 != ev,
                 "stale_handle_ebadf", "old value still works");
    vktest_check(api->shm_map((uint32_t)ev2, PROT_READ) == -EINVAL, "wrong_type_einval", "mapped");
    int64_t shm = api->shm_create(4096);
    uint32_t nomap = (uint32_t)api->handle_duplicate((uint32_t)shm, VK_RIGHT_READ);
    vktest_check(api->shm_map(nomap, PROT_READ) == -EACCES, "map_without_map_right_eacces", "mapped");
    api->handle_close(nomap);
    api->handle_close((uint32_t)shm);
    api->handle_close((uint32_t)ev2);
    api->handle_close(ro);
    api->handle_close(nodup);
    api->handle_close(ch[0]);
    api->handle_close(ch[1]);
}

static void test_events_and_wait(void)
{
    int64_t ev = api->event_create();
    vk_wait_item_t w = { (uint32_t)ev, VK_SIGNAL_USER(0), 0, 0 };
    vktest_check(api->object_wait(&w, 1, 1000000) == -ETIMEDOUT, "wait_times_out", "did not");
    api->object_signal((uint32_t)ev, 0, VK_SIGNAL_USER(0));
    vktest_check(api->object_wait(&w, 1, 0) == 1 && (w.observed & VK_SIGNAL_USER(0)),
                 "event_signal_seen", "not seen");
    vktest_check(api->object_signal((uint32_t)ev, 0, VK_SIGNAL_READABLE) == -EINVAL,
                 "signal_non_user_bits_einval", "accepted");
    uint32_t ch[2];
    pid_t pid = fork_with_channel(ch);
    if (pid == 0) {
        /* Dies in the middle of a wait, holding objects of its own. */
        api->event_create();
        api->shm_create(65536);
        uint32_t mine[2];
        api->channel_create(mine);
        vk_wait_item_t never = { mine[0], VK_SIGNAL_READABLE, 0, 0 };
        api->object_wait(&never, 1, VK_WAIT_FOREVER);
        _exit(9);
    }
    api->handle_close(ch[1]);
    sleep_ms(50);
    vk_ipc_stats_t before;
    api->ipc_stats(&before);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    /* Two waits on several handles: the channel's peer closes when the child dies. */
    vk_wait_item_t items[2] = { { (uint32_t)ev, VK_SIGNAL_USER(1), 0, 0 },
                                { ch[0], VK_SIGNAL_PEER_CLOSED, 0, 0 } };
    vktest_check(api->object_wait(items, 2, 1000000000ull) == 1 &&
                 (items[1].observed & VK_SIGNAL_PEER_CLOSED), "wait_many_peer_closed",
                 "not signalled");
    vk_ipc_stats_t after;
    api->ipc_stats(&after);
    char detail[96];
    snprintf(detail, sizeof(detail), "objects %llu -> %llu", (unsigned long long)before.objects,
             (unsigned long long)after.objects);
    /* The child held an event, a shm, two channel ends and the last handle to ch[1]. */
    vktest_check(WIFSIGNALED(status) && after.objects + 5 == before.objects &&
                 after.shms + 1 == before.shms, "dead_child_objects_released", detail);
    api->handle_close(ch[0]);
    api->handle_close((uint32_t)ev);
}

static void test_blocked_reader_woken_by_close(void)
{
    uint32_t ch[2];
    pid_t pid = fork_with_channel(ch);
    if (pid == 0) {
        uint32_t n;
        char b[4];
        int64_t r = receive(ch[1], b, sizeof(b), NULL, &n, NULL, 0);
        _exit(r == -EPIPE ? 0 : 1);
    }
    api->handle_close(ch[1]);
    sleep_ms(50); /* let it block */
    api->handle_close(ch[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    vktest_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "blocked_reader_gets_epipe",
                 "wrong result");
}

int main(void)
{
    if (!ipc_test_start(offsetof(vk_api_t, handle_inherit) + sizeof(void *)))
        return vktest_finish("test-ipc");
    uint64_t start = live_objects();
    test_order_and_sizes();
    test_rights_and_stale();
    test_events_and_wait();
    test_blocked_reader_woken_by_close();
    test_parent_child();
    test_shm_shared_by_processes();
    ipc_call_tests();
    return ipc_test_finish("test-ipc", start);
}
