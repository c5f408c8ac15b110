/* SPDX-License-Identifier: MIT */
/*
 * Disk benchmarks in a directory of a real disk filesystem: $VKBENCH_DISK_DIR, else
 * DISK_DIR on the root (vkernel's root is its FAT32 data partition). On Linux, where
 * vkbench is pid 1 of an initramfs, vkbench_disk_linux_setup mounts the disk first.
 *
 *  - disk_write_64m: sequential 64 KiB writes of a 64 MiB file, then fsync (per MiB).
 *  - disk_read_64m: sequential 64 KiB reads of that file after the caches were dropped
 *    (vkernel: /kobj/fs/cache/max_blocks lowered and restored; Linux:
 *    /proc/sys/vm/drop_caches), so the bytes come from the device (per MiB).
 *  - disk_rand_read_4k: 4 KiB reads at random 4 KiB-aligned offsets of that file, caches
 *    dropped first (per read).
 *  - disk_create_small: create, write 4 KiB and close a new file in one directory, with
 *    one sync at the end inside the timed part (per file).
 *  - disk_list_dir: opendir, readdir to the end, closedir of a directory holding as many
 *    files as the repeat count (1000), caches dropped first (per entry).
 *
 * The 64 MiB file stays in the directory between benchmarks (writing it takes long under
 * -icount) and afterwards: vkbench runs on a throwaway copy of the disk.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vkbench.h"

#define DISK_DIR         "/vkbench"
#define DISK_FILE_BYTES  (64ul * VKBENCH_MIB)
#define DISK_CHUNK_BYTES (64ul * 1024ul)
#define SMALL_FILE_BYTES 4096ul
#define RANDOM_READ_BYTES 4096ul

static unsigned char chunk[DISK_CHUNK_BYTES];

static const char *disk_dir(void)
{
    const char *dir = getenv("VKBENCH_DISK_DIR");
    return dir && *dir ? dir : DISK_DIR;
}

/* The benchmark directory (made when absent) joined with name; false when unusable. */
static bool disk_path(vkbench_run_t *run, const char *name, char *out, size_t size)
{
    if (mkdir(disk_dir(), 0755) && errno != EEXIST)
        return vkbench_unavailable(run, "mkdir (disk directory)", errno);
    snprintf(out, size, "%s/%s", disk_dir(), name);
    return true;
}

static bool write_big_file(vkbench_run_t *run, const char *path, bool timed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return vkbench_unavailable(run, "open (disk directory)", errno);
    memset(chunk, 0x3c, sizeof(chunk));
    if (timed)
        vkbench_start(run);
    bool ok = true;
    for (size_t done = 0; ok && done < DISK_FILE_BYTES; done += DISK_CHUNK_BYTES)
        if (write(fd, chunk, DISK_CHUNK_BYTES) != (ssize_t)DISK_CHUNK_BYTES)
            ok = vkbench_unavailable(run, "write", errno ? errno : ENOSPC);
    if (ok && fsync(fd))
        ok = vkbench_unavailable(run, "fsync", errno);
    if (timed && ok)
        vkbench_stop(run, DISK_FILE_BYTES / VKBENCH_MIB);
    close(fd);
    return ok;
}

/* The 64 MiB file, written unless it is already there whole; an open descriptor or -1. */
static int open_big_file(vkbench_run_t *run)
{
    char path[256];
    if (!disk_path(run, "seq.bin", path, sizeof(path)))
        return -1;
    struct stat st;
    if ((stat(path, &st) || st.st_size != (off_t)DISK_FILE_BYTES) &&
        !write_big_file(run, path, false))
        return -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        vkbench_unavailable(run, "open", errno);
    return fd;
}

bool vkbench_disk_write_64m(vkbench_run_t *run, uint64_t repeat)
{
    char path[256];
    if (!disk_path(run, "seq.bin", path, sizeof(path)))
        return false;
    bool ok = true;
    for (uint64_t r = 0; ok && r < repeat; r++)
        ok = write_big_file(run, path, true);
    return ok;
}

static bool put_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return false;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    return close(fd) == 0 && ok;
}

/* Empties the caches so that reads reach the device; false when this system cannot. */
static bool drop_caches(vkbench_run_t *run)
{
    sync();
    if (put_text("/kobj/fs/cache/max_blocks", "16") &&
        put_text("/kobj/fs/cache/max_blocks", "4096"))
        return true;
    if (put_text("/proc/sys/vm/drop_caches", "3"))
        return true;
    return vkbench_unavailable(run, "no way to drop the caches", 0);
}

bool vkbench_disk_read_64m(vkbench_run_t *run, uint64_t repeat)
{
    int fd = open_big_file(run);
    bool ok = fd >= 0;
    for (uint64_t r = 0; ok && r < repeat; r++) {
        if (!(ok = drop_caches(run)))
            break;
        if (lseek(fd, 0, SEEK_SET) != 0) {
            ok = vkbench_unavailable(run, "lseek", errno);
            break;
        }
        vkbench_start(run);
        for (size_t done = 0; ok && done < DISK_FILE_BYTES; done += DISK_CHUNK_BYTES)
            if (read(fd, chunk, DISK_CHUNK_BYTES) != (ssize_t)DISK_CHUNK_BYTES)
                ok = vkbench_unavailable(run, "read", errno ? errno : EIO);
        if (ok)
            vkbench_stop(run, DISK_FILE_BYTES / VKBENCH_MIB);
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

bool vkbench_disk_rand_read_4k(vkbench_run_t *run, uint64_t repeat)
{
    int fd = open_big_file(run);
    bool ok = fd >= 0 && drop_caches(run);
    uint64_t state = 0x9e3779b97f4a7c15ull; /* the same offsets on every kernel */
    if (ok)
        vkbench_start(run);
    for (uint64_t r = 0; ok && r < repeat; r++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        off_t offset = (off_t)((state >> 33) % (DISK_FILE_BYTES / RANDOM_READ_BYTES)) *
                       (off_t)RANDOM_READ_BYTES;
        if (pread(fd, chunk, RANDOM_READ_BYTES, offset) != (ssize_t)RANDOM_READ_BYTES)
            ok = vkbench_unavailable(run, "pread", errno ? errno : EIO);
    }
    if (ok)
        vkbench_stop(run, repeat);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* A directory `name` in the benchmark directory, made when absent. */
static bool disk_subdir(vkbench_run_t *run, const char *name, char *out, size_t size)
{
    if (!disk_path(run, name, out, size))
        return false;
    if (mkdir(out, 0755) && errno != EEXIST)
        return vkbench_unavailable(run, "mkdir (disk directory)", errno);
    return true;
}

/* Removes the files f00000.. of dir (count of them) and dir itself. */
static void remove_small_files(const char *dir, uint64_t count)
{
    char path[300];
    for (uint64_t i = 0; i < count; i++) {
        snprintf(path, sizeof(path), "%s/f%05llu", dir, (unsigned long long)i);
        unlink(path);
    }
    rmdir(dir);
}

/* Creates count files of `bytes` bytes in dir; the number made. */
static uint64_t make_small_files(vkbench_run_t *run, const char *dir, uint64_t count,
                                 size_t bytes)
{
    char path[300];
    memset(chunk, 0x5a, SMALL_FILE_BYTES);
    uint64_t made = 0;
    for (; made < count; made++) {
        snprintf(path, sizeof(path), "%s/f%05llu", dir, (unsigned long long)made);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        bool ok = fd >= 0 && write(fd, chunk, bytes) == (ssize_t)bytes;
        if (!ok)
            vkbench_unavailable(run, "create", errno ? errno : ENOSPC);
        if (fd >= 0)
            close(fd);
        if (!ok)
            break;
    }
    return made;
}

bool vkbench_disk_create_small(vkbench_run_t *run, uint64_t repeat)
{
    char dir[256];
    if (!disk_subdir(run, "small", dir, sizeof(dir)))
        return false;
    vkbench_start(run);
    uint64_t made = make_small_files(run, dir, repeat, SMALL_FILE_BYTES);
    sync();
    bool ok = made == repeat;
    if (ok)
        vkbench_stop(run, repeat);
    remove_small_files(dir, made);
    return ok;
}

bool vkbench_disk_list_dir(vkbench_run_t *run, uint64_t repeat)
{
    char dir[256];
    if (!disk_subdir(run, "list", dir, sizeof(dir)))
        return false;
    uint64_t made = make_small_files(run, dir, repeat, 0);
    bool ok = made == repeat && drop_caches(run);
    if (ok) {
        vkbench_start(run);
        DIR *d = opendir(dir);
        uint64_t seen = 0;
        if (!d) {
            ok = vkbench_unavailable(run, "opendir", errno);
        } else {
            while (readdir(d))
                seen++;
            closedir(d);
        }
        if (ok && seen < repeat)
            ok = vkbench_unavailable(run, "readdir: entries missing", ENOENT);
        if (ok)
            vkbench_stop(run, repeat);
    }
    remove_small_files(dir, made);
    return ok;
}

/* ---- Linux as pid 1: the disk ------------------------------------------------------ */

#define LINUX_MODULE_LIST "/vkbench-modules" /* put there by scripts/bench-linux.sh */
#define LINUX_DISK_DEVICE "/dev/vda2"        /* the data partition of vkernel's layout */
#define LINUX_DISK_MOUNT  "/disk"

static void say(const char *what, int err)
{
    printf("vkbench: disk setup: %s%s%s\n", what, err ? ": " : "", err ? strerror(err) : "");
    fflush(stdout);
}

void vkbench_disk_linux_setup(void)
{
    FILE *list = getpid() == 1 ? fopen(LINUX_MODULE_LIST, "r") : NULL;
    if (!list)
        return; /* vkernel, or a Linux without the disk: the benchmarks say n/a */
    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", 0, NULL))
        say("mount /proc", errno);
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL))
        say("mount devtmpfs on /dev", errno);
    char line[256];
    while (fgets(line, sizeof(line), list)) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0])
            continue;
        int fd = open(line, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST))
            say(line, errno);
        if (fd >= 0)
            close(fd);
    }
    fclose(list);
    /* The disk's partitions appear once virtio_blk has probed it: wait up to 10 s. */
    struct stat st;
    for (int i = 0; i < 1000 && stat(LINUX_DISK_DEVICE, &st); i++)
        nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
    mkdir(LINUX_DISK_MOUNT, 0755);
    if (mount(LINUX_DISK_DEVICE, LINUX_DISK_MOUNT, "vfat", 0, NULL)) {
        say("mount " LINUX_DISK_DEVICE " (vfat)", errno);
        return;
    }
    setenv("VKBENCH_DISK_DIR", LINUX_DISK_MOUNT DISK_DIR, 1);
    say("vfat " LINUX_DISK_DEVICE " on " LINUX_DISK_MOUNT, 0);
}
