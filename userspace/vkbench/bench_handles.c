/* SPDX-License-Identifier: MIT */
/*
 * vkbench: moving data and capabilities between processes (issue 6).
 *
 * vkernel only (n/a on Linux, which has no vk_api):
 *   channel_call_rr_procs   a 16-byte vk_channel_call against a server that answers and
 *                           waits for the next request with vk_channel_reply_read
 *   channel_send_4k         one 4 KiB message written to one end and read at the other
 *   shm_transfer_1m         per MiB: the parent fills a 1 MiB shared-memory buffer and
 *                           calls the child, which sums it and replies with the sum
 *   handle_transfer         one handle sent over a channel and received
 * Linux only (n/a on vkernel until it has AF_UNIX):
 *   scm_rights_transfer     one descriptor sent over a Unix socketpair (SCM_RIGHTS) and
 *                           received, then the received copy closed
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <vk/libvk.h>

#include "vkbench.h"

#define RR_MSG_BYTES 16
#define SEND_4K      4096u
#define SHM_BYTES    (1u << 20)

#define API_THROUGH(field) (offsetof(vk_api_t, field) + sizeof(void *))

/* Echo server: read the first request, then answer each one and read the next in one
 * syscall, until the channel closes. */
static int serve_echo_reply_read(vk_api_t *api, uint32_t h)
{
    uint8_t buf[RR_MSG_BYTES];
    vk_channel_msg_t first = { (uint64_t)(uintptr_t)buf, 0, sizeof(buf), 0 };
    if (api->channel_read(h, &first, 0) != 0)
        return 1;
    vk_channel_reply_read_t rr = {
        .reply = { (uint64_t)(uintptr_t)buf, 0, first.num_bytes, 0 },
        .next = { (uint64_t)(uintptr_t)buf, 0, sizeof(buf), 0 },
    };
    for (;;) {
        int64_t err = api->channel_reply_read(h, &rr, 0);
        if (err == -EPIPE)
            return 0;
        if (err)
            return 1;
        rr.reply.num_bytes = rr.next.num_bytes;
        rr.next.num_bytes = sizeof(buf);
    }
}

static int64_t call(vk_api_t *api, uint32_t h, void *out, uint32_t out_bytes, void *in,
                    uint32_t in_bytes)
{
    vk_channel_call_t c = {
        .write = { (uint64_t)(uintptr_t)out, 0, out_bytes, 0 },
        .read = { (uint64_t)(uintptr_t)in, 0, in_bytes, 0 },
    };
    return api->channel_call(h, &c, VK_WAIT_FOREVER);
}

/* Times `repeat` calls of `bytes` bytes against a server started with serve. */
static bool time_calls(vkbench_run_t *run, vk_api_t *api, uint32_t h, pid_t pid,
                       uint64_t repeat, uint8_t *buf, uint32_t bytes)
{
    bool ok = true;
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        int64_t err = call(api, h, buf, bytes, buf, bytes);
        if (err) {
            ok = vkbench_unavailable(run, "channel_call", (int)-err);
            break;
        }
    }
    vkbench_stop(run, repeat);
    api->handle_close(h);
    if (!vkbench_reap(pid) && ok)
        ok = vkbench_unavailable(run, "the server child failed", 0);
    return ok;
}

bool vkbench_channel_call_rr_procs(vkbench_run_t *run, uint64_t repeat)
{
    vk_api_t *api = vkbench_vk_api(run, API_THROUGH(channel_reply_read));
    uint32_t h;
    if (!api)
        return false;
    pid_t pid = vkbench_fork_channel_child(run, api, &h, serve_echo_reply_read);
    if (pid < 0)
        return false;
    uint8_t buf[RR_MSG_BYTES] = { 0 };
    return time_calls(run, api, h, pid, repeat, buf, sizeof(buf));
}

bool vkbench_channel_send_4k(vkbench_run_t *run, uint64_t repeat)
{
    vk_api_t *api = vkbench_vk_api(run, API_THROUGH(handle_inherit));
    static uint8_t out[SEND_4K], in[SEND_4K];
    uint32_t ch[2];
    bool ok = true;
    if (!api)
        return false;
    int64_t err = api->channel_create(ch);
    if (err)
        return vkbench_unavailable(run, "channel_create", (int)-err);
    memset(out, 0x5a, sizeof(out));
    vk_channel_msg_t w = { (uint64_t)(uintptr_t)out, 0, SEND_4K, 0 };
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        vk_channel_msg_t r = { (uint64_t)(uintptr_t)in, 0, SEND_4K, 0 };
        err = api->channel_write(ch[0], &w, 0);
        if (!err)
            err = api->channel_read(ch[1], &r, 0);
        if (err) {
            ok = vkbench_unavailable(run, "channel write/read", (int)-err);
            break;
        }
    }
    vkbench_stop(run, repeat);
    if (ok && memcmp(in, out, SEND_4K) != 0)
        ok = vkbench_unavailable(run, "channel_send_4k: the bytes read differ", EIO);
    api->handle_close(ch[0]);
    api->handle_close(ch[1]);
    return ok;
}

/* The shared-memory server: its first message carries the buffer's handle; each call
 * after that asks for the 64-bit sum of the buffer, which goes back in the reply after
 * the transaction id. */
static int serve_shm_sum(vk_api_t *api, uint32_t h)
{
    uint32_t shm;
    uint8_t req[8];
    vk_channel_msg_t first = { (uint64_t)(uintptr_t)req, (uint64_t)(uintptr_t)&shm,
                               sizeof(req), 1 };
    if (api->channel_read(h, &first, 0) != 0 || first.num_handles != 1)
        return 1;
    int64_t addr = api->shm_map(shm, PROT_READ);
    if (addr < 0)
        return 1;
    const uint64_t *words = (const uint64_t *)(uintptr_t)addr;
    for (;;) {
        vk_channel_msg_t m = { (uint64_t)(uintptr_t)req, 0, sizeof(req), 0 };
        int64_t err = api->channel_read(h, &m, 0);
        if (err == -EPIPE)
            return 0;
        if (err || m.num_bytes < 4)
            return 1;
        uint64_t sum = 0;
        for (size_t i = 0; i < SHM_BYTES / sizeof(uint64_t); i++)
            sum += words[i];
        uint8_t reply[12];
        memcpy(reply, req, 4);
        memcpy(reply + 4, &sum, sizeof(sum));
        vk_channel_msg_t r = { (uint64_t)(uintptr_t)reply, 0, sizeof(reply), 0 };
        if (api->channel_write(h, &r, 0) != 0)
            return 1;
    }
}

bool vkbench_shm_transfer_1m(vkbench_run_t *run, uint64_t repeat)
{
    vk_api_t *api = vkbench_vk_api(run, API_THROUGH(channel_call));
    uint32_t h;
    bool ok = true;
    if (!api)
        return false;
    int64_t shm = api->shm_create(SHM_BYTES);
    if (shm < 0)
        return vkbench_unavailable(run, "shm_create", (int)-shm);
    int64_t addr = api->shm_map((uint32_t)shm, PROT_READ | PROT_WRITE);
    int64_t ro = addr < 0 ? addr : api->handle_duplicate((uint32_t)shm, VK_RIGHT_READ |
                                                         VK_RIGHT_MAP | VK_RIGHT_TRANSFER);
    if (addr < 0 || ro < 0) {
        api->handle_close((uint32_t)shm);
        return vkbench_unavailable(run, "shm_map/handle_duplicate", (int)-(addr < 0 ? addr : ro));
    }
    pid_t pid = vkbench_fork_channel_child(run, api, &h, serve_shm_sum);
    if (pid < 0) {
        api->handle_close((uint32_t)shm);
        api->handle_close((uint32_t)ro);
        return false;
    }
    uint32_t give = (uint32_t)ro;
    uint8_t hello[8] = { 0 };
    vk_channel_msg_t m = { (uint64_t)(uintptr_t)hello, (uint64_t)(uintptr_t)&give, 8, 1 };
    int64_t err = api->channel_write(h, &m, 0);
    uint64_t *words = (uint64_t *)(uintptr_t)addr;
    uint64_t expect = 0;
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat && !err; i++) {
        for (size_t j = 0; j < SHM_BYTES / sizeof(uint64_t); j++)
            words[j] = i + j;
        uint8_t req[4] = { 0 }, reply[12];
        err = call(api, h, req, sizeof(req), reply, sizeof(reply));
        memcpy(&expect, reply + 4, sizeof(expect));
    }
    vkbench_stop(run, repeat);
    if (err)
        ok = vkbench_unavailable(run, "shm call", (int)-err);
    uint64_t want = 0;
    for (size_t j = 0; j < SHM_BYTES / sizeof(uint64_t); j++)
        want += (repeat - 1) + j;
    if (ok && expect != want)
        ok = vkbench_unavailable(run, "shm_transfer_1m: wrong sum from the child", EIO);
    api->handle_close(h);
    api->handle_close((uint32_t)shm);
    munmap((void *)(uintptr_t)addr, SHM_BYTES);
    if (!vkbench_reap(pid) && ok)
        ok = vkbench_unavailable(run, "the shm child failed", 0);
    return ok;
}

bool vkbench_handle_transfer(vkbench_run_t *run, uint64_t repeat)
{
    vk_api_t *api = vkbench_vk_api(run, API_THROUGH(handle_inherit));
    uint32_t ch[2];
    bool ok = true;
    if (!api)
        return false;
    int64_t err = api->channel_create(ch);
    int64_t ev = err ? err : api->event_create();
    if (err || ev < 0)
        return vkbench_unavailable(run, "channel_create/event_create", (int)-(err ? err : ev));
    uint32_t h = (uint32_t)ev;
    uint8_t byte = 0;
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        /* Each op moves the handle one way: ch[0] -> ch[1] on even ops, back on odd. */
        unsigned from = i & 1;
        vk_channel_msg_t w = { (uint64_t)(uintptr_t)&byte, (uint64_t)(uintptr_t)&h, 1, 1 };
        vk_channel_msg_t r = { (uint64_t)(uintptr_t)&byte, (uint64_t)(uintptr_t)&h, 1, 1 };
        err = api->channel_write(ch[from], &w, 0);
        if (!err)
            err = api->channel_read(ch[!from], &r, 0);
        if (!err && r.num_handles != 1)
            err = -EIO;
        if (err) {
            ok = vkbench_unavailable(run, "handle transfer", (int)-err);
            break;
        }
    }
    vkbench_stop(run, repeat);
    api->handle_close(h);
    api->handle_close(ch[0]);
    api->handle_close(ch[1]);
    return ok;
}

/* Linux: SCM_RIGHTS over a socketpair. One op: sendmsg with one descriptor, recvmsg,
 * close the received copy. */
bool vkbench_scm_rights_transfer(vkbench_run_t *run, uint64_t repeat)
{
    int sv[2];
    bool ok = true;
    if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
        return vkbench_unavailable(run, "socketpair", errno);
    int fd = sv[0]; /* any descriptor will do: send one of the pair itself */
    char byte = 'x';
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        struct iovec iov = { &byte, 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                            .msg_controllen = sizeof(control.bytes) };
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(sv[0], &m, 0) != 1) {
            ok = vkbench_unavailable(run, "sendmsg SCM_RIGHTS", errno);
            break;
        }
        m.msg_controllen = sizeof(control.bytes);
        if (recvmsg(sv[1], &m, 0) != 1 || !(c = CMSG_FIRSTHDR(&m)) ||
            c->cmsg_type != SCM_RIGHTS) {
            ok = vkbench_unavailable(run, "recvmsg SCM_RIGHTS", errno ? errno : EIO);
            break;
        }
        int got;
        memcpy(&got, CMSG_DATA(c), sizeof(int));
        close(got);
    }
    vkbench_stop(run, repeat);
    close(sv[0]);
    close(sv[1]);
    return ok;
}
