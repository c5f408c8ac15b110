/* SPDX-License-Identifier: MIT */
/* Calls between the files of kernel/proc. Everything outside uses proc/proc.h. */
#ifndef KERNEL_PROC_PROC_INTERNAL_H
#define KERNEL_PROC_PROC_INTERNAL_H

#include "proc/proc.h"
#include "config.h"

/* proc.c */
#include "core/spinlock.h"
/* Every process, newest first, and the lock that guards the list, states, exit
 * statuses, process groups and sessions (interrupts off while held). */
extern spinlock_t proc_table_lock;
extern process_t *proc_table;
/* A fresh id from the pid space (pids and tids never collide). */
uint32_t proc_allocate_id(void);
/* The last thread of p has ended with this wait4 status: take its memory and files
 * down, make it a zombie and tell the parent. */
void proc_last_thread_ended(process_t *p, int status);

/* session.c: p is ending (lock held, p not yet a zombie, its children not yet
 * orphaned): a process group that p's end orphans and that has a stopped member gets
 * SIGHUP and SIGCONT. */
void proc_orphan_groups_of_locked(process_t *p);

/* thread.c */
proc_thread_t *proc_thread_new(process_t *p);
/* Starts t (linked into its process) on a scheduler thread of its own. 0 or -VK_ENOMEM
 * (then t is unlinked again; the caller frees it). */
int proc_thread_start(proc_thread_t *t, uint32_t tid);
/* t will start as a copy of the calling thread's registers at this syscall. */
void proc_thread_copy_registers(proc_thread_t *t, const arch_frame_t *frame,
                                const proc_clone_args_t *args);
/* execve in a process with several threads: every other thread ends first. 0, or
 * -VK_EINTR when an exit_group of another thread came first. */
int proc_become_single_threaded(void);

#endif
