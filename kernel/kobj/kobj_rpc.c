/* SPDX-License-Identifier: MIT */
/*
 * The KObj JSON RPC (kobj.h, docs/kobj.md "RPC"). One request object in, one reply
 * object out:
 *   {"op":"get","path":P}             -> {"ok":true,"path":P,"type":T,"value":V}
 *   {"op":"set","path":P,"value":V}   -> {"ok":true,"path":P,"type":T,"value":V}
 *   {"op":"list","path":P}            -> {"ok":true,"path":P,"children":[{"name","type"}]}
 *   {"op":"describe","path":P}        -> {"ok":true,"path":P,"type","access","unit",
 *                                        "description"[,"choices"]}
 *   {"op":"watch","path":P,"interval_ms":N,"count":M}
 *                                     -> {"ok":true,"path":P,"type":T,"interval_ms":N,
 *                                        "samples":[{"t_ns":T,"value":V},...]
 *                                        [,"interrupted":true]}
 * Every failure is {"ok":false,"error":CLASS,"message":TEXT[,"path":P][,"offset":N]}
 * with CLASS one of bad_request, not_found, wrong_type, out_of_range, bad_value,
 * read_only, permission, not_readable, failed. Decode first (the request is
 * untrusted), then act.
 *
 * watch is one call that sleeps between samples (interruptibly: a signal ends it early
 * with the samples so far and "interrupted":true) rather than a stream: the RPC is a
 * plain request/reply syscall with no session to tear down, the limits bound how long a
 * call can block, and a caller that wants more samples calls again.
 */
#include "kobj/kobj.h"
#include "core/string.h"
#include "lib/json/json.h"
#include "lib/fmt.h"
#include "mm/mm.h"
#include "sched/sched.h"
#include "time/time.h"
#include <vk/errno.h>

typedef struct {
    json_object_t request;
    kobj_value_t value;
    char text[CONFIG_KOBJ_VALUE_MAX + 1];
    char name[CONFIG_KOBJ_NAME_MAX];
} rpc_scratch_t;

static void fail(json_writer_t *w, const char *class, const char *message, const char *path)
{
    json_object_begin(w);
    json_key(w, "ok");
    json_bool(w, false);
    json_key(w, "error");
    json_string(w, class);
    json_key(w, "message");
    json_string(w, message);
    if (path) {
        json_key(w, "path");
        json_string(w, path);
    }
    json_object_end(w);
}

/* The error object for an errno from the tree or a callback. */
static void fail_errno(json_writer_t *w, int err, const char *path)
{
    switch (err) {
    case -VK_ENOENT: fail(w, "not_found", "no such node", path); break;
    case -VK_ENOTDIR: fail(w, "not_found", "a component of the path is not a directory", path); break;
    case -VK_EISDIR: fail(w, "wrong_type", "the node is a directory", path); break;
    case -VK_EACCES: fail(w, "read_only", "the node cannot be written", path); break;
    case -VK_EPERM:
        fail(w, "permission", "writing needs the KObj-write right (a VK_OBJECT_KOBJ_WRITE handle)",
             path);
        break;
    case -VK_ERANGE: fail(w, "out_of_range", "the value is out of range", path); break;
    case -VK_EINVAL: fail(w, "bad_value", "the value is not valid for this node", path); break;
    default: fail(w, "failed", "the node's callback failed", path); break;
    }
}

static void begin_ok(json_writer_t *w, const char *path, const kobj_node_t *node)
{
    json_object_begin(w);
    json_key(w, "ok");
    json_bool(w, true);
    json_key(w, "path");
    json_string(w, path);
    json_key(w, "type");
    json_string(w, kobj_type_name(node->type));
}

static void put_value(json_writer_t *w, const kobj_node_t *node, const kobj_value_t *v,
                      rpc_scratch_t *s)
{
    json_key(w, "value");
    switch (node->type) {
    case KOBJ_INT: json_int(w, v->i); break;
    case KOBJ_UINT: json_uint(w, v->u); break;
    case KOBJ_BOOL: json_bool(w, v->u != 0); break;
    case KOBJ_STRING: json_string_n(w, v->text, v->length); break;
    case KOBJ_ACTION: json_null(w); break;
    default:
        kobj_format(node, v, s->text, sizeof(s->text));
        json_string(w, s->text);
        break;
    }
}

/* The reply to a get or set whose callback returned err; the value is in s->value. */
static void reply_value(json_writer_t *w, const char *path, kobj_ref_t ref, rpc_scratch_t *s,
                        int err)
{
    if (err) {
        fail_errno(w, err, path);
        return;
    }
    begin_ok(w, path, ref.node);
    put_value(w, ref.node, &s->value, s);
    json_object_end(w);
}

static void op_get(json_writer_t *w, const char *path, kobj_ref_t ref, rpc_scratch_t *s)
{
    if (ref.node->type != KOBJ_DIR && !(ref.node->access & KOBJ_READ)) {
        fail(w, "not_readable", "the node cannot be read", path);
        return;
    }
    reply_value(w, path, ref, s, kobj_get(ref, &s->value));
}

/* The JSON value m as a value for node: 0, or an error object written. */
static int decode_value(json_writer_t *w, const char *path, const kobj_node_t *node,
                        const json_member_t *m, kobj_value_t *out)
{
    static const char *const wanted[] = {
        [KOBJ_INT] = "an integer", [KOBJ_UINT] = "an unsigned integer",
        [KOBJ_BOOL] = "true or false", [KOBJ_STRING] = "a string", [KOBJ_ENUM] = "a string",
        [KOBJ_BYTES] = "a string of hex digits",
    };
    if (node->type == KOBJ_ACTION)
        return kobj_parse(node, "", 0, out);
    if (!m) {
        fail(w, "bad_request", "set needs a \"value\"", path);
        return -1;
    }
    switch (node->type) {
    case KOBJ_INT:
    case KOBJ_UINT: {
        if (m->type != JSON_TYPE_NUMBER)
            break;
        if (!m->integer && !m->overflow) {
            fail(w, "wrong_type", "the number is not an integer", path);
            return -1;
        }
        uint64_t limit = node->type == KOBJ_UINT ? (m->negative ? 0 : UINT64_MAX)
                       : m->negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        if (m->overflow || m->magnitude > limit) {
            fail(w, "out_of_range", "the number does not fit the node's type", path);
            return -1;
        }
        out->u = m->magnitude;
        out->i = m->negative ? (int64_t)(0 - m->magnitude) : (int64_t)m->magnitude;
        return 0;
    }
    case KOBJ_BOOL:
        if (m->type != JSON_TYPE_BOOL)
            break;
        out->u = m->boolean;
        return 0;
    default:
        if (m->type != JSON_TYPE_STRING)
            break;
        int err = kobj_parse(node, m->string, m->string_length, out);
        if (err == -VK_EINVAL && node->type == KOBJ_ENUM)
            fail(w, "out_of_range", "not one of the node's choices (see describe)", path);
        else if (err)
            fail_errno(w, err, path);
        return err;
    }
    fail(w, "wrong_type", wanted[node->type], path);
    return -1;
}

static void op_set(json_writer_t *w, const char *path, kobj_ref_t ref, rpc_scratch_t *s)
{
    if (ref.node->type == KOBJ_DIR) {
        fail(w, "wrong_type", "the node is a directory", path);
        return;
    }
    if (!(ref.node->access & KOBJ_WRITE)) {
        fail(w, "read_only", "the node cannot be written", path);
        return;
    }
    if (decode_value(w, path, ref.node, json_find(&s->request, "value"), &s->value))
        return;
    reply_value(w, path, ref, s, kobj_set(ref, &s->value));
}

static void op_list(json_writer_t *w, const char *path, kobj_ref_t ref, rpc_scratch_t *s)
{
    if (ref.node->type != KOBJ_DIR) {
        fail(w, "wrong_type", "the node is not a directory", path);
        return;
    }
    begin_ok(w, path, ref.node);
    json_key(w, "children");
    json_array_begin(w);
    kobj_ref_t child;
    for (uint64_t pos = 0; !kobj_child(ref, pos, s->name, sizeof(s->name), &child); pos++) {
        json_object_begin(w);
        json_key(w, "name");
        json_string(w, s->name);
        json_key(w, "type");
        json_string(w, kobj_type_name(child.node->type));
        json_object_end(w);
    }
    json_array_end(w);
    json_object_end(w);
}

static void op_describe(json_writer_t *w, const char *path, kobj_ref_t ref)
{
    const kobj_node_t *n = ref.node;
    begin_ok(w, path, n);
    json_key(w, "access");
    json_array_begin(w);
    if (n->access & KOBJ_READ)
        json_string(w, "read");
    if (n->access & KOBJ_WRITE)
        json_string(w, "write");
    if (n->access & KOBJ_VOLATILE)
        json_string(w, "volatile");
    json_array_end(w);
    json_key(w, "unit");
    json_string(w, n->unit ? n->unit : "");
    json_key(w, "description");
    json_string(w, n->description);
    if (n->type == KOBJ_ENUM) {
        json_key(w, "choices");
        json_array_begin(w);
        for (unsigned i = 0; n->choices[i]; i++)
            json_string(w, n->choices[i]);
        json_array_end(w);
    }
    json_object_end(w);
}

/* An optional integer member in [min, max] (def when absent): 0, or an error object. */
static int decode_limit(json_writer_t *w, const json_object_t *request, const char *key,
                        uint64_t min, uint64_t max, uint64_t def, uint64_t *out,
                        rpc_scratch_t *s)
{
    const json_member_t *m = json_find(request, key);
    if (!m) {
        *out = def;
        return 0;
    }
    switch (json_member_uint_in(m, min, max, out)) {
    case JSON_UINT_OK:
        return 0;
    case JSON_UINT_NOT_INTEGER:
        fmt_snprintf(s->text, sizeof(s->text), "\"%s\" must be an integer", key);
        fail(w, "wrong_type", s->text, NULL);
        return -1;
    default:
        fmt_snprintf(s->text, sizeof(s->text), "\"%s\" must be %llu to %llu", key,
                     (unsigned long long)min, (unsigned long long)max);
        fail(w, "out_of_range", s->text, NULL);
        return -1;
    }
}

static void op_watch(json_writer_t *w, const char *path, kobj_ref_t ref, rpc_scratch_t *s)
{
    uint64_t interval, count;
    if (decode_limit(w, &s->request, "interval_ms", CONFIG_KOBJ_WATCH_INTERVAL_MIN_MS,
                     CONFIG_KOBJ_WATCH_INTERVAL_MAX_MS, 1000, &interval, s) ||
        decode_limit(w, &s->request, "count", 1, CONFIG_KOBJ_WATCH_COUNT_MAX, 1, &count, s))
        return;
    if ((count - 1) * interval > CONFIG_KOBJ_WATCH_SPAN_MAX_MS) {
        fmt_snprintf(s->text, sizeof(s->text),
                     "(count - 1) * interval_ms must be at most %u ms", CONFIG_KOBJ_WATCH_SPAN_MAX_MS);
        fail(w, "out_of_range", s->text, NULL);
        return;
    }
    if (ref.node->type == KOBJ_DIR) {
        fail(w, "wrong_type", "the node is a directory", path);
        return;
    }
    if (!(ref.node->access & KOBJ_READ)) {
        fail(w, "not_readable", "the node cannot be read", path);
        return;
    }
    /* The first sample decides whether the node can be read at all. */
    uint64_t now = time_monotonic_ns();
    int err = kobj_get(ref, &s->value);
    if (err) {
        fail_errno(w, err, path);
        return;
    }
    begin_ok(w, path, ref.node);
    json_key(w, "interval_ms");
    json_uint(w, interval);
    json_key(w, "samples");
    json_array_begin(w);
    bool interrupted = false;
    uint64_t start = now;
    for (uint64_t i = 0;;) {
        json_object_begin(w);
        json_key(w, "t_ns");
        json_uint(w, now);
        put_value(w, ref.node, &s->value, s);
        json_object_end(w);
        if (++i == count)
            break;
        /* Deadlines from the start, so sampling does not drift by the work done. */
        if (sched_sleep_interruptible(start + i * interval * 1000000ull)) {
            interrupted = true;
            break;
        }
        now = time_monotonic_ns();
        if (kobj_get(ref, &s->value))
            break; /* the node went away (a thread ended): the samples so far stand */
    }
    json_array_end(w);
    if (interrupted) {
        json_key(w, "interrupted");
        json_bool(w, true);
    }
    json_object_end(w);
}

/* Checks the request's members and runs it. */
static void run(json_writer_t *w, rpc_scratch_t *s, const char *text, size_t length)
{
    int err = json_parse_object(&s->request, text, length);
    if (err) {
        json_object_begin(w);
        json_key(w, "ok");
        json_bool(w, false);
        json_key(w, "error");
        json_string(w, "bad_request");
        json_key(w, "message");
        json_string(w, json_error_string(err));
        json_key(w, "offset");
        json_uint(w, s->request.error_offset);
        json_object_end(w);
        return;
    }
    const json_member_t *op = json_find(&s->request, "op");
    const json_member_t *path = json_find(&s->request, "path");
    if (!op || op->type != JSON_TYPE_STRING) {
        fail(w, "bad_request", "\"op\" must be a string: get, set, list, describe or watch", NULL);
        return;
    }
    if (!path || path->type != JSON_TYPE_STRING || path->string[0] != '/') {
        fail(w, "bad_request", "\"path\" must be a string starting with /", NULL);
        return;
    }
    bool is_set = !strcmp(op->string, "set"), is_watch = !strcmp(op->string, "watch");
    for (unsigned i = 0; i < s->request.count; i++) {
        const char *key = s->request.members[i].key;
        if (strcmp(key, "op") && strcmp(key, "path") && (!is_set || strcmp(key, "value")) &&
            (!is_watch || (strcmp(key, "interval_ms") && strcmp(key, "count")))) {
            fail(w, "bad_request", "unexpected member in the request", NULL);
            return;
        }
    }
    kobj_ref_t ref;
    if (strcmp(op->string, "get") && !is_set && strcmp(op->string, "list") &&
        strcmp(op->string, "describe") && !is_watch) {
        fail(w, "bad_request", "unknown op: use get, set, list, describe or watch", NULL);
    } else if ((err = kobj_resolve(path->string, &ref))) {
        fail_errno(w, err == -VK_ENOTDIR ? -VK_ENOTDIR : -VK_ENOENT, path->string);
    } else if (!strcmp(op->string, "get")) {
        op_get(w, path->string, ref, s);
    } else if (is_set) {
        op_set(w, path->string, ref, s);
    } else if (is_watch) {
        op_watch(w, path->string, ref, s);
    } else if (!strcmp(op->string, "list")) {
        op_list(w, path->string, ref, s);
    } else {
        op_describe(w, path->string, ref);
    }
}

long kobj_rpc(const char *request, size_t length, char *reply, size_t reply_size)
{
    json_writer_t w;
    json_writer_init(&w, reply, reply_size);
    rpc_scratch_t *s = kmalloc(sizeof(*s));
    if (!s) {
        fail(&w, "failed", "out of kernel memory", NULL);
    } else {
        run(&w, s, request, length);
        kfree(s);
    }
    return json_writer_finish(&w) ? (long)w.length : -VK_ERANGE;
}
