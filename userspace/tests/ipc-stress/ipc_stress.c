/* SPDX-License-Identifier: MIT */
/*
 * test-ipc-stress: a seeded, randomized run of channel traffic across processes (meant
 * for -smp 4), then invariants (docs/ipc.md):
 *
 *  - Stream pairs: a producer sends numbered messages to a consumer, each with a random
 *    payload (0..3000 bytes, so both the small-message and the large path), an FNV-1a
 *    checksum and 0..3 handles (events, shared memory holding the sequence number, the
 *    far end of a fresh channel, some duplicated with fewer rights). It mixes blocking
 *    writes, non-blocking writes retried on EAGAIN, and calls; the consumer answers
 *    calls with a plain write or with vk_channel_reply_read, sometimes first reads with
 *    a buffer too small (EMSGSIZE must leave the message queued). The consumer checks
 *    every message arrives once, in order, intact, with handles of the announced type
 *    and rights, and that the shared memory says the right sequence number.
 *  - A doomed pair: its consumer is killed mid-stream; the producer must see EPIPE.
 *  - Kill rounds: a client holding events, a mapped shm and a channel with handles
 *    queued in it sits in a call (with a handle in the request) to a server that never
 *    answers; both are killed after a random delay, in random order.
 *  - Afterwards every process is reaped, the kernel's live-object and handle counts
 *    (vk_ipc_stats) are back at their starting values, and a fresh call still works.
 *
 * The seed comes from the first argument, else from the clock; it is printed so a
 * failing run can be repeated: init=/bin/test-ipc-stress.vbin SEED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "../ipc/ipc_test.h"

#define STREAM_PAIRS     4
#define STREAM_MESSAGES  300
#define KILL_ROUNDS      6
#define PAYLOAD_MAX      3000u
#define HANDLES_MAX      3
#define SHM_BYTES        4096u
#define KIND_SEND        1u
#define KIND_CALL        2u
#define CALL_TIMEOUT_NS  (20ull * 1000000000ull)

/* The fixed header of every stream message (little-endian, fixed width). */
typedef struct {
    uint32_t txid;         /* calls: the kernel's transaction id; sends: 0 */
    uint32_t kind;         /* KIND_* */
    uint32_t seq;          /* 0, 1, 2 ... per channel */
    uint32_t len;          /* payload bytes after the header */
    uint32_t sum;          /* FNV-1a of the payload */
    uint8_t types[HANDLES_MAX + 1];  /* VK_OBJECT_* of each handle carried */
    uint8_t rights[HANDLES_MAX + 1]; /* the rights each one should arrive with */
} header_t;

/* A call's answer: the transaction id, then what the consumer saw. */
typedef struct {
    uint32_t txid;
    uint32_t seq;
    uint32_t sum;
} answer_t;

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* A failing child says why on the console and exits with a code of its own. */
static void die(const char *who, unsigned index, const char *what, long value)
{
    printf("ipc-stress: %s %u: %s (%ld)\n", who, index, what, value);
    fflush(stdout);
    _exit(2);
}

/* ---- the producer ------------------------------------------------------------------ */

/* Makes one handle to send: its type and rights go into the header slot. */
static uint32_t make_handle(uint64_t *rng, uint32_t seq, uint8_t *type, uint8_t *rights,
                            unsigned index)
{
    int64_t h;
    switch (rng_below(rng, 3)) {
    case 0:
        h = api->event_create();
        *type = VK_OBJECT_EVENT;
        break;
    case 1: {
        h = api->shm_create(SHM_BYTES);
        if (h < 0)
            die("producer", index, "shm_create", h);
        int64_t addr = api->shm_map((uint32_t)h, PROT_READ | PROT_WRITE);
        if (addr < 0)
            die("producer", index, "shm_map", addr);
        memcpy((void *)(uintptr_t)addr, &seq, sizeof(seq));
        munmap((void *)(uintptr_t)addr, SHM_BYTES);
        *type = VK_OBJECT_SHM;
        break;
    }
    default: {
        uint32_t ch[2];
        h = api->channel_create(ch);
        if (h == 0) {
            /* The receiver gets an end whose peer is gone. */
            int64_t err = api->handle_close(ch[0]);
            if (err)
                die("producer", index, "handle_close of a fresh end", err);
            h = ch[1];
        }
        *type = VK_OBJECT_CHANNEL;
        break;
    }
    }
    if (h < 0)
        die("producer", index, "creating a handle", h);
    *rights = VK_RIGHTS_ALL;
    if (rng_below(rng, 3) == 0) {
        /* A weaker duplicate travels instead; TRANSFER is needed to send it. */
        uint32_t want = VK_RIGHT_TRANSFER | VK_RIGHT_READ | VK_RIGHT_MAP | VK_RIGHT_WAIT;
        int64_t d = api->handle_duplicate((uint32_t)h, want);
        if (d < 0)
            die("producer", index, "handle_duplicate", d);
        api->handle_close((uint32_t)h);
        h = d;
        *rights = (uint8_t)want;
    }
    return (uint32_t)h;
}

/* The kernel routed the answer by its transaction id; it must be this request's. */
static void check_answer(const answer_t *a, const header_t *h, unsigned index)
{
    if (a->seq != h->seq || a->sum != h->sum)
        die("producer", index, "a call's answer does not match its request", h->seq);
}

/* Sends `count` messages (forever when count is 0, until EPIPE) and closes its end. */
static void producer(uint32_t ch, unsigned index, uint64_t seed, uint32_t count)
{
    static uint8_t buf[sizeof(header_t) + PAYLOAD_MAX];
    uint64_t rng = seed;
    for (uint32_t seq = 0; count == 0 || seq < count; seq++) {
        header_t *h = (header_t *)buf;
        memset(h, 0, sizeof(*h));
        h->seq = seq;
        h->len = rng_below(&rng, 4) == 0 ? rng_below(&rng, PAYLOAD_MAX + 1)
                                         : rng_below(&rng, 200);
        for (uint32_t i = 0; i < h->len; i++)
            buf[sizeof(*h) + i] = (uint8_t)rng_next(&rng);
        h->sum = fnv1a(buf + sizeof(*h), h->len);
        uint32_t handles[HANDLES_MAX], nh = 0;
        if (rng_below(&rng, 10) < 3) {
            nh = 1 + rng_below(&rng, HANDLES_MAX);
            for (uint32_t i = 0; i < nh; i++)
                handles[i] = make_handle(&rng, seq, &h->types[i], &h->rights[i], index);
        }
        uint32_t how = rng_below(&rng, 20);
        uint32_t n = (uint32_t)sizeof(*h) + h->len;
        int64_t err;
        if (how < 5) {
            h->kind = KIND_CALL;
            answer_t a;
            vk_channel_call_t c = {
                .write = { (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)handles, n, nh },
                .read = { (uint64_t)(uintptr_t)&a, 0, sizeof(a), 0 },
            };
            err = api->channel_call(ch, &c, CALL_TIMEOUT_NS);
            if (err == 0)
                check_answer(&a, h, index);
            if (err == 0 && (c.read.num_bytes != sizeof(a) || !(a.txid & VK_CALL_TXID_KERNEL)))
                die("producer", index, "a call's answer has the wrong size or id", seq);
        } else if (how < 8) {
            h->kind = KIND_SEND;
            do {
                err = send(ch, buf, n, handles, nh, VK_IPC_NONBLOCK);
                if (err == -EAGAIN)
                    sched_yield();
            } while (err == -EAGAIN);
        } else {
            h->kind = KIND_SEND;
            err = send(ch, buf, n, handles, nh, 0);
        }
        if (err == -EPIPE && count == 0) {
            for (uint32_t i = 0; i < nh; i++)
                api->handle_close(handles[i]); /* a failed write moves nothing */
            _exit(0); /* the doomed pair: its consumer was killed */
        }
        if (err)
            die("producer", index, "send or call failed", err);
    }
    api->handle_close(ch);
    _exit(0);
}

/* ---- the consumer ------------------------------------------------------------------ */

static void check_handles(const header_t *h, const uint32_t *hs, uint32_t nh, unsigned index)
{
    uint32_t expect = 0;
    while (expect < HANDLES_MAX && h->types[expect])
        expect++;
    if (nh != expect)
        die("consumer", index, "wrong number of handles", nh);
    for (uint32_t i = 0; i < nh; i++) {
        vk_handle_info_t info;
        int64_t err = api->handle_info(hs[i], &info);
        if (err || info.type != h->types[i] || info.rights != h->rights[i])
            die("consumer", index, "a handle arrived with the wrong type or rights", h->seq);
        if (info.type == VK_OBJECT_SHM) {
            int64_t addr = api->shm_map(hs[i], PROT_READ);
            uint32_t seq;
            if (addr < 0)
                die("consumer", index, "shm_map of a received buffer", addr);
            memcpy(&seq, (void *)(uintptr_t)addr, sizeof(seq));
            munmap((void *)(uintptr_t)addr, SHM_BYTES);
            if (seq != h->seq)
                die("consumer", index, "shared memory holds the wrong sequence number", seq);
        }
        if (info.type == VK_OBJECT_CHANNEL && (info.rights & VK_RIGHT_WRITE)) {
            uint8_t b = 0;
            int64_t r = send(hs[i], &b, 1, NULL, 0, 0);
            if (r != -EPIPE) {
                vk_wait_item_t w = { hs[i], VK_SIGNAL_PEER_CLOSED, 0, 0 };
                int64_t n = api->object_wait(&w, 1, 0);
                printf("ipc-stress: consumer %u: end %llu rights %x wait %lld observed %x\n",
                       index, (unsigned long long)info.object_id, info.rights, (long long)n,
                       w.observed);
                die("consumer", index, "a received end's closed peer is not EPIPE", r);
            }
        }
        api->handle_close(hs[i]);
    }
}

/* Reads until EPIPE; expects exactly `count` messages (any number when count is 0). */
static void consumer(uint32_t ch, unsigned index, uint64_t seed, uint32_t count)
{
    static uint8_t buf[sizeof(header_t) + PAYLOAD_MAX];
    uint64_t rng = seed;
    uint32_t expect = 0;
    answer_t pending; /* an answer not yet written */
    bool have_pending = false;
    for (;;) {
        uint32_t hs[VK_CHANNEL_HANDLES_MAX];
        vk_channel_msg_t m = { (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)hs,
                               sizeof(buf), VK_CHANNEL_HANDLES_MAX };
        int64_t err;
        if (!have_pending && rng_below(&rng, 20) == 0) {
            /* Too small on purpose: EMSGSIZE, and the message stays for the next read. */
            vk_channel_msg_t small = { (uint64_t)(uintptr_t)buf, (uint64_t)(uintptr_t)hs,
                                       sizeof(header_t) - 1, 0 };
            err = api->channel_read(ch, &small, 0);
            if (err == -EPIPE)
                break;
            if (err != -EMSGSIZE || small.num_bytes < sizeof(header_t))
                die("consumer", index, "a too-small read did not give EMSGSIZE", err);
        }
        if (have_pending && rng_below(&rng, 2) == 0) {
            vk_channel_reply_read_t rr = {
                .reply = { (uint64_t)(uintptr_t)&pending, 0, sizeof(pending), 0 },
                .next = m,
            };
            err = api->channel_reply_read(ch, &rr, 0);
            if (!rr.replied)
                die("consumer", index, "reply_read did not send the answer", err);
            m = rr.next;
        } else {
            if (have_pending && (err = send(ch, &pending, sizeof(pending), NULL, 0, 0)))
                die("consumer", index, "writing an answer", err);
            err = api->channel_read(ch, &m, 0);
        }
        have_pending = false;
        if (err == -EPIPE)
            break;
        if (err)
            die("consumer", index, "read failed", err);
        const header_t *h = (const header_t *)buf;
        if (m.num_bytes < sizeof(*h) || h->seq != expect)
            die("consumer", index, "message out of order or short", (long)h->seq);
        if (m.num_bytes != sizeof(*h) + h->len ||
            fnv1a(buf + sizeof(*h), h->len) != h->sum)
            die("consumer", index, "payload damaged", h->seq);
        check_handles(h, hs, m.num_handles, index);
        if (h->kind == KIND_CALL) {
            if (!(h->txid & VK_CALL_TXID_KERNEL))
                die("consumer", index, "a call's request has no kernel transaction id", h->seq);
            pending = (answer_t){ h->txid, h->seq, h->sum };
            have_pending = true;
        }
        expect++;
    }
    if (count && expect != count)
        die("consumer", index, "messages missing at EPIPE", expect);
    _exit(0);
}

/* ---- kill rounds -------------------------------------------------------------------- */

/* Never answers: reads one request (keeping its handle) and waits to be killed. */
static void silent_server(uint32_t ch)
{
    uint8_t buf[64];
    uint32_t hs[VK_CHANNEL_HANDLES_MAX], n, nh;
    receive(ch, buf, sizeof(buf), hs, &n, &nh, 0);
    for (;;)
        sleep_ms(1000); /* until killed (vkernel has no pause) */
}

/* Holds a bit of everything, then waits in a call that is never answered. */
static void doomed_client(uint32_t ch, uint64_t seed)
{
    uint64_t rng = seed;
    for (uint32_t i = 0, n = 1 + rng_below(&rng, 4); i < n; i++)
        api->event_create();
    int64_t shm = api->shm_create(SHM_BYTES * (1 + rng_below(&rng, 8)));
    if (shm >= 0)
        api->shm_map((uint32_t)shm, PROT_READ | PROT_WRITE);
    uint32_t pair[2];
    if (api->channel_create(pair) == 0) {
        for (uint32_t i = 0, n = rng_below(&rng, 5); i < n; i++) {
            int64_t ev = api->event_create();
            uint32_t h = (uint32_t)ev;
            uint8_t b = (uint8_t)i;
            if (ev >= 0)
                send(pair[0], &b, 1, &h, 1, 0); /* queued at pair[1], never read */
        }
    }
    int64_t ev = api->event_create();
    uint32_t give = (uint32_t)ev;
    uint8_t req[16] = { 0 };
    uint8_t reply[16];
    vk_channel_call_t c = {
        .write = { (uint64_t)(uintptr_t)req, (uint64_t)(uintptr_t)&give, sizeof(req),
                   ev >= 0 ? 1u : 0u },
        .read = { (uint64_t)(uintptr_t)reply, 0, sizeof(reply), 0 },
    };
    api->channel_call(ch, &c, VK_WAIT_FOREVER);
    for (;;)
        sleep_ms(1000); /* until killed (vkernel has no pause) */
}

/* Forks child(end, seed) with `end` inherited; the parent keeps nothing of it. */
static pid_t fork_with(uint32_t end, void (*child)(uint32_t, unsigned, uint64_t, uint32_t),
                       unsigned index, uint64_t seed, uint32_t count)
{
    api->handle_inherit(end, 1);
    pid_t pid = fork();
    if (pid == 0)
        child(end, index, seed, count);
    api->handle_inherit(end, 0);
    return pid;
}

static void silent_server_entry(uint32_t ch, unsigned i, uint64_t s, uint32_t c)
{
    (void)i, (void)s, (void)c;
    silent_server(ch);
}

static void doomed_client_entry(uint32_t ch, unsigned i, uint64_t s, uint32_t c)
{
    (void)i, (void)c;
    doomed_client(ch, s);
}

static bool reaped_killed(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

static bool reaped_ok(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- the run ------------------------------------------------------------------------ */

static bool stats_equal(const vk_ipc_stats_t *a, const vk_ipc_stats_t *b)
{
    return a->objects == b->objects && a->channels == b->channels && a->events == b->events &&
           a->shms == b->shms && a->handles == b->handles;
}

int main(int argc, char **argv)
{
    if (!ipc_test_start(offsetof(vk_api_t, channel_reply_read) + sizeof(void *)))
        return vktest_finish("test-ipc-stress");
    uint64_t seed;
    if (argc > 1) {
        seed = strtoull(argv[1], NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec * 2654435761u + (uint64_t)ts.tv_sec;
    }
    if (!seed)
        seed = 1;
    printf("ipc-stress: seed %llu (repeat with init=/bin/test-ipc-stress.vbin %llu)\n",
           (unsigned long long)seed, (unsigned long long)seed);
    fflush(stdout);
    uint64_t rng = seed;
    vk_ipc_stats_t before, after;
    api->ipc_stats(&before);

    /* Stream pairs, plus one doomed pair (index STREAM_PAIRS) whose consumer dies. */
    pid_t producers[STREAM_PAIRS + 1], consumers[STREAM_PAIRS + 1];
    for (unsigned i = 0; i <= STREAM_PAIRS; i++) {
        uint32_t ch[2];
        int64_t err = api->channel_create(ch);
        if (err) {
            vktest_check(0, "channel_create", "failed");
            return vktest_finish("test-ipc-stress");
        }
        uint32_t count = i < STREAM_PAIRS ? STREAM_MESSAGES : 0;
        uint64_t s = rng_next(&rng);
        consumers[i] = fork_with(ch[1], consumer, i, s ^ 0x5555, count);
        producers[i] = fork_with(ch[0], producer, i, s, count);
        api->handle_close(ch[0]);
        api->handle_close(ch[1]);
    }

    /* Kill rounds, while the streams run. */
    bool kills_ok = true;
    for (unsigned r = 0; r < KILL_ROUNDS; r++) {
        uint32_t ch[2];
        if (api->channel_create(ch)) {
            kills_ok = false;
            break;
        }
        pid_t server = fork_with(ch[1], silent_server_entry, r, 0, 0);
        pid_t client = fork_with(ch[0], doomed_client_entry, r, rng_next(&rng), 0);
        api->handle_close(ch[0]);
        api->handle_close(ch[1]);
        sleep_ms(rng_below(&rng, 40));
        bool server_first = rng_below(&rng, 2);
        kill(server_first ? server : client, SIGKILL);
        if (rng_below(&rng, 2))
            sleep_ms(rng_below(&rng, 10));
        kill(server_first ? client : server, SIGKILL);
        kills_ok &= reaped_killed(server);
        kills_ok &= reaped_killed(client);
    }
    char why[200];
    snprintf(why, sizeof(why), "a killed process did not die of SIGKILL (seed %llu)",
             (unsigned long long)seed);
    vktest_check(kills_ok, "kill_rounds_reaped", why);

    sleep_ms(50);
    kill(consumers[STREAM_PAIRS], SIGKILL);
    bool doomed_ok = reaped_killed(consumers[STREAM_PAIRS]) && reaped_ok(producers[STREAM_PAIRS]);
    snprintf(why, sizeof(why), "the doomed pair's producer did not end on EPIPE (seed %llu)",
             (unsigned long long)seed);
    vktest_check(doomed_ok, "killed_consumer_gives_epipe", why);

    bool streams_ok = true;
    for (unsigned i = 0; i < STREAM_PAIRS; i++) {
        streams_ok &= reaped_ok(producers[i]);
        streams_ok &= reaped_ok(consumers[i]);
    }
    snprintf(why, sizeof(why), "a producer or consumer failed, see its line (seed %llu)",
             (unsigned long long)seed);
    vktest_check(streams_ok, "streams_intact_and_in_order", why);

    api->ipc_stats(&after);
    char detail[220];
    snprintf(detail, sizeof(detail),
             "objects %llu->%llu channels %llu->%llu events %llu->%llu shms %llu->%llu "
             "handles %llu->%llu (seed %llu)",
             (unsigned long long)before.objects, (unsigned long long)after.objects,
             (unsigned long long)before.channels, (unsigned long long)after.channels,
             (unsigned long long)before.events, (unsigned long long)after.events,
             (unsigned long long)before.shms, (unsigned long long)after.shms,
             (unsigned long long)before.handles, (unsigned long long)after.handles,
             (unsigned long long)seed);
    vktest_check(stats_equal(&before, &after), "ipc_counters_back_to_baseline", detail);

    /* The kernel still serves a plain call. */
    uint32_t ch[2];
    bool call_ok = api->channel_create(ch) == 0;
    pid_t echo = call_ok ? fork_with(ch[1], consumer, 99, 7, 1) : -1;
    if (call_ok) {
        api->handle_close(ch[1]);
        header_t h = { .kind = KIND_CALL, .seq = 0, .len = 0, .sum = fnv1a(NULL, 0) };
        answer_t a;
        vk_channel_call_t c = {
            .write = { (uint64_t)(uintptr_t)&h, 0, sizeof(h), 0 },
            .read = { (uint64_t)(uintptr_t)&a, 0, sizeof(a), 0 },
        };
        call_ok = api->channel_call(ch[0], &c, CALL_TIMEOUT_NS) == 0 && a.seq == 0 &&
                  a.sum == h.sum;
        api->handle_close(ch[0]);
        call_ok &= reaped_ok(echo);
    }
    vktest_check(call_ok, "call_after_stress", "a fresh call failed");
    return vktest_finish("test-ipc-stress");
}
