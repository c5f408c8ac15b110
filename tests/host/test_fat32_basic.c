/* SPDX-License-Identifier: MIT */
/*
 * Host tests of src/lib/fat32: scripted workloads on images made by mkfs.fat, each
 * checked afterwards with fsck.fat -n and read back with mtools byte for byte.
 */
#include "fat32_fixture.h"

static fat32_node_t root_of(fat32_volume_t *vol)
{
    fat32_node_t r;
    fat32_root(vol, &r);
    return r;
}

static void fill_pattern(uint8_t *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

HTEST(fat32_mounts_fresh_mkfs_image_and_unmounts_clean)
{
    fix_image_t im;
    fat32_info_t info;
    fat32_volume_t *vol = NULL;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &vol, &info), 0);
    HTEST_EXPECT(info.cluster_count >= 65525);
    HTEST_EXPECT(!info.was_dirty);
    HTEST_EXPECT_EQ(info.cluster_size, 512);
    HTEST_EXPECT_EQ(info.free_clusters, info.cluster_count - 1); /* the root uses one */
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    fix_close(&im);
}

HTEST(fat32_file_written_at_offsets_reads_back_in_mtools)
{
    fix_image_t im;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    size_t total = 20000;
    uint8_t *want = calloc(1, total), *got = calloc(1, total);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "data.bin", false, &f), 0);
    fill_pattern(want, 700, 1);
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, want, 700), 700);
    fill_pattern(want + 15000, 5000, 2); /* past the end: 700..15000 reads as zeros */
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 15000, want + 15000, 5000), 5000);
    fill_pattern(want + 300, 1000, 3);   /* overwrite across the old end, unaligned */
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 300, want + 300, 1000), 1000);
    HTEST_EXPECT_EQ(f.size, total);
    HTEST_EXPECT_EQ(fat32_read(vol, &f, 0, got, total + 100), total);
    HTEST_EXPECT(memcmp(got, want, total) == 0);
    HTEST_EXPECT_EQ(fat32_read(vol, &f, total, got, 10), 0);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    HTEST_EXPECT(fix_mtools_has(&im, "/data.bin", want, total));
    free(want);
    free(got);
    fix_close(&im);
}

HTEST(fat32_appends_allocate_contiguously_and_fsinfo_keeps_the_hint)
{
    fix_image_t im;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    uint8_t buf[1000] = { 1 };
    fat32_create(vol, &root, "grows", false, &f);
    for (int i = 0; i < 40; i++)
        HTEST_EXPECT_EQ(fat32_write(vol, &f, f.size, buf, sizeof(buf)), sizeof(buf));
    uint32_t c = f.first_cluster, next, steps = 0;
    while (fat32_next_cluster(vol, c, &next) == 0 && next) {
        HTEST_EXPECT_EQ(next, c + 1);
        c = next;
        steps++;
    }
    HTEST_EXPECT_EQ(steps + 1, (40 * sizeof(buf) + 511) / 512);
    uint32_t fsinfo = vol->fsinfo_sector;
    fat32_info_t info;
    fat32_info(vol, &info);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    uint8_t sector[512];
    pread(im.fd, sector, 512, (off_t)fsinfo * 512);
    HTEST_EXPECT_EQ(fat32_get32(sector + 488), info.free_clusters);
    HTEST_EXPECT_EQ(fat32_get32(sector + 492), c + 1);
    fix_close(&im);
}

HTEST(fat32_truncate_shrinks_frees_and_grows_with_zeros)
{
    fix_image_t im;
    fat32_info_t before, after;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    uint8_t want[6000] = { 0 }, got[6000];
    fat32_info(vol, &before);
    fat32_create(vol, &root, "t.bin", false, &f);
    fill_pattern(want, 5000, 4);
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, want, 5000), 5000);
    HTEST_EXPECT_EQ(fat32_truncate(vol, &f, 1000), 0);
    fat32_info(vol, &after);
    HTEST_EXPECT_EQ(before.free_clusters - after.free_clusters, 2);
    memset(want + 1000, 0, 5000);
    HTEST_EXPECT_EQ(fat32_truncate(vol, &f, 6000), 0);
    HTEST_EXPECT_EQ(fat32_read(vol, &f, 0, got, sizeof(got)), 6000);
    HTEST_EXPECT(memcmp(got, want, 6000) == 0);
    fat32_node_t g;
    fat32_create(vol, &root, "empty.bin", false, &g);
    fat32_write(vol, &g, 0, want, 100);
    HTEST_EXPECT_EQ(fat32_truncate(vol, &g, 0), 0);
    HTEST_EXPECT_EQ(g.first_cluster, 0);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    HTEST_EXPECT(fix_mtools_has(&im, "/t.bin", want, 6000));
    HTEST_EXPECT(fix_mtools_has(&im, "/empty.bin", "", 0));
    fix_close(&im);
}

HTEST(fat32_long_and_non_ascii_names_read_back_in_mdir)
{
    static const char *names[] = {
        "Ünïcödé ファイル.txt", "a file name that is much longer than thirteen units.data",
        "two.dots.in.name", ".hidden", "with space",
    };
    fix_image_t im;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        HTEST_EXPECT_EQ(fat32_create(vol, &root, names[i], false, &f), 0);
        HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, names[i], strlen(names[i])), strlen(names[i]));
    }
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    char *listing = fix_mdir(&im);
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char line[300];
        snprintf(line, sizeof(line), "::/%s", names[i]);
        HTEST_EXPECT(fix_listed(listing, line));
        HTEST_EXPECT(fix_mtools_has(&im, line + 2, names[i], strlen(names[i])));
    }
    free(listing);
    fix_close(&im);
}

/* The short entry of a node, straight from the image. */
static void raw_entry(fat32_volume_t *vol, const fat32_node_t *n, uint8_t *e)
{
    fat32_entry_read(vol, n, e);
}

/* 1 when the entry before the short entry is an LFN slot. */
static int has_lfn(fat32_volume_t *vol, const fat32_node_t *n)
{
    uint8_t e[32];
    fat32_node_t prev = *n;
    if (prev.entry_offset == 0)
        return -1;
    prev.entry_offset -= 32;
    fat32_entry_read(vol, &prev, e);
    return e[11] == 0x0f;
}

/* mtools cannot show characters beyond the BMP, so this one is checked here only. */
HTEST(fat32_surrogate_pairs_round_trip_through_readdir)
{
    fix_image_t im;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    const char *name = "smile \xf0\x9f\x98\x80.txt";
    HTEST_EXPECT_EQ(fat32_create(vol, &root, name, false, &f), 0);
    fat32_dirent_t *ent = malloc(sizeof(*ent));
    uint32_t cookie = 0;
    HTEST_EXPECT_EQ(fat32_readdir(vol, &root, &cookie, ent), 1);
    HTEST_EXPECT_STR(ent->name, name);
    HTEST_EXPECT_EQ(fat32_readdir(vol, &root, &cookie, ent), 0);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "SMILE \xf0\x9f\x98\x80.TXT", &f), 0);
    free(ent);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    fix_close(&im);
}

HTEST(fat32_short_names_case_bits_and_numeric_tails)
{
    fix_image_t im;
    fat32_node_t root, a, b, c, d, e2, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    uint8_t e[32];
    fat32_create(vol, &root, "README.TXT", false, &a);
    raw_entry(vol, &a, e);
    HTEST_EXPECT(memcmp(e, "README  TXT", 11) == 0 && e[12] == 0 && !has_lfn(vol, &a));
    fat32_create(vol, &root, "lower.c", false, &b);
    raw_entry(vol, &b, e);
    HTEST_EXPECT(memcmp(e, "LOWER   C  ", 11) == 0 && e[12] == 0x18 && !has_lfn(vol, &b));
    fat32_create(vol, &root, "Mixed.txt", false, &c);
    raw_entry(vol, &c, e);
    HTEST_EXPECT(memcmp(e, "MIXED   TXT", 11) == 0 && has_lfn(vol, &c) == 1);
    fat32_create(vol, &root, "long name.text", false, &d);
    raw_entry(vol, &d, e);
    HTEST_EXPECT(memcmp(e, "LONGNA~1TEX", 11) == 0);
    fat32_create(vol, &root, "long name 2.text", false, &e2);
    raw_entry(vol, &e2, e);
    HTEST_EXPECT(memcmp(e, "LONGNA~2TEX", 11) == 0);
    fat32_create(vol, &root, "a+b=c[1].txt", false, &f);
    raw_entry(vol, &f, e);
    HTEST_EXPECT(memcmp(e, "A_B_C_~1TXT", 11) == 0);
    for (int i = 3; i <= 7; i++) { /* past ~4 the tail carries a hash of the long name */
        char name[40];
        fat32_node_t n;
        snprintf(name, sizeof(name), "long name %d.text", i);
        HTEST_EXPECT_EQ(fat32_create(vol, &root, name, false, &n), 0);
        raw_entry(vol, &n, e);
        HTEST_EXPECT(i > 4 ? e[6] == '~' && e[7] == '1' : e[7] == '0' + i);
    }
    fat32_node_t found;
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "LONGNA~2.TEX", &found), 0);
    HTEST_EXPECT_EQ(found.entry_offset, e2.entry_offset);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "mixed.TXT", &found), 0);
    HTEST_EXPECT_EQ(found.entry_offset, c.entry_offset);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    char *listing = fix_mdir(&im);
    HTEST_EXPECT(fix_listed(listing, "::/README.TXT"));
    HTEST_EXPECT(fix_listed(listing, "::/lower.c"));
    HTEST_EXPECT(fix_listed(listing, "::/Mixed.txt"));
    HTEST_EXPECT(fix_listed(listing, "::/long name 2.text"));
    free(listing);
    fix_close(&im);
}

/* The lookup's quick test of a short entry against a wanted name answers exactly as
 * building the entry's name and comparing would: over entries of awkward bytes (spaces,
 * 0x05 for a leading 0xe5, both cases, bytes >= 0x80, an all-space base) with every
 * case-bit setting, and wanted names that are the built name, its other case, and near misses. */
HTEST(fat32_short_name_test_agrees_with_the_built_name)
{
    static const uint8_t bytes[] = { ' ', 0x05, 0xe5, 'a', 'A', 'z', '.', '~', '1', 0xc4 };
    uint32_t seed = 12345, checked = 0, matched = 0;
    for (int round = 0; round < 20000; round++) {
        uint8_t entry[32] = { 0 };
        for (int i = 0; i < 11; i++) {
            seed = seed * 1103515245u + 12345u;
            entry[i] = bytes[(seed >> 16) % sizeof(bytes)];
        }
        if (round % 7 == 0) /* no base name: the built name starts with the dot */
            memset(entry, ' ', 8);
        entry[12] = (uint8_t)(round & 0x18);
        fat32_name_t built, want;
        fat32_short_to_name(entry, &built);
        for (int variant = 0; variant < 4; variant++) {
            want = built;
            if (variant == 1 && want.length) /* the other case of the first character */
                want.units[0] ^= (want.units[0] | 32) >= 'a' && (want.units[0] | 32) <= 'z' ? 32 : 0;
            if (variant == 2 && want.length) /* another first character */
                want.units[0] = bytes[round % sizeof(bytes)];
            if (variant == 3) /* one character shorter */
                want.length = want.length ? want.length - 1 : 0;
            bool expect = fat32_name_equal(&built, &want);
            HTEST_EXPECT_EQ(fat32_short_name_is(entry, &want), expect);
            checked++;
            matched += expect;
        }
    }
    HTEST_EXPECT(matched > checked / 4 && matched < checked);
}

HTEST(fat32_rejects_invalid_names_and_reports_posix_errors)
{
    fix_image_t im;
    char long_name[300];
    fat32_node_t root, f, d, n;
    fat32_volume_t *vol = fix_start(&im, &root);
    const char *bad[] = { "a/b", "a\\b", "a:b", "a*b", "a?b", "a\"b", "a<b", "a>b", "a|b",
                          ("a\x01" "b"), ".", "..", "", "...", "bad \xff utf8" };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        HTEST_EXPECT_EQ(fat32_create(vol, &root, bad[i], false, &f), -VK_EINVAL);
    memset(long_name, 'x', 256);
    long_name[256] = 0;
    HTEST_EXPECT_EQ(fat32_create(vol, &root, long_name, false, &f), -VK_ENAMETOOLONG);
    long_name[255] = 0;
    HTEST_EXPECT_EQ(fat32_create(vol, &root, long_name, false, &f), 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "File", false, &f), 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "FILE", false, &n), -VK_EEXIST);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "dir", true, &d), 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &d, "inner", false, &n), 0);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "missing", &n), -VK_ENOENT);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &f, "x", &n), -VK_ENOTDIR);
    HTEST_EXPECT_EQ(fat32_unlink(vol, &root, "dir"), -VK_EISDIR);
    HTEST_EXPECT_EQ(fat32_rmdir(vol, &root, "file"), -VK_ENOTDIR);
    HTEST_EXPECT_EQ(fat32_rmdir(vol, &root, "dir"), -VK_ENOTEMPTY);
    HTEST_EXPECT_EQ(fat32_write(vol, &d, 0, "x", 1), -VK_EISDIR);
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 0xffffffffull, "x", 1), -VK_EFBIG);
    HTEST_EXPECT_EQ(fat32_unlink(vol, &d, "inner"), 0);
    HTEST_EXPECT_EQ(fat32_rmdir(vol, &root, "DIR"), 0);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "dir", &n), -VK_ENOENT);
    HTEST_EXPECT_EQ(fat32_walk(vol, "/file/..", &n), 0); /* lexical, as documented */
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    fix_close(&im);
}

HTEST(fat32_many_files_span_clusters_and_readdir_resumes)
{
    enum { COUNT = 400 };
    fix_image_t im;
    fat32_node_t root, dir, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    char name[64];
    fat32_create(vol, &root, "big dir", true, &dir);
    for (int i = 0; i < COUNT; i++) {
        snprintf(name, sizeof(name), "entry number %04d with a long name.txt", i);
        HTEST_EXPECT_EQ(fat32_create(vol, &dir, name, false, &f), 0);
        HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, name, strlen(name)), strlen(name));
    }
    for (int i = 0; i < COUNT; i += 2) {
        snprintf(name, sizeof(name), "ENTRY NUMBER %04d WITH A LONG NAME.TXT", i);
        HTEST_EXPECT_EQ(fat32_unlink(vol, &dir, name), 0);
    }
    uint32_t cookie = 0, seen = 0;
    fat32_dirent_t *ent = malloc(sizeof(*ent));
    while (fat32_readdir(vol, &dir, &cookie, ent) == 1) {
        int number = -1;
        sscanf(ent->name, "entry number %d", &number);
        HTEST_EXPECT(number % 2 == 1 && !ent->is_dir);
        seen++;
    }
    HTEST_EXPECT_EQ(seen, COUNT / 2);
    free(ent);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    char *listing = fix_mdir(&im);
    for (int i = 0; i < COUNT; i++) {
        snprintf(name, sizeof(name), "::/big dir/entry number %04d with a long name.txt", i);
        HTEST_EXPECT(fix_listed(listing, name) == (i % 2 == 1));
    }
    free(listing);
    HTEST_EXPECT(fix_mtools_has(&im, "/big dir/entry number 0399 with a long name.txt",
                                "entry number 0399 with a long name.txt", 38));
    fix_close(&im);
}

HTEST(fat32_rename_within_and_across_directories)
{
    fix_image_t im;
    fat32_node_t root, a, b, f, g, moved, n;
    fat32_volume_t *vol = fix_start(&im, &root);
    fat32_create(vol, &root, "a", true, &a);
    fat32_create(vol, &a, "b", true, &b);
    fat32_create(vol, &root, "file one.txt", false, &f);
    fat32_write(vol, &f, 0, "one", 3);
    fat32_create(vol, &b, "victim.txt", false, &g);
    fat32_write(vol, &g, 0, "victim", 6);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "file one.txt", &root, "File Renamed.txt", &moved), 0);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "file renamed.txt", &root, "FILE RENAMED.TXT", &moved), 0);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "FILE RENAMED.TXT", &b, "victim.txt", &moved), 0);
    HTEST_EXPECT_EQ(fat32_lookup(vol, &root, "file renamed.txt", &n), -VK_ENOENT);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "a", &b, "a", &n), -VK_EINVAL);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "a", &a, "x", &n), -VK_EINVAL);
    HTEST_EXPECT_EQ(fat32_rename(vol, &a, "b", &root, "b moved", &n), 0); /* ".." repointed */
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "c", true, &n), 0);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "c", &root, "b moved", &n), -VK_ENOTEMPTY);
    HTEST_EXPECT_EQ(fat32_rename(vol, &root, "c", &root, "a", &n), 0); /* empty dir replaced */
    HTEST_EXPECT_EQ(fat32_walk(vol, "/b moved/victim.txt", &n), 0);
    char buf[8];
    HTEST_EXPECT_EQ(fat32_read(vol, &n, 0, buf, sizeof(buf)), 3);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    char *listing = fix_mdir(&im);
    HTEST_EXPECT(fix_listed(listing, "::/b moved/victim.txt"));
    HTEST_EXPECT(fix_listed(listing, "::/a/"));
    HTEST_EXPECT(!fix_listed(listing, "::/c/"));
    free(listing);
    HTEST_EXPECT(fix_mtools_has(&im, "/b moved/victim.txt", "one", 3));
    fix_close(&im);
}

HTEST(fat32_full_volume_gives_enospc_and_stays_consistent)
{
    enum { CHUNK = 1 << 20 };
    fix_image_t im;
    fat32_info_t info;
    fat32_node_t root, f, g;
    fat32_volume_t *vol = fix_start(&im, &root);
    uint8_t *buf = malloc(CHUNK);
    fill_pattern(buf, CHUNK, 7);
    fat32_create(vol, &root, "filler", false, &f);
    int64_t r;
    uint32_t written = 0;
    while ((r = fat32_write(vol, &f, written, buf, CHUNK)) == CHUNK)
        written += CHUNK;
    HTEST_EXPECT_EQ(r, -VK_ENOSPC); /* the write that does not fit fails whole */
    HTEST_EXPECT_EQ(f.size, written);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "one more", false, &g), 0);
    while (fat32_write(vol, &g, g.size, buf, 512) == 512)
        ;
    fat32_info(vol, &info);
    HTEST_EXPECT_EQ(info.free_clusters, 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "no room for a long name entry here", true, &g),
                    -VK_ENOSPC);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    vol = fix_mount(&im);
    HTEST_EXPECT_EQ(fat32_unlink(vol, &root, "filler"), 0);
    fat32_info(vol, &info);
    HTEST_EXPECT(info.free_clusters >= written / 512);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    free(buf);
    fix_close(&im);
}

HTEST(fat32_reads_files_written_by_mcopy)
{
    fix_image_t im;
    enum { SIZE = 100000 };
    uint8_t *want = malloc(SIZE), *got = malloc(SIZE);
    fix_open(&im, 2 * FIX_IMAGE_MIB, "-s 2");
    fill_pattern(want, SIZE, 9);
    FILE *tmp = fopen("/tmp/vk-fat32-mcopy.bin", "wb");
    fwrite(want, 1, SIZE, tmp);
    fclose(tmp);
    HTEST_EXPECT_EQ(fix_sh("mmd -i %s '::/Sub Dir' && mcopy -i %s /tmp/vk-fat32-mcopy.bin "
                           "'::/Sub Dir/Übergröße Datei.bin'", im.path, im.path), 0);
    unlink("/tmp/vk-fat32-mcopy.bin");
    fat32_volume_t *vol = fix_mount(&im);
    fat32_node_t n;
    HTEST_EXPECT_EQ(fat32_walk(vol, "sub dir/übergröße datei.bin", &n), -VK_ENOENT); /* ASCII fold only */
    HTEST_EXPECT_EQ(fat32_walk(vol, "SUB DIR/Übergröße DATEI.BIN", &n), 0);
    HTEST_EXPECT_EQ(n.size, SIZE);
    HTEST_EXPECT_EQ(fat32_read(vol, &n, 0, got, SIZE), SIZE);
    HTEST_EXPECT(memcmp(got, want, SIZE) == 0);
    HTEST_EXPECT_EQ(fat32_read(vol, &n, 4321, got, 1000), 1000);
    HTEST_EXPECT(memcmp(got, want + 4321, 1000) == 0);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    free(want);
    free(got);
    fix_close(&im);
}

HTEST(fat32_timestamps_come_from_the_clock_callback)
{
    fix_image_t im;
    fat32_stat_t st;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    im.clock = 1700000001;
    fat32_create(vol, &root, "t", false, &f);
    im.clock = 1700086400 + 3600; /* one day and an hour later */
    fat32_write(vol, &f, 0, "x", 1);
    HTEST_EXPECT_EQ(fat32_stat(vol, &f, &st), 0);
    HTEST_EXPECT_EQ(st.create_time, 1700000001);
    HTEST_EXPECT_EQ(st.modify_time, 1700086400 + 3600);
    HTEST_EXPECT_EQ(st.access_time, 1700086400 - 80000 + 80000 - (1700086400 % 86400));
    HTEST_EXPECT_EQ(st.size, 1);
    HTEST_EXPECT(!st.is_dir && (st.attributes & FAT32_ATTR_ARCHIVE));
    HTEST_EXPECT_EQ(fat32_unmount(vol), 0);
    char *out = fix_capture(NULL, "mdir -i %s ::/t 2>&1", im.path);
    HTEST_EXPECT(strstr(out, "2023-11-15") && strstr(out, "23:13"));
    free(out);
    fix_close(&im);
}

HTEST(fat32_set_times_and_attributes_reach_the_disk)
{
    fix_image_t im;
    fat32_stat_t st;
    fat32_node_t root, f;
    fat32_volume_t *vol = fix_start(&im, &root);
    fat32_create(vol, &root, "old.txt", false, &f);
    HTEST_EXPECT_EQ(fat32_set_times(vol, &f, 946684800 + 3600 * 13, 946684800), 0);
    HTEST_EXPECT_EQ(fat32_set_attributes(vol, &f, FAT32_ATTR_READ_ONLY | FAT32_ATTR_HIDDEN), 0);
    HTEST_EXPECT_EQ(fat32_set_attributes(vol, &f, FAT32_ATTR_DIRECTORY), -VK_EINVAL);
    HTEST_EXPECT_EQ(fat32_set_attributes(vol, &root, 0), -VK_EINVAL);
    HTEST_EXPECT_EQ(fat32_stat(vol, &f, &st), 0);
    HTEST_EXPECT_EQ(st.modify_time, 946684800 + 3600 * 13); /* 2000-01-01 13:00 */
    HTEST_EXPECT_EQ(st.access_time, 946684800);
    HTEST_EXPECT_EQ(st.attributes, FAT32_ATTR_READ_ONLY | FAT32_ATTR_HIDDEN);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    char *out = fix_capture(NULL, "mdir -a -i %s ::/old.txt 2>&1; mattrib -i %s ::/old.txt",
                            im.path, im.path);
    HTEST_EXPECT(strstr(out, "2000-01-01  13:00") != NULL);
    HTEST_EXPECT(strstr(out, " HR     ::/old.txt") != NULL); /* mattrib: hidden, read-only */
    free(out);
    fix_close(&im);
}

HTEST(fat32_dirty_flag_set_while_mounted_and_fats_mirrored)
{
    fix_image_t im;
    fat32_info_t info;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    fat32_volume_t *vol = fix_mount(&im), *again = NULL;
    fat32_node_t root = root_of(vol), f;
    fat32_create(vol, &root, "x", false, &f);
    fat32_write(vol, &f, 0, "abc", 3);
    HTEST_EXPECT_EQ(fat32_sync(vol), 0);
    char copy[80];
    snprintf(copy, sizeof(copy), "%s.crash", im.path);
    fix_sh("cp %s %s", im.path, copy); /* the disk as a crash would leave it */
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &again, &info), 0);
    HTEST_EXPECT(!info.was_dirty);
    HTEST_EXPECT(again->mirror && again->fat_count == 2);
    uint8_t *a = malloc(512), *b = malloc(512);
    bool same = true;
    for (uint32_t s = 0; s < again->fat_sectors; s++) {
        pread(im.fd, a, 512, (off_t)(again->fat_start + s) * 512);
        pread(im.fd, b, 512, (off_t)(again->fat_start + again->fat_sectors + s) * 512);
        same &= memcmp(a, b, 512) == 0;
    }
    HTEST_EXPECT(same);
    free(a);
    free(b);
    fat32_unmount(again);
    close(im.fd);
    im.fd = open(copy, O_RDWR);
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &again, &info), 0);
    HTEST_EXPECT(info.was_dirty);
    HTEST_EXPECT(strstr(im.last_log, "not cleanly unmounted") != NULL);
    /* After the unclean unmount the free count is not trusted and not counted at mount;
     * unmounted uncounted, FSInfo says "unknown" and fsck.fat accepts that. */
    HTEST_EXPECT_EQ(info.free_clusters, FAT32_FREE_UNKNOWN);
    HTEST_EXPECT(fix_unmount_clean(&im, again));
    uint8_t fsinfo[512];
    pread(im.fd, fsinfo, 512, 512); /* mkfs.fat puts FSInfo in sector 1 */
    HTEST_EXPECT_EQ(fat32_get32(fsinfo + 488), FAT32_FREE_UNKNOWN);
    /* Counted on request: the count matches the allocation, and is kept from then on. */
    HTEST_EXPECT_EQ(fat32_mount(&im.ops, &again, &info), 0);
    HTEST_EXPECT_EQ(info.free_clusters, FAT32_FREE_UNKNOWN);
    uint32_t free_now;
    HTEST_EXPECT_EQ(fat32_count_free_clusters(again, &free_now), 0);
    HTEST_EXPECT_EQ(free_now, info.cluster_count - 2); /* the root and "x" */
    fat32_root(again, &root);
    HTEST_EXPECT_EQ(fat32_create(again, &root, "y", false, &f), 0);
    HTEST_EXPECT_EQ(fat32_write(again, &f, 0, "abc", 3), 3);
    fat32_info(again, &info);
    HTEST_EXPECT_EQ(info.free_clusters, free_now - 1);
    HTEST_EXPECT(fix_unmount_clean(&im, again));
    pread(im.fd, fsinfo, 512, 512);
    HTEST_EXPECT_EQ(fat32_get32(fsinfo + 488), free_now - 1);
    unlink(copy);
    fix_close(&im);
}

HTEST(fat32_works_with_4096_byte_sectors)
{
    fix_image_t im;
    fix_open(&im, 300, "-S 4096 -s 1");
    im.ops.sector_size = 4096;
    im.ops.sector_count = (300ull << 20) / 4096;
    fat32_volume_t *vol = fix_mount(&im);
    HTEST_EXPECT(vol != NULL);
    if (!vol)
        return;
    fat32_node_t root = root_of(vol), d, f;
    uint8_t buf[10000];
    fill_pattern(buf, sizeof(buf), 5);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "Folder", true, &d), 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &d, "four k.bin", false, &f), 0);
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 100, buf, sizeof(buf)), sizeof(buf));
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    uint8_t want[10100] = { 0 };
    memcpy(want + 100, buf, sizeof(buf));
    HTEST_EXPECT(fix_mtools_has(&im, "/Folder/four k.bin", want, sizeof(want)));
    fix_close(&im);
}

/* ---- write_dir: directory sectors only ---------------------------------------------- */

static uint64_t dir_sectors[64], data_sectors[64];
static unsigned dir_writes, data_writes;

static int record_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    for (uint32_t i = 0; i < count && data_writes < 64; i++)
        data_sectors[data_writes++] = sector + i;
    return fix_write(ctx, sector, count, buf);
}

static int record_write_dir(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    for (uint32_t i = 0; i < count && dir_writes < 64; i++)
        dir_sectors[dir_writes++] = sector + i;
    return fix_write(ctx, sector, count, buf);
}

static bool recorded(const uint64_t *list, unsigned n, uint64_t sector)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i] == sector)
            return true;
    return false;
}

HTEST(fat32_directory_sectors_go_through_write_dir)
{
    fix_image_t im;
    fix_open(&im, FIX_IMAGE_MIB, "-s 1");
    im.ops.write = record_write;
    im.ops.write_dir = record_write_dir;
    uint8_t boot[512];
    HTEST_EXPECT_EQ(fix_read(&im, 0, 1, boot), 0);
    uint64_t data_start = (boot[14] | boot[15] << 8) +
                          (uint64_t)boot[16] * (boot[36] | boot[37] << 8 | boot[38] << 16);
    fat32_volume_t *vol = fix_mount(&im);
    HTEST_EXPECT(vol != NULL);
    if (!vol)
        return;
    dir_writes = data_writes = 0;
    fat32_node_t root = root_of(vol), d, f;
    uint8_t buf[1500];
    fill_pattern(buf, sizeof(buf), 9);
    HTEST_EXPECT_EQ(fat32_create(vol, &root, "Sub dir", true, &d), 0);
    HTEST_EXPECT_EQ(fat32_create(vol, &d, "x.bin", false, &f), 0);
    HTEST_EXPECT_EQ(fat32_write(vol, &f, 0, buf, sizeof(buf)), sizeof(buf));
    /* One-sector clusters: cluster c starts at data_start + c - 2 (the root is 2). */
    uint64_t root_sector = data_start, sub_sector = data_start + d.first_cluster - 2;
    uint64_t file_sector = data_start + f.first_cluster - 2;
    HTEST_EXPECT(recorded(dir_sectors, dir_writes, root_sector));  /* the new entry */
    HTEST_EXPECT(recorded(dir_sectors, dir_writes, sub_sector));   /* . and .. */
    HTEST_EXPECT(recorded(data_sectors, data_writes, file_sector)); /* contents */
    HTEST_EXPECT(!recorded(dir_sectors, dir_writes, file_sector));
    HTEST_EXPECT(!recorded(data_sectors, data_writes, root_sector));
    for (unsigned i = 0; i < dir_writes; i++)
        HTEST_EXPECT(dir_sectors[i] >= data_start);
    HTEST_EXPECT(fix_unmount_clean(&im, vol));
    HTEST_EXPECT(fix_mtools_has(&im, "/Sub dir/x.bin", buf, sizeof(buf)));
    fix_close(&im);
}

HTEST_MAIN()
