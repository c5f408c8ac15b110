/* SPDX-License-Identifier: MIT */
/*
 * Signals (kernel/proc/signal.c): Linux numbering, default actions, handler frames in
 * the x86-64 rt_sigframe layout so musl's sigsetjmp/ucontext users work unmodified.
 */
#ifndef KERNEL_PROC_SIGNAL_H
#define KERNEL_PROC_SIGNAL_H

#include <stdbool.h>
#include "proc/proc.h"

#define SIG_HUP 1
#define SIG_KILL 9
#define SIG_CHLD 17
#define SIG_CONT 18
#define SIG_STOP 19

static inline uint64_t signal_bit(int sig) { return 1ull << (sig - 1); }

/* Marks sig pending on p (delivered when p next returns to ring 3). */
void signal_raise(process_t *p, int sig);
/* True when sp lies on t's alternate signal stack. */
bool signal_on_altstack(const proc_thread_t *t, uint64_t sp);
/* Marks sig pending for thread t alone (tkill, tgkill, pthread_kill). */
void signal_raise_thread(proc_thread_t *t, int sig);
/* True when t's process has a pending signal t does not block (SIGKILL always
 * counts). */
bool signal_deliverable(const proc_thread_t *t);
/* On the way back to ring 3 from a syscall: delivers one pending, unblocked signal.
 * Returns true if the frame now enters a handler (leave through IRET). May not return
 * (the default action ended the process).
 *
 * interrupted: the syscall returned -EINTR because a signal interrupted it. It is
 * restarted (RIP back over the SYSCALL instruction, RAX its number again) when no
 * handler runs, or when the handler has SA_RESTART and the call is not one that POSIX
 * always ends with EINTR (sleeps, poll, select). */
bool signal_deliver_pending(arch_frame_t *f, bool interrupted, uint64_t nr);
/* The arch user_return hook: an interrupt returns to ring 3 through f. Ends the thread
 * when its process is exiting, and delivers a pending signal, so code in a loop with
 * no syscalls still sees kill and exit_group. */
void signal_on_interrupt_return(arch_frame_t *f);
/* A fault in ring 3: run the program's handler if it has an unblocked one, else end
 * the process with a report. Returns only when the handler frame is set up. */
void signal_deliver_fault(const arch_frame_t *f, int sig, const char *what);
/* rt_sigreturn: restores the frame saved by a handler entry; -VK_EFAULT if it is gone. */
int signal_return(arch_frame_t *f);

#endif
