/* SPDX-License-Identifier: MIT */
/* KTESTs for the KObj tree: publishing, the walk, dynamic dirs, get/set and text forms,
 * and the RPC's error classes. */
#include "kobj/kobj.h"
#include "test/ktest.h"
#include "core/string.h"
#include "mm/mm.h"
#include <vk/errno.h>

static int64_t test_int = -5;
static const char *const test_colors[] = { "red", "green", NULL };

static int test_get(const kobj_node_t *node, uint64_t key, kobj_value_t *out)
{
    out->i = test_int + (int64_t)key;
    out->u = key / 10 % 2; /* items a, b, c: red, green, red */
    return 0;
}

static int test_set(const kobj_node_t *node, uint64_t key, const kobj_value_t *in)
{
    test_int = in->i;
    return 0;
}

static int test_enumerate(uint64_t position, char *name, size_t size, uint64_t *key)
{
    if (position >= 3)
        return -VK_ENOENT;
    name[0] = (char)('a' + position);
    name[1] = 0;
    *key = position * 10;
    return 0;
}

static kobj_node_t test_nodes[] = {
    { .path = "/ktest", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "test" },
    { .path = "/ktest/number", .type = KOBJ_INT, .access = KOBJ_READ | KOBJ_WRITE,
      .get = test_get, .set = test_set, .description = "a writable int" },
    { .path = "/ktest/items", .type = KOBJ_DIR, .access = KOBJ_READ,
      .enumerate = test_enumerate, .description = "dynamic" },
    { .path = "/ktest/items/*", .type = KOBJ_DIR, .access = KOBJ_READ, .description = "item" },
    { .path = "/ktest/items/*/value", .type = KOBJ_INT, .access = KOBJ_READ, .get = test_get,
      .description = "test_int plus the key" },
    { .path = "/ktest/items/*/color", .type = KOBJ_ENUM, .access = KOBJ_READ, .get = test_get,
      .choices = test_colors, .description = "an enum" },
};
static kobj_node_t test_orphan = { .path = "/nowhere/x", .type = KOBJ_INT,
                                   .access = KOBJ_READ, .description = "orphan" };
static kobj_node_t test_bad_star = { .path = "/ktest/*", .type = KOBJ_INT,
                                     .access = KOBJ_READ, .description = "bad" };

static void publish_once(void)
{
    if (!test_nodes[0].parent)
        KTEST_EXPECT_EQ(kobj_publish(test_nodes, 6), 0);
}

KTEST(kobj_publish_checks_paths_and_parents)
{
    publish_once();
    KTEST_EXPECT_EQ(kobj_publish(test_nodes, 1), -VK_EEXIST);
    KTEST_EXPECT_EQ(kobj_publish(&test_orphan, 1), -VK_ENOENT);
    KTEST_EXPECT_EQ(kobj_publish(&test_bad_star, 1), -VK_EINVAL);
    kobj_ref_t ref;
    KTEST_EXPECT_EQ(kobj_resolve("/mem/free", &ref), 0);
    KTEST_EXPECT_EQ(kobj_resolve("/kernel//log/level/", &ref), 0);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/missing", &ref), -VK_ENOENT);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/number/deeper", &ref), -VK_ENOTDIR);
    KTEST_EXPECT_EQ(kobj_resolve("relative", &ref), -VK_EINVAL);
}

KTEST(kobj_dynamic_children_get_their_key)
{
    publish_once();
    kobj_ref_t ref, child;
    kobj_value_t *v = kmalloc(sizeof(*v));
    char name[CONFIG_KOBJ_NAME_MAX];
    char text[32];
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/items/c/value", &ref), 0);
    KTEST_EXPECT_EQ(ref.key, 20);
    KTEST_EXPECT_EQ(kobj_get(ref, v), 0);
    KTEST_EXPECT_EQ(v->i, test_int + 20);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/items/d", &ref), -VK_ENOENT);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/items", &ref), 0);
    unsigned n = 0;
    while (!kobj_child(ref, n, name, sizeof(name), &child))
        n++;
    KTEST_EXPECT_EQ(n, 3);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/items/b/color", &ref), 0);
    KTEST_EXPECT_EQ(kobj_get(ref, v), 0);
    kobj_format(ref.node, v, text, sizeof(text));
    KTEST_EXPECT(!strcmp(text, "green"));
    kfree(v);
}

KTEST(kobj_set_parses_and_checks_access)
{
    publish_once();
    kobj_ref_t ref;
    kobj_value_t *v = kmalloc(sizeof(*v));
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/number", &ref), 0);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "-9223372036854775808", 20, v), 0);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "9223372036854775808", 19, v), -VK_ERANGE);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "12x", 3, v), -VK_EINVAL);
    KTEST_EXPECT_EQ(kobj_parse(ref.node, "42", 2, v), 0);
    KTEST_EXPECT_EQ(kobj_set(ref, v), 0);
    KTEST_EXPECT_EQ(test_int, 42);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest/items/a/value", &ref), 0);
    KTEST_EXPECT_EQ(kobj_set(ref, v), -VK_EACCES);
    KTEST_EXPECT_EQ(kobj_resolve("/ktest", &ref), 0);
    KTEST_EXPECT_EQ(kobj_get(ref, v), -VK_EISDIR);
    kfree(v);
}

static bool rpc_says(const char *request, const char *expected)
{
    char reply[512];
    long n = kobj_rpc(request, strlen(request), reply, sizeof(reply));
    if (n < 0)
        return false;
    for (const char *p = reply; *p; p++)
        if (!strncmp(p, expected, strlen(expected)))
            return true;
    return false;
}

KTEST(kobj_rpc_reports_each_error_class)
{
    publish_once();
    KTEST_EXPECT(rpc_says("{\"op\":\"get\",\"path\":\"/ktest/number\"}", "\"ok\":true"));
    KTEST_EXPECT(rpc_says("{\"op\":\"get\"", "\"error\":\"bad_request\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"fly\",\"path\":\"/\"}", "\"error\":\"bad_request\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"get\",\"path\":\"/nope\"}", "\"error\":\"not_found\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"set\",\"path\":\"/ktest/number\",\"value\":\"x\"}",
                          "\"error\":\"wrong_type\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"set\",\"path\":\"/ktest/number\",\"value\":1e99}",
                          "\"error\":\"wrong_type\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"set\",\"path\":\"/ktest/number\","
                          "\"value\":9223372036854775808}", "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"set\",\"path\":\"/kernel/log/level\",\"value\":\"loud\"}",
                          "\"error\":\"out_of_range\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"set\",\"path\":\"/mem/free\",\"value\":1}",
                          "\"error\":\"read_only\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"list\",\"path\":\"/ktest/items\"}", "{\"name\":\"c\""));
    KTEST_EXPECT(rpc_says("{\"op\":\"describe\",\"path\":\"/kernel/log/level\"}",
                          "\"choices\":[\"debug\",\"info\",\"warn\",\"error\"]"));
    char tiny[8];
    KTEST_EXPECT_EQ(kobj_rpc("{}", 2, tiny, sizeof(tiny)), -VK_ERANGE);
}
