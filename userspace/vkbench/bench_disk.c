/* SPDX-License-Identifier: MIT */
/*
 * Disk benchmarks on a directory of a real disk filesystem: DISK_DIR, or $VKBENCH_DISK_DIR
 * (vkernel mounts its FAT32 data partition on /data). Where the directory is missing the
 * benchmarks report n/a.
 *
 *  - disk_write_16m: sequential 64 KiB writes of a 16 MiB file, then fsync (per MiB).
 *  - disk_read_16m: sequential 64 KiB reads of that file after the caches were dropped
 *    (vkernel: /kobj/fs/cache/max_blocks lowered and restored; Linux:
 *    /proc/sys/vm/drop_caches), so the bytes come from the device (per MiB).
 *  - disk_create_small: create, write 4 KiB and close a new file in one directory, with
 *    one sync at the end inside the timed part (per file).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vkbench.h"

#define DISK_DIR         "/data"
#define DISK_FILE_BYTES  (16ul * VKBENCH_MIB)
#define DISK_CHUNK_BYTES (64ul * 1024ul)
#define SMALL_FILE_BYTES 4096ul

static unsigned char chunk[DISK_CHUNK_BYTES];

static const char *disk_dir(void)
{
    const char *dir = getenv("VKBENCH_DISK_DIR");
    return dir && *dir ? dir : DISK_DIR;
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

bool vkbench_disk_write_16m(vkbench_run_t *run, uint64_t repeat)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/vkbench-seq.bin", disk_dir());
    bool ok = true;
    for (uint64_t r = 0; ok && r < repeat; r++)
        ok = write_big_file(run, path, true);
    unlink(path);
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
static bool drop_caches(void)
{
    sync();
    if (put_text("/kobj/fs/cache/max_blocks", "16"))
        return put_text("/kobj/fs/cache/max_blocks", "4096");
    return put_text("/proc/sys/vm/drop_caches", "3");
}

bool vkbench_disk_read_16m(vkbench_run_t *run, uint64_t repeat)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/vkbench-seq.bin", disk_dir());
    bool ok = write_big_file(run, path, false);
    int fd = ok ? open(path, O_RDONLY) : -1;
    if (ok && fd < 0)
        ok = vkbench_unavailable(run, "open", errno);
    for (uint64_t r = 0; ok && r < repeat; r++) {
        if (!drop_caches()) {
            ok = vkbench_unavailable(run, "no way to drop the caches", 0);
            break;
        }
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
    unlink(path);
    return ok;
}

bool vkbench_disk_create_small(vkbench_run_t *run, uint64_t repeat)
{
    char dir[256], path[300];
    snprintf(dir, sizeof(dir), "%s/vkbench-small", disk_dir());
    if (mkdir(dir, 0755) && errno != EEXIST)
        return vkbench_unavailable(run, "mkdir (disk directory)", errno);
    memset(chunk, 0x5a, SMALL_FILE_BYTES);
    bool ok = true;
    vkbench_start(run);
    uint64_t made = 0;
    for (; ok && made < repeat; made++) {
        snprintf(path, sizeof(path), "%s/f%05llu", dir, (unsigned long long)made);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, chunk, SMALL_FILE_BYTES) != (ssize_t)SMALL_FILE_BYTES)
            ok = vkbench_unavailable(run, "create", errno ? errno : ENOSPC);
        if (fd >= 0)
            close(fd);
    }
    sync();
    if (ok)
        vkbench_stop(run, repeat);
    for (uint64_t i = 0; i < made; i++) {
        snprintf(path, sizeof(path), "%s/f%05llu", dir, (unsigned long long)i);
        unlink(path);
    }
    rmdir(dir);
    return ok;
}
