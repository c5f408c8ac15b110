/* SPDX-License-Identifier: MIT */
/*
 * Built on the host with Debian's own musl-gcc (musl-tools), not vk-cc: a plain static
 * Linux executable (ET_EXEC at Linux's usual address, no vk_api, no libvk). vkernel must
 * run it unmodified. Prints PASS/FAIL lines and "musl-gcc-hello: N passed, N failed".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed;

static void check(int ok, const char *name)
{
    printf("%s %s\n", ok ? "PASS" : "FAIL", name);
    fflush(stdout);
    ok ? passed++ : failed++;
}

int main(int argc, char **argv)
{
    check(argc >= 1 && strstr(argv[0], "musl-gcc-hello") != NULL, "argv_passed");
    char *heap = malloc(1 << 20);
    check(heap != NULL, "malloc_one_mib");
    if (heap) {
        memset(heap, 0x5a, 1 << 20);
        check(heap[(1 << 20) - 1] == 0x5a, "heap_writable");
        free(heap);
    }
    int p[2];
    check(pipe(p) == 0, "pipe");
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        const char msg[] = "from the child";
        write(p[1], msg, sizeof(msg));
        _exit(7);
    }
    close(p[1]);
    char buf[32] = "";
    ssize_t n = read(p[0], buf, sizeof(buf));
    int status = 0;
    check(c > 0 && n == 15 && strcmp(buf, "from the child") == 0, "fork_and_pipe");
    check(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "wait_status");
    int fd = open("/tmp/musl-gcc-hello", O_CREAT | O_RDWR | O_TRUNC, 0644);
    check(fd >= 0 && write(fd, "abc", 3) == 3 && lseek(fd, 0, SEEK_SET) == 0 &&
              read(fd, buf, 3) == 3 && memcmp(buf, "abc", 3) == 0,
          "file_round_trip");
    struct stat st;
    check(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 3, "fstat_size");
    close(fd);
    struct timespec t0, t1, nap = { 0, 20000000 };
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    check(ms >= 20, "nanosleep_and_clock");
    printf("musl-gcc-hello: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
