/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the FAT32 host tests (tests/host/test_fat32_*.c): the library's
 * sources, a file-backed device made with mkfs.fat in a temporary file, and helpers that
 * check the result with the host's fsck.fat and mtools (MTOOLS_SKIP_CHECK=1, UTF-8
 * locale so long names come back as written).
 */
#ifndef TESTS_HOST_FAT32_FIXTURE_H
#define TESTS_HOST_FAT32_FIXTURE_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include "htest.h"
#include "../../src/lib/fmt.c"
#include "../../src/lib/fat32/volume.c"
#include "../../src/lib/fat32/fat.c"
#include "../../src/lib/fat32/name.c"
#include "../../src/lib/fat32/dir.c"
#include "../../src/lib/fat32/file.c"
#include "../../src/lib/fat32/ops.c"

#define FIX_IMAGE_MIB 40  /* 512-byte clusters: about 80,000 clusters, above FAT32's minimum */

typedef struct {
    char path[64];
    int fd;
    int64_t clock;
    char last_log[256];
    int log_count;
    fat32_ops_t ops;
} fix_image_t;

static inline int fix_read(void *ctx, uint64_t sector, uint32_t count, void *buf)
{
    fix_image_t *im = ctx;
    size_t n = (size_t)count * im->ops.sector_size;
    return pread(im->fd, buf, n, (off_t)(sector * im->ops.sector_size)) == (ssize_t)n ? 0 : -5;
}

static inline int fix_write(void *ctx, uint64_t sector, uint32_t count, const void *buf)
{
    fix_image_t *im = ctx;
    size_t n = (size_t)count * im->ops.sector_size;
    return pwrite(im->fd, buf, n, (off_t)(sector * im->ops.sector_size)) == (ssize_t)n ? 0 : -5;
}

static inline int fix_flush(void *ctx) { return 0; }
static inline void *fix_alloc(void *ctx, size_t n) { return malloc(n); }
static inline void fix_free(void *ctx, void *p) { free(p); }
static inline int64_t fix_now(void *ctx) { return ((fix_image_t *)ctx)->clock; }

static inline void fix_log(void *ctx, const char *msg)
{
    fix_image_t *im = ctx;
    snprintf(im->last_log, sizeof(im->last_log), "%s", msg);
    im->log_count++;
}

static inline int fix_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int fix_sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Output of a shell command (malloc'd, NUL-terminated); *size gets its length. */
static inline char *fix_capture(size_t *size, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline char *fix_capture(size_t *size, const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    size_t got;
    while (p && (got = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 2)
            out = realloc(out, cap *= 2);
    }
    if (p)
        pclose(p);
    out[n] = 0;
    if (size)
        *size = n;
    return out;
}

/* Unbuffered output, so a crash does not swallow the lines before it. */
__attribute__((constructor)) static void fix_unbuffered(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
}

static inline void fix_setup_env(void)
{
    setenv("MTOOLS_SKIP_CHECK", "1", 1);
    setenv("LC_ALL", "C.UTF-8", 1);
}

/* A fresh image made by mkfs.fat with extra options (e.g. "-s 1"). */
static inline void fix_open(fix_image_t *im, unsigned mib, const char *mkfs_options)
{
    memset(im, 0, sizeof(*im));
    fix_setup_env();
    snprintf(im->path, sizeof(im->path), "/tmp/vk-fat32-XXXXXX");
    im->fd = mkstemp(im->path);
    if (im->fd < 0 || ftruncate(im->fd, (off_t)mib << 20) != 0)
        abort();
    if (fix_sh("mkfs.fat -F 32 %s -n VKTEST %s >/dev/null", mkfs_options, im->path) != 0)
        abort();
    im->clock = 1700000000; /* 2023-11-14 22:13:20 UTC */
    im->ops = (fat32_ops_t){
        .context = im, .sector_size = 512, .sector_count = ((uint64_t)mib << 20) / 512,
        .read = fix_read, .write = fix_write, .flush = fix_flush, .alloc = fix_alloc,
        .free = fix_free, .now = fix_now, .log = fix_log,
    };
}

static inline void fix_close(fix_image_t *im)
{
    close(im->fd);
    unlink(im->path);
}

static inline fat32_volume_t *fix_mount(fix_image_t *im)
{
    fat32_volume_t *vol = NULL;
    int err = fat32_mount(&im->ops, &vol, NULL);
    if (err) {
        printf("  mount failed %d: %s\n", err, im->last_log);
        return NULL;
    }
    return vol;
}

/* fsck.fat -n finds nothing to fix. */
static inline bool fix_fsck_clean(fix_image_t *im)
{
    char *out = fix_capture(NULL, "fsck.fat -n %s 2>&1; echo rc=$?", im->path);
    bool ok = strstr(out, "rc=0") && !strstr(out, "differ") && !strstr(out, "Dirty") &&
              !strstr(out, "orrect") && !strstr(out, "wrong");
    if (!ok)
        printf("  fsck.fat says:\n%s\n", out);
    free(out);
    return ok;
}

/* A fresh image (512-byte clusters), mounted; *root gets its root directory. */
static inline fat32_volume_t *fix_start(fix_image_t *im, fat32_node_t *root)
{
    fix_open(im, FIX_IMAGE_MIB, "-s 1");
    fat32_volume_t *vol = fix_mount(im);
    if (vol)
        fat32_root(vol, root);
    return vol;
}

/* Unmounts; true when that worked and fsck.fat finds nothing to fix. */
static inline bool fix_unmount_clean(fix_image_t *im, fat32_volume_t *vol)
{
    int err = fat32_unmount(vol);
    if (err)
        printf("  unmount: %d\n", err);
    return fix_fsck_clean(im) && err == 0;
}

/* The file's bytes as mtype reads them. */
static inline char *fix_mtype(fix_image_t *im, const char *path, size_t *size)
{
    return fix_capture(size, "mtype -i %s '::%s' 2>/dev/null", im->path, path);
}

/* mtools reads back exactly `len` bytes of `want` at path. */
static inline bool fix_mtools_has(fix_image_t *im, const char *path, const void *want, size_t len)
{
    size_t n;
    char *got = fix_mtype(im, path, &n);
    bool ok = n == len && (len == 0 || memcmp(got, want, len) == 0);
    if (!ok)
        printf("  mtype %s: %zu bytes, want %zu\n", path, n, len);
    free(got);
    return ok;
}

/* mdir -b -/ (recursive bare listing, one "::/path" a line, directories end in '/'). */
static inline char *fix_mdir(fix_image_t *im)
{
    return fix_capture(NULL, "mdir -i %s -b -/ :: 2>/dev/null", im->path);
}

static inline bool fix_listed(const char *listing, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = listing; (p = strstr(p, line)) != NULL; p++)
        if ((p == listing || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

#endif
