/* SPDX-License-Identifier: MIT */
/*
 * Malformed executables: corrupted copies of a real static-PIE program, each written to
 * /tmp and exec'd in a child. A copy must either make execve return an errno or end only
 * its child (a signal, or running to an exit); the kernel must never fault and a child
 * must never outlive SIGKILL. Corruption i of `seed` is a pure function of both, so a
 * failure names the seed and index that replay it.
 *
 * Mutations: ELF header fields (ident, type, machine, entry, phoff, phentsize, phnum),
 * program header fields (type incl. PT_INTERP/PT_DYNAMIC/PT_TLS, flags, offset, vaddr,
 * filesz, memsz, align) set to edge values (zero, huge, wrapping, kernel-half,
 * non-canonical, unaligned, overlapping another segment), truncation and byte flips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fuzz.h"

#define ELF_PATH        "/tmp/fuzz-elf.vbin"
#define ELF_TIMEOUT_MS  1500
#define ELF_STREAM      0xe1f0e1f0e1f0ull
#define ELF_MUTATIONS   18
#define PHDR_SIZE       56
#define EXEC_FAILED_TAG 0x1000 /* progress value: tag + errno when execve returned */

static const uint64_t edges[] = {
    0, 1, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
    0x00007ffffffff000ull, 0x0000800000000000ull, 0xffff800000000000ull,
    0xffffffff80000000ull, UINT64_MAX - 0xfff, UINT64_MAX - 7, UINT64_MAX,
    0x0000400000000000ull, 1ull << 46, 1ull << 47, 1ull << 62, 1ull << 63,
};
#define EDGE_COUNT (sizeof(edges) / sizeof(edges[0]))

static void put(unsigned char *file, size_t size, uint64_t off, unsigned width, uint64_t v)
{
    for (unsigned i = 0; i < width; i++)
        if (off + i < size)
            file[off + i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *file, size_t size, uint64_t off, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        if (off + i < size)
            v |= (uint64_t)file[off + i] << (8 * i);
    return v;
}

static uint64_t edge_or_near(fuzz_rng_t *r, uint64_t near)
{
    switch (fuzz_below(r, 4)) {
    case 0: return near + fuzz_below(r, 0x2000) - 0x1000;
    case 1: return fuzz_next(r);
    default: return edges[fuzz_below(r, EDGE_COUNT)];
    }
}

/* Applies one corruption; returns the new size (truncation shrinks it). */
static size_t mutate(fuzz_rng_t *r, unsigned char *f, size_t size)
{
    uint64_t phoff = get(f, size, 32, 8);
    uint64_t phnum = get(f, size, 56, 2);
    uint64_t ph = phoff + fuzz_below(r, phnum ? phnum : 1) * PHDR_SIZE;
    uint64_t other = phoff + fuzz_below(r, phnum ? phnum : 1) * PHDR_SIZE;
    switch (fuzz_below(r, ELF_MUTATIONS)) {
    case 0: put(f, size, fuzz_below(r, 16), 1, fuzz_next(r)); break;
    case 1: put(f, size, 16, 2, fuzz_below(r, 2) ? fuzz_below(r, 5) : fuzz_next(r)); break;
    case 2: put(f, size, 18, 2, fuzz_below(r, 2) ? 3 : fuzz_next(r)); break;
    case 3: put(f, size, 24, 8, edge_or_near(r, get(f, size, 24, 8))); break;
    case 4: put(f, size, 32, 8, fuzz_below(r, 2) ? size - fuzz_below(r, 2 * PHDR_SIZE)
                                                 : edge_or_near(r, phoff)); break;
    case 5: put(f, size, 54, 2, fuzz_below(r, 2) ? PHDR_SIZE + fuzz_below(r, 3) - 1
                                                 : fuzz_next(r)); break;
    case 6: put(f, size, 56, 2, fuzz_below(r, 2) ? phnum + 1 : fuzz_next(r)); break;
    case 7: { /* segment type: INTERP, DYNAMIC, TLS, LOAD, GNU_STACK, PHDR or random */
        static const uint32_t types[] = { 3, 2, 7, 1, 0x6474e551, 6, 0, 0x60000000 };
        put(f, size, ph, 4, fuzz_below(r, 8) ? types[fuzz_below(r, 8)] : fuzz_next(r));
        break;
    }
    case 8: put(f, size, ph + 4, 4, fuzz_next(r) & 0xf); break;
    case 9: put(f, size, ph + 8, 8, edge_or_near(r, get(f, size, ph + 8, 8))); break;
    case 10: put(f, size, ph + 16, 8, edge_or_near(r, get(f, size, ph + 16, 8))); break;
    case 11: put(f, size, ph + 32, 8, edge_or_near(r, get(f, size, ph + 32, 8))); break;
    case 12: put(f, size, ph + 40, 8, edge_or_near(r, get(f, size, ph + 40, 8))); break;
    case 13: put(f, size, ph + 48, 8, fuzz_below(r, 2) ? fuzz_next(r) : edges[fuzz_below(r, EDGE_COUNT)]); break;
    case 14: return size ? 1 + fuzz_below(r, size) : 0;
    case 15:
        for (unsigned n = 1 + (unsigned)fuzz_below(r, 8); n; n--)
            f[fuzz_below(r, size < 4096 ? size : 4096)] ^= (unsigned char)(1u << fuzz_below(r, 8));
        break;
    case 16: /* PT_INTERP naming a real file */
        put(f, size, ph, 4, 3);
        put(f, size, ph + 8, 8, 0x40);
        put(f, size, ph + 32, 8, 16);
        break;
    default: /* a segment moved onto another one: overlapping ranges */
        put(f, size, ph + 16, 8, get(f, size, other + 16, 8) + fuzz_below(r, 0x3000));
        break;
    }
    return size;
}

static void exec_body(void *arg)
{
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    char *argv[] = { (char *)arg, NULL };
    char *envp[] = { NULL };
    execve((const char *)arg, argv, envp);
    fuzz_progress(EXEC_FAILED_TAG + (uint64_t)errno);
}

static int write_all(const char *path, const unsigned char *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, data, size);
    close(fd);
    return n == (ssize_t)size ? 0 : -1;
}

int fuzz_elf_run(uint64_t seed, unsigned count, const char *base_path)
{
    if (!count)
        return 0;
    static unsigned char base[256 * 1024], file[sizeof(base)];
    int fd = open(base_path, O_RDONLY);
    ssize_t base_size = fd < 0 ? -1 : read(fd, base, sizeof(base));
    if (fd >= 0)
        close(fd);
    if (base_size <= 0 || base_size == (ssize_t)sizeof(base)) {
        printf("fuzz: elf: cannot read %s\n", base_path);
        return 1;
    }
    unsigned errnos = 0, enoexec = 0, ran = 0, signalled = 0, timed_out = 0, bad = 0;
    for (unsigned i = 0; i < count; i++) {
        fuzz_rng_t r = fuzz_rng_at(seed ^ ELF_STREAM, i);
        memcpy(file, base, (size_t)base_size);
        size_t size = (size_t)base_size;
        for (unsigned n = 1 + (unsigned)fuzz_below(&r, 3); n; n--)
            size = mutate(&r, file, size);
        if (write_all(ELF_PATH, file, size)) {
            printf("fuzz: elf %u: cannot write %s\n", i, ELF_PATH);
            bad++;
            break;
        }
        int status = 0;
        uint64_t last;
        int w = fuzz_watch_child(exec_body, ELF_PATH, ELF_TIMEOUT_MS, &status, &last, 0);
        if (w < 0) {
            printf("fuzz: elf %u (seed=%llu): child hung or fork failed\n", i,
                   (unsigned long long)seed);
            bad++;
            if (bad > 3)
                break;
        } else if (w == 1) {
            timed_out++;
        } else if (last >= EXEC_FAILED_TAG) {
            errnos++;
            enoexec += last == EXEC_FAILED_TAG + ENOEXEC;
        } else if (WIFSIGNALED(status)) {
            signalled++;
        } else {
            ran++;
        }
    }
    unlink(ELF_PATH);
    printf("fuzz: elf: %u malformed executables: %u execve errors (%u ENOEXEC), %u ran and "
           "exited, %u killed by a signal, %u timed out, %u hung\n",
           count, errnos, enoexec, ran, signalled, timed_out, bad);
    return (int)bad;
}
