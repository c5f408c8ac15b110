/* SPDX-License-Identifier: MIT */
/*
 * Powering off and restarting the machine cleanly: every filesystem is flushed and
 * unmounted first (vfs_shutdown), then ACPI does the rest. The monitor, reboot(2) and
 * Ctrl+Alt+Delete all come through here.
 */
#ifndef KERNEL_CORE_POWER_H
#define KERNEL_CORE_POWER_H

#include <stdbool.h>

/* Start the worker that serves power_request_restart. Once, after the scheduler. */
void power_init(void);
/* Return only when ACPI could not do it: its error (logged). who names the caller. */
int power_off(const char *who);
int power_restart(const char *who);
/* Ctrl+Alt+Delete, from interrupt context. While it is enabled (the default) the
 * machine restarts cleanly from a kernel thread; disabled (reboot(2) with
 * LINUX_REBOOT_CMD_CAD_OFF), init gets SIGINT instead, as on Linux. */
void power_ctrl_alt_del(void);
void power_set_ctrl_alt_del(bool restart);

#endif
