/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry point for src/lib/json. The input is parsed as a request; on success
 * every member is written back out with the writer into buffers of every size down to
 * zero, and the full-size output must parse again to the same members (a round trip).
 * Invariants that must hold for any input abort the run.
 * Build: clang -fsanitize=fuzzer,address,undefined -Isrc tests/host/fuzz_json.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/lib/json/json_parse.c"
#include "../../src/lib/json/json_write.c"

static void check(int cond)
{
    if (!cond)
        abort();
}

/* Writes o's scalar members into buf[size]; true when it fit. */
static bool write_back(const json_object_t *o, char *buf, size_t size)
{
    json_writer_t w;
    json_writer_init(&w, buf, size);
    json_object_begin(&w);
    for (unsigned i = 0; i < o->count; i++) {
        const json_member_t *m = &o->members[i];
        json_key(&w, m->key);
        switch (m->type) {
        case JSON_TYPE_STRING: json_string_n(&w, m->string, m->string_length); break;
        case JSON_TYPE_BOOL: json_bool(&w, m->boolean); break;
        case JSON_TYPE_NUMBER:
            if (m->integer && !m->negative)
                json_uint(&w, m->magnitude);
            else if (m->integer && m->magnitude <= INT64_MAX)
                json_int(&w, -(int64_t)m->magnitude);
            else
                json_null(&w);
            break;
        default: json_null(&w); break;
        }
    }
    json_object_end(&w);
    bool ok = json_writer_finish(&w);
    check(size == 0 || strlen(buf) == w.length);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_object_t o, again;
    /* A heap copy of exactly the input, so a read past the end is caught. */
    char *text = malloc(size ? size : 1);
    memcpy(text, data, size);
    int err = json_parse_object(&o, text, size);
    check(err <= 0 && err >= -JSON_EENCODING);
    check(json_error_string(err) != NULL);
    if (err) {
        check(o.count == 0 && o.error_offset <= size);
        free(text);
        return 0;
    }
    check(o.count <= JSON_MEMBERS_MAX);
    for (unsigned i = 0; i < o.count; i++) {
        const json_member_t *m = &o.members[i];
        check(json_find(&o, m->key) == m);
        if (m->type == JSON_TYPE_STRING)
            check(strlen(m->string) == m->string_length);
        /* The RPC's limit check (watch's interval_ms and count) agrees with the member. */
        uint64_t v = 12345;
        int r = json_member_uint_in(m, 10, 60000, &v);
        check(r == JSON_UINT_OK || r == JSON_UINT_NOT_INTEGER || r == JSON_UINT_OUT_OF_RANGE);
        check(r == JSON_UINT_OK ? v >= 10 && v <= 60000 && v == m->magnitude : v == 12345);
        check((r == JSON_UINT_NOT_INTEGER) ==
              (m->type != JSON_TYPE_NUMBER || (!m->integer && !m->overflow)));
    }
    size_t full = 2 * JSON_STORAGE_MAX * 6 + 1024; /* every byte may become \u00XX */
    char *out = malloc(full);
    check(write_back(&o, out, full));
    check(json_parse_object(&again, out, strlen(out)) == 0 && again.count == o.count);
    for (unsigned i = 0; i < o.count; i++) {
        check(strcmp(again.members[i].key, o.members[i].key) == 0);
        if (o.members[i].type == JSON_TYPE_STRING)
            check(strcmp(again.members[i].string, o.members[i].string) == 0);
    }
    size_t cut = strlen(out);
    for (size_t s = cut; s-- > 0;) {
        char *small = malloc(s ? s : 1);
        check(!write_back(&o, small, s));
        free(small);
        if (s > 64)
            s = s / 2 + 1; /* a few sizes, not all of them */
    }
    free(out);
    free(text);
    return 0;
}
