/* SPDX-License-Identifier: MIT */
/*
 * Storage under load, on the FAT32 data partition (the root) through the write-back block
 * cache. Two modes:
 *
 *  test-storage.vbin [torture]
 *      Two writer processes (the integration suite runs this on 4 CPUs), each in its own
 *      directory, make random writes at random offsets, extensions, truncations,
 *      renames (some replacing another file), unlinks and fsyncs, checking every call
 *      and keeping an in-memory model. Each then reads every file back against its
 *      model and writes a manifest (name, size, FNV-1a hash per line) for the host. The
 *      parent syncs, shrinks the block cache through KObj so that the files must come
 *      back from the disk, and checks them against the manifests again. Prints PASS/FAIL
 *      lines and "test-storage: N passed, N failed"; init then ends, which unmounts
 *      cleanly, and the host runs fsck.fat and compares the files with mtools.
 *
 *  test-storage.vbin crash
 *      Writes CRASH_FILES files of known contents (crash_byte) under /crash, some
 *      renamed into place or truncated, fsyncs each and syncs, prints
 *      "STORAGE-CRASH-READY", then overwrites a preallocated file in place without
 *      syncing until the host kills the machine.
 *
 *  test-storage.vbin after-crash
 *      The next boot on that disk: the synced files must read back whole.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../vktest.h"

#define WRITERS      2
#define SLOTS        6
#define OPS          250
#define FILE_MAX     (96 * 1024)
#define CRASH_FILES  16

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint32_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* Whole file into buf (at most max bytes); its size, or -1. */
static long read_all(const char *path, uint8_t *buf, size_t max)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, max - got);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0 || (got += (size_t)n) == max)
            break;
    }
    close(fd);
    return (long)got;
}

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* ---- torture: one writer ------------------------------------------------------------ */

typedef struct {
    char name[32];
    uint8_t *data;
    size_t size;
    int exists;
} slot_t;

static int failures;
static void fail(int w, const char *what, const char *name)
{
    printf("writer %d: %s %s: errno %d (%s)\n", w, what, name, errno, strerror(errno));
    fflush(stdout);
    failures++;
}

static void path_of(char *out, size_t size, int w, const char *name)
{
    snprintf(out, size, "/st/w%d/%s", w, name);
}

static void do_write(int w, slot_t *s, unsigned generation)
{
    char path[96];
    if (!s->exists) {
        snprintf(s->name, sizeof(s->name), "File %u of writer %d.bin", generation, w);
        s->size = 0;
    }
    path_of(path, sizeof(path), w, s->name);
    size_t offset = rnd((uint32_t)s->size + 4096);
    if (offset >= FILE_MAX)
        offset = FILE_MAX - 1;
    size_t len = 1 + rnd(16384);
    if (offset + len > FILE_MAX)
        len = FILE_MAX - offset;
    uint8_t chunk[16384];
    for (size_t i = 0; i < len; i++)
        chunk[i] = (uint8_t)rnd(256);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0)
        return fail(w, "open", path);
    if (pwrite(fd, chunk, len, (off_t)offset) != (ssize_t)len)
        fail(w, "pwrite", path);
    close(fd);
    if (offset > s->size)
        memset(s->data + s->size, 0, offset - s->size);
    memcpy(s->data + offset, chunk, len);
    if (offset + len > s->size)
        s->size = offset + len;
    s->exists = 1;
}

static void do_truncate(int w, slot_t *s)
{
    char path[96];
    path_of(path, sizeof(path), w, s->name);
    size_t size = rnd(FILE_MAX);
    if (truncate(path, (off_t)size))
        return fail(w, "truncate", path);
    if (size > s->size)
        memset(s->data + s->size, 0, size - s->size);
    s->size = size;
}

static void do_rename(int w, slot_t *slots, int from, unsigned generation)
{
    slot_t *s = &slots[from];
    int to = rnd(SLOTS);
    char old_path[96], new_path[96], new_name[32];
    if (to != from && slots[to].exists && rnd(2)) { /* replace another file */
        strcpy(new_name, slots[to].name);
    } else {
        to = -1;
        snprintf(new_name, sizeof(new_name), "renamed %u w%d", generation, w);
    }
    path_of(old_path, sizeof(old_path), w, s->name);
    path_of(new_path, sizeof(new_path), w, new_name);
    if (rename(old_path, new_path))
        return fail(w, "rename", old_path);
    strcpy(s->name, new_name);
    if (to >= 0)
        slots[to].exists = 0;
}

static void do_fsync(int w, slot_t *s, int data_only)
{
    char path[96];
    path_of(path, sizeof(path), w, s->name);
    int fd = open(path, O_RDWR);
    if (fd < 0)
        return fail(w, "open for fsync", path);
    if (data_only ? fdatasync(fd) : fsync(fd))
        fail(w, "fsync", path);
    close(fd);
}

static int writer(int w)
{
    rng_state = 0x5eed0000u + (uint32_t)w * 7919u;
    char dir[64];
    snprintf(dir, sizeof(dir), "/st/w%d", w);
    if (mkdir(dir, 0755)) {
        fail(w, "mkdir", dir);
        return 1;
    }
    static slot_t slots[SLOTS];
    static uint8_t buffers[SLOTS][FILE_MAX];
    for (int i = 0; i < SLOTS; i++)
        slots[i].data = buffers[i];
    for (unsigned op = 0; op < OPS; op++) {
        int i = rnd(SLOTS);
        slot_t *s = &slots[i];
        unsigned r = rnd(100);
        if (!s->exists || r < 45) {
            do_write(w, s, op);
        } else if (r < 60) {
            do_truncate(w, s);
        } else if (r < 75) {
            do_rename(w, slots, i, op);
        } else if (r < 80) {
            char path[96];
            path_of(path, sizeof(path), w, s->name);
            if (unlink(path))
                fail(w, "unlink", path);
            s->exists = 0;
        } else {
            do_fsync(w, s, r < 90);
        }
    }
    /* Read everything back, count the directory, write the manifest. */
    static uint8_t got[FILE_MAX + 1];
    char manifest[64], path[96];
    snprintf(manifest, sizeof(manifest), "/st/w%d.sum", w);
    FILE *m = fopen(manifest, "w");
    if (!m)
        fail(w, "fopen", manifest);
    int expected = 0;
    for (int i = 0; i < SLOTS; i++) {
        slot_t *s = &slots[i];
        if (!s->exists)
            continue;
        expected++;
        path_of(path, sizeof(path), w, s->name);
        long n = read_all(path, got, sizeof(got));
        if (n != (long)s->size || memcmp(got, s->data, s->size)) {
            printf("writer %d: %s: %ld bytes read, %zu expected, or different bytes\n", w, path,
                   n, s->size);
            failures++;
        }
        if (m)
            fprintf(m, "w%d/%s|%zu|%08x\n", w, s->name, s->size, fnv1a(s->data, s->size));
    }
    if (m) {
        fflush(m);
        if (fsync(fileno(m)))
            fail(w, "fsync", manifest);
        fclose(m);
    }
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    if (entries != expected) {
        printf("writer %d: %d directory entries, %d files expected\n", w, entries, expected);
        failures++;
    }
    printf("writer %d: %u operations, %d files, %d failures\n", w, OPS, expected, failures);
    fflush(stdout);
    return failures ? 1 : 0;
}

/* Every manifest line's file reads back with its size and hash: the count checked. */
static int check_manifest(int w, int *files)
{
    char manifest[64], line[160], path[128];
    snprintf(manifest, sizeof(manifest), "/st/w%d.sum", w);
    FILE *m = fopen(manifest, "r");
    if (!m)
        return -1;
    static uint8_t got[FILE_MAX + 1];
    int bad = 0;
    *files = 0;
    while (fgets(line, sizeof(line), m)) {
        char *size_text = strchr(line, '|');
        char *hash_text = size_text ? strchr(size_text + 1, '|') : NULL;
        if (!hash_text) {
            bad++;
            continue;
        }
        *size_text = *hash_text = 0;
        snprintf(path, sizeof(path), "/st/%s", line);
        long n = read_all(path, got, sizeof(got));
        if (n != atol(size_text + 1) || fnv1a(got, (size_t)n) != strtoul(hash_text + 1, NULL, 16)) {
            printf("after shrink: %s differs\n", path);
            bad++;
        }
        (*files)++;
    }
    fclose(m);
    return bad;
}

static unsigned long kobj_number(const char *path)
{
    char text[32] = "";
    uint8_t *buf = (uint8_t *)text;
    long n = read_all(path, buf, sizeof(text) - 1);
    return n > 0 ? strtoul(text, NULL, 10) : (unsigned long)-1;
}

static int torture(void)
{
    mkdir("/st", 0755);
    vktest_check(access("/st", W_OK) == 0, "data_writable", "no /st");
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        if (pids[w] == 0)
            _exit(writer(w));
    }
    for (int w = 0; w < WRITERS; w++) {
        int status = -1;
        char name[32];
        snprintf(name, sizeof(name), "writer%d_model_matches", w);
        vktest_check(pids[w] > 0 && waitpid(pids[w], &status, 0) == pids[w] &&
                     WIFEXITED(status) && WEXITSTATUS(status) == 0, name, "see its lines");
    }
    sync();
    int fd = open("/st", O_RDONLY | O_DIRECTORY);
    errno = 0;
    vktest_check(fd >= 0 && syncfs(fd) == 0, "syncfs_data", strerror(errno));
    if (fd >= 0)
        close(fd);
    vktest_check(kobj_number("/kobj/fs/cache/dirty") == 0, "nothing_dirty_after_sync",
                 "dirty blocks left");
    vktest_check(kobj_number("/kobj/fs/cache/writebacks") > 0, "cache_wrote_back", "no writebacks");
    /* Memory pressure through the tunable: the cache drops to 16 blocks, so the files
     * below come from the disk. */
    unsigned long before = kobj_number("/kobj/fs/cache/misses");
    vktest_check(write_text("/kobj/fs/cache/max_blocks", "16") == 0 &&
                 kobj_number("/kobj/fs/cache/blocks") <= 16, "cache_shrinks", "max_blocks");
    for (int w = 0; w < WRITERS; w++) {
        int files = 0, bad = check_manifest(w, &files);
        char name[40];
        snprintf(name, sizeof(name), "writer%d_files_from_disk", w);
        vktest_check(bad == 0 && files > 0, name, bad < 0 ? "no manifest" : "differences");
    }
    vktest_check(kobj_number("/kobj/fs/cache/misses") > before, "reread_from_disk", "no misses");
    vktest_check(write_text("/kobj/fs/cache/max_blocks", "4096") == 0, "cache_restored",
                 "max_blocks");
    return vktest_finish("test-storage");
}

/* ---- crash ------------------------------------------------------------------------------ */

/* Byte j of crash file i; tests/integration/run.py computes the same. */
static uint8_t crash_byte(int i, size_t j)
{
    return (uint8_t)(i * 131 + j * 7 + (j >> 8));
}

static const size_t crash_sizes[CRASH_FILES] = { 0, 1, 511, 512, 513, 4095, 4096, 4097,
                                                  8192, 12345, 32768, 65536, 70000, 100000,
                                                  150000, 262144 };

static int write_crash_file(int i, const char *path, size_t size)
{
    static uint8_t buf[262144];
    for (size_t j = 0; j < size; j++)
        buf[j] = crash_byte(i, j);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = write(fd, buf, size) == (ssize_t)size && fsync(fd) == 0;
    return close(fd) == 0 && ok ? 0 : -1;
}

static int crash(void)
{
    char path[64], tmp[64];
    write_text("/kobj/fs/cache/dirty_expire_ms", "100"); /* write-backs during the workload */
    write_text("/kobj/fs/cache/flush_interval_ms", "50");
    int ok = mkdir("/crash", 0755) == 0 && mkdir("/crashwork", 0755) == 0;
    for (int i = 0; ok && i < CRASH_FILES; i++) {
        snprintf(path, sizeof(path), "/crash/file%02d.bin", i);
        if (i % 4 == 1) { /* written elsewhere, then renamed into place */
            snprintf(tmp, sizeof(tmp), "/crash/tmp%02d", i);
            ok = write_crash_file(i, tmp, crash_sizes[i]) == 0 && rename(tmp, path) == 0;
        } else if (i % 4 == 2) { /* written longer, then truncated */
            ok = write_crash_file(i, path, crash_sizes[i] + 5000) == 0 &&
                 truncate(path, (off_t)crash_sizes[i]) == 0;
        } else {
            ok = write_crash_file(i, path, crash_sizes[i]) == 0;
        }
        if (!ok)
            printf("crash: %s failed: %s\n", path, strerror(errno));
    }
    ok = ok && write_crash_file(0, "/crashwork/scratch.bin", 262144) == 0;
    sync();
    printf(ok ? "STORAGE-CRASH-READY\n" : "STORAGE-CRASH-FAILED\n");
    fflush(stdout);
    /* Unsynced in-place overwrites until the host pulls the plug. */
    int fd = open("/crashwork/scratch.bin", O_WRONLY);
    uint8_t block[4096];
    for (unsigned n = 0; fd >= 0; n++) {
        memset(block, (int)n, sizeof(block));
        if (pwrite(fd, block, sizeof(block), (off_t)(n % 64) * 4096) != sizeof(block))
            break;
        if (n % 16 == 0)
            usleep(10000);
    }
    printf("crash: the overwrites stopped: %s\n", strerror(errno));
    return 1;
}

/* The boot after the crash: every synced file reads back whole. */
static int after_crash(void)
{
    static uint8_t got[262144 + 1];
    char path[64];
    int bad = 0;
    for (int i = 0; i < CRASH_FILES; i++) {
        snprintf(path, sizeof(path), "/crash/file%02d.bin", i);
        long n = read_all(path, got, sizeof(got));
        int same = n == (long)crash_sizes[i];
        for (size_t j = 0; same && j < crash_sizes[i]; j++)
            same = got[j] == crash_byte(i, j);
        if (!same) {
            printf("after crash: %s: %ld bytes, %zu expected, or different bytes\n", path, n,
                   crash_sizes[i]);
            bad++;
        }
    }
    vktest_check(bad == 0, "synced_files_intact_after_reboot", "see the lines above");
    struct stat st;
    vktest_check(stat("/crashwork/scratch.bin", &st) == 0 && st.st_size == 262144,
                 "overwritten_file_keeps_its_size", "stat");
    return vktest_finish("test-storage");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && !strcmp(argv[1], "crash"))
        return crash();
    if (argc > 1 && !strcmp(argv[1], "after-crash"))
        return after_crash();
    return torture();
}
