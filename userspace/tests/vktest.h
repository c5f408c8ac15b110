/* SPDX-License-Identifier: MIT */
/*
 * The tiny harness the in-guest test programs share: vktest_check() prints one
 * "PASS name" or "FAIL name: detail" line (the integration runner turns each into a
 * result) and vktest_finish() prints "<program>: N passed, N failed" and gives the exit
 * status. Header-only so each test stays a single program directory.
 */
#ifndef USERSPACE_TESTS_VKTEST_H
#define USERSPACE_TESTS_VKTEST_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int vktest_passed, vktest_failed;

static inline void vktest_check(int ok, const char *name, const char *detail)
{
    if (ok)
        printf("PASS %s\n", name);
    else
        printf("FAIL %s: %s\n", name, detail);
    fflush(stdout); /* children fork and die; nothing may stay buffered */
    if (ok)
        vktest_passed++;
    else
        vktest_failed++;
}

static inline int vktest_finish(const char *program)
{
    printf("%s: %d passed, %d failed\n", program, vktest_passed, vktest_failed);
    fflush(stdout);
    return vktest_failed != 0;
}

/* Free physical memory as /kobj/mem/free reports it, in bytes; 0 if unreadable. */
static inline unsigned long long vktest_free_memory(void)
{
    char buf[32] = "";
    int fd = open("/kobj/mem/free", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return strtoull(buf, NULL, 10);
}

/* The number in a "name=N" argument (decimal, 0x hex or 0 octal), or fallback. */
static inline uint64_t vktest_option(int argc, char **argv, const char *name, uint64_t fallback)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], name, len) && argv[i][len] == '=')
            return strtoull(argv[i] + len + 1, NULL, 0);
    return fallback;
}

#endif
