/* SPDX-License-Identifier: MIT */
/* Process groups and sessions: setpgid, getpgid, getpgrp, setsid, getsid
 * (kernel/proc/session.c, docs/tty.md). */
#include "sys/syscall.h"
#include "proc/proc.h"

long sys_setpgid(const syscall_args_t *a)
{
    return proc_setpgid((long)(int32_t)a->arg[0], (long)(int32_t)a->arg[1]);
}

long sys_getpgid(const syscall_args_t *a)
{
    return proc_getpgid((long)(int32_t)a->arg[0]);
}

long sys_getpgrp(const syscall_args_t *a)
{
    (void)a;
    return proc_getpgid(0);
}

long sys_setsid(const syscall_args_t *a)
{
    (void)a;
    return proc_setsid();
}

long sys_getsid(const syscall_args_t *a)
{
    return proc_getsid((long)(int32_t)a->arg[0]);
}
