/* SPDX-License-Identifier: MIT */
/*
 * Randomized torture test of src/lib/fat32 against an in-memory model: thousands of
 * creates, writes, truncates, reads, unlinks, mkdirs, rmdirs and renames from a fixed
 * seed, each result compared with what the model expects. Every 1000 operations and at
 * the end the volume is unmounted and checked with fsck.fat; at the end every file is
 * read back with mtools and the mdir listing must match the model exactly.
 */
#include "fat32_fixture.h"

#define OPS         4000
#define NODES_MAX   200
#define FILE_MAX    (48 * 1024)
#define DIRS_MAX    12          /* keeps the population mostly files */

typedef struct {
    bool used, is_dir;
    int parent;              /* index of the parent directory node, -1 for the root */
    char name[80];
    uint8_t *data;
    size_t size;
} model_node_t;

static model_node_t model[NODES_MAX];
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)(rng_state % n) : 0;
}

static const char *name_pool[] = {
    "a.txt", "A.TXT", "Readme", "README", "notes.md", "Long file name number one.text",
    "Ünïcödé ファイル.txt", "x", "dir name", "sub", "Data.BIN", "data.bin", "z 1", "z 2",
    "a much longer name that needs several long name slots to be stored.dat", "ÆØÅ", "q.c",
};

/* A name from the pool, half the time with a number appended (fewer collisions). */
static const char *random_name(char *buf, size_t size)
{
    const char *base = name_pool[rnd(sizeof(name_pool) / sizeof(name_pool[0]))];
    if (rnd(2))
        return base;
    snprintf(buf, size, "%s %u", base, rnd(40));
    return buf;
}

static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (*a != *b && !((*a | 32) == (*b | 32) && (*a | 32) >= 'a' && (*a | 32) <= 'z'))
            return false;
    return *a == *b;
}

static int child_named(int dir, const char *name)
{
    for (int i = 0; i < NODES_MAX; i++)
        if (model[i].used && model[i].parent == dir && same_name(model[i].name, name))
            return i;
    return -1;
}

static int free_slot(void)
{
    for (int i = 0; i < NODES_MAX; i++)
        if (!model[i].used)
            return i;
    return -1;
}

/* A random used node of the kind asked (-1: the root counts as a directory). */
static int pick(bool want_dir)
{
    int candidates[NODES_MAX + 1], n = 0;
    if (want_dir)
        candidates[n++] = -1;
    for (int i = 0; i < NODES_MAX; i++)
        if (model[i].used && model[i].is_dir == want_dir)
            candidates[n++] = i;
    return n ? candidates[rnd(n)] : -2;
}

static void path_of(int i, char *out, size_t size)
{
    if (i < 0) {
        snprintf(out, size, "/");
        return;
    }
    char parent[1024];
    path_of(model[i].parent, parent, sizeof(parent));
    snprintf(out, size, "%s%s%s", parent, model[i].parent < 0 ? "" : "/", model[i].name);
}

static bool walk_to(fat32_volume_t *vol, int i, fat32_node_t *out)
{
    char path[1024];
    path_of(i, path, sizeof(path));
    int err = fat32_walk(vol, path, out);
    if (err)
        printf("  walk %s: %d\n", path, err);
    return err == 0;
}

/* A random file and its node; -1 when there is none. */
static int pick_file(fat32_volume_t *vol, fat32_node_t *n)
{
    int f = pick(false);
    return f >= 0 && walk_to(vol, f, n) ? f : -1;
}

/* A random file and a random range in it: offset up to `slack` past its end. */
static int pick_range(fat32_volume_t *vol, fat32_node_t *n, uint32_t slack, uint32_t max_len,
                      size_t *offset, size_t *len)
{
    int f = pick_file(vol, n);
    if (f >= 0) {
        *offset = rnd((uint32_t)model[f].size + slack);
        *len = rnd(max_len);
    }
    return f;
}

static bool is_inside(int dir, int ancestor)
{
    for (; dir >= 0; dir = model[dir].parent)
        if (dir == ancestor)
            return true;
    return false;
}

static bool dir_empty(int dir)
{
    for (int i = 0; i < NODES_MAX; i++)
        if (model[i].used && model[i].parent == dir)
            return false;
    return true;
}

static void drop(int i)
{
    free(model[i].data);
    memset(&model[i], 0, sizeof(model[i]));
}

static int count_dirs(void)
{
    int n = 0;
    for (int i = 0; i < NODES_MAX; i++)
        n += model[i].used && model[i].is_dir;
    return n;
}

static void op_create(fat32_volume_t *vol, bool is_dir)
{
    int dir = pick(true), slot = free_slot();
    if (is_dir && count_dirs() >= DIRS_MAX)
        return;
    char buf[96];
    const char *name = random_name(buf, sizeof(buf));
    fat32_node_t d, n;
    if (slot < 0 || !walk_to(vol, dir, &d))
        return;
    int want = child_named(dir, name) >= 0 ? -VK_EEXIST : 0;
    HTEST_EXPECT_EQ(fat32_create(vol, &d, name, is_dir, &n), want);
    if (want)
        return;
    model[slot] = (model_node_t){ .used = true, .is_dir = is_dir, .parent = dir };
    snprintf(model[slot].name, sizeof(model[slot].name), "%s", name);
}

static void op_write(fat32_volume_t *vol)
{
    fat32_node_t n;
    size_t offset, len;
    int f = pick_range(vol, &n, 3000, 6000, &offset, &len);
    if (f < 0 || offset + len > FILE_MAX)
        return;
    uint8_t *buf = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)rnd(256);
    HTEST_EXPECT_EQ(fat32_write(vol, &n, offset, buf, len), len);
    if (len && offset + len > model[f].size) {
        model[f].data = realloc(model[f].data, offset + len);
        memset(model[f].data + model[f].size, 0, offset + len - model[f].size);
        model[f].size = offset + len;
    }
    if (len)
        memcpy(model[f].data + offset, buf, len);
    free(buf);
}

static void op_truncate(fat32_volume_t *vol)
{
    fat32_node_t n;
    int f = pick_file(vol, &n);
    if (f < 0)
        return;
    size_t size = rnd((uint32_t)model[f].size * 2 + 2000);
    if (size > FILE_MAX)
        return;
    HTEST_EXPECT_EQ(fat32_truncate(vol, &n, size), 0);
    model[f].data = realloc(model[f].data, size + 1);
    if (size > model[f].size)
        memset(model[f].data + model[f].size, 0, size - model[f].size);
    model[f].size = size;
}

static void op_read(fat32_volume_t *vol)
{
    fat32_node_t n;
    size_t offset, len;
    int f = pick_range(vol, &n, 100, 8000, &offset, &len);
    if (f < 0)
        return;
    uint8_t *buf = malloc(len + 1);
    int64_t got = fat32_read(vol, &n, offset, buf, len);
    int64_t want = offset >= model[f].size ? 0 :
                   (int64_t)(model[f].size - offset < len ? model[f].size - offset : len);
    HTEST_EXPECT_EQ(got, want);
    if (got == want && want > 0)
        HTEST_EXPECT(memcmp(buf, model[f].data + offset, (size_t)want) == 0);
    free(buf);
}

static void op_remove(fat32_volume_t *vol, bool is_dir)
{
    int i = pick(is_dir);
    fat32_node_t d;
    if (i < 0 || !walk_to(vol, model[i].parent, &d))
        return;
    if (!is_dir) {
        HTEST_EXPECT_EQ(fat32_unlink(vol, &d, model[i].name), 0);
        drop(i);
        return;
    }
    bool empty = dir_empty(i);
    HTEST_EXPECT_EQ(fat32_rmdir(vol, &d, model[i].name), empty ? 0 : -VK_ENOTEMPTY);
    if (empty)
        drop(i);
}

/* The error POSIX rename gives for moving src to name in dir, as the model sees it. */
static int rename_expect(int src, int dir, const char *name, int *target)
{
    *target = child_named(dir, name);
    if (model[src].is_dir && dir != model[src].parent && is_inside(dir, src))
        return -VK_EINVAL;
    if (*target < 0 || *target == src)
        return 0;
    if (model[*target].is_dir && !model[src].is_dir)
        return -VK_EISDIR;
    if (!model[*target].is_dir && model[src].is_dir)
        return -VK_ENOTDIR;
    if (model[*target].is_dir && !dir_empty(*target))
        return -VK_ENOTEMPTY;
    return 0;
}

static void op_rename(fat32_volume_t *vol)
{
    int src = pick(rnd(4) == 0), dir = pick(true), target;
    char buf[96];
    const char *name = random_name(buf, sizeof(buf));
    fat32_node_t from, to, moved;
    if (src < 0 || !walk_to(vol, model[src].parent, &from) || !walk_to(vol, dir, &to))
        return;
    int want = rename_expect(src, dir, name, &target);
    HTEST_EXPECT_EQ(fat32_rename(vol, &from, model[src].name, &to, name, &moved), want);
    if (want)
        return;
    if (target >= 0 && target != src)
        drop(target);
    model[src].parent = dir;
    snprintf(model[src].name, sizeof(model[src].name), "%s", name);
}

static void run_op(fat32_volume_t *vol)
{
    switch (rnd(20)) {
    case 0: case 1: case 2: case 3: op_create(vol, false); break;
    case 4: op_create(vol, true); break;
    case 5: case 6: case 7: case 8: case 9: op_write(vol); break;
    case 10: case 11: op_truncate(vol); break;
    case 12: case 13: op_read(vol); break;
    case 14: case 15: op_remove(vol, false); break;
    case 16: op_remove(vol, true); break;
    default: op_rename(vol); break;
    }
}

static void check_with_mtools(fix_image_t *im)
{
    char *listing = fix_mdir(im), path[1100], line[1200];
    int lines = 0, nodes = 0;
    size_t bytes = 0;
    for (const char *p = listing; *p; p++)
        lines += *p == '\n';
    for (int i = 0; i < NODES_MAX; i++) {
        if (!model[i].used)
            continue;
        nodes++;
        path_of(i, path, sizeof(path));
        snprintf(line, sizeof(line), "::%s%s", path, model[i].is_dir ? "/" : "");
        if (!fix_listed(listing, line)) {
            printf("  mdir does not list %s\n", line);
            HTEST_EXPECT(false);
        }
        if (!model[i].is_dir)
            HTEST_EXPECT(fix_mtools_has(im, path, model[i].data, model[i].size));
        bytes += model[i].size;
    }
    HTEST_EXPECT_EQ(lines, nodes);
    printf("  model at the end: %d nodes, %zu bytes in files, all read back by mtype\n", nodes,
           bytes);
    free(listing);
}

static void torture(unsigned mib, const char *mkfs_options)
{
    fix_image_t im;
    rng_state = 0x9e3779b97f4a7c15ull;
    const char *seed = getenv("FAT32_TORTURE_SEED"); /* to explore; the suite uses the fixed one */
    if (seed)
        rng_state = strtoull(seed, NULL, 0) | 1;
    fix_open(&im, mib, mkfs_options);
    fat32_volume_t *vol = fix_mount(&im);
    for (int i = 1; i <= OPS && vol; i++) {
        run_op(vol);
        if (htest_current_failed) {
            printf("  first mismatch at operation %d\n", i);
            break;
        }
        if (i % 1000 == 0) {
            HTEST_EXPECT_EQ(fat32_unmount(vol), 0);
            HTEST_EXPECT(fix_fsck_clean(&im));
            vol = fix_mount(&im);
        }
    }
    if (vol)
        HTEST_EXPECT_EQ(fat32_unmount(vol), 0);
    HTEST_EXPECT(fix_fsck_clean(&im));
    check_with_mtools(&im);
    for (int i = 0; i < NODES_MAX; i++)
        drop(i);
    fix_close(&im);
}

HTEST(fat32_random_operations_match_the_model_and_fsck)
{
    torture(FIX_IMAGE_MIB, "-s 1");
}

/* 4 KiB clusters of 8 sectors: partial-sector and multi-sector paths inside a cluster. */
HTEST(fat32_random_operations_with_4k_clusters)
{
    torture(300, "-s 8");
}

HTEST_MAIN()
