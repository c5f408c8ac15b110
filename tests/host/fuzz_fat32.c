/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer entry over src/lib/fat32: mount a mutated image, walk paths, list every
 * directory (bounded depth), read and stat every file, then create, write, truncate,
 * rename and remove, and unmount. Any crash, sanitizer report or hang is a bug.
 *
 * The input is a sparse image (scripts/make-fat32-seed.sh makes the seeds): input
 * sectors 0-3 are volume sectors 0-3, 4-5 the first two sectors of each FAT copy, 6 on
 * the first sectors of the data region; where the regions are comes from the (mutated)
 * boot sector itself, and every other sector reads as zeros. Writes go to a small
 * overlay of sectors; when it is full, writes fail with an I/O error. The boot code
 * area (bytes 90 on, which the library ignores) doubles as a script of operations and,
 * in the byte after it, whether to count the free clusters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The library's log lines go through fmt: formatting fixed messages is not what is
 * fuzzed here (test_fmt covers it), and tracing it was 6% of the run time. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)
#include "../../src/lib/fmt.c"
#pragma clang attribute pop
#include "../../src/lib/fat32/volume.c"
#include "../../src/lib/fat32/fat.c"
#include "../../src/lib/fat32/name.c"
#include "../../src/lib/fat32/dir.c"
#include "../../src/lib/fat32/file.c"
#include "../../src/lib/fat32/ops.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTOR          512
#define OVERLAY_MAX     64
#define DEVICE_MAX      (1u << 18)  /* sectors: keeps whole-FAT scans fast */
#define LIST_DEPTH_MAX  4
#define LIST_ENTRIES_MAX 64

typedef struct {
    const uint8_t *data;
    size_t size;
    uint32_t reserved, fat_size, fat_count;
    uint64_t overlay_sector[OVERLAY_MAX];
    uint8_t overlay[OVERLAY_MAX][SECTOR];
    int overlay_used;
    int entries_listed;
} disk_t;

/* The simulated device and the host services below are not under test: untraced, their
 * loops (an overlay search on every sector read) cost nothing and add no features. */
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Which input sector holds volume sector v, or -1 for a sector of zeros. */
static int64_t input_sector(const disk_t *d, uint64_t v)
{
    uint64_t fats_end = d->reserved + (uint64_t)d->fat_count * d->fat_size;
    if (v < 4)
        return (int64_t)v;
    if (d->fat_size && v >= d->reserved && v < fats_end)
        return (v - d->reserved) % d->fat_size < 2 ? 4 + (int64_t)((v - d->reserved) % d->fat_size) : -1;
    if (v >= fats_end && v - fats_end < (1u << 20))
        return 6 + (int64_t)(v - fats_end);
    return -1;
}

static void read_one(disk_t *d, uint64_t v, uint8_t *out)
{
    for (int i = 0; i < d->overlay_used; i++) {
        if (d->overlay_sector[i] == v) {
            memcpy(out, d->overlay[i], SECTOR);
            return;
        }
    }
    int64_t s = input_sector(d, v);
    memset(out, 0, SECTOR);
    if (s >= 0 && (uint64_t)s * SECTOR < d->size) {
        size_t avail = d->size - (size_t)s * SECTOR;
        memcpy(out, d->data + s * SECTOR, avail < SECTOR ? avail : SECTOR);
    }
}

static int dev_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
    for (uint32_t i = 0; i < count; i++)
        read_one(ctx, sector + i, (uint8_t *)buf + (size_t)i * SECTOR);
    return 0;
}

static int dev_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    disk_t *d = ctx;
    for (uint32_t i = 0; i < count; i++) {
        int slot = 0;
        while (slot < d->overlay_used && d->overlay_sector[slot] != sector + i)
            slot++;
        if (slot == OVERLAY_MAX)
            return -VK_EIO;
        if (slot == d->overlay_used)
            d->overlay_used++;
        d->overlay_sector[slot] = sector + i;
        memcpy(d->overlay[slot], (const uint8_t *)buf + (size_t)i * SECTOR, SECTOR);
    }
    return 0;
}

static void *mem_alloc(void *ctx, size_t n) { return malloc(n); }
static void mem_free(void *ctx, void *p) { free(p); }
static int64_t clock_now(void *ctx) { return 1700000000; }

/* FUZZ_FAT32_LOG=1 prints the library's log lines and what the run saw (debugging). */
static bool log_wanted(void)
{
    static int wanted = -1;
    if (wanted < 0)
        wanted = getenv("FUZZ_FAT32_LOG") != NULL;
    return wanted;
}

static void print_log(void *ctx, const char *line)
{
    if (log_wanted())
        fprintf(stderr, "log: %s\n", line);
}

#pragma clang attribute pop

static void read_all(fat32_volume_t *vol, fat32_node_t *node)
{
    static uint8_t buf[4096];
    fat32_stat_t st;
    fat32_stat(vol, node, &st);
    fat32_read(vol, node, 0, buf, sizeof(buf));
    if (node->size > 3000)
        fat32_read(vol, node, node->size - 3000, buf, sizeof(buf));
}

static void list(disk_t *d, fat32_volume_t *vol, const fat32_node_t *dir, int depth)
{
    fat32_dirent_t *ent = malloc(sizeof(*ent));
    uint32_t cookie = 0;
    while (d->entries_listed < LIST_ENTRIES_MAX && fat32_readdir(vol, dir, &cookie, ent) == 1) {
        d->entries_listed++;
        fat32_node_t found;
        fat32_lookup(vol, dir, ent->name, &found);
        if (ent->is_dir && depth < LIST_DEPTH_MAX)
            list(d, vol, &ent->node, depth + 1);
        else if (!ent->is_dir)
            read_all(vol, &ent->node);
    }
    free(ent);
}

static void modify(fat32_volume_t *vol)
{
    static const uint8_t text[1000] = { 'x' };
    fat32_node_t root, f, dir, n;
    fat32_root(vol, &root);
    if (fat32_create(vol, &root, "New File.txt", false, &f) == 0) {
        fat32_write(vol, &f, 700, text, sizeof(text));
        fat32_truncate(vol, &f, 100);
        fat32_write(vol, &f, 0, text, 10);
    }
    if (fat32_create(vol, &root, "d", true, &dir) == 0) {
        fat32_rename(vol, &root, "new file.txt", &dir, "moved", &n);
        fat32_rename(vol, &root, "dir", &dir, "dir", &n);
        fat32_unlink(vol, &dir, "moved");
        fat32_rmdir(vol, &root, "d");
    }
    fat32_walk(vol, "/dir/Sub Directory/../A long name for a file.bin", &n);
    fat32_unlink(vol, &root, "HELLO.TXT");
    fat32_rmdir(vol, &root, "dir");
}

#define SCRIPT_OFFSET 90
#define SCRIPT_LENGTH 24

static const char *const script_names[] = {
    "a", "B.TXT", "long name here.txt", "\xc3\x9cn\xc3\xaf", "dir", "HELLO.TXT",
};

/* One scripted operation: byte b picks the operation (low 3 bits) and its arguments. */
static void script_op(fat32_volume_t *vol, uint8_t b)
{
    static uint8_t buf[2048];
    fat32_node_t root, dir, n;
    unsigned arg = b >> 3;
    const char *name = script_names[arg % 6], *other = script_names[(arg / 2) % 6];
    fat32_root(vol, &root);
    /* "dir" as it is now (an earlier operation may have made, moved or removed it),
     * looked up only when this operation works in it. */
    bool in_dir = (arg & 16) || ((b & 7) == 4 && !(arg & 1));
    if (!in_dir || fat32_lookup(vol, &root, "dir", &dir) != 0)
        dir = root;
    const fat32_node_t *where = (arg & 16) ? &dir : &root;
    switch (b & 7) {
    case 0: fat32_create(vol, where, name, false, &n); break;
    case 1: fat32_create(vol, where, name, true, &n); break;
    case 2:
        if (fat32_lookup(vol, where, name, &n) == 0)
            fat32_write(vol, &n, arg * 300u, buf, 700);
        break;
    case 3:
        if (fat32_lookup(vol, where, name, &n) == 0)
            fat32_truncate(vol, &n, arg * 200u);
        break;
    case 4: fat32_rename(vol, where, name, (arg & 1) ? &root : &dir, other, &n); break;
    case 5: fat32_unlink(vol, where, name); break;
    case 6: fat32_rmdir(vol, where, name); break;
    default:
        if (fat32_lookup(vol, where, name, &n) != 0)
            break;
        fat32_read(vol, &n, arg * 100u, buf, sizeof(buf));
        fat32_set_times(vol, &n, (int64_t)arg << 27, 0);
        fat32_set_attributes(vol, &n, arg & 7);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static disk_t disk;
    uint8_t boot[SECTOR] = { 0 };
    memset(&disk, 0, offsetof(disk_t, overlay_sector));
    disk.overlay_used = 0;
    disk.entries_listed = 0;
    disk.data = data;
    disk.size = size;
    memcpy(boot, data, size < SECTOR ? size : SECTOR);
    disk.reserved = le(boot + 14, 2);
    disk.fat_count = boot[16];
    disk.fat_size = le(boot + 36, 4);
    uint32_t total = le(boot + 32, 4);
    fat32_ops_t ops = {
        .context = &disk, .sector_size = SECTOR,
        .sector_count = total && total < DEVICE_MAX ? total : DEVICE_MAX,
        .read = dev_read, .write = dev_write, .alloc = mem_alloc, .free = mem_free,
        .now = clock_now, .log = print_log,
    };
    fat32_volume_t *vol;
    fat32_info_t info;
    if (fat32_mount(&ops, &vol, &info) != 0)
        return 0;
    /* The whole-FAT free count (65525 entries at least) costs more than everything
     * else an input does, so one input in 32 asks for it: the byte after the script. */
    uint32_t free_clusters;
    if ((boot[SCRIPT_OFFSET + SCRIPT_LENGTH] & 31) == 0 &&
        fat32_count_free_clusters(vol, &free_clusters) == 0 &&
        free_clusters > info.cluster_count)
        abort();
    fat32_node_t root, n;
    fat32_root(vol, &root);
    list(&disk, vol, &root, 0);
    fat32_walk(vol, "dir/A LONG NAME FOR A FILE.BIN", &n);
    modify(vol);
    for (int i = 0; i < SCRIPT_LENGTH; i++)
        script_op(vol, boot[SCRIPT_OFFSET + i]);
    if (log_wanted())
        fprintf(stderr, "listed %d entries, wrote %d sectors\n", disk.entries_listed,
                disk.overlay_used);
    fat32_unmount(vol);
    return 0;
}
