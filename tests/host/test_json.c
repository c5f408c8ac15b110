/* SPDX-License-Identifier: MIT */
/*
 * Host tests for src/lib/json: every value type, escapes and UTF-8 both ways, each
 * error code with the offset it reports, the limits at and one past their value, and
 * the writer's separators, escaping and overflow.
 */
#include "htest.h"

#include "../../src/lib/json/json_parse.c"
#include "../../src/lib/json/json_write.c"

static json_object_t obj;

static int parse(const char *text)
{
    return json_parse_object(&obj, text, strlen(text));
}

HTEST(json_request_members)
{
    HTEST_EXPECT_EQ(parse(" {\"op\" : \"set\", \"path\":\"/kernel/log/level\",\n"
                          "\"value\": 42, \"neg\": -7, \"f\": 1.5e3, \"t\": true,"
                          " \"n\": null, \"o\": {\"a\": [1, {\"b\": []}]}} "), 0);
    HTEST_EXPECT_EQ(obj.count, 8);
    HTEST_EXPECT_STR(json_find(&obj, "op")->string, "set");
    HTEST_EXPECT_STR(json_find(&obj, "path")->string, "/kernel/log/level");
    const json_member_t *v = json_find(&obj, "value");
    HTEST_EXPECT(v->type == JSON_TYPE_NUMBER && v->integer && !v->negative && v->magnitude == 42);
    v = json_find(&obj, "neg");
    HTEST_EXPECT(v->integer && v->negative && v->magnitude == 7);
    HTEST_EXPECT(!json_find(&obj, "f")->integer && !json_find(&obj, "f")->overflow);
    HTEST_EXPECT(json_find(&obj, "t")->type == JSON_TYPE_BOOL && json_find(&obj, "t")->boolean);
    HTEST_EXPECT(json_find(&obj, "n")->type == JSON_TYPE_NULL);
    HTEST_EXPECT(json_find(&obj, "o")->type == JSON_TYPE_OBJECT);
    HTEST_EXPECT(json_find(&obj, "missing") == NULL);
    HTEST_EXPECT_EQ(parse("{}"), 0);
    HTEST_EXPECT_EQ(obj.count, 0);
}

HTEST(json_numbers_at_64_bit_limits)
{
    HTEST_EXPECT_EQ(parse("{\"a\":18446744073709551615,\"b\":18446744073709551616,"
                          "\"c\":-9223372036854775808,\"d\":0,\"e\":-0}"), 0);
    HTEST_EXPECT(json_find(&obj, "a")->integer && json_find(&obj, "a")->magnitude == UINT64_MAX);
    HTEST_EXPECT(!json_find(&obj, "b")->integer && json_find(&obj, "b")->overflow);
    HTEST_EXPECT(json_find(&obj, "c")->magnitude == 9223372036854775808ull);
    HTEST_EXPECT(json_find(&obj, "d")->integer && json_find(&obj, "d")->magnitude == 0);
    HTEST_EXPECT(json_find(&obj, "e")->negative);
    const char *bad[] = { "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}", "{\"a\":1e}",
                          "{\"a\":+1}", "{\"a\":0x10}", "{\"a\":1e+}" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        HTEST_EXPECT_EQ(parse(bad[i]), -JSON_ESYNTAX);
}

HTEST(json_string_escapes_and_utf8)
{
    HTEST_EXPECT_EQ(parse("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\\u00e9\\ud83d\\ude00\xc3\xa9\"}"), 0);
    HTEST_EXPECT_STR(json_find(&obj, "s")->string,
                     "a\"b\\c/d\n\t\r\b\f\xc3\xa9\xf0\x9f\x98\x80\xc3\xa9");
    HTEST_EXPECT_EQ(json_find(&obj, "s")->string_length, 20);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\u0000\"}"), -JSON_ENUL);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\ud800\"}"), -JSON_EENCODING);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\udc00\"}"), -JSON_EENCODING);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\ud800\\u0041\"}"), -JSON_EENCODING);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\xc0\xaf\"}"), -JSON_EENCODING);     /* overlong */
    HTEST_EXPECT_EQ(parse("{\"s\":\"\xed\xa0\x80\"}"), -JSON_EENCODING); /* surrogate */
    HTEST_EXPECT_EQ(parse("{\"s\":\"\xf4\x90\x80\x80\"}"), -JSON_EENCODING);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\xe2\x82\"}"), -JSON_EENCODING);     /* cut short */
    HTEST_EXPECT_EQ(parse("{\"s\":\"a\nb\"}"), -JSON_ESYNTAX);           /* raw control */
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\x\"}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"s\":\"\\u12g4\"}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"s\":\"abc"), -JSON_ESYNTAX);
}

HTEST(json_errors_name_their_offset)
{
    HTEST_EXPECT_EQ(parse("{\"a\":1,}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(obj.error_offset, 7);
    HTEST_EXPECT_EQ(obj.count, 0);
    HTEST_EXPECT_EQ(parse("{\"a\":1,\"a\":2}"), -JSON_EDUPLICATE);
    HTEST_EXPECT_EQ(obj.error_offset, 7);
    HTEST_EXPECT_EQ(parse("{\"a\":1} x"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(obj.error_offset, 8);
    HTEST_EXPECT_EQ(parse("[1]"), -JSON_ENOTOBJECT);
    HTEST_EXPECT_EQ(parse("\"x\""), -JSON_ENOTOBJECT);
    HTEST_EXPECT_EQ(parse(""), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("   "), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{a:1}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"a\" 1}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"a\":tru}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"a\":[1,]}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(parse("{\"a\":{\"b\"}}"), -JSON_ESYNTAX);
    HTEST_EXPECT_EQ(json_parse_object(&obj, "{\"a\":1}\0", 8), -JSON_ESYNTAX);
    HTEST_EXPECT(strcmp(json_error_string(-JSON_EDEPTH), json_error_string(99)) != 0);
}

HTEST(json_limits_at_and_past)
{
    char text[JSON_STORAGE_MAX + 64];
    /* Depth: the top level counts, so JSON_DEPTH_MAX - 1 nested arrays fit. */
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned n = JSON_DEPTH_MAX - 1 + extra, len = 0;
        len += (unsigned)sprintf(text, "{\"a\":");
        for (unsigned i = 0; i < n; i++)
            text[len++] = '[';
        for (unsigned i = 0; i < n; i++)
            text[len++] = ']';
        strcpy(text + len, "}");
        HTEST_EXPECT_EQ(parse(text), extra ? -JSON_EDEPTH : 0);
    }
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned len = 1;
        text[0] = '{';
        for (unsigned i = 0; i < JSON_MEMBERS_MAX + extra; i++)
            len += (unsigned)sprintf(text + len, "%s\"k%u\":%u", i ? "," : "", i, i);
        strcpy(text + len, "}");
        HTEST_EXPECT_EQ(parse(text), extra ? -JSON_ETOOMANY : 0);
    }
    /* Storage: key "k" (2 bytes) plus a string of JSON_STORAGE_MAX - 3 bytes and its NUL. */
    for (unsigned extra = 0; extra < 2; extra++) {
        unsigned n = JSON_STORAGE_MAX - 3 + extra;
        unsigned len = (unsigned)sprintf(text, "{\"k\":\"");
        memset(text + len, 'x', n);
        strcpy(text + len + n, "\"}");
        HTEST_EXPECT_EQ(parse(text), extra ? -JSON_ETOOLONG : 0);
    }
}

HTEST(json_writer_separators_and_escapes)
{
    char buf[256];
    json_writer_t w;
    json_writer_init(&w, buf, sizeof(buf));
    json_object_begin(&w);
    json_key(&w, "ok");
    json_bool(&w, true);
    json_key(&w, "n");
    json_int(&w, INT64_MIN);
    json_key(&w, "u");
    json_uint(&w, UINT64_MAX);
    json_key(&w, "list");
    json_array_begin(&w);
    json_string(&w, "a\"\\\n\x01\x7f");
    json_null(&w);
    json_object_begin(&w);
    json_object_end(&w);
    json_string_n(&w, "\xff\xc3\xa9", 3);
    json_array_end(&w);
    json_object_end(&w);
    HTEST_EXPECT(json_writer_finish(&w));
    HTEST_EXPECT_STR(buf, "{\"ok\":true,\"n\":-9223372036854775808,\"u\":18446744073709551615,"
                          "\"list\":[\"a\\\"\\\\\\n\\u0001\\u007f\",null,{},\"\\ufffd\xc3\xa9\"]}");
    /* What the writer makes, the parser reads back. */
    HTEST_EXPECT_EQ(parse(buf), 0);
}

HTEST(json_writer_overflow_is_remembered)
{
    char buf[8];
    json_writer_t w;
    json_writer_init(&w, buf, sizeof(buf));
    json_object_begin(&w);
    json_key(&w, "long key");
    json_uint(&w, 1);
    json_object_end(&w);
    HTEST_EXPECT(!json_writer_finish(&w));
    HTEST_EXPECT_EQ(strlen(buf), 7);
    json_writer_init(&w, buf, 3);
    json_string(&w, "");
    HTEST_EXPECT(json_writer_finish(&w));
    HTEST_EXPECT_STR(buf, "\"\"");
}

HTEST(json_watch_request_limits)
{
    /* What the KObj watch op asks of interval_ms and count (kernel/kobj/kobj_rpc.c). */
    uint64_t v = 7;
    HTEST_EXPECT_EQ(parse("{\"op\":\"watch\",\"path\":\"/mem/free\",\"interval_ms\":250,"
                          "\"count\":100,\"f\":1.5,\"s\":\"3\",\"neg\":-1,\"zero\":-0,"
                          "\"big\":18446744073709551616,\"e\":1e2,\"t\":true}"), 0);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "interval_ms"), 10, 60000, &v),
                    JSON_UINT_OK);
    HTEST_EXPECT_EQ(v, 250);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "count"), 1, 100, &v), JSON_UINT_OK);
    HTEST_EXPECT_EQ(v, 100);
    v = 7;
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "count"), 1, 99, &v),
                    JSON_UINT_OUT_OF_RANGE);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "interval_ms"), 251, 300, &v),
                    JSON_UINT_OUT_OF_RANGE);
    HTEST_EXPECT_EQ(v, 7); /* untouched on failure */
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "f"), 0, 10, &v), JSON_UINT_NOT_INTEGER);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "s"), 0, 10, &v), JSON_UINT_NOT_INTEGER);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "t"), 0, 10, &v), JSON_UINT_NOT_INTEGER);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "neg"), 0, 10, &v),
                    JSON_UINT_OUT_OF_RANGE);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "zero"), 0, 10, &v), JSON_UINT_OK);
    HTEST_EXPECT_EQ(v, 0);
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "big"), 0, UINT64_MAX, &v),
                    JSON_UINT_OUT_OF_RANGE);
    /* 1e2 is a number but not written as an integer: the parser calls it a fraction. */
    HTEST_EXPECT_EQ(json_member_uint_in(json_find(&obj, "e"), 0, 1000, &v),
                    JSON_UINT_NOT_INTEGER);
}

HTEST_MAIN()
