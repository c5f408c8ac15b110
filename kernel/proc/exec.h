/* SPDX-License-Identifier: MIT */
/* Program loading (kernel/proc/exec.c), internal to kernel/proc. */
#ifndef KERNEL_PROC_EXEC_H
#define KERNEL_PROC_EXEC_H

#include "proc/proc.h"

#define EXEC_PIE_BASE     0x0000400000000000ull /* fixed so gdb finds programs */
#define EXEC_STACK_TOP    0x00007ffff0000000ull
#define EXEC_STACK_INITIAL (128ull << 10)
#define EXEC_MAX_ARGS     256
#define EXEC_MAX_STRINGS  (64ull << 10)         /* argv + envp bytes */

typedef struct {
    uint64_t entry;
    uint64_t stack_pointer;
} exec_start_t;

/* Reads the program file at path (relative to cwd) into a kmalloc'd buffer the caller
 * frees. Regular files with an execute bit only (EACCES), at most
 * CONFIG_EXEC_FILE_MAX bytes (E2BIG... ENOEXEC for absurd sizes). */
int exec_read_file(vnode_t *cwd, const char *path, void **bytes, size_t *size);
/* Builds p->aspace from an ELF image in kernel memory and the initial stack with argv,
 * envp and the aux vector. Strings are kernel copies. Returns 0 or -VK_E*. */
int exec_load(process_t *p, const void *elf, size_t size, const char *path,
              const char *const *argv, const char *const *envp, exec_start_t *start);

#endif
