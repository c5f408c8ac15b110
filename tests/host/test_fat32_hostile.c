/* SPDX-License-Identifier: MIT */
/*
 * Host tests of src/lib/fat32 against damaged and hostile images: refused boot sectors
 * (each with its log message), cycles and out-of-range numbers in cluster chains, entries
 * pointing at free clusters, sizes beyond the chain, broken long-name sequences. Every
 * case must end with an error or a skipped entry, never a hang or a bad access (ASan).
 */
#include "fat32_fixture.h"

typedef struct {
    uint64_t fat_start, fat_sectors, data_start;
    uint32_t cluster_size;
} geom_t;

static void patch(fix_image_t *im, uint64_t offset, const void *data, size_t n)
{
    if (pwrite(im->fd, data, n, (off_t)offset) != (ssize_t)n)
        abort();
}

static void patch32(fix_image_t *im, uint64_t offset, uint32_t v)
{
    uint8_t b[4];
    fat32_put32(b, v);
    patch(im, offset, b, 4);
}

/* Sets FAT entry `cluster` in both copies. */
static void set_fat(fix_image_t *im, const geom_t *g, uint32_t cluster, uint32_t v)
{
    for (int copy = 0; copy < 2; copy++)
        patch32(im, (g->fat_start + copy * g->fat_sectors) * 512 + cluster * 4ull, v);
}

static uint64_t entry_offset(const geom_t *g, const fat32_node_t *n)
{
    return g->data_start * 512 + (uint64_t)(n->entry_cluster - 2) * g->cluster_size +
           n->entry_offset;
}

/* Adds a file of `size` zero bytes to the root; returns its node (valid after remount). */
static fat32_node_t make_named(fix_image_t *im, geom_t *g, const char *name, uint32_t size)
{
    fat32_volume_t *vol = fix_mount(im);
    fat32_node_t root, f;
    fat32_root(vol, &root);
    uint8_t *buf = calloc(1, size + 1);
    fat32_create(vol, &root, name, false, &f);
    fat32_write(vol, &f, 0, buf, size);
    free(buf);
    *g = (geom_t){ vol->fat_start, vol->fat_sectors, vol->data_start, vol->cluster_size };
    fat32_unmount(vol);
    return f;
}

static fat32_node_t make_file(fix_image_t *im, geom_t *g, uint32_t size)
{
    return make_named(im, g, "file.bin", size);
}

static int64_t read_file(fix_image_t *im, fat32_volume_t **vol, fat32_node_t *f)
{
    static uint8_t buf[1 << 16];
    *vol = fix_mount(im);
    if (!*vol || fat32_walk(*vol, "/file.bin", f) != 0)
        return 1;
    return fat32_read(*vol, f, 0, buf, sizeof(buf));
}

/* Mounts the image and says whether the root's first entry has that name. */
static bool first_entry_is(fix_image_t *im, const char *want)
{
    fat32_volume_t *vol = fix_mount(im);
    fat32_node_t root;
    fat32_dirent_t *ent = malloc(sizeof(*ent));
    uint32_t cookie = 0;
    fat32_root(vol, &root);
    bool ok = fat32_readdir(vol, &root, &cookie, ent) == 1 && strcmp(ent->name, want) == 0;
    if (!ok)
        printf("  first entry \"%s\", want \"%s\"\n", ent->name, want);
    free(ent);
    fat32_unmount(vol);
    return ok;
}

typedef struct {
    unsigned offset, size;
    uint32_t value;
    const char *message;
} bpb_case_t;

HTEST(fat32_mount_refuses_corrupt_boot_sectors_with_a_reason)
{
    static const bpb_case_t cases[] = {
        { 11, 2, 1000, "bytes per sector 1000" }, { 13, 1, 3, "sectors per cluster 3" },
        { 13, 1, 0, "sectors per cluster 0" },    { 14, 2, 0, "reserved sector count" },
        { 16, 1, 0, "FAT count 0" },              { 16, 1, 3, "FAT count 3" },
        { 22, 2, 100, "not a FAT32" },            { 17, 2, 512, "not a FAT32" },
        { 36, 4, 10, "cannot map" },              { 36, 4, 0, "not a FAT32" },
        { 32, 4, 0x7fffffff, "device has" },      { 32, 4, 60000, "is not a FAT32 volume" },
        { 44, 4, 1, "root cluster 1" },           { 44, 4, 0x0fffffff, "root cluster" },
        { 42, 2, 1, "version" },                  { 510, 2, 0, "boot signature" },
        { 40, 2, 0x85, "active FAT 5" },          { 36, 4, 0x40000000, "FATs end past" },
    };
    fix_image_t im;
    uint8_t good[512];
    fat32_volume_t *vol = NULL;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    pread(im.fd, good, 512, 0);
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t b[4];
        fat32_put32(b, cases[i].value);
        patch(&im, 0, good, 512);
        patch(&im, cases[i].offset, b, cases[i].size);
        im.last_log[0] = 0;
        HTEST_EXPECT_EQ(fat32_mount(&im.ops, &vol, NULL), -VK_EINVAL);
        if (!strstr(im.last_log, cases[i].message)) {
            printf("  case %u: log \"%s\", want \"%s\"\n", i, im.last_log, cases[i].message);
            HTEST_EXPECT(false);
        }
    }
    patch(&im, 0, good, 512);
    geom_t g = { 32, fat32_get32(good + 36), 0, 512 };
    set_fat(&im, &g, 2, 0); /* the root directory's cluster marked free */
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &vol, NULL), -VK_EINVAL);
    HTEST_EXPECT(strstr(im.last_log, "root directory's cluster is not in use") != NULL);
    set_fat(&im, &g, 2, FAT32_EOC);
    im.ops.sector_size = 1024;
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &vol, NULL), -VK_EINVAL);
    HTEST_EXPECT(strstr(im.last_log, "bytes per sector 512, device has 1024") != NULL);
    im.ops.sector_size = 512;
    im.ops.sector_count = 1000;
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &vol, NULL), -VK_EINVAL);
    HTEST_EXPECT(strstr(im.last_log, "the device has 1000") != NULL);
    fix_close(&im);
}

/* The last log line reports a chain loop, met at a cluster in [low, high]: the walk
 * stopped inside the loop, where it closed. */
static bool loop_found_in(const fix_image_t *im, uint32_t low, uint32_t high)
{
    const char *p = strstr(im->last_log, "loops back to cluster ");
    unsigned at;
    return p && sscanf(p, "loops back to cluster %u", &at) == 1 && at >= low && at <= high;
}

HTEST(fat32_cluster_chain_cycle_gives_eio_and_terminates)
{
    fix_image_t im;
    geom_t g;
    fat32_volume_t *vol;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_node_t f = make_file(&im, &g, 4 * 512);
    uint32_t c = f.first_cluster;
    set_fat(&im, &g, c + 3, c); /* last cluster links back to the first */
    HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
    HTEST_EXPECT(loop_found_in(&im, c, c + 3));
    fat32_node_t root;
    fat32_root(vol, &root);
    HTEST_EXPECT_EQ(fat32_unlink(vol, &root, "file.bin"), -VK_EIO);
    fat32_unmount(vol);
    fix_close(&im);

    fix_open(&im, FIX_IMAGE_MIB, "-s 1"); /* a two-cluster loop under a longer size */
    f = make_file(&im, &g, 4 * 512);
    set_fat(&im, &g, f.first_cluster + 1, f.first_cluster);
    HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
    HTEST_EXPECT_EQ(fat32_truncate(vol, &f, 0), -VK_EIO);
    fat32_unmount(vol);
    fix_close(&im);

    /* A loop in the middle, reached by a read that stays inside the size: the seek finds
     * it as it closes instead of reading the loop's clusters as the file's later ones. */
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    f = make_file(&im, &g, 64 * 512);
    c = f.first_cluster;
    set_fat(&im, &g, c + 4, c + 2);
    uint8_t buf[512];
    vol = fix_mount(&im);
    HTEST_EXPECT_EQ(fat32_walk(vol, "/file.bin", &f), 0);
    HTEST_EXPECT_EQ(fat32_read(vol, &f, 4 * 512, buf, sizeof(buf)), 512);
    HTEST_EXPECT_EQ(fat32_read(vol, &f, 40 * 512, buf, sizeof(buf)), -VK_EIO);
    HTEST_EXPECT(loop_found_in(&im, c + 2, c + 4));
    fat32_unmount(vol);
    fix_close(&im);
}

HTEST(fat32_out_of_range_and_free_clusters_give_eio)
{
    static const uint32_t bad_links[] = { 0x0ffffff0, 0x0ffffff7, 0, 1, 0x00ffffff };
    for (unsigned i = 0; i < sizeof(bad_links) / sizeof(bad_links[0]); i++) {
        fix_image_t im;
        geom_t g;
        fat32_volume_t *vol;
        fix_open(&im, FIX_IMAGE_MIB, "-s 1");
        fat32_node_t f = make_file(&im, &g, 3 * 512);
        set_fat(&im, &g, f.first_cluster + 1, bad_links[i]);
        HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
        HTEST_EXPECT(strstr(im.last_log, "continues to") || strstr(im.last_log, "which is marked"));
        fat32_unmount(vol);
        fix_close(&im);
    }
    static const uint32_t bad_firsts[] = { 0, 1, 0x00ffffff, 0x0fffffff, 100 /* free */ };
    for (unsigned i = 0; i < sizeof(bad_firsts) / sizeof(bad_firsts[0]); i++) {
        fix_image_t im;
        geom_t g;
        fat32_volume_t *vol;
        uint8_t hi[2] = { (uint8_t)(bad_firsts[i] >> 16), (uint8_t)(bad_firsts[i] >> 24) };
        uint8_t lo[2] = { (uint8_t)bad_firsts[i], (uint8_t)(bad_firsts[i] >> 8) };
        fix_open(&im, FIX_IMAGE_MIB, "-s 1");
        fat32_node_t f = make_file(&im, &g, 100);
        patch(&im, entry_offset(&g, &f) + 20, hi, 2);
        patch(&im, entry_offset(&g, &f) + 26, lo, 2);
        HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
        HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, "x", 1), -VK_EIO);
        fat32_unmount(vol);
        fix_close(&im);
    }
}

HTEST(fat32_size_beyond_chain_gives_eio)
{
    fix_image_t im;
    geom_t g;
    fat32_volume_t *vol;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_node_t f = make_file(&im, &g, 100);
    patch32(&im, entry_offset(&g, &f) + 28, 10000);
    HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
    HTEST_EXPECT(strstr(im.last_log, "shorter than its size") != NULL);
    fat32_unmount(vol);
    patch32(&im, entry_offset(&g, &f) + 28, 0xfffffff0);
    HTEST_EXPECT_EQ(read_file(&im, &vol, &f), -VK_EIO);
    HTEST_EXPECT(strstr(im.last_log, "exceeds the volume") != NULL);
    fat32_unmount(vol);
    fix_close(&im);
}

HTEST(fat32_broken_lfn_sequence_falls_back_to_the_short_name)
{
    fix_image_t im;
    geom_t g;
    fat32_node_t root, n;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_node_t f = make_named(&im, &g, "a long file name.txt", 0);
    uint8_t bad_sum = 0x5a, bad_ord = 0x4f;
    patch(&im, entry_offset(&g, &f) - 32 + 13, &bad_sum, 1);
    fat32_volume_t *vol = fix_mount(&im);
    fat32_root(vol, &root);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "a long file name.txt", &n), -VK_ENOENT);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "alongf~1.txt", &n), 0);
    fat32_unmount(vol);
    HTEST_EXPECT(first_entry_is(&im, "ALONGF~1.TXT"));
    patch(&im, entry_offset(&g, &f) - 64, &bad_ord, 1); /* ordinal 15 of a 2-slot name */
    HTEST_EXPECT(first_entry_is(&im, "ALONGF~1.TXT"));
    fix_close(&im);
}

/* Ordinals 2, 1 and then a slot whose ordinal bits are 0 (first byte 0x20): the slot was
 * accepted as "the one after 1" and its units were stored 13 units before the buffer. */
HTEST(fat32_lfn_slot_with_ordinal_zero_is_ignored)
{
    fix_image_t im;
    geom_t g;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_node_t f = make_named(&im, &g, "a name of thirty characters.xy", 0); /* 3 slots */
    uint8_t first = 0x42, second = 0x01, third = 0x20;
    patch(&im, entry_offset(&g, &f) - 96, &first, 1);
    patch(&im, entry_offset(&g, &f) - 64, &second, 1);
    patch(&im, entry_offset(&g, &f) - 32, &third, 1);
    HTEST_EXPECT(first_entry_is(&im, "ANAMEO~1.XY"));
    fix_close(&im);
}

HTEST(fat32_directory_chain_cycle_and_bad_dir_cluster_give_eio)
{
    fix_image_t im;
    geom_t g;
    char name[32];
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_volume_t *vol = fix_mount(&im);
    fat32_node_t root, d, n;
    fat32_root(vol, &root);
    fat32_create(vol, &root, "dir", true, &d);
    fat32_create(vol, &root, "zero", true, &n);
    for (int i = 0; i < 46; i++) { /* with "." and "..", exactly three full clusters */
        snprintf(name, sizeof(name), "F%d", i);
        fat32_create(vol, &d, name, false, NULL);
    }
    uint32_t last, length;
    HTEST_EXPECT_EQ(fat32_chain_last(vol, d.first_cluster, &last, &length), 0);
    HTEST_EXPECT_EQ(length, 3);
    g = (geom_t){ vol->fat_start, vol->fat_sectors, vol->data_start, vol->cluster_size };
    fat32_unmount(vol);
    set_fat(&im, &g, last, d.first_cluster);
    uint8_t zero[2] = { 0, 0 };
    patch(&im, entry_offset(&g, &n) + 20, zero, 2);
    patch(&im, entry_offset(&g, &n) + 26, zero, 2);
    vol = fix_mount(&im);
    fat32_dirent_t *ent = malloc(sizeof(*ent));
    uint32_t cookie = 0;
    int r, count = 0;
    while ((r = fat32_readdir(vol, &d, &cookie, ent)) == 1)
        count++;
    HTEST_EXPECT_EQ(r, -VK_EIO);
    /* Entries repeat around the loop until the walk meets a cluster it saw: within a few
     * turns of the three-cluster loop, long before the 65536-entry limit. */
    HTEST_EXPECT(count >= 46 && count <= 4 * 48);
    HTEST_EXPECT(strstr(im.last_log, "loops back") != NULL);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &d, "missing", &n), -VK_EIO);
    HTEST_EXPECT_EQ(fat32_create(vol, &d, "new", false, &n), -VK_EIO);
    HTEST_EXPECT_EQ(fat32_walk(vol, "/zero", &n), 0);
    cookie = 0;
    HTEST_EXPECT_EQ(fat32_readdir(vol, &n, &cookie, ent), -VK_EIO);
    HTEST_EXPECT_EQ(fat32_rmdir(vol, &root, "zero"), -VK_EIO);
    free(ent);
    fat32_unmount(vol);
    fix_close(&im);
}

HTEST(fat32_read_only_mount_refuses_changes_and_writes_nothing)
{
    fix_image_t im;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    char *before = fix_capture(NULL, "md5sum < %s", im.path);
    im.ops.read_only = true;
    fat32_volume_t *vol = fix_mount(&im);
    fat32_node_t root, f;
    fat32_root(vol, &root);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "x", false, &f), -VK_EROFS);
    HTEST_EXPECT_EQ(fat32_unmount(vol), 0);
    char *after = fix_capture(NULL, "md5sum < %s", im.path);
    HTEST_EXPECT_STR(before, after);
    free(before);
    free(after);
    fix_close(&im);
}

HTEST_MAIN()
