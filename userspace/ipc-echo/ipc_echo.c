/* SPDX-License-Identifier: MIT */
/*
 * ipc-echo: the reference service and client for vkernel IPC (docs/ipc.md, "Writing a
 * service").
 *
 *   ipc-echo server NAME [CONNECTIONS]   register NAME, answer every call; with
 *                                        CONNECTIONS > 0, exit 0 once that many clients
 *                                        have connected and hung up
 *   ipc-echo client NAME TEXT...         connect, say hello, call once per TEXT and
 *                                        print "reply: TEXT" for each
 *
 * The server needs the registry right: the handle VK_HANDLE_SERVICE_REGISTRY_INIT,
 * which init holds and passes to the servers it starts (inherited across fork, kept by
 * execve). It waits in poll() on descriptor faces of its handles (vk_handle_fd), so the
 * same loop could watch sockets, pipes or the console too.
 *
 * Wire format, little-endian, every message starting with echo_header_t:
 *   ECHO_HELLO  payload: uint32_t protocol version; the reply carries the server's
 *   ECHO_TEXT   payload: the text (at most ECHO_TEXT_MAX bytes); the reply echoes it
 * Requests are vk_channel_call()s, so the first field is the kernel's transaction id,
 * and a reply starts with the same id.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vk/libvk.h>

#define ECHO_VERSION     1u
#define ECHO_HELLO       1u
#define ECHO_TEXT        2u
#define ECHO_TEXT_MAX    1024u
#define ECHO_CLIENTS_MAX 32

typedef struct {
    uint32_t txid;   /* set by vk_channel_call; copied into the reply */
    uint32_t type;   /* ECHO_* */
    uint32_t length; /* payload bytes after the header */
    uint32_t _pad;
} echo_header_t;
_Static_assert(sizeof(echo_header_t) == 16, "echo_header_t");

typedef struct {
    echo_header_t header;
    char payload[ECHO_TEXT_MAX];
} echo_msg_t;

static vk_api_t *api;

static int fail(const char *what, int64_t err)
{
    fprintf(stderr, "ipc-echo: %s: %s\n", what, strerror((int)-err));
    return 1;
}

/* ---- server ------------------------------------------------------------------------ */

typedef struct {
    uint32_t handle;
    struct pollfd *pfd;
} client_t;

/* Answers every request queued on one connection. 0 while it stays open, 1 when the
 * client hung up, < 0 on a protocol error. */
static int serve_client(uint32_t h)
{
    echo_msg_t msg;
    for (;;) {
        vk_channel_msg_t m = { (uint64_t)(uintptr_t)&msg, 0, sizeof(msg), 0 };
        int64_t r = api->channel_read(h, &m, VK_IPC_NONBLOCK);
        if (r == -EAGAIN)
            return 0;
        if (r == -EPIPE)
            return 1;
        if (r || m.num_bytes < sizeof(echo_header_t) ||
            msg.header.length != m.num_bytes - sizeof(echo_header_t))
            return -1; /* a bad client: drop it */
        if (msg.header.type == ECHO_HELLO) {
            uint32_t version = ECHO_VERSION;
            msg.header.length = sizeof(version);
            memcpy(msg.payload, &version, sizeof(version));
        } else if (msg.header.type != ECHO_TEXT) {
            return -1;
        }
        m.num_bytes = (uint32_t)sizeof(echo_header_t) + msg.header.length;
        if (api->channel_write(h, &m, 0))
            return 1;
    }
}

static int run_server(const char *name, long connections)
{
    uint32_t ch[2];
    int64_t err = api->channel_create(ch);
    if (err)
        return fail("channel_create", err);
    /* ch[1] goes to the registry; connections arrive at ch[0]. */
    err = api->service_register(VK_HANDLE_SERVICE_REGISTRY_INIT, name, strlen(name), ch[1]);
    if (err)
        return fail("service_register", err);
    struct pollfd fds[1 + ECHO_CLIENTS_MAX];
    uint32_t handles[1 + ECHO_CLIENTS_MAX];
    int listen_fd = (int)api->handle_fd(ch[0], VK_HANDLE_FD_CLOEXEC);
    if (listen_fd < 0)
        return fail("handle_fd", listen_fd);
    fds[0] = (struct pollfd){ listen_fd, POLLIN, 0 };
    handles[0] = ch[0];
    unsigned n = 1;
    long finished = 0;
    while (connections <= 0 || finished < connections) {
        if (poll(fds, n, -1) < 0)
            return fail("poll", -errno);
        if (fds[0].revents & POLLIN) {
            vk_service_connect_msg_t hello;
            uint32_t end;
            vk_channel_msg_t m = { (uint64_t)(uintptr_t)&hello, (uint64_t)(uintptr_t)&end,
                                   sizeof(hello), 1 };
            if (api->channel_read(ch[0], &m, VK_IPC_NONBLOCK) == 0 && m.num_handles == 1) {
                int fd = n < 1 + ECHO_CLIENTS_MAX ? (int)api->handle_fd(end, VK_HANDLE_FD_CLOEXEC)
                                                  : -1;
                if (fd < 0) {
                    api->handle_close(end); /* full: the client sees EPIPE */
                    finished++;
                } else {
                    fds[n] = (struct pollfd){ fd, POLLIN, 0 };
                    handles[n++] = end;
                }
            }
        }
        for (unsigned i = 1; i < n; i++) {
            if (!fds[i].revents)
                continue;
            if (serve_client(handles[i]) == 0)
                continue;
            close(fds[i].fd); /* hung up or misbehaved: forget it */
            api->handle_close(handles[i]);
            fds[i] = fds[n - 1];
            handles[i] = handles[--n];
            i--;
            finished++;
        }
    }
    return 0; /* exiting closes ch[0], which unregisters the name */
}

/* ---- client ------------------------------------------------------------------------ */

/* One call: type and payload out, the reply's payload into msg. */
static int64_t echo_call(uint32_t h, uint32_t type, const void *payload, uint32_t len,
                         echo_msg_t *reply)
{
    echo_msg_t req = { .header = { 0, type, len, 0 } };
    memcpy(req.payload, payload, len);
    vk_channel_call_t c = {
        .write = { (uint64_t)(uintptr_t)&req, 0, (uint32_t)sizeof(echo_header_t) + len, 0 },
        .read = { (uint64_t)(uintptr_t)reply, 0, sizeof(*reply), 0 },
    };
    int64_t err = api->channel_call(h, &c, 5000000000ull); /* 5 s */
    if (!err && (c.read.num_bytes < sizeof(echo_header_t) || reply->header.type != type))
        err = -EPROTO;
    return err;
}

static int run_client(const char *name, int count, char **texts)
{
    int64_t h = api->service_connect(name, strlen(name));
    if (h < 0)
        return fail("service_connect", h);
    echo_msg_t reply;
    uint32_t version = ECHO_VERSION;
    int64_t err = echo_call((uint32_t)h, ECHO_HELLO, &version, sizeof(version), &reply);
    if (err)
        return fail("hello", err);
    memcpy(&version, reply.payload, sizeof(version));
    printf("server protocol %u\n", version);
    for (int i = 0; i < count; i++) {
        size_t len = strlen(texts[i]);
        if (len > ECHO_TEXT_MAX)
            len = ECHO_TEXT_MAX;
        err = echo_call((uint32_t)h, ECHO_TEXT, texts[i], (uint32_t)len, &reply);
        if (err)
            return fail("call", err);
        printf("reply: %.*s\n", (int)reply.header.length, reply.payload);
    }
    api->handle_close((uint32_t)h);
    return 0;
}

int main(int argc, char **argv)
{
    api = vk_api();
    if (!api || api->header.size < offsetof(vk_api_t, handle_fd) + sizeof(void *)) {
        fprintf(stderr, "ipc-echo: needs vkernel's vk_api revision 4\n");
        return 1;
    }
    if (argc >= 3 && !strcmp(argv[1], "server"))
        return run_server(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 0);
    if (argc >= 3 && !strcmp(argv[1], "client"))
        return run_client(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: ipc-echo server NAME [CONNECTIONS] | client NAME TEXT...\n");
    return 2;
}
