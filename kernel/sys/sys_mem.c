/* SPDX-License-Identifier: MIT */
/*
 * Memory syscalls over the process's aspace: brk, mmap (anonymous; files come with the
 * storage issue), munmap, mprotect, madvise. Linux semantics and errno values.
 */
#include "sys/syscall.h"
#include "mm/mm.h"
#include "proc/proc.h"
#include "proc/exec.h"
#include "mm/aspace.h"

#define PROT_READ  0x1
#define PROT_WRITE 0x2
#define PROT_EXEC  0x4
#define MAP_SHARED          0x01
#define MAP_PRIVATE         0x02
#define MAP_FIXED           0x10
#define MAP_ANONYMOUS       0x20
#define MAP_32BIT           0x40
#define MAP_FIXED_NOREPLACE 0x100000
#define MADV_DONTNEED 4
#define PAGE 4096ull

/* mmap's default window: above the image and heap, below the stack's growth limit. */
#define MMAP_MIN  0x0000500000000000ull
#define MMAP_MAX  (EXEC_STACK_TOP - CONFIG_USER_STACK_MAX - (1ull << 30))

static unsigned to_aspace_prot(uint64_t prot)
{
    return ((prot & PROT_READ) ? ASPACE_PROT_READ : 0) |
           ((prot & PROT_WRITE) ? ASPACE_PROT_WRITE : 0) |
           ((prot & PROT_EXEC) ? ASPACE_PROT_EXEC : 0);
}

static bool page_range(uint64_t addr, uint64_t len, uint64_t *rounded)
{
    if ((addr & (PAGE - 1)) || len == 0 || len > (1ull << 46))
        return false;
    *rounded = (len + PAGE - 1) & ~(PAGE - 1);
    return addr + *rounded <= 0x0000800000000000ull;
}

long sys_brk(const syscall_args_t *a)
{
    process_t *p = proc_current();
    uint64_t want = a->arg[0];
    /* Two threads moving the break at once would map or unmap the same pages twice. */
    sched_mutex_lock(&p->brk_lock);
    if (want >= p->brk_start && want <= MMAP_MIN) {
        uint64_t old_top = (p->brk + PAGE - 1) & ~(PAGE - 1);
        uint64_t new_top = (want + PAGE - 1) & ~(PAGE - 1);
        int err = 0;
        if (new_top > old_top)
            err = aspace_map(p->aspace, old_top, new_top - old_top,
                             ASPACE_PROT_READ | ASPACE_PROT_WRITE, ASPACE_ANON, "heap");
        else if (new_top < old_top)
            aspace_unmap(p->aspace, new_top, old_top - new_top);
        if (!err)
            p->brk = want; /* on failure Linux returns the old break */
    }
    uint64_t brk = p->brk;
    sched_mutex_unlock(&p->brk_lock);
    return (long)brk;
}

/* MAP_SHARED | MAP_ANONYMOUS: memory that fork shares instead of copying. Its frames
 * are allocated at once and mapped as a shared object (as IPC shared memory is), so a
 * child forked before the first touch still sees the same pages. */
#define SHARED_ANON_MAX_PAGES 16384u /* 64 MiB per mapping: it is not demand-paged */
static long map_shared_anonymous(aspace_t *as, uint64_t size, unsigned aprot, uint64_t min,
                                 uint64_t max)
{
    uint64_t pages = size / PAGE;
    if (pages > SHARED_ANON_MAX_PAGES)
        return -VK_ENOMEM;
    uint64_t *frames = kmalloc(pages * sizeof(*frames));
    if (!frames)
        return -VK_ENOMEM;
    uint64_t got = 0;
    while (got < pages && (frames[got] = aspace_shared_frame_alloc()) != 0)
        got++;
    long r = got < pages ? -VK_ENOMEM
                         : aspace_map_shared(as, frames, pages, aprot, true, min, max, "mmap-shared");
    for (uint64_t i = 0; i < got; i++)
        aspace_shared_frame_put(frames[i]); /* the mapping holds them now, or nobody */
    kfree(frames);
    return r;
}

long sys_mmap(const syscall_args_t *a)
{
    process_t *p = proc_current();
    uint64_t addr = a->arg[0], len = a->arg[1], prot = a->arg[2], flags = a->arg[3];
    uint64_t size;
    if (len == 0 || len > (1ull << 46))
        return -VK_EINVAL;
    size = (len + PAGE - 1) & ~(PAGE - 1);
    if (!(flags & (MAP_SHARED | MAP_PRIVATE)) || (prot & ~7ull))
        return -VK_EINVAL;
    if (!(flags & MAP_ANONYMOUS))
        return -VK_ENODEV; /* FIXME(issue: storage): file mappings */
    unsigned aprot = to_aspace_prot(prot);
    if (flags & MAP_SHARED) {
        if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_32BIT))
            return -VK_ENODEV; /* FIXME: shared anonymous memory at a chosen place */
        return map_shared_anonymous(p->aspace, size, aprot, MMAP_MIN, MMAP_MAX);
    }
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (!page_range(addr, size, &size))
            return -VK_EINVAL;
        int err = aspace_map(p->aspace, addr, size, aprot,
                             ASPACE_ANON | ((flags & MAP_FIXED) ? ASPACE_FIXED : 0), "mmap");
        return err ? err : (long)addr;
    }
    uint64_t min = MMAP_MIN, max = MMAP_MAX;
    if (flags & MAP_32BIT) {
        min = 0x40000000ull;
        max = 0x80000000ull;
    }
    /* A hint is honoured when that range is free. */
    if (addr && !(addr & (PAGE - 1)) && addr >= 0x10000 && page_range(addr, size, &size) &&
        aspace_map(p->aspace, addr, size, aprot, ASPACE_ANON, "mmap") == 0)
        return (long)addr;
    uint64_t at = aspace_find_free(p->aspace, size, 0, min, max);
    if (!at)
        return -VK_ENOMEM;
    int err = aspace_map(p->aspace, at, size, aprot, ASPACE_ANON, "mmap");
    return err ? err : (long)at;
}

long sys_munmap(const syscall_args_t *a)
{
    uint64_t size;
    if (!page_range(a->arg[0], a->arg[1], &size))
        return -VK_EINVAL;
    return aspace_unmap(proc_current()->aspace, a->arg[0], size);
}

long sys_mprotect(const syscall_args_t *a)
{
    uint64_t size;
    if (a->arg[1] == 0 && !(a->arg[0] & (PAGE - 1)))
        return 0;
    if (!page_range(a->arg[0], a->arg[1], &size) || (a->arg[2] & ~7ull))
        return -VK_EINVAL;
    return aspace_protect(proc_current()->aspace, a->arg[0], size, to_aspace_prot(a->arg[2]));
}

long sys_madvise(const syscall_args_t *a)
{
    uint64_t size;
    if (a->arg[1] == 0)
        return 0;
    if (!page_range(a->arg[0], a->arg[1], &size))
        return -VK_EINVAL;
    if (a->arg[2] != MADV_DONTNEED)
        return 0; /* advice only */
    /* DONTNEED on private anonymous memory: the pages read back as zero. */
    aspace_t *as = proc_current()->aspace;
    const aspace_region_t *r = aspace_find(as, a->arg[0]);
    if (!r)
        return -VK_ENOMEM;
    unsigned prot = r->prot, flags = r->flags;
    if (flags & ASPACE_SHARED)
        return 0; /* a shared object's pages are its contents, not a cache */
    int err = aspace_unmap(as, a->arg[0], size);
    return err ? err : aspace_map(as, a->arg[0], size, prot, flags | ASPACE_FIXED, "mmap");
}
