/* SPDX-License-Identifier: MIT */
/* In-kernel tests of the driver registry and its /drivers nodes. */
#include "drivers/registry/driver.h"
#include "core/string.h"
#include "test/ktest.h"
#include <vk/errno.h>

static unsigned fake_loads, fake_unloads;
static int fake_load_result;

static int fake_load(void)
{
    fake_loads++;
    return fake_load_result;
}

static int fake_unload(void)
{
    fake_unloads++;
    return 0;
}

static const driver_t fake_driver = {
    .name = "ktest-fake", .description = "A driver the registry tests load and unload",
    .load = fake_load, .unload = fake_unload,
};

/* The value of a node as text, "" when it cannot be read. */
static void node_text(const char *path, char *buf, size_t size)
{
    kobj_ref_t ref;
    kobj_value_t v;
    buf[0] = '\0';
    if (kobj_resolve(path, &ref) == 0 && kobj_get(ref, &v) == 0)
        kobj_format(ref.node, &v, buf, size);
}

static int node_set(const char *path, const char *text)
{
    kobj_ref_t ref;
    kobj_value_t v;
    int err = kobj_resolve(path, &ref);
    if (!err)
        err = kobj_parse(ref.node, text, strlen(text), &v);
    return err ? err : kobj_set(ref, &v);
}

KTEST(driver_registry_load_unload_state)
{
    /* Registered once per boot; a second run of the tests finds it already there. */
    int err = driver_register(&fake_driver, true);
    KTEST_EXPECT(err == 0 || err == -VK_EEXIST);
    KTEST_EXPECT_EQ(driver_register(&fake_driver, true), -VK_EEXIST);
    driver_load("ktest-fake");
    unsigned loads = fake_loads, unloads = fake_unloads;
    char text[128];

    KTEST_EXPECT(driver_is_loaded("ktest-fake"));
    node_text("/drivers/ktest-fake/loaded", text, sizeof(text));
    KTEST_EXPECT(!strcmp(text, "true"));
    node_text("/drivers/ktest-fake/description", text, sizeof(text));
    KTEST_EXPECT(!strcmp(text, fake_driver.description));
    KTEST_EXPECT_EQ(node_set("/drivers/ktest-fake/unload", "1"), 0);
    KTEST_EXPECT_EQ(fake_unloads, unloads + 1);
    KTEST_EXPECT(!driver_is_loaded("ktest-fake"));
    node_text("/drivers/ktest-fake/loaded", text, sizeof(text));
    KTEST_EXPECT(!strcmp(text, "false"));
    KTEST_EXPECT_EQ(driver_unload("ktest-fake"), 0); /* already unloaded: no call */
    KTEST_EXPECT_EQ(fake_unloads, unloads + 1);

    /* A failing load leaves it unloaded and says why. */
    fake_load_result = -VK_EIO;
    KTEST_EXPECT_EQ(driver_load("ktest-fake"), -VK_EIO);
    KTEST_EXPECT(!driver_is_loaded("ktest-fake"));
    KTEST_EXPECT(driver_message("ktest-fake", text, sizeof(text)));
    KTEST_EXPECT(!strncmp(text, "load failed", 11));
    fake_load_result = 0;
    KTEST_EXPECT_EQ(node_set("/drivers/ktest-fake/load", "x"), 0);
    KTEST_EXPECT(driver_is_loaded("ktest-fake"));
    KTEST_EXPECT_EQ(fake_loads, loads + 2);
}

KTEST(driver_registry_refuses_to_unload_builtin_drivers)
{
    static const char *const builtin[] = { "serial", "fbcon", "virtio-blk" };
    char text[128];
    for (unsigned i = 0; i < 3; i++) {
        bool was = driver_is_loaded(builtin[i]);
        KTEST_EXPECT_EQ(driver_unload(builtin[i]), -VK_EBUSY);
        KTEST_EXPECT_EQ(driver_is_loaded(builtin[i]), was);
        KTEST_EXPECT(driver_message(builtin[i], text, sizeof(text)));
        KTEST_EXPECT(!strncmp(text, "unload refused: ", 16));
    }
    KTEST_EXPECT(driver_is_loaded("serial"));
    KTEST_EXPECT(driver_is_loaded("virtio-blk"));
    node_text("/drivers/serial/unloadable", text, sizeof(text));
    KTEST_EXPECT(!strcmp(text, "false"));
    KTEST_EXPECT_EQ(node_set("/drivers/virtio-blk/unload", "1"), -VK_EBUSY);
}

KTEST(driver_registry_rejects_bad_names_and_unknown_drivers)
{
    driver_t bad = fake_driver;
    bad.name = "Bad Name";
    KTEST_EXPECT_EQ(driver_register(&bad, false), -VK_EINVAL);
    bad.name = "";
    KTEST_EXPECT_EQ(driver_register(&bad, false), -VK_EINVAL);
    bad.name = "ktest-many-nodes";
    bad.node_count = CONFIG_DRIVER_EXTRA_NODES + 1;
    KTEST_EXPECT_EQ(driver_register(&bad, false), -VK_EINVAL);
    KTEST_EXPECT_EQ(driver_load("no-such-driver"), -VK_ENOENT);
    KTEST_EXPECT_EQ(driver_unload("no-such-driver"), -VK_ENOENT);
    KTEST_EXPECT(!driver_is_loaded("no-such-driver"));
    kobj_ref_t ref;
    KTEST_EXPECT_EQ(kobj_resolve("/drivers/no-such-driver", &ref), -VK_ENOENT);
}
