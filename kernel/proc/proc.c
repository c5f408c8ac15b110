/* SPDX-License-Identifier: MIT */
/*
 * Process lifecycle: spawn (load + run to completion, see proc.h), exit, faults, reaping.
 *
 * Programs come from boot modules for now: "/bin/NAME" and "NAME" both find the module
 * "modules/NAME" that the loader read from \boot\modules on the ESP. FIXME(issue:
 * storage): look paths up in the VFS, keeping the boot modules as a ramfs fallback.
 */
#include "proc/proc.h"
#include "proc/exec.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/panic.h"
#include "core/string.h"
#include "lib/fmt.h"
#include "lib/symmap.h"
#include "config.h"
#include "mm/usercopy.h"
#include "mm/mm.h"
#include "time/time.h"
#include "arch/x86_64/arch.h"
#include <vk/errno.h>
#include <vk/vk.h>

#define PROC_BACKTRACE_MAX_FRAMES 16

/* Single CPU, no preemption between processes yet: the list is only touched by the
 * running process's syscalls with interrupts irrelevant to it. FIXME: a lock with SMP. */
static process_t *current;
static process_t *all;
static uint32_t next_pid = 1;

process_t *proc_current(void)
{
    return current;
}

static const char *path_basename(const char *path)
{
    const char *base = path;
    for (const char *s = path; *s; s++)
        if (*s == '/')
            base = s + 1;
    return base;
}

static const vk_boot_module_t *find_program(const char *path)
{
    char name[VK_BOOT_MODULE_NAME_MAX];
    fmt_snprintf(name, sizeof(name), "modules/%s", path_basename(path));
    return kernel_find_module(name);
}

unsigned proc_live_count(void)
{
    unsigned n = 0;
    for (process_t *p = all; p; p = p->next)
        n++;
    return n;
}

static void free_process(process_t *p)
{
    if (p->aspace)
        aspace_destroy(p->aspace);
    kfree(p);
}

long proc_spawn(const char *path, const char *const *argv, const char *const *envp, int *status)
{
    const vk_boot_module_t *m = find_program(path);
    if (!m)
        return -VK_ENOENT;
    if (proc_live_count() >= CONFIG_PROC_MAX) {
        log_warn("proc: CONFIG_PROC_MAX (%d) processes (zombies included) reached; "
                 "spawn of %s refused", CONFIG_PROC_MAX, path);
        return -VK_EAGAIN;
    }
    process_t *p = kzalloc(sizeof(*p));
    if (!p)
        return -VK_ENOMEM;
    p->aspace = aspace_create();
    if (!p->aspace) {
        kfree(p);
        return -VK_ENOMEM;
    }
    p->pid = next_pid++;
    p->parent_pid = current ? current->pid : 0;
    p->console_fds = 0x7; /* stdin, stdout, stderr on the console */
    strlcpy(p->name, path_basename(path), sizeof(p->name));
    exec_start_t start;
    int err = exec_load(p, phys_to_virt(m->base), m->size, path, argv, envp, &start);
    if (err) {
        log_warn("proc: cannot start %s: error %d", path, err);
        free_process(p);
        return err;
    }

    /* Suspend the parent (if any) and run the child on the stack below us. The parent's
     * FPU/SSE registers are its own: the child must neither see nor clobber them. */
    process_t *parent = current;
    uint64_t parent_kernel_stack = arch_kernel_stack();
    arch_fpu_state_t *parent_fpu = NULL;
    if (parent) {
        parent_fpu = kmalloc(sizeof(*parent_fpu));
        if (!parent_fpu) {
            free_process(p);
            return -VK_ENOMEM;
        }
        arch_fpu_save(parent_fpu);
    }
    arch_fpu_reset();
    p->state = PROC_RUNNING;
    p->start_ns = time_monotonic_ns();
    p->next = all;
    all = p;
    current = p;
    aspace_activate(p->aspace);
    arch_set_user_fs(0);
    log_debug("proc: %s[%u] starts at 0x%llx", p->name, p->pid, (unsigned long long)start.entry);
    p->exit_status = arch_user_enter(start.entry, start.stack_pointer, &p->resume);

    /* The child has ended (proc_exit / proc_kill_on_fault resumed us here). */
    arch_irq_enable();
    p->state = PROC_ZOMBIE;
    current = parent;
    aspace_activate(parent ? parent->aspace : NULL);
    arch_set_kernel_stack(parent_kernel_stack);
    arch_set_user_fs(parent ? parent->fs_base : 0);
    if (parent_fpu) {
        arch_fpu_restore(parent_fpu);
        kfree(parent_fpu);
    }
    aspace_destroy(p->aspace);
    p->aspace = NULL;
    if (status)
        *status = p->exit_status;
    return p->pid;
}

void proc_exit(int wait_status)
{
    process_t *p = current;
    KASSERT(p != NULL);
    arch_irq_disable();
    arch_user_resume(p->resume, wait_status);
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case 4: return "SIGILL";
    case 5: return "SIGTRAP";
    case 7: return "SIGBUS";
    case 8: return "SIGFPE";
    case 11: return "SIGSEGV";
    default: return "signal";
    }
}

/* The program's symbol map ("modules/NAME.map", made at build time), or NULL. */
static const vk_boot_module_t *find_symbols(const process_t *p)
{
    char name[VK_BOOT_MODULE_NAME_MAX];
    fmt_snprintf(name, sizeof(name), "modules/%s.map", p->name);
    return kernel_find_module(name);
}

static void describe_user(const process_t *p, const vk_boot_module_t *map, uint64_t addr,
                          char *out, size_t size)
{
    symmap_result_t r;
    if (map && addr >= p->image_base && addr < p->image_end &&
        symmap_lookup(phys_to_virt(map->base), map->size, addr - p->image_base, &r))
        fmt_snprintf(out, size, "%s+0x%llx", r.name, (unsigned long long)r.offset);
    else
        fmt_snprintf(out, size, "?");
}

/* Frame pointers of the dead program, read through the checked user-copy path (its
 * address space is still the active one). Stops at the first unreadable frame. */
static void report_backtrace(const process_t *p, uint64_t rip, uint64_t rbp)
{
    const vk_boot_module_t *map = find_symbols(p);
    char name[128];
    describe_user(p, map, rip, name, sizeof(name));
    log_error("  #0  0x%llx %s", (unsigned long long)rip, name);
    for (unsigned i = 1; i < PROC_BACKTRACE_MAX_FRAMES && rbp; i++) {
        uint64_t frame[2];
        if (usercopy_from(frame, rbp, sizeof(frame)) != 0 || frame[1] == 0)
            break;
        describe_user(p, map, frame[1] - 1, name, sizeof(name));
        log_error("  #%-2u 0x%llx %s", i, (unsigned long long)frame[1], name);
        if (frame[0] <= rbp)
            break; /* frames only go up the stack */
        rbp = frame[0];
    }
    if (!map)
        log_error("  (no symbol map modules/%s.map)", p->name);
}

void proc_kill_on_fault(const arch_frame_t *f, int sig, const char *what)
{
    process_t *p = current;
    KASSERT(p != NULL);
    char where[64] = "";
    if (f->rip >= p->image_base && f->rip < p->image_end)
        fmt_snprintf(where, sizeof(where), " (image+0x%llx)",
                     (unsigned long long)(f->rip - p->image_base));
    char address[48] = "";
    if (f->vector == 14)
        fmt_snprintf(address, sizeof(address), ", address 0x%llx",
                     (unsigned long long)arch_read_cr2());
    log_error("%s[%u] killed by %s: %s at rip 0x%llx%s%s, error 0x%llx", p->name, p->pid,
              signal_name(sig), what, (unsigned long long)f->rip, where, address,
              (unsigned long long)f->error_code);
    log_error("  rsp 0x%llx rbp 0x%llx rax 0x%llx rdi 0x%llx rsi 0x%llx",
              (unsigned long long)f->rsp, (unsigned long long)f->rbp,
              (unsigned long long)f->rax, (unsigned long long)f->rdi,
              (unsigned long long)f->rsi);
    report_backtrace(p, f->rip, f->rbp);
    proc_exit(sig);
}

process_t *proc_find(long pid)
{
    for (process_t *p = all; p; p = p->next)
        if ((long)p->pid == pid && p->state == PROC_RUNNING)
            return p;
    return NULL;
}

long proc_reap(long pid, int *status)
{
    process_t **link = &all;
    for (process_t *p = all; p; link = &p->next, p = p->next) {
        if (p->state != PROC_ZOMBIE || (current && p->parent_pid != current->pid))
            continue;
        if (!current && p->parent_pid != 0)
            continue;
        if (pid != -1 && (long)p->pid != pid)
            continue;
        long got = p->pid;
        if (status)
            *status = p->exit_status;
        *link = p->next;
        free_process(p);
        return got;
    }
    return 0;
}

unsigned proc_snapshot(void *out, unsigned max)
{
    vk_task_info_t *t = out;
    unsigned n = 0;
    uint64_t now = time_monotonic_ns();
    for (process_t *p = all; p && n < max; p = p->next, n++) {
        memset(&t[n], 0, sizeof(t[n]));
        t[n].pid = p->pid;
        t[n].parent_pid = p->parent_pid;
        t[n].state = p->state == PROC_ZOMBIE ? VK_TASK_ZOMBIE : VK_TASK_RUNNING;
        t[n].cpu_time_ns = p->state == PROC_ZOMBIE ? 0 : now - p->start_ns;
        t[n].resident_bytes = p->aspace ? aspace_resident_pages(p->aspace) * PAGE_SIZE : 0;
        strlcpy(t[n].name, p->name, sizeof(t[n].name));
    }
    return n;
}
