/* SPDX-License-Identifier: MIT */
/*
 * The last user crash report, kept for KObj (/crash/last, /crash/count in crash_kobj.c)
 * so the shell and the GUI can show it after the log has scrolled away.
 */
#ifndef KERNEL_PROC_CRASH_H
#define KERNEL_PROC_CRASH_H

#include <stddef.h>
#include "config.h"

/* Room for one report's text: what one KObj value holds. */
#define CRASH_REPORT_MAX CONFIG_KOBJ_VALUE_MAX

/* Replaces the kept report with text[0..length) (truncated to CRASH_REPORT_MAX) and
 * counts one more crash. Any context; takes a spinlock with interrupts off. */
void crash_record(const char *text, size_t length);

#endif
