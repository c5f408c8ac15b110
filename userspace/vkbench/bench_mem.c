/* SPDX-License-Identifier: MIT */
/*
 * vkbench: virtual memory and bulk data.
 *
 * page_fault writes one byte to each page of a fresh 16 MiB private anonymous mapping
 * and counts per page. It asks for MADV_NOHUGEPAGE first: Debian's kernel has
 * transparent huge pages set to "always", and 2 MiB pages would turn 4,096 faults into
 * 8 (vkernel accepts the advice and ignores it). mmap and munmap are timed together
 * without touching the memory. memcpy and file_read report per MiB; their buffers are
 * written once beforehand so no page fault lands in the timed region.
 *
 * memcpy's destination starts COPY_SKEW_BYTES into its mapping. Without that, source and
 * destination are a multiple of 1 MiB apart, each source page shares a slot in QEMU's
 * direct-mapped software TLB with its destination page, and plain TCG runs the copy ten
 * times slower (measured: 3.6 ms/MiB against 0.32 ms/MiB) until QEMU happens to grow
 * its TLB at a flush, which Linux's context switches trigger and a quiet vkernel does
 * not. Real CPUs have the same trap on a smaller scale (4 KiB aliasing).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "vkbench.h"

#define FAULT_MAPPING_BYTES (16 * VKBENCH_MIB)
#define COPY_BYTES          (16 * VKBENCH_MIB)
#define COPY_SKEW_BYTES     (33 * VKBENCH_PAGE_SIZE)
#define FILE_BYTES          (16 * VKBENCH_MIB)
#define FILE_CHUNK_BYTES    (64 * 1024)
#define FILE_PATH           "/tmp/vkbench.dat"

static void *map_anonymous(size_t size)
{
    return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

bool vkbench_page_fault(vkbench_run_t *run, uint64_t repeat)
{
    for (uint64_t r = 0; r < repeat; r++) {
        volatile unsigned char *p = map_anonymous(FAULT_MAPPING_BYTES);
        if (p == MAP_FAILED)
            return vkbench_unavailable(run, "mmap 16 MiB", errno);
        madvise((void *)p, FAULT_MAPPING_BYTES, MADV_NOHUGEPAGE);
        vkbench_start(run);
        for (size_t off = 0; off < FAULT_MAPPING_BYTES; off += VKBENCH_PAGE_SIZE)
            p[off] = 1;
        vkbench_stop(run, FAULT_MAPPING_BYTES / VKBENCH_PAGE_SIZE);
        if (munmap((void *)p, FAULT_MAPPING_BYTES) != 0)
            return vkbench_unavailable(run, "munmap 16 MiB", errno);
    }
    return true;
}

static bool map_unmap(vkbench_run_t *run, uint64_t repeat, size_t size, const char *what)
{
    vkbench_start(run);
    for (uint64_t i = 0; i < repeat; i++) {
        void *p = map_anonymous(size);
        if (p == MAP_FAILED)
            return vkbench_unavailable(run, what, errno);
        if (munmap(p, size) != 0)
            return vkbench_unavailable(run, what, errno);
    }
    vkbench_stop(run, repeat);
    return true;
}

bool vkbench_mmap_munmap_1m(vkbench_run_t *run, uint64_t repeat)
{
    return map_unmap(run, repeat, VKBENCH_MIB, "mmap/munmap 1 MiB");
}

bool vkbench_mmap_munmap_4k(vkbench_run_t *run, uint64_t repeat)
{
    return map_unmap(run, repeat, VKBENCH_PAGE_SIZE, "mmap/munmap 4 KiB");
}

bool vkbench_memcpy_16m(vkbench_run_t *run, uint64_t repeat)
{
    unsigned char *src = map_anonymous(COPY_BYTES);
    if (src == MAP_FAILED)
        return vkbench_unavailable(run, "mmap 16 MiB", errno);
    unsigned char *dst_map = map_anonymous(COPY_SKEW_BYTES + COPY_BYTES);
    if (dst_map == MAP_FAILED) {
        int err = errno;
        munmap(src, COPY_BYTES);
        return vkbench_unavailable(run, "mmap 16 MiB", err);
    }
    unsigned char *dst = dst_map + COPY_SKEW_BYTES;
    memset(src, 0x5a, COPY_BYTES);
    memset(dst, 0, COPY_BYTES);
    vkbench_start(run);
    for (uint64_t r = 0; r < repeat; r++) {
        memcpy(dst, src, COPY_BYTES);
        __asm__ volatile("" : : "r"(dst) : "memory"); /* the copy is used */
    }
    vkbench_stop(run, repeat * (COPY_BYTES / VKBENCH_MIB));
    bool ok = dst[COPY_BYTES - 1] == 0x5a ||
              vkbench_unavailable(run, "memcpy: wrong data in the destination", 0);
    munmap(src, COPY_BYTES);
    munmap(dst_map, COPY_SKEW_BYTES + COPY_BYTES);
    return ok;
}

/* Fills the benchmark file; false (with the reason set) if any write falls short. */
static bool write_file(vkbench_run_t *run, int fd, unsigned char *chunk)
{
    memset(chunk, 0xa5, FILE_CHUNK_BYTES);
    for (size_t done = 0; done < FILE_BYTES; done += FILE_CHUNK_BYTES)
        if (write(fd, chunk, FILE_CHUNK_BYTES) != FILE_CHUNK_BYTES)
            return vkbench_unavailable(run, "write " FILE_PATH, errno ? errno : ENOSPC);
    return true;
}

bool vkbench_file_read_16m(vkbench_run_t *run, uint64_t repeat)
{
    static unsigned char chunk[FILE_CHUNK_BYTES];

    int fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return vkbench_unavailable(run, "open " FILE_PATH, errno);
    bool ok = write_file(run, fd, chunk);
    for (uint64_t r = 0; ok && r < repeat; r++) {
        if (lseek(fd, 0, SEEK_SET) != 0) {
            ok = vkbench_unavailable(run, "lseek", errno);
            break;
        }
        vkbench_start(run);
        for (size_t done = 0; done < FILE_BYTES; done += FILE_CHUNK_BYTES) {
            if (read(fd, chunk, FILE_CHUNK_BYTES) != FILE_CHUNK_BYTES) {
                ok = vkbench_unavailable(run, "read " FILE_PATH, errno ? errno : EIO);
                break;
            }
        }
        vkbench_stop(run, FILE_BYTES / VKBENCH_MIB);
    }
    close(fd);
    unlink(FILE_PATH);
    return ok;
}
