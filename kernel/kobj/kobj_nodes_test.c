/* SPDX-License-Identifier: MIT */
/* KTESTs for the KObj nodes published outside kobj (/irq, /sched, /mem, /kernel/log/
 * route, /kernel/panic) and for the RPC's watch op and its limits. */
#include "kobj/kobj.h"
#include "test/ktest.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "time/time.h"
#include <vk/errno.h>

/* The value at path, read as the kernel would show it in a file. */
static int read_text(const char *path, char *text, size_t size)
{
    kobj_ref_t ref;
    int err = kobj_resolve(path, &ref);
    kobj_value_t *v = kmalloc(sizeof(*v));
    if (!v)
        return -VK_ENOMEM;
    if (!err)
        err = kobj_get(ref, v);
    if (!err)
        kobj_format(ref.node, v, text, size);
    kfree(v);
    return err;
}

static uint64_t read_uint(const char *path)
{
    char text[64] = "";
    if (read_text(path, text, sizeof(text)))
        return UINT64_MAX;
    uint64_t n = 0;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    return n;
}

/* The first place needle occurs in haystack, or NULL (the kernel has no strstr). */
static const char *find(const char *haystack, const char *needle)
{
    for (const char *p = haystack; *p; p++)
        if (!strncmp(p, needle, strlen(needle)))
            return p;
    return NULL;
}

/* kobj_rpc into a heap buffer (watch replies are long): true if it says expected. */
static bool rpc_says(const char *request, const char *expected)
{
    enum { SIZE = 4096 };
    char *reply = kmalloc(SIZE);
    bool ok = reply && kobj_rpc(request, strlen(request), reply, SIZE) >= 0 &&
              find(reply, expected) != NULL;
    kfree(reply);
    return ok;
}

KTEST(kobj_irq_counts_the_timer_per_cpu)
{
    /* Find the vector whose owner is the timer's handler and watch it move. */
    kobj_ref_t dir, child;
    char name[CONFIG_KOBJ_NAME_MAX], path[96], owner[64];
    KTEST_EXPECT_EQ(kobj_resolve("/irq", &dir), 0);
    int timer = -1;
    for (uint64_t pos = 0; !kobj_child(dir, pos, name, sizeof(name), &child); pos++) {
        fmt_snprintf(path, sizeof(path), "/irq/%s/name", name);
        if (!read_text(path, owner, sizeof(owner)) && !strcmp(owner, "tick_handler"))
            timer = (int)child.key;
    }
    KTEST_EXPECT(timer >= 32);
    if (timer < 32)
        return;
    fmt_snprintf(path, sizeof(path), "/irq/%d/total", timer);
    uint64_t before = read_uint(path);
    sched_sleep_ns(30 * 1000000ull);
    uint64_t after = read_uint(path);
    KTEST_EXPECT(after != UINT64_MAX && after > before);
    fmt_snprintf(path, sizeof(path), "/irq/%d/per_cpu", timer);
    char per_cpu[256];
    KTEST_EXPECT_EQ(read_text(path, per_cpu, sizeof(per_cpu)), 0);
    KTEST_EXPECT(per_cpu[0] >= '1' && per_cpu[0] <= '9'); /* CPU 0 took ticks */
    KTEST_EXPECT(read_text("/irq/14/name", owner, sizeof(owner)) != 0 ||
                 !strcmp(owner, "page fault"));
    KTEST_EXPECT_EQ(kobj_resolve("/irq/300", &child), -VK_ENOENT);
}

KTEST(kobj_sched_classes_queues_and_task_fields)
{
    KTEST_EXPECT_EQ(read_uint("/sched/classes/realtime/priority_min"), 0);
    KTEST_EXPECT_EQ(read_uint("/sched/classes/interactive/priority_max"), 139);
    KTEST_EXPECT_EQ(read_uint("/sched/classes/batch/priority_min"), 140);
    KTEST_EXPECT(read_uint("/sched/run_queues/0") != UINT64_MAX);
    char path[96], text[64];
    uint64_t id = sched_thread_id(sched_current());
    fmt_snprintf(path, sizeof(path), "/sched/tasks/%llu/class", (unsigned long long)id);
    KTEST_EXPECT_EQ(read_text(path, text, sizeof(text)), 0);
    KTEST_EXPECT(!strcmp(text, "interactive") || !strcmp(text, "realtime") ||
                 !strcmp(text, "batch"));
    /* A kernel thread has no process: pid 0, no memory of its own. */
    fmt_snprintf(path, sizeof(path), "/sched/tasks/%llu/pid", (unsigned long long)id);
    KTEST_EXPECT_EQ(read_uint(path), 0);
    fmt_snprintf(path, sizeof(path), "/sched/tasks/%llu/resident", (unsigned long long)id);
    KTEST_EXPECT_EQ(read_uint(path), 0);
    fmt_snprintf(path, sizeof(path), "/sched/tasks/%llu/wakeups", (unsigned long long)id);
    uint64_t wakeups = read_uint(path);
    sched_sleep_ns(2 * 1000000ull);
    KTEST_EXPECT(read_uint(path) > wakeups);
    KTEST_EXPECT(read_uint("/cpu/0/ticks") > 0);
    KTEST_EXPECT(read_uint("/cpu/0/wakeups") > 0);
}

KTEST(kobj_mem_slab_caches)
{
    KTEST_EXPECT_EQ(read_uint("/mem/slab/kmalloc-64/object_size"), 64);
    void *held = kmalloc(64);
    uint64_t in_use = read_uint("/mem/slab/kmalloc-64/in_use");
    uint64_t total = read_uint("/mem/slab/kmalloc-64/total");
    KTEST_EXPECT(in_use >= 1 && in_use != UINT64_MAX && total >= in_use);
    kfree(held);
    KTEST_EXPECT_EQ(read_uint("/mem/slab/kmalloc-64/in_use"), in_use - 1);
    KTEST_EXPECT(read_uint("/mem/slab/kmalloc-64/bytes") >= PAGE_SIZE);
    kobj_ref_t ref;
    KTEST_EXPECT_EQ(kobj_resolve("/mem/slab/kmalloc-3", &ref), -VK_ENOENT);
    KTEST_EXPECT_EQ(kobj_resolve("/mem/processes", &ref), 0);
}

KTEST(kobj_log_route_round_trips)
{
    kobj_ref_t ref;
    char was[32], now[32];
    kobj_value_t *v = kmalloc(sizeof(*v));
    KTEST_EXPECT_EQ(kobj_resolve("/kernel/log/route", &ref), 0);
    KTEST_EXPECT_EQ(read_text("/kernel/log/route", was, sizeof(was)), 0);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "both", 4, v), 0);
    KTEST_EXPECT_EQ(kobj_set(ref, v), 0);
    KTEST_EXPECT_EQ(read_text("/kernel/log/route", now, sizeof(now)), 0);
    KTEST_EXPECT(!strcmp(now, "both"));
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "none", 4, v), -VK_EINVAL);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, was, strlen(was), v), 0);
    KTEST_EXPECT_EQ(kobj_set(ref, v), 0);
    KTEST_EXPECT_EQ(read_text("/kernel/log/route", now, sizeof(now)), 0);
    KTEST_EXPECT(!strcmp(now, was));
    kfree(v);
    /* The panic action is write-only; reading it is refused, not run. */
    KTEST_EXPECT(rpc_says("{\"op\":\"get\",\"path\":\"/kernel/panic\"}",
                          "\"error\":\"not_readable\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"describe\",\"path\":\"/kernel/panic\"}",
                          "\"type\":\"action\",\"access\":[\"write\"]"));
}

KTEST(kobj_watch_takes_samples_interval_apart)
{
    uint64_t start = time_monotonic_ns();
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/kernel/uptime_ns\","
                          "\"interval_ms\":20,\"count\":3}", "\"interval_ms\":20,\"samples\":["));
    uint64_t took = time_monotonic_ns() - start;
    KTEST_EXPECT(took >= 40 * 1000000ull);
    KTEST_EXPECT(took < 5000 * 1000000ull);
    /* Three samples on deadlines counted from the first: sample i is stamped no earlier
     * than i intervals after it (a late one does not push the next ones back). */
    enum { SIZE = 4096 };
    char *reply = kmalloc(SIZE);
    const char *req = "{\"op\":\"watch\",\"path\":\"/kernel/uptime_ns\",\"interval_ms\":10,\"count\":3}";
    KTEST_EXPECT(kobj_rpc(req, strlen(req), reply, SIZE) > 0);
    unsigned samples = 0;
    uint64_t first = 0;
    bool on_time = true;
    for (const char *p = reply; (p = find(p, "\"t_ns\":")); p++) {
        uint64_t value = 0;
        for (const char *d = p + 7; *d >= '0' && *d <= '9'; d++)
            value = value * 10 + (uint64_t)(*d - '0');
        if (!samples)
            first = value;
        on_time = on_time && value >= first + samples * 10 * 1000000ull;
        samples++;
    }
    KTEST_EXPECT_EQ(samples, 3);
    KTEST_EXPECT(on_time);
    kfree(reply);
    /* Defaults: one sample, at once. */
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\"}", "\"samples\":[{\"t_ns\":"));
}

KTEST(kobj_watch_rejects_each_bad_request_precisely)
{
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":0}",
                          "\"error\":\"out_of_range\",\"message\":\"\\\"count\\\" must be 1 to 100\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":101}",
                          "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":-1}",
                          "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"interval_ms\":5}",
                          "\"message\":\"\\\"interval_ms\\\" must be 10 to 60000\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"interval_ms\":99999999999999999999}",
                          "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"interval_ms\":12.5}",
                          "\"error\":\"wrong_type\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":\"3\"}",
                          "\"error\":\"wrong_type\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"count\":100,"
                          "\"interval_ms\":1000}", "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem\"}", "\"error\":\"wrong_type\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/nothing\"}", "\"error\":\"not_found\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/kernel/panic\"}",
                          "\"error\":\"not_readable\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"watch\",\"path\":\"/mem/free\",\"value\":1}",
                          "\"error\":\"bad_request\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"get\",\"path\":\"/mem/free\",\"count\":1}",
                          "\"error\":\"bad_request\""));
}
