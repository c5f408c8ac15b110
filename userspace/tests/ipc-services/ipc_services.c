/* SPDX-License-Identifier: MIT */
/*
 * Named services, vk_channel_call, the descriptor face of handles and the channel
 * cycle rule (include/vk/ipc.h, docs/ipc.md), plus the ipc-echo example and a stress
 * run of several client processes against one server. Runs as init, which holds the
 * service registry handle. Prints PASS/FAIL lines and
 * "test-ipc-services: N passed, N failed".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../ipc/ipc_test.h"

#define REG VK_HANDLE_SERVICE_REGISTRY_INIT
#define STRESS_CLIENTS 4
#define STRESS_CALLS   300

static int64_t call(uint32_t ch, void *req, uint32_t n, void *reply, uint32_t cap,
                    uint32_t *got, uint64_t timeout_ns)
{
    vk_channel_call_t c = { { (uint64_t)(uintptr_t)req, 0, n, 0 },
                            { (uint64_t)(uintptr_t)reply, 0, cap, 0 } };
    int64_t r = api->channel_call(ch, &c, timeout_ns);
    if (got)
        *got = c.read.num_bytes;
    return r;
}

static int64_t reg(uint32_t registry, const char *name, uint32_t end)
{
    return api->service_register(registry, name, strlen(name), end);
}

static int64_t connect_to(const char *name)
{
    return api->service_connect(name, strlen(name));
}

static int exited_with(pid_t pid, int code)
{
    int status = 0;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* Registers name on a new channel; *listen gets the end to read connections from. */
static int64_t serve(const char *name, uint32_t *listen)
{
    uint32_t ch[2];
    if (api->channel_create(ch))
        return -ENOMEM;
    int64_t r = reg(REG, name, ch[1]);
    if (r)
        api->handle_close(ch[1]);
    *listen = ch[0];
    return r;
}

/* Reads one connection at listen: the server's end of the new channel, or < 0. */
static int64_t accept_one(uint32_t listen, uint32_t *client_pid)
{
    vk_service_connect_msg_t msg;
    uint32_t hs[VK_CHANNEL_HANDLES_MAX], n, nh;
    int64_t r = receive(listen, &msg, sizeof(msg), hs, &n, &nh, 0);
    if (r)
        return r;
    if (n != sizeof(msg) || nh != 1 || msg.type != VK_SERVICE_MSG_CONNECT)
        return -EPROTO;
    if (client_pid)
        *client_pid = msg.client_pid;
    return hs[0];
}

static void test_registry_handle(void)
{
    vk_handle_info_t info;
    vktest_check(api->handle_info(REG, &info) == 0 && info.type == VK_OBJECT_SERVICE_REGISTRY &&
                 info.rights == VK_RIGHTS_ALL, "init_holds_registry_handle", "missing");
    pid_t pid = fork();
    if (pid == 0) {
        /* Not inherited: the value means nothing here. (Once the child makes handles
         * of its own, the same value can name one of them, of another type.) */
        vk_handle_info_t mine;
        int ok = api->handle_info(REG, &mine) == -EBADF &&
                 api->service_register(REG, "child.svc", 9, REG + 1) == -EBADF;
        uint32_t ch[2];
        api->channel_create(ch);
        ok = ok && reg(REG, "child.svc", ch[1]) == -EINVAL; /* REG is ch[0] now */
        _exit(ok ? 0 : 1);
    }
    vktest_check(exited_with(pid, 0), "child_without_registry_ebadf", "registered");
}

static void test_names(void)
{
    uint32_t ch[2];
    api->channel_create(ch);
    static const char *const bad[] = { "a/b", "a b", "caf\xc3\xa9", "x\ny", "" };
    int ok = 1;
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ok &= reg(REG, bad[i], ch[1]) == -EINVAL;
    ok &= api->service_register(REG, "a\0b", 3, ch[1]) == -EINVAL;
    vktest_check(ok, "bad_names_einval", "accepted");
    char longname[VK_SERVICE_NAME_MAX + 2];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = 0;
    vktest_check(reg(REG, longname, ch[1]) == -ENAMETOOLONG &&
                 connect_to(longname) == -ENAMETOOLONG, "overlong_name_enametoolong",
                 "accepted");
    vktest_check(api->service_register(REG, (const char *)8, 4, ch[1]) == -EFAULT,
                 "bad_name_pointer_efault", "accepted");
    vktest_check(reg(ch[0], "ok.name", ch[1]) == -EINVAL, "registry_wrong_type_einval",
                 "accepted");
    vktest_check(reg(0x7ffff, "ok.name", ch[1]) == -EBADF, "registry_forged_ebadf", "accepted");
    uint32_t weak = (uint32_t)api->handle_duplicate(REG, VK_RIGHT_WAIT);
    vktest_check(reg(weak, "ok.name", ch[1]) == -EACCES, "registry_without_write_eacces",
                 "accepted");
    api->handle_close(weak);
    uint32_t notransfer = (uint32_t)api->handle_duplicate(ch[1], VK_RIGHT_READ | VK_RIGHT_WRITE);
    vktest_check(reg(REG, "ok.name", notransfer) == -EACCES, "register_end_without_transfer_eacces",
                 "accepted");
    api->handle_close(notransfer);
    vktest_check(connect_to("no.such.service") == -ENOENT, "unknown_service_enoent", "found");
    vktest_check(connect_to("bad/name") == -EINVAL, "connect_bad_name_einval", "accepted");
    char maxname[VK_SERVICE_NAME_MAX + 1];
    memset(maxname, 'm', VK_SERVICE_NAME_MAX);
    maxname[VK_SERVICE_NAME_MAX] = 0;
    vktest_check(reg(REG, maxname, ch[1]) == 0, "name_at_limit_registers", "refused");
    vktest_check(reg(REG, "other.name", ch[0]) == -EBUSY, "register_both_ends_ebusy",
                 "accepted");
    api->handle_close(ch[0]); /* the listening end: unregisters */
    vktest_check(connect_to(maxname) == -ENOENT, "close_listening_end_unregisters", "still there");
    uint32_t lone[2];
    api->channel_create(lone);
    api->handle_close(lone[0]);
    vktest_check(reg(REG, "lone.end", lone[1]) == -EPIPE, "register_closed_peer_epipe",
                 "accepted");
    api->handle_close(lone[1]);
}

static void test_registry_full(void)
{
    uint32_t listen[VK_SERVICES_MAX + 1];
    unsigned count = 0;
    int64_t r = 0;
    char name[16];
    while (count <= VK_SERVICES_MAX) {
        snprintf(name, sizeof(name), "fill.%u", count);
        if ((r = serve(name, &listen[count])) != 0)
            break;
        count++;
    }
    if (r)
        api->handle_close(listen[count]); /* the failed one's listening end */
    vktest_check(r == -ENOSPC && count == VK_SERVICES_MAX, "registry_full_enospc",
                 "limit not enforced");
    for (unsigned i = 0; i < count; i++)
        api->handle_close(listen[i]);
    vktest_check(connect_to("fill.0") == -ENOENT, "registry_full_all_unregistered", "left over");
}

static void test_connect_and_call(void)
{
    uint32_t listen;
    vktest_check(serve("test.echo", &listen) == 0, "register_service", "failed");
    uint32_t other[2];
    api->channel_create(other);
    vktest_check(reg(REG, "test.echo", other[1]) == -EEXIST, "duplicate_name_eexist", "accepted");
    vk_handle_info_t info;
    vktest_check(api->handle_info(other[1], &info) == 0, "failed_register_keeps_handle", "lost");
    api->handle_close(other[0]);
    api->handle_close(other[1]);

    int64_t client = connect_to("test.echo");
    uint32_t pid = 0;
    int64_t server = client > 0 ? accept_one(listen, &pid) : -1;
    vktest_check(client > 0 && server > 0 && pid == (uint32_t)getpid(),
                 "connect_delivers_end_to_server", "no connection");

    /* Calls against a forked server that holds the server end. */
    api->handle_inherit((uint32_t)server, 1);
    pid_t child = fork();
    if (child == 0) {
        char buf[64];
        uint32_t n;
        for (int i = 0; i < 3; i++) {
            if (receive((uint32_t)server, buf, sizeof(buf), NULL, &n, NULL, 0))
                _exit(1);
            uint32_t txid;
            memcpy(&txid, buf, 4);
            if (!(txid & VK_CALL_TXID_KERNEL))
                _exit(2);
            if (i == 1) { /* an unrelated message first: queued, not taken as the reply */
                uint32_t other_id = 7;
                send((uint32_t)server, &other_id, 4, NULL, 0, 0);
            }
            buf[4] ^= 0x20;
            if (i == 2) { /* too big for the caller's buffer */
                static char big[256];
                memcpy(big, buf, 4);
                send((uint32_t)server, big, sizeof(big), NULL, 0, 0);
            } else {
                send((uint32_t)server, buf, n, NULL, 0, 0);
            }
        }
        /* The fourth call gets no reply and times out; then we close (EPIPE). */
        receive((uint32_t)server, buf, sizeof(buf), NULL, &n, NULL, 0);
        receive((uint32_t)server, buf, sizeof(buf), NULL, &n, NULL, 0);
        sleep_ms(100);
        _exit(0);
    }
    api->handle_close((uint32_t)server);
    uint32_t c = (uint32_t)client, got = 0;
    char req[8] = "....abc", rep[8] = { 0 };
    vktest_check(call(c, req, 8, rep, sizeof(rep), &got, VK_WAIT_FOREVER) == 0 && got == 8 &&
                 rep[4] == 'A' && !memcmp(rep + 5, "bc", 2), "call_round_trip", "wrong reply");
    memcpy(req, "....xyz", 8);
    int ok = call(c, req, 8, rep, sizeof(rep), &got, VK_WAIT_FOREVER) == 0 && rep[4] == 'X';
    uint32_t seven = 0;
    ok = ok && receive(c, &seven, 4, NULL, &got, NULL, VK_IPC_NONBLOCK) == 0 && seven == 7;
    vktest_check(ok, "call_leaves_other_messages_queued", "lost or misrouted");
    vktest_check(call(c, req, 8, rep, sizeof(rep), &got, VK_WAIT_FOREVER) == -EMSGSIZE &&
                 got == 256,
                 "call_reply_too_big_emsgsize", "wrong result");
    vktest_check(call(c, req, 8, rep, sizeof(rep), &got, 20 * 1000000ull) == -ETIMEDOUT,
                 "call_times_out", "no timeout");
    vktest_check(call(c, req, 8, rep, sizeof(rep), &got, VK_WAIT_FOREVER) == -EPIPE,
                 "call_peer_closed_epipe", "no EPIPE");
    vktest_check(exited_with(child, 0), "call_server_child_ok", "child failed");
    vktest_check(call(c, req, 3, rep, sizeof(rep), &got, 0) == -EINVAL, "call_short_request_einval",
                 "accepted");
    uint32_t ro = (uint32_t)api->handle_duplicate(c, VK_RIGHT_READ);
    vktest_check(call(ro, req, 8, rep, sizeof(rep), &got, 0) == -EACCES,
                 "call_without_write_eacces", "accepted");
    api->handle_close(ro);
    vktest_check(call(0x12345, req, 8, rep, sizeof(rep), &got, 0) == -EBADF,
                 "call_forged_handle_ebadf", "accepted");
    api->handle_close(c);

    /* A server that dies: its name goes with it. */
    api->handle_inherit(listen, 1);
    child = fork();
    if (child == 0)
        _exit(0); /* held the listening end, now gone with the process */
    api->handle_close(listen);
    exited_with(child, 0);
    vktest_check(connect_to("test.echo") == -ENOENT, "dead_server_enoent", "still connectable");
    uint32_t again;
    vktest_check(serve("test.echo", &again) == 0, "name_reusable_after_close", "refused");
    api->handle_close(again);
}

static unsigned poll_events(int fd)
{
    struct pollfd p = { fd, POLLIN | POLLOUT, 0 };
    return poll(&p, 1, 0) < 0 ? 0x8000 : (unsigned)p.revents;
}

static void test_fd_face(void)
{
    uint64_t before = live_objects();
    uint32_t ch[2];
    api->channel_create(ch);
    int fd = (int)api->handle_fd(ch[0], 0);
    vktest_check(fd >= 0 && poll_events(fd) == POLLOUT, "fd_poll_writable", "wrong events");
    send(ch[1], "m", 1, NULL, 0, 0);
    vktest_check(poll_events(fd) == (POLLIN | POLLOUT), "fd_poll_readable", "wrong events");
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = { 0, 0 };
    vktest_check(select(fd + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(fd, &rd),
                 "fd_select_readable", "not readable");
    char b;
    vktest_check(read(fd, &b, 1) < 0 && errno == EINVAL, "fd_read_einval", "read worked");

    /* A poll that blocks is woken by the peer's write from another process. */
    uint32_t n;
    receive(ch[0], &b, 1, NULL, &n, NULL, 0);
    api->handle_inherit(ch[1], 1);
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(30);
        send(ch[1], "w", 1, NULL, 0, 0);
        sleep_ms(30);
        _exit(0); /* the end closes: POLLHUP */
    }
    api->handle_close(ch[1]);
    struct pollfd p = { fd, POLLIN, 0 };
    vktest_check(poll(&p, 1, 5000) == 1 && (p.revents & POLLIN), "fd_poll_wakes_on_message",
                 "timed out");
    receive(ch[0], &b, 1, NULL, &n, NULL, 0);
    p.revents = 0;
    int r = poll(&p, 1, 5000);
    vktest_check(r == 1 && (p.revents & POLLHUP), "fd_poll_peer_closed_pollhup", "no POLLHUP");
    exited_with(pid, 0);

    /* The descriptor holds its own reference: the handle can go first. */
    api->handle_close(ch[0]);
    vktest_check(poll_events(fd) & POLLHUP, "fd_outlives_handle", "object gone");
    close(fd);
    vktest_check(live_objects() == before, "fd_close_drops_reference", "object leaked");

    int64_t ev = api->event_create();
    fd = (int)api->handle_fd((uint32_t)ev, VK_HANDLE_FD_CLOEXEC);
    api->object_signal((uint32_t)ev, 0, VK_SIGNAL_USER(3));
    struct pollfd pe = { fd, POLLPRI, 0 };
    vktest_check(poll(&pe, 1, 0) == 1 && (pe.revents & POLLPRI) &&
                 (fcntl(fd, F_GETFD) & FD_CLOEXEC), "fd_event_user_signal_pollpri", "not seen");
    close(fd);
    vktest_check(api->handle_fd((uint32_t)ev, 0x10) == -EINVAL, "fd_bad_flags_einval", "accepted");
    vktest_check(api->handle_fd(0x7777, 0) == -EBADF, "fd_forged_handle_ebadf", "accepted");
    uint32_t nowait = (uint32_t)api->handle_duplicate((uint32_t)ev, VK_RIGHT_SIGNAL);
    vktest_check(api->handle_fd(nowait, 0) == -EACCES, "fd_without_wait_eacces", "accepted");
    api->handle_close(nowait);
    api->handle_close((uint32_t)ev);
}

static void test_cycles(void)
{
    uint64_t before = live_objects();
    uint32_t a[2], b[2];
    api->channel_create(a);
    api->channel_create(b);
    vktest_check(send(a[0], "x", 1, &a[1], 1, 0) == -ENOTSUP &&
                 send(a[0], "x", 1, &a[0], 1, 0) == -ENOTSUP,
                 "send_end_through_own_channel_enotsup", "accepted");
    /* A's end into B's queue, then B's end into A's: the second would close a cycle. */
    uint32_t a1 = a[1], b1 = b[1];
    vktest_check(send(b[0], "x", 1, &a1, 1, 0) == 0, "send_end_into_other_channel", "refused");
    vktest_check(send(a[0], "x", 1, &b1, 1, 0) == -EBUSY, "cycle_refused_ebusy", "accepted");
    vk_handle_info_t info;
    vktest_check(api->handle_info(b1, &info) == 0, "refused_cycle_keeps_handle", "lost");
    /* Once the queued end is read out, B's end may travel again. */
    uint32_t hs[VK_CHANNEL_HANDLES_MAX], n, nh;
    receive(b[1], &n, sizeof(n), hs, &n, &nh, 0);
    vktest_check(nh == 1 && send(a[0], "x", 1, &b1, 1, 0) == 0, "end_travels_after_queue_drained",
                 "still refused");
    /* a[1] (now hs[0]) holds b[1] in its queue; closing it frees both. */
    api->handle_close(hs[0]);
    api->handle_close(a[0]);
    api->handle_close(b[0]);
    vktest_check(live_objects() == before, "no_cycle_leak", "objects leaked");
}

/* ---- stress: STRESS_CLIENTS processes x STRESS_CALLS calls against one server ------ */

#define STRESS_CONNECTIONS_MAX 8

/* The server: accepts on the listening end and answers every call with value + 1,
 * waiting in poll on the descriptor faces. Writes the number of calls to `report` once
 * every client has hung up. */
static void stress_server(uint32_t listen, int ready, int report)
{
    struct pollfd fds[1 + STRESS_CONNECTIONS_MAX];
    uint32_t conns[1 + STRESS_CONNECTIONS_MAX];
    unsigned nfds = 1, accepted = 0, served = 0;
    fds[0] = (struct pollfd){ (int)api->handle_fd(listen, 0), POLLIN, 0 };
    conns[0] = listen;
    if (write(ready, "r", 1) != 1)
        _exit(10);
    while (accepted < STRESS_CLIENTS || nfds > 1) {
        if (poll(fds, nfds, 20000) <= 0)
            _exit(11);
        if (fds[0].revents & POLLIN) {
            int64_t end = accept_one(listen, NULL);
            if (end < 0 || nfds == 1 + STRESS_CONNECTIONS_MAX)
                _exit(12);
            conns[nfds] = (uint32_t)end;
            fds[nfds++] = (struct pollfd){ (int)api->handle_fd((uint32_t)end, 0), POLLIN, 0 };
            accepted++;
        }
        for (unsigned i = 1; i < nfds; i++) {
            uint32_t msg[2], n;
            int64_t r;
            const uint32_t nonblock = VK_IPC_NONBLOCK;
            while ((r = receive(conns[i], msg, sizeof(msg), NULL, &n, NULL, nonblock)) == 0) {
                msg[1]++;
                if (n != sizeof(msg) || send(conns[i], msg, sizeof(msg), NULL, 0, 0))
                    _exit(13);
                served++;
            }
            if (r == -EPIPE) { /* the client is gone */
                close(fds[i].fd);
                api->handle_close(conns[i]);
                fds[i] = fds[nfds - 1];
                conns[i] = conns[--nfds];
                i--;
            } else if (r != -EAGAIN) {
                _exit(14);
            }
        }
    }
    if (write(report, &served, sizeof(served)) != sizeof(served))
        _exit(15);
    _exit(0);
}

static void stress_client(unsigned id)
{
    int64_t c = connect_to("test.stress");
    if (c < 0)
        _exit(20);
    for (uint32_t i = 0; i < STRESS_CALLS; i++) {
        uint32_t req[2] = { 0, (id << 16) | i }, rep[2] = { 0, 0 }, got;
        if (call((uint32_t)c, req, sizeof(req), rep, sizeof(rep), &got, VK_WAIT_FOREVER) ||
            got != sizeof(rep) || rep[1] != req[1] + 1)
            _exit(21);
    }
    _exit(0);
}

static void test_stress(void)
{
    uint64_t before = live_objects();
    uint32_t listen;
    int ready[2], report[2];
    if (serve("test.stress", &listen) || pipe(ready) || pipe(report)) {
        vktest_check(0, "stress_setup", "failed");
        return;
    }
    api->handle_inherit(listen, 1);
    pid_t server = fork();
    if (server == 0)
        stress_server(listen, ready[1], report[1]);
    api->handle_close(listen);
    char r;
    int ok = read(ready[0], &r, 1) == 1;
    pid_t clients[STRESS_CLIENTS];
    for (unsigned i = 0; i < STRESS_CLIENTS; i++)
        if ((clients[i] = fork()) == 0)
            stress_client(i);
    for (unsigned i = 0; i < STRESS_CLIENTS; i++)
        ok &= exited_with(clients[i], 0);
    vktest_check(ok, "stress_clients_all_replies_right", "a client failed");
    unsigned served = 0;
    ok = read(report[0], &served, sizeof(served)) == sizeof(served) &&
         served == STRESS_CLIENTS * STRESS_CALLS;
    char detail[64];
    snprintf(detail, sizeof(detail), "served %u of %u", served, STRESS_CLIENTS * STRESS_CALLS);
    vktest_check(ok && exited_with(server, 0), "stress_server_count", detail);
    vktest_check(connect_to("test.stress") == -ENOENT, "stress_service_gone", "still there");
    close(ready[0]);
    close(ready[1]);
    close(report[0]);
    close(report[1]);
    vktest_check(live_objects() == before, "stress_no_objects_leaked", "leaked");
}

/* ---- the example programs (userspace/ipc-echo) ------------------------------------ */

static pid_t spawn_echo(const char *const argv[], int out_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (out_fd >= 0)
            dup2(out_fd, STDOUT_FILENO);
        execv("/bin/ipc-echo.vbin", (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void test_echo_example(void)
{
    api->handle_inherit(REG, 1); /* init hands the right to the server it starts */
    static const char *const server_argv[] = { "ipc-echo", "server", "demo.echo", "2", NULL };
    pid_t server = spawn_echo(server_argv, -1);
    api->handle_inherit(REG, 0);
    int64_t probe = -ENOENT;
    for (int i = 0; i < 500 && probe == -ENOENT; i++) {
        sleep_ms(10);
        probe = connect_to("demo.echo"); /* a connection that hangs up at once */
    }
    vktest_check(probe > 0, "echo_server_registers", "never appeared");
    if (probe > 0)
        api->handle_close((uint32_t)probe);
    int out[2];
    pipe(out);
    static const char *const client_argv[] = { "ipc-echo", "client", "demo.echo", "hello",
                                                "world", NULL };
    pid_t client = spawn_echo(client_argv, out[1]);
    close(out[1]);
    char text[256] = { 0 };
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(text) - 1 && (n = read(out[0], text + len, sizeof(text) - 1 - len)) > 0)
        len += (size_t)n;
    close(out[0]);
    vktest_check(exited_with(client, 0) && strstr(text, "reply: hello") &&
                 strstr(text, "reply: world"), "echo_client_gets_replies", text);
    vktest_check(exited_with(server, 0), "echo_server_exits_after_clients", "bad status");
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* vk_service_connect_timeout: no wait at 0, ETIMEDOUT after the timeout, and a connect
 * that waits for a name registered later (by a child) or for room at a full server. */
static void test_connect_timeout(void)
{
    const char *name = "test.late";
    int64_t r = api->service_connect_timeout(name, strlen(name), 0);
    vktest_check(r == -ENOENT, "connect_timeout_zero_is_enoent", "not ENOENT");
    uint64_t t0 = now_ms();
    r = api->service_connect_timeout(name, strlen(name), 50ull * 1000000);
    uint64_t waited = now_ms() - t0;
    vktest_check(r == -ETIMEDOUT && waited >= 50, "connect_timeout_expires",
                 r == -ETIMEDOUT ? "returned early" : "not ETIMEDOUT");

    /* A child registers the name 100 ms from now and accepts one connection. */
    int ready[2];
    if (pipe(ready))
        return;
    api->handle_inherit(REG, 1);
    pid_t child = fork();
    if (child == 0) {
        uint32_t listen;
        sleep_ms(100);
        if (serve(name, &listen))
            _exit(1);
        int64_t conn = accept_one(listen, NULL);
        char byte;
        read(ready[0], &byte, 1); /* hold the service until the parent has checked */
        _exit(conn > 0 ? 0 : 2);
    }
    api->handle_inherit(REG, 0);
    close(ready[0]);
    r = api->service_connect_timeout(name, strlen(name), 10ull * 1000000000);
    vktest_check(r > 0, "connect_timeout_waits_for_registration", "no connection");
    if (r > 0)
        api->handle_close((uint32_t)r);
    write(ready[1], "x", 1);
    close(ready[1]);
    vktest_check(exited_with(child, 0), "late_server_accepted", "bad status");

    /* A server that never reads: its queue fills, then a connect waits and times out. */
    uint32_t listen;
    int64_t conns[VK_CHANNEL_QUEUE_MAX] = { 0 };
    int ok = serve("test.full", &listen) == 0;
    for (unsigned i = 0; ok && i < VK_CHANNEL_QUEUE_MAX; i++)
        ok = (conns[i] = connect_to("test.full")) > 0;
    r = api->service_connect_timeout("test.full", 9, 30ull * 1000000);
    vktest_check(ok && r == -ETIMEDOUT, "connect_timeout_full_queue", "not ETIMEDOUT");
    vktest_check(connect_to("test.full") == -EAGAIN, "connect_full_queue_eagain", "not EAGAIN");
    for (unsigned i = 0; i < VK_CHANNEL_QUEUE_MAX; i++)
        if (conns[i] > 0)
            api->handle_close((uint32_t)conns[i]);
    api->handle_close(listen);
}

int main(void)
{
    if (!ipc_test_start(offsetof(vk_api_t, service_connect_timeout) + sizeof(void *)))
        return vktest_finish("test-ipc-services");
    uint64_t start = live_objects();
    test_registry_handle();
    test_names();
    test_registry_full();
    test_connect_and_call();
    test_fd_face();
    test_cycles();
    test_stress();
    test_echo_example();
    test_connect_timeout();
    return ipc_test_finish("test-ipc-services", start);
}
