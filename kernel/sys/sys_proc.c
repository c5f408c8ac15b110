/* SPDX-License-Identifier: MIT */
/* Process and identity syscalls. */
#include "sys/syscall.h"
#include "fs/vfs.h"
#include "proc/proc.h"
#include "sched/sched.h"
#include "mm/mm.h"
#include "mm/usercopy.h"
#include "core/string.h"
#include "core/kernel.h"
#include "core/log.h"
#include "core/power.h"
#include "lib/fmt.h"
#include "config.h"
#include "arch/x86_64/arch.h"
#include "acpi/acpi.h"
#include "kobj/kobj.h"
#include <vk/vk.h>

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define SPAWN_MAX_ARGS 256          /* argv or envp entries */
#define SPAWN_STRINGS_BYTES (32 << 10) /* argv or envp bytes */

long sys_exit(const syscall_args_t *a)
{
    proc_thread_exit((int)((a->arg[0] & 0xff) << 8)); /* this thread only */
}

long sys_exit_group(const syscall_args_t *a)
{
    proc_exit((int)((a->arg[0] & 0xff) << 8));
}

long sys_getpid(const syscall_args_t *a) { (void)a; return proc_current()->pid; }
long sys_gettid(const syscall_args_t *a) { (void)a; return proc_thread_current()->tid; }
/* An orphan reports init's pid, as on Linux, where init adopts it. */
long sys_getppid(const syscall_args_t *a)
{
    (void)a;
    uint32_t parent = proc_current()->parent_pid;
    return parent == PROC_ORPHAN ? 1 : parent;
}
long sys_getuid(const syscall_args_t *a) { (void)a; return 0; }
long sys_geteuid(const syscall_args_t *a) { (void)a; return 0; }
long sys_getgid(const syscall_args_t *a) { (void)a; return 0; }
long sys_getegid(const syscall_args_t *a) { (void)a; return 0; }

long sys_set_tid_address(const syscall_args_t *a)
{
    proc_thread_t *t = proc_thread_current();
    t->clear_child_tid = a->arg[0];
    return t->tid;
}

long sys_set_robust_list(const syscall_args_t *a)
{
    /* The list matters only to threads dying with futexes held (issue: scheduler). */
    return a->arg[1] == 24 ? 0 : -VK_EINVAL;
}

long sys_arch_prctl(const syscall_args_t *a)
{
    proc_thread_t *t = proc_thread_current();
    switch (a->arg[0]) {
    case ARCH_SET_FS:
        if (a->arg[1] >= 0x0000800000000000ull)
            return -VK_EPERM;
        t->fs_base = a->arg[1];
        arch_set_user_fs(t->fs_base);
        return 0;
    case ARCH_GET_FS:
        return usercopy_to(a->arg[1], &t->fs_base, sizeof(t->fs_base));
    default:
        return -VK_EINVAL;
    }
}

long sys_sched_yield(const syscall_args_t *a)
{
    (void)a;
    sched_yield();
    return 0;
}

long sys_vk_yield(const syscall_args_t *a)
{
    return sys_sched_yield(a);
}

struct linux_utsname {
    char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

long sys_uname(const syscall_args_t *a)
{
    struct linux_utsname u;
    memset(&u, 0, sizeof(u));
    strlcpy(u.sysname, "vkernel", sizeof(u.sysname));
    strlcpy(u.nodename, "vkernel", sizeof(u.nodename));
    strlcpy(u.release, KERNEL_VERSION, sizeof(u.release));
    strlcpy(u.version, kernel_banner(), sizeof(u.version));
    strlcpy(u.machine, "x86_64", sizeof(u.machine));
    return usercopy_to(a->arg[0], &u, sizeof(u));
}

/* Copies a NULL-terminated user array of strings into buf; vec gets kernel pointers. */
static long copy_string_vector(uint64_t user_vec, const char **vec, unsigned max, char *buf,
                               size_t bufsize)
{
    size_t used = 0;
    unsigned n = 0;
    for (; user_vec; n++) {
        uint64_t ptr;
        if (n == max)
            return -VK_E2BIG;
        int err = usercopy_from(&ptr, user_vec + 8ull * n, sizeof(ptr));
        if (err)
            return err;
        if (!ptr)
            break;
        long len = usercopy_strncpy_from(buf + used, ptr, bufsize - used);
        if (len < 0)
            return len == -VK_ENAMETOOLONG ? -VK_E2BIG : len;
        vec[n] = buf + used;
        used += (size_t)len + 1;
    }
    vec[n] = NULL;
    return n;
}

/* Kernel copies of a program's path, argv and envp, for exec_load. */
typedef struct {
    char path[VFS_PATH_MAX];
    char strings[2][SPAWN_STRINGS_BYTES];
    const char *argv[SPAWN_MAX_ARGS + 1], *envp[SPAWN_MAX_ARGS + 1];
} exec_args_t;

static long copy_exec_args(const syscall_args_t *a, exec_args_t **out)
{
    exec_args_t *c = kmalloc(sizeof(*c));
    if (!c)
        return -VK_ENOMEM;
    long n = usercopy_strncpy_from(c->path, a->arg[0], sizeof(c->path));
    if (n == 0)
        n = -VK_ENOENT;
    if (n >= 0)
        n = copy_string_vector(a->arg[1], c->argv, SPAWN_MAX_ARGS, c->strings[0],
                               sizeof(c->strings[0]));
    if (n == 0) { /* no argv at all: the path stands in for argv[0] */
        c->argv[0] = c->path;
        c->argv[1] = NULL;
    }
    if (n >= 0)
        n = copy_string_vector(a->arg[2], c->envp, SPAWN_MAX_ARGS, c->strings[1],
                               sizeof(c->strings[1]));
    if (n < 0) {
        kfree(c);
        return n;
    }
    *out = c;
    return 0;
}

long sys_vk_spawn(const syscall_args_t *a)
{
    exec_args_t *c;
    long r = copy_exec_args(a, &c);
    if (r)
        return r;
    r = proc_spawn(c->path, c->argv, c->envp);
    kfree(c);
    return r;
}

long sys_execve(const syscall_args_t *a)
{
    exec_args_t *c;
    long r = copy_exec_args(a, &c);
    if (r)
        return r;
    r = proc_exec(a->frame, c->path, c->argv, c->envp);
    kfree(c);
    if (r == 0)
        syscall_request_full_restore(); /* every register is the new program's */
    return r;
}

long sys_wait4(const syscall_args_t *a)
{
    long pid = (long)(int32_t)a->arg[0];
    int status = 0;
    if (pid == INT32_MIN)
        return -VK_ECHILD;
    /* WNOHANG, WUNTRACED and WCONTINUED have the PROC_WAIT_* values. */
    int options = (int)(a->arg[2] & (PROC_WAIT_NOHANG | PROC_WAIT_UNTRACED | PROC_WAIT_CONTINUED));
    long got = proc_wait_options(pid, &status, options);
    if (got <= 0)
        return got;
    if (a->arg[1]) {
        int err = usercopy_to(a->arg[1], &status, sizeof(status));
        if (err)
            return err;
    }
    return got;
}

long sys_vk_task_snapshot(const syscall_args_t *a)
{
    vk_task_info_t tasks[16];
    uint64_t max = a->arg[1] < 16 ? a->arg[1] : 16;
    unsigned n = proc_snapshot(tasks, (unsigned)max);
    int err = usercopy_to(a->arg[0], tasks, n * sizeof(tasks[0]));
    return err ? err : (long)n;
}

long sys_rt_sigprocmask(const syscall_args_t *a)
{
    /* Delivery of what this unblocks happens on the way out (syscall_dispatch). */
    uint64_t *mask_p = &proc_thread_current()->signal_mask;
    uint64_t mask = *mask_p, old = mask, set;
    if (a->arg[3] != 8)
        return -VK_EINVAL;
    if (a->arg[1]) {
        int err = usercopy_from(&set, a->arg[1], 8);
        if (err)
            return err;
        switch (a->arg[0]) {
        case 0: mask |= set; break;   /* SIG_BLOCK */
        case 1: mask &= ~set; break;  /* SIG_UNBLOCK */
        case 2: mask = set; break;    /* SIG_SETMASK */
        default: return -VK_EINVAL;
        }
        *mask_p = mask & ~((1ull << 8) | (1ull << 18)); /* SIGKILL, SIGSTOP */
    }
    if (a->arg[2])
        return usercopy_to(a->arg[2], &old, 8);
    return 0;
}

long sys_fork(const syscall_args_t *a)
{
    return proc_fork(a->frame);
}

#define CLONE_VM             0x00000100ull
#define CLONE_FS             0x00000200ull
#define CLONE_FILES          0x00000400ull
#define CLONE_SIGHAND        0x00000800ull
#define CLONE_VFORK          0x00004000ull
#define CLONE_PARENT         0x00008000ull
#define CLONE_THREAD         0x00010000ull
#define CLONE_SYSVSEM        0x00040000ull
#define CLONE_SETTLS         0x00080000ull
#define CLONE_PARENT_SETTID  0x00100000ull
#define CLONE_CHILD_CLEARTID 0x00200000ull
#define CLONE_CHILD_SETTID   0x01000000ull

/* What thread libraries pass, at least (CLONE_DETACHED is accepted and ignored). */
#define CLONE_PTHREAD (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)

/* clone(flags, stack, parent_tid, child_tid, tls). Two kinds are served:
 *  - a thread: CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD together, as
 *    every thread library asks (other sharing combinations are EINVAL);
 *  - a process (no sharing flags): fork, with the child's stack, TLS and tid options.
 *    CLONE_VM|CLONE_VFORK (posix_spawn's way) is served as a copy too, which is correct
 *    for a child that only sets up descriptors and calls execve. */
long sys_clone(const syscall_args_t *a)
{
    uint64_t flags = a->arg[0];
    uint64_t sharing = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                       CLONE_PARENT;
    bool thread = (flags & CLONE_PTHREAD) == CLONE_PTHREAD && !(flags & CLONE_PARENT);
    bool vfork_like = (flags & sharing) == CLONE_VM && (flags & CLONE_VFORK);
    if ((flags & sharing) && !thread && !vfork_like) {
        log_write_ratelimited(LOG_LEVEL_INFO,
                              "clone: flags 0x%llx share only part of a process; not supported",
                              (unsigned long long)flags);
        return -VK_EINVAL;
    }
    if (thread && !a->arg[1])
        return -VK_EINVAL; /* a thread needs a stack of its own */
    proc_clone_args_t args = {
        .stack = a->arg[1],
        .tls = a->arg[4], .set_tls = (flags & CLONE_SETTLS) != 0,
        .child_tid = a->arg[3],
        .set_child_tid = (flags & CLONE_CHILD_SETTID) != 0,
        .clear_child_tid = (flags & CLONE_CHILD_CLEARTID) != 0,
        .parent_tid = (flags & CLONE_PARENT_SETTID) ? a->arg[2] : 0,
    };
    long id = thread ? proc_thread_clone(a->frame, &args) : proc_clone(a->frame, &args);
    if (id > 0 && !thread && (flags & CLONE_PARENT_SETTID)) {
        uint32_t tid = (uint32_t)id;
        usercopy_to(a->arg[2], &tid, sizeof(tid)); /* as Linux: a bad address is ignored */
    }
    return id;
}

long sys_vfork(const syscall_args_t *a)
{
    /* A full copy is a correct vfork: the child may not rely on sharing memory. */
    return proc_fork(a->frame);
}

/* Resource limits are fixed: the kernel's own (kernel/config.h), reported as both the
 * soft and the hard limit. Setting one is refused unless it changes nothing. */
#define RLIMIT_STACK  3
#define RLIMIT_NOFILE 7
#define RLIMIT_NLIMITS 16
#define RLIM_INFINITY UINT64_MAX

static int rlimit_of(uint64_t resource, uint64_t out[2])
{
    if (resource >= RLIMIT_NLIMITS)
        return -VK_EINVAL;
    uint64_t v = resource == RLIMIT_NOFILE ? FDTABLE_MAX
               : resource == RLIMIT_STACK  ? CONFIG_USER_STACK_MAX
                                           : RLIM_INFINITY;
    out[0] = out[1] = v;
    return 0;
}

long sys_getrlimit(const syscall_args_t *a)
{
    uint64_t lim[2];
    int err = rlimit_of(a->arg[0], lim);
    return err ? err : usercopy_to(a->arg[1], lim, sizeof(lim));
}

long sys_prlimit64(const syscall_args_t *a)
{
    if (a->arg[0] != 0 && (long)(int32_t)a->arg[0] != proc_current()->pid)
        return -VK_ESRCH; /* other processes' limits: not supported */
    uint64_t lim[2], want[2];
    int err = rlimit_of(a->arg[1], lim);
    if (err)
        return err;
    if (a->arg[2]) {
        err = usercopy_from(want, a->arg[2], sizeof(want));
        if (err)
            return err;
        if (want[0] != lim[0] || want[1] != lim[1])
            return -VK_EPERM;
    }
    return a->arg[3] ? usercopy_to(a->arg[3], lim, sizeof(lim)) : 0;
}

/* reboot(2): the Linux magic numbers and commands. */
#define REBOOT_MAGIC1      0xfee1deadu
#define REBOOT_CMD_RESTART  0x01234567u
#define REBOOT_CMD_HALT     0xcdef0123u
#define REBOOT_CMD_POWER_OFF 0x4321fedcu
#define REBOOT_CMD_CAD_ON   0x89abcdefu
#define REBOOT_CMD_CAD_OFF  0x00000000u

/* Powers off or restarts the machine cleanly (core/power.h): filesystems are flushed
 * and unmounted first. Halt is treated as power-off. Only returns on failure (no ACPI).
 * CAD_ON/CAD_OFF choose what Ctrl+Alt+Delete does: restart, or SIGINT to init.
 * Every command needs the KObj-write right (the one administrative right; Linux asks
 * for CAP_SYS_BOOT), checked first, as Linux does: EPERM before EINVAL. */
long sys_reboot(const syscall_args_t *a)
{
    if (!kobj_write_allowed())
        return -VK_EPERM;
    uint32_t magic2 = (uint32_t)a->arg[1], cmd = (uint32_t)a->arg[2];
    if ((uint32_t)a->arg[0] != REBOOT_MAGIC1 ||
        (magic2 != 672274793u && magic2 != 85072278u && magic2 != 369367448u && magic2 != 537993216u))
        return -VK_EINVAL;
    if (cmd == REBOOT_CMD_CAD_ON || cmd == REBOOT_CMD_CAD_OFF) {
        power_set_ctrl_alt_del(cmd == REBOOT_CMD_CAD_ON);
        return 0;
    }
    if (cmd != REBOOT_CMD_RESTART && cmd != REBOOT_CMD_HALT && cmd != REBOOT_CMD_POWER_OFF)
        return -VK_EINVAL;
    char who[PROC_NAME_MAX + 16];
    fmt_snprintf(who, sizeof(who), "%s[%d]", proc_current()->name, (int)proc_current()->pid);
    if (cmd == REBOOT_CMD_RESTART)
        power_restart(who);
    else
        power_off(who);
    return -VK_EIO; /* the ACPI error is logged; its codes are not errno values */
}
