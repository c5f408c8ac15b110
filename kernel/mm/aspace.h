/* SPDX-License-Identifier: MIT */
/*
 * User address spaces: one page-table root per process, the list of its regions (what
 * mmap, brk and the ELF loader created) and demand paging of anonymous memory.
 *
 * Design notes:
 *   - The lower half (PML4 entries 0..255) belongs to the space; the upper half shares the
 *     kernel's own page-table pages, so kernel mappings are the same in every space.
 *   - Regions say what may be mapped; page tables say what is. Frames are allocated on
 *     the first touch (aspace_fault) or by the loader (aspace_write), never by aspace_map.
 *   - User pages are P|U, W only in writable regions, NX unless executable. A region gets
 *     W+X pages only if it asked for both (JITs).
 *   - Ring-0 code reaches user memory only through mm/usercopy.h; a kernel fault on a user
 *     address anywhere else is a bug and is never paged in.
 *   - Several CPUs: each CPU has its own active space; changes to page tables are shot
 *     down on every CPU that has the space loaded (aspace.c).
 *
 * Errors are -VK_E* from <vk/errno.h>.
 */
#ifndef KERNEL_MM_ASPACE_H
#define KERNEL_MM_ASPACE_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <vk/errno.h>
#include "config.h"
#include "arch/x86_64/arch.h"

/* Fallbacks until kernel/config.h carries these limits. */

/* User addresses are [CONFIG_USER_MIN_ADDR, ASPACE_USER_LIMIT). The last page below the
 * canonical hole stays unmapped, as on Linux, so no user range ends at the hole. */
#define ASPACE_USER_LIMIT 0x00007ffffffff000ull

/* Region rights. x86 cannot express write-only or execute-only pages: any right makes
 * the page readable. */
#define ASPACE_PROT_READ  0x1u
#define ASPACE_PROT_WRITE 0x2u
#define ASPACE_PROT_EXEC  0x4u

/* Region flags. ASPACE_FIXED is a request to aspace_map only and is never stored. */
#define ASPACE_ANON  0x1u /* demand-zero anonymous memory */
#define ASPACE_STACK 0x2u /* grows down on faults below it (CONFIG_USER_STACK_MAX) */
#define ASPACE_FIXED 0x4u /* aspace_map: replace whatever overlaps (MAP_FIXED) */
#define ASPACE_SHARED 0x8u   /* frames of a shared object (aspace_map_shared): never
                              * demand-zero, never copy-on-write, shared again by fork */
#define ASPACE_NO_WRITE 0x10u /* aspace_protect may not add write (-VK_EACCES) */

#define ASPACE_NAME_MAX 16

typedef struct {
    uint64_t start;              /* page aligned */
    uint64_t end;                /* exclusive, page aligned, > start */
    uint32_t prot;               /* ASPACE_PROT_* */
    uint32_t flags;              /* ASPACE_ANON, ASPACE_STACK */
    char name[ASPACE_NAME_MAX];  /* for listings: "image", "heap", "stack", "mmap" ... */
} aspace_region_t;

typedef struct aspace aspace_t; /* kernel/mm/aspace_internal.h */

/* Once, on the boot CPU before any space exists: remembers the kernel's root and sets
 * up the IPI that makes other CPUs drop a dying space. */
void aspace_init(void);
/* A new space: empty user half, the kernel half shared. NULL when out of memory. */
aspace_t *aspace_create(void);
/* Frees every user frame, user page-table page, the regions and the struct. No thread
 * may still use the space; CPUs that merely have it loaded (kernel threads after one of
 * its threads) are made to drop it first, by IPI. Call with interrupts on and no
 * spinlock held. Never touches the shared kernel half. */
void aspace_destroy(aspace_t *as);
/* Loads CR3 with the space's root (NULL: the kernel's root) on the calling CPU. */
void aspace_activate(aspace_t *as);
/* The calling CPU's active space; NULL while the kernel's own root is loaded. */
aspace_t *aspace_current(void);

/* Demand-zero memory at [start, start + len); len is rounded up to pages. -VK_EINVAL for
 * an unaligned start, len 0, unknown prot/flags or a range outside the user addresses,
 * -VK_EPERM below CONFIG_USER_MIN_ADDR, -VK_EEXIST when it overlaps a region and
 * ASPACE_FIXED is not set (with it, the overlap is unmapped first, like MAP_FIXED),
 * -VK_ENOMEM past CONFIG_ASPACE_MAX_REGIONS. Adjacent regions with equal prot, flags and
 * name merge. name may be NULL. */
int aspace_map(aspace_t *as, uint64_t start, uint64_t len, unsigned prot, unsigned flags,
               const char *name);
/* Removes [start, start + len) from every region (splitting them) and frees its frames.
 * Unmapping a hole is not an error. -VK_EINVAL as aspace_map, -VK_ENOMEM when a split
 * would pass CONFIG_ASPACE_MAX_REGIONS. */
int aspace_unmap(aspace_t *as, uint64_t start, uint64_t len);
/* New rights for [start, start + len), which must be covered by regions (-VK_ENOMEM
 * otherwise, as Linux's mprotect). Pages already present change at once. */
int aspace_protect(aspace_t *as, uint64_t start, uint64_t len, unsigned prot);
/* A free page-aligned range of len bytes in [min, max), 0 if none. hint is returned when
 * [hint, hint + len) is free and inside the window; otherwise the search is top-down
 * from max (Linux's mmap layout), keeping one guard page below stack regions. */
uint64_t aspace_find_free(aspace_t *as, uint64_t len, uint64_t hint, uint64_t min, uint64_t max);
/* The region holding addr, or NULL. The pointer stays valid only until the next change
 * to the space's regions: copy what you need. */
const aspace_region_t *aspace_find(aspace_t *as, uint64_t addr);
/* The physical address of the word at addr when it lies in shared memory (IPC shared
 * memory, MAP_SHARED anonymous): 0, -VK_ENOENT when addr is not shared memory, or
 * -VK_EFAULT. Process-shared futexes are keyed by it. */
int aspace_shared_word(aspace_t *as, uint64_t addr, uint64_t *phys);

/* Resolves a page fault at addr (error code bits P=1, W=2, U=4, RSVD=8, I/D=16): a frame
 * for a region that allows the access, growing a stack region if needed. 0, -VK_EFAULT
 * (the caller delivers SIGSEGV) or -VK_ENOMEM. Works on inactive spaces too. */
int aspace_fault(aspace_t *as, uint64_t addr, uint64_t error_code);
/* The #PF hook (arch_fault_hooks_t.page_fault): true when demand paging in the current
 * space resolved the fault and the instruction may be retried. Kernel-mode faults on
 * user addresses are only considered inside the usercopy routines. */
bool aspace_handle_page_fault(arch_frame_t *frame, uint64_t cr2);

/* Loader access through the direct map; the space need not be active. The whole range
 * must lie in regions (-VK_EFAULT); rights are not checked, so read-only text can be
 * filled. aspace_write allocates frames; aspace_zero and aspace_read never do (an
 * absent page is already zero). -VK_ENOMEM when frames run out. */
int aspace_write(aspace_t *as, uint64_t dst, const void *src, size_t len);
int aspace_zero(aspace_t *as, uint64_t dst, size_t len);
int aspace_read(aspace_t *as, uint64_t src, void *dst, size_t len);

/* Frames holding this space's data (page tables not counted). */
uint64_t aspace_resident_pages(aspace_t *as);
/* fork: a new space with the same regions, every frame shared copy-on-write
 * (kernel/mm/aspace_cow.c). NULL when out of memory. */
aspace_t *aspace_clone(aspace_t *src);
/* Shared memory (kernel/ipc/shm.c). A shared frame is zeroed at allocation and has
 * owners: the object that allocated it plus every page-table entry mapping it; the last
 * owner to let go frees it. */
uint64_t aspace_shared_frame_alloc(void);          /* 0 when out of memory */
void aspace_shared_frame_put(uint64_t frame);     /* drops the allocator's ownership */
/* Maps pages frames at a free range of [min, max) (or at hint when that is free) with
 * rights prot, each page taking an owner of its frame. write_allowed false adds
 * ASPACE_NO_WRITE so the mapping can never be made writable. Returns the address, or
 * -VK_EINVAL / -VK_ENOMEM as aspace_map. The region is named name. */
long aspace_map_shared(aspace_t *as, const uint64_t *frames, uint64_t pages, unsigned prot,
                       bool write_allowed, uint64_t min, uint64_t max, const char *name);

/* Frames owned by all address spaces, data and page tables: allocated minus freed. */
uint64_t aspace_frames_in_use(void);
/* Regions of the space, for tests and listings. */
unsigned aspace_region_count(aspace_t *as);

#endif
