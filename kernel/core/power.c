/* SPDX-License-Identifier: MIT */
#include "core/power.h"
#include "core/log.h"
#include "acpi/acpi.h"
#include "fs/vfs.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "core/spinlock.h"

#define SIGINT 2

static spinlock_t lock = SPINLOCK_INIT; /* guards restart_pending; interrupts off */
static sched_wait_queue_t restart_requested = SCHED_WAIT_QUEUE_INIT;
static bool restart_pending;
static bool cad_restarts = true;

int power_off(const char *who)
{
    log_printf("%s: Powering off.\n", who);
    vfs_shutdown();
    int err = acpi_poweroff();
    log_printf("power-off failed (error %d): ACPI S5 is not available\n", err);
    return err;
}

int power_restart(const char *who)
{
    log_printf("%s: Rebooting.\n", who);
    vfs_shutdown();
    int err = acpi_reboot();
    log_printf("reboot failed (error %d)\n", err);
    return err;
}

static void restart_worker(void *arg)
{
    (void)arg;
    uint64_t f = spinlock_lock_irqsave(&lock);
    while (!restart_pending)
        sched_wait(&restart_requested, &lock);
    spinlock_unlock_irqrestore(&lock, f);
    power_restart("Ctrl+Alt+Delete");
}

void power_init(void)
{
    if (!sched_thread_create("power", restart_worker, NULL, SCHED_PRIORITY_INTERACTIVE_MIN))
        log_warn("power: no worker thread; Ctrl+Alt+Delete will not restart");
}

void power_ctrl_alt_del(void)
{
    if (!__atomic_load_n(&cad_restarts, __ATOMIC_ACQUIRE)) {
        proc_signal(1, SIGINT);
        return;
    }
    uint64_t f = spinlock_lock_irqsave(&lock);
    restart_pending = true;
    spinlock_unlock_irqrestore(&lock, f);
    sched_wake_all(&restart_requested);
}

void power_set_ctrl_alt_del(bool restart)
{
    __atomic_store_n(&cad_restarts, restart, __ATOMIC_RELEASE);
}
