/* SPDX-License-Identifier: MIT */
/*
 * The kernel monitor: a small command prompt on the serial console that lets a user
 * inspect and power off the machine until the userspace shell exists (issue: KObj and
 * shell). It runs on the boot CPU's idle loop.
 */
#ifndef KERNEL_MONITOR_H
#define KERNEL_MONITOR_H

__attribute__((noreturn)) void monitor_run(void);
/* Runs one command line; returns false for unknown commands. Used by tests too. */
int monitor_execute(char *line);

#endif
