/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher behind syscall_entry (kernel/arch/x86_64/syscall.S). Two dense tables,
 * one for Linux numbers and one for the vkernel range, are generated from the X-macro
 * lists in include/vk/syscall.h, so a number can never be listed in one place and
 * handled under another.
 */
#include "sys/syscall.h"
#include "core/log.h"
#include "proc/proc.h"
#include "proc/signal.h"
#include "sched/sched.h"

#define LINUX_TABLE_SIZE 512
#define VK_TABLE_SIZE    64

typedef long (*syscall_fn_t)(const syscall_args_t *);

#define LINUX_ENTRY(name, nr) [nr] = sys_##name,
#define VK_ENTRY(name, nr) [(nr) - VK_SYSCALL_BASE] = sys_##name,
#define LINUX_NAME(name, nr) [nr] = #name,
#define VK_NAME(name, nr) [(nr) - VK_SYSCALL_BASE] = #name,
static syscall_fn_t const linux_table[LINUX_TABLE_SIZE] = { VK_SYSCALLS_LINUX(LINUX_ENTRY) };
static syscall_fn_t const vk_table[VK_TABLE_SIZE] = { VK_SYSCALLS_VK(VK_ENTRY) };
static const char *const linux_names[LINUX_TABLE_SIZE] = { VK_SYSCALLS_LINUX(LINUX_NAME) };
static const char *const vk_names[VK_TABLE_SIZE] = { VK_SYSCALLS_VK(VK_NAME) };

static uint64_t linux_counts[LINUX_TABLE_SIZE], vk_counts[VK_TABLE_SIZE];
static uint64_t enosys_total;
/* One flag per table slot, and the last for every number outside both tables: a
 * program looping over random numbers must not flood the log. */
static uint8_t enosys_logged[LINUX_TABLE_SIZE + VK_TABLE_SIZE + 1];
#define ENOSYS_OUT_OF_RANGE (LINUX_TABLE_SIZE + VK_TABLE_SIZE)

static long slot(uint64_t nr)
{
    if (nr < LINUX_TABLE_SIZE)
        return (long)nr;
    if (nr >= VK_SYSCALL_BASE && nr < VK_SYSCALL_BASE + VK_TABLE_SIZE)
        return LINUX_TABLE_SIZE + (long)(nr - VK_SYSCALL_BASE);
    return -1;
}

const char *syscall_name(uint64_t nr)
{
    long s = slot(nr);
    if (s < 0)
        return NULL;
    return s < LINUX_TABLE_SIZE ? linux_names[s] : vk_names[s - LINUX_TABLE_SIZE];
}

uint64_t syscall_count(uint64_t nr)
{
    long s = slot(nr);
    if (s < 0)
        return 0;
    return s < LINUX_TABLE_SIZE ? linux_counts[s] : vk_counts[s - LINUX_TABLE_SIZE];
}

uint64_t syscall_enosys_total(void)
{
    return enosys_total;
}

void syscall_request_full_restore(void)
{
    proc_thread_current()->full_restore = true;
}

int syscall_dispatch(arch_frame_t *f)
{
    sched_account_kernel_entry(); /* first, with interrupts still off */
    proc_thread_t *me = proc_thread_current();
    me->full_restore = false;
    /* A blocking call ends with EINTR while a signal waits for delivery; one that was
     * already delivered must not interrupt this call. */
    sched_interrupt_clear();
    if (signal_deliverable(me))
        sched_thread_interrupt(sched_current());
    arch_irq_enable();
    proc_check_group_exit(); /* the process is exiting: this thread goes too */
    syscall_args_t a = { { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 }, f };
    uint64_t nr = f->rax;
    long s = slot(nr);
    syscall_fn_t fn = NULL;
    if (s >= 0 && s < LINUX_TABLE_SIZE) {
        fn = linux_table[s];
        __atomic_fetch_add(&linux_counts[s], 1, __ATOMIC_RELAXED); /* from every CPU */
    } else if (s >= LINUX_TABLE_SIZE) {
        fn = vk_table[s - LINUX_TABLE_SIZE];
        __atomic_fetch_add(&vk_counts[s - LINUX_TABLE_SIZE], 1, __ATOMIC_RELAXED);
    }
    if (fn) {
        f->rax = (uint64_t)fn(&a);
    } else {
        __atomic_fetch_add(&enosys_total, 1, __ATOMIC_RELAXED);
        long flag = s < 0 ? ENOSYS_OUT_OF_RANGE : s;
        if (!enosys_logged[flag]) {
            const char *name = syscall_name(nr);
            process_t *p = proc_current();
            log_info("syscall %llu (%s) not implemented; %s[%u] gets ENOSYS%s",
                     (unsigned long long)nr, name ? name : "unknown", p ? p->name : "?",
                     p ? p->pid : 0, s < 0 ? " (numbers outside the tables: logged once)" : "");
            enosys_logged[flag] = 1;
        }
        f->rax = (uint64_t)-VK_ENOSYS;
    }
    proc_check_group_exit();
    /* A signal that became deliverable during the call runs its handler first. */
    bool interrupted = f->rax == (uint64_t)-VK_EINTR && nr != VK_SYS_rt_sigreturn;
    if (signal_deliver_pending(f, interrupted, nr))
        me->full_restore = true;
    /* SYSRET with a non-canonical RIP would fault in ring 0; RFLAGS from user space
     * must not turn on IOPL, NT or VM. */
    if (f->rip >= 0x0000800000000000ull) {
        log_error("syscall: non-canonical return address 0x%llx", (unsigned long long)f->rip);
        proc_kill_on_fault(f, 11, "bad return address");
    }
    f->rflags = (f->rflags & 0x0cd5ull) | 0x202;
    arch_irq_disable(); /* syscall_entry's own cli follows: nothing may run in between */
    sched_account_user_return();
    return me->full_restore;
}
