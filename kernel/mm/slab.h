/* SPDX-License-Identifier: MIT */
/*
 * Slab caches: fixed-size objects carved from page-sized (or larger) slabs (pure logic:
 * compiles for the host tests).
 *
 * Design notes:
 * - Pages come from a provider callback that must return memory aligned to its size
 *   (kernel: pmm pages through the direct map; host tests: aligned_alloc). Because a slab
 *   is aligned to slab_bytes, the slab header of any object is found by masking its
 *   address, and slab_cache_of() recovers the owning cache from a bare pointer.
 * - The slab header holds a uint16 "next free" index per object instead of threading the
 *   free list through the objects. It costs two bytes per object but leaves freed
 *   objects untouched (so poison stays intact), survives use-after-free writes, and
 *   gives every build exact double-free detection: an allocated slot is marked as such.
 * - Slabs live on three lists (partial, full, empty). Allocation prefers partial slabs;
 *   empty slabs beyond config.keep_empty go back to the provider.
 * - Debug mode (SLAB_FLAG_DEBUG on a cache, forced on for every cache when the SLAB_DEBUG
 *   macro is defined): a redzone before and after each object, checked on free and on
 *   allocation; freed objects filled with SLAB_POISON_BYTE and checked when handed out
 *   again. Every detection goes to the config.report callback (kernel: panic) and the
 *   call returns an error instead of corrupting the cache.
 * - Debug mode also keeps, in front of each slot's left redzone, the call sites that
 *   last allocated and freed the object (slab_alloc_at/slab_free_at; reports name them),
 *   and a quarantine: a freed object stays poisoned and unusable in a per-cache FIFO
 *   (at most SLAB_QUARANTINE_SLOTS objects and SLAB_QUARANTINE_BYTES bytes) before it
 *   returns to its free list, and its poison and redzones are checked as it leaves. A
 *   write through a stale pointer is therefore caught even when the slot would have been
 *   handed out again at once, and freeing it twice meanwhile is a reported double free.
 *   Quarantined objects are not counted in objects_in_use. When the last live object of
 *   a slab is freed, that slab's quarantined objects leave at once (checked), so the
 *   quarantine never holds on to a slab the normal build would give back; an object
 *   whose whole slab emptied is therefore not protected against later writes.
 * - No locking here: the caller holds one lock per cache around every call.
 */
#ifndef KERNEL_MM_SLAB_H
#define KERNEL_MM_SLAB_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define SLAB_PAGE_SIZE        4096u   /* unit for the page statistics */
#define SLAB_DEFAULT_ALIGN    16u     /* object alignment when config.align is 0 */
#define SLAB_MAX_OBJECTS      0xfffdu /* per slab: indices are uint16, three values reserved */
#define SLAB_REDZONE_BYTES    16u     /* minimum redzone on each side (debug) */
#define SLAB_REDZONE_BYTE     0xbbu
#define SLAB_POISON_BYTE      0x6bu   /* fill of free objects (debug) */
#define SLAB_DEFAULT_KEEP_EMPTY 1u    /* empty slabs a cache keeps for reuse */
#define SLAB_SITE_BYTES       16u     /* debug: alloc and free call sites before the redzone */
#define SLAB_QUARANTINE_SLOTS 256u    /* debug: freed objects held back per cache ... */
#define SLAB_QUARANTINE_BYTES (64u * 1024u) /* ... and at most this many object bytes */

#define SLAB_FLAG_DEBUG 1u

/* Errors: reported through the callback and returned negated (0 = success). */
#define SLAB_ERR_REDZONE       1 /* bytes around an object were overwritten */
#define SLAB_ERR_USE_AFTER_FREE 2 /* poison of a free object was overwritten */
#define SLAB_ERR_DOUBLE_FREE   3
#define SLAB_ERR_BAD_POINTER   4 /* not an object of this cache (interior, foreign, stale) */
#define SLAB_ERR_CORRUPT       5 /* slab header or list damaged */
#define SLAB_ERR_INVALID       6 /* slab_cache_init: bad configuration (not reported) */
#define SLAB_ERR_BUSY          7 /* slab_cache_destroy: objects still allocated (not reported) */

typedef struct slab_cache slab_cache_t;
struct slab;

/* Return slab_bytes bytes aligned to slab_bytes, or NULL. */
typedef void *(*slab_page_alloc_fn)(void *ctx, size_t bytes);
typedef void (*slab_page_free_fn)(void *ctx, void *pages, size_t bytes);
/* A detected error; object is the object (or slab) concerned. May not return (panic). */
typedef void (*slab_report_fn)(void *ctx, const slab_cache_t *cache, int error,
                               const void *object);

typedef struct {
    const char *name;         /* kept by pointer: must outlive the cache */
    size_t object_size;       /* bytes the caller may use, >= 1 */
    size_t align;             /* power of two, 0 = SLAB_DEFAULT_ALIGN */
    size_t slab_bytes;        /* power of two >= SLAB_PAGE_SIZE */
    unsigned flags;           /* SLAB_FLAG_* */
    unsigned keep_empty;      /* empty slabs kept instead of returned to the provider */
    slab_page_alloc_fn page_alloc;
    slab_page_free_fn page_free;
    void *page_ctx;
    slab_report_fn report;    /* may be NULL: errors are then only returned */
    void *report_ctx;
} slab_config_t;

struct slab_cache {
    /* Fixed by slab_cache_init(). */
    slab_config_t config;
    bool debug;
    size_t slot_size;         /* stride between objects, redzones included */
    size_t object_offset;     /* object start within its slot (left redzone) */
    size_t first_slot;        /* offset of slot 0 from the slab start */
    unsigned objects_per_slab;

    /* Changed by every call: guarded by the caller's per-cache lock. */
    struct slab *partial, *full, *empty;
    size_t slabs_partial, slabs_full, slabs_empty;
    size_t objects_in_use;
    uint64_t allocs, frees, errors;
    /* Debug quarantine, a ring: oldest at quarantine_head. */
    void *quarantine[SLAB_QUARANTINE_SLOTS];
    unsigned quarantine_head, quarantine_count;
    size_t quarantine_bytes;
};

typedef struct {
    const char *name;
    size_t object_size, slot_size, slab_bytes;
    unsigned objects_per_slab;
    size_t objects_in_use;
    size_t slabs, slabs_partial, slabs_full, slabs_empty;
    size_t pages;             /* slabs * slab_bytes / SLAB_PAGE_SIZE */
    uint64_t allocs, frees, errors;
} slab_stats_t;

/* 0 or -SLAB_ERR_INVALID (size, alignment, slab size, missing callbacks, or fewer than
 * one object per slab). Allocates nothing. */
int slab_cache_init(slab_cache_t *cache, const slab_config_t *config);

/* An object, or NULL when the provider has no pages. Contents are undefined (poison in
 * debug mode). */
void *slab_alloc(slab_cache_t *cache);
/* The same, recording `site` (a return address) as the allocating call in debug mode. */
void *slab_alloc_at(slab_cache_t *cache, uintptr_t site);

/* 0, or a negated SLAB_ERR_* after reporting it. On -SLAB_ERR_REDZONE the object has
 * still been freed (the damage is outside it); on any other error nothing changed. */
int slab_free(slab_cache_t *cache, void *object);
int slab_free_at(slab_cache_t *cache, void *object, uintptr_t site);

/* Debug mode: the recorded allocating and freeing call sites of a slot (0 = unknown).
 * False when the cache is not in debug mode or object is not one of its slots. */
bool slab_object_sites(const slab_cache_t *cache, const void *object, uintptr_t *alloc_site,
                       uintptr_t *free_site);

/* Debug mode: the object whose bytes hold `addr` (anywhere inside it), and the site that
 * allocated it. False when the cache is not in debug mode or addr is in no object's
 * bytes. Reads only the slab header and the slot, takes no lock: for an address in an
 * object the caller knows is live (the lock-order checker naming a lock's class). */
bool slab_object_containing(const slab_cache_t *cache, const void *addr,
                            const void **object, uintptr_t *alloc_site);

/* Move every quarantined object back to its free list (checking it); returns how many. */
size_t slab_quarantine_flush(slab_cache_t *cache);

/* The cache owning the slab that would contain object, given the slab size the caller
 * uses, or NULL when that address does not start a live slab. Reads the header, so the
 * slab-aligned address below object must be readable. */
slab_cache_t *slab_cache_of(const void *object, size_t slab_bytes);

void slab_cache_stats(const slab_cache_t *cache, slab_stats_t *stats);

/* Check every slab header, list and (debug) every redzone and free object's poison.
 * Reports each problem; returns how many were found. */
size_t slab_cache_verify(slab_cache_t *cache);

/* Empty the quarantine, then give every empty slab back to the provider; returns how
 * many slabs went back. */
size_t slab_cache_shrink(slab_cache_t *cache);

/* Release all slabs; -SLAB_ERR_BUSY (nothing released) while objects are allocated. */
int slab_cache_destroy(slab_cache_t *cache);

const char *slab_strerror(int error);

#endif
