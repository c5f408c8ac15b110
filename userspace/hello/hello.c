/* SPDX-License-Identifier: MIT */
/*
 * hello: the first vkernel program. Prints a greeting, its arguments one per line and
 * how many environment strings it received, then exits 0. Exercises the initial stack
 * layout (argc, argv, envp) and write() through musl's stdio.
 */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv)
{
    int envc = 0;

    printf("Hello from vkernel userspace!\n");
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **env = environ; env && *env; env++)
        envc++;
    printf("envc=%d\n", envc);
    return 0;
}
