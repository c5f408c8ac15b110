/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the address-space files: the struct, page-table helpers
 * (aspace_pagetable.c) and region lookups (aspace.c). Nothing outside kernel/mm includes
 * this header.
 *
 * Leaf entries: 0 = nothing; P set = a mapped frame; P clear with an address = a frame
 * kept while its region is PROT_NONE (mprotect must not lose data). Upper levels are
 * P|W|U for every user table: the leaf alone decides the rights.
 */
#ifndef KERNEL_MM_ASPACE_INTERNAL_H
#define KERNEL_MM_ASPACE_INTERNAL_H

#include "mm/aspace.h"
#include "mm/mm.h"
#include "core/spinlock.h"

#define ASPACE_PTE_P    (1ull << 0)
#define ASPACE_PTE_W    (1ull << 1)
#define ASPACE_PTE_U    (1ull << 2)
#define ASPACE_PTE_PS   (1ull << 7)
#define ASPACE_PTE_COW  (1ull << 9)  /* software bit: the frame is shared after fork */
#define ASPACE_PTE_SHARED (1ull << 10) /* software bit: a shared object's frame (writes go
                                        * to it; fork shares it as it is) */
#define ASPACE_PTE_NX   (1ull << 63)
#define ASPACE_PTE_ADDR 0x000ffffffffff000ull

/* The lower half of the PML4: entries 0..255 cover [0, 2^47). */
#define ASPACE_LOWER_HALF_END 0x0000800000000000ull

struct aspace {
    spinlock_t lock;             /* taken with interrupts off (the #PF path takes it) */

    /* Set by aspace_create, never changed. */
    uint64_t root_phys;          /* the PML4 */
    uint64_t kernel_generation;  /* vmm_root_generation when the kernel half was copied */

    /* Atomic: CPUs that have this space in CR3 (bit n = CPU n), the ones a TLB
     * shootdown must reach. Each CPU sets its bit before loading CR3 and clears it after
     * loading another root, in aspace_activate. */
    uint64_t cpus;
    bool dying;                  /* atomic: aspace_destroy asks the others to drop it */

    /* Guarded by lock: the regions, the user half of the page tables, the counter. */
    aspace_region_t *regions;    /* sorted by start, non-overlapping */
    unsigned region_count;
    unsigned region_capacity;    /* up to CONFIG_ASPACE_MAX_REGIONS + 2 (see aspace.c) */
    uint64_t resident_pages;     /* data frames mapped, present or PROT_NONE */
};

/* ---- aspace_pagetable.c (callers hold as->lock) ---- */
/* The leaf entry of va; with create, missing tables are allocated. NULL when absent (or,
 * with create, when out of memory). */
uint64_t *aspace_pt_entry(aspace_t *as, uint64_t va, bool create);
/* The leaf entry for a frame in a region with rights prot. */
uint64_t aspace_pt_make(uint64_t frame, unsigned prot);
/* A zeroed frame counted in aspace_frames_in_use; 0 when out of memory. */
uint64_t aspace_pt_frame_alloc(void);
void aspace_pt_frame_free(uint64_t frame);
/* Frees the frames in [start, end) and the page tables the range covers entirely, after
 * flushing the TLB of every CPU that has the space loaded. */
void aspace_pt_unmap(aspace_t *as, uint64_t start, uint64_t end);
/* Rewrites every frame-holding entry in [start, end) for rights prot. */
void aspace_pt_protect(aspace_t *as, uint64_t start, uint64_t end, unsigned prot);

/* ---- aspace_cow.c ---- */
/* Adds one owner of frame (a second mapping of a shared frame). */
void aspace_cow_share(uint64_t frame);
/* Drops one owner of frame; true when the caller was the last and must free it. */
bool aspace_cow_release(uint64_t frame);
/* A write to the COW entry *pte at va: take a private copy (or the frame itself when no
 * one else shares it) mapped with rights prot. Lock held. 0 or -VK_ENOMEM. */
int aspace_cow_break(aspace_t *as, uint64_t *pte, uint64_t va, unsigned prot);

/* ---- aspace.c (callers hold as->lock) ---- */
/* The region containing addr, or NULL. */
aspace_region_t *aspace_region_at(aspace_t *as, uint64_t addr);
/* Index of the first region ending above addr (region_count if none). */
unsigned aspace_region_index(aspace_t *as, uint64_t addr);
/* True when as is the space loaded in CR3 on the calling CPU. */
bool aspace_is_active(aspace_t *as);
/* After changing present entries of as (lock held, interrupts off): drop stale TLB
 * entries on this CPU and on every other CPU that has the space loaded, before the
 * caller frees anything the old entries pointed to. pages 0: the whole TLB. */
void aspace_flush(aspace_t *as, uint64_t start, uint64_t pages);
/* A kernel-half PML4 entry missing from the current space: copied from the kernel's
 * root. True if that resolved a kernel-mode fault at addr. */
bool aspace_sync_kernel_entry(uint64_t addr);

#endif
